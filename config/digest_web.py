"""The printable digest on the web, for the link posted to the governance Telegram group:
GET /digests/<week>/<scope>/<token> serves the archived print.html. The token is a keyed hash of the week
and scope (analysis.digest.archive.share_token); a wrong token, week or scope is a plain 404, so the
route says nothing about which digests exist."""
from __future__ import annotations

import hmac
from pathlib import Path

from flask import Blueprint, Response, abort

from analysis.digest.archive import archive_root, share_token
from analysis.weeks import WeekError, parse_week, week_label
from surveys.store import Store


def make_blueprint(store: Store) -> Blueprint:
    bp = Blueprint("digests", __name__)

    @bp.get("/digests/<week>/<scope>/<token>")
    def printable(week: str, scope: str, token: str):
        try:
            week = week_label(*parse_week(week))
        except WeekError:
            abort(404)
        if not scope.replace("-", "").replace("_", "").isalnum() or len(scope) > 64:
            abort(404)
        if not hmac.compare_digest(token, share_token(store.settings.secret_key, week, scope)):
            abort(404)
        path = Path(archive_root(store)) / week / scope / "print.html"
        if not path.is_file():
            abort(404)
        return Response(path.read_bytes(), mimetype="text/html",
                        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer",
                                 "X-Robots-Tag": "noindex"})

    return bp
