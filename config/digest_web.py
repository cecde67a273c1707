"""The printable digest on the web, for the link posted to the governance Telegram group:
GET /digests/<week>/<scope>/<token> serves the archived print.html. The token is a keyed hash of the week
and scope (analysis.digest.archive.share_token); a wrong token, week or scope is a plain 404, so the
route says nothing about which digests exist (analysis.digest.staff.printable_digest decides)."""
from __future__ import annotations

from flask import Blueprint, Response, abort

from analysis.digest.staff import printable_digest
from surveys.store import Store


def make_blueprint(store: Store) -> Blueprint:
    bp = Blueprint("digests", __name__)

    @bp.get("/digests/<week>/<scope>/<token>")
    def printable(week: str, scope: str, token: str):
        page = printable_digest(store, week, scope, token)
        if page is None:
            abort(404)
        return Response(page, mimetype="text/html",
                        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer",
                                 "X-Robots-Tag": "noindex"})

    return bp
