"""Digests: the archive the scope may read, this week's preview in the page, send now (backbone admin: who it
goes to before, what was queued after), and the printable page of archived ones.

A digest's printable HTML carries its own <style> and chart images, so it is served on routes of its own
with a sandboxed Content-Security-Policy that only the console may frame (console.security.PRINTABLE_CSP);
the digests page shows it in an <iframe sandbox> and links to it."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from analysis.digest.staff import (DigestError, digest_archive, preview_digest, printable_page, recipients,
                                   send_digest_now)
from analysis.weeks import WeekError, parse_week, week_label, week_of
from console.auth import requires, signed_in
from console.context import ConsoleContext
from console.dashboard import sentence
from console.forms import ActionForm
from surveys.admin import list_organisations


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    def chosen():
        """(year, week, org code or None, problem) from ?week= and ?org= (default: this week, the partnership)."""
        raw = (request.values.get("week") or "").strip()[:16]
        org = (request.values.get("org") or "").strip()[:64] or None
        try:
            year, number = parse_week(raw) if raw else week_of(ctx.clock(), ctx.settings.default_timezone)
        except (WeekError, ValueError) as exc:
            flash(f"{sentence(exc)}. Showing this week instead.", "error")
            year, number = week_of(ctx.clock(), ctx.settings.default_timezone)
        return year, number, org

    def printable(html: bytes | str) -> Response:
        g.printable = True
        return Response(html, mimetype="text/html")

    @bp.get("/console/digests")
    @signed_in
    def digests():
        year, number, org = chosen()
        orgs = [o for o in list_organisations(ctx.store)
                if g.scope.role in ("admin", "governance") or g.scope.covers(o.id)]
        return render_template("console/digests.html", title="Digests", archive=digest_archive(ctx.store, g.scope),
                               week=week_label(year, number), org=org or "", orgs=orgs,
                               recipients=recipients(ctx.store) if g.scope.role == "admin" else None)

    @bp.get("/console/digests/preview")
    @signed_in
    def digest_preview():
        year, number, org = chosen()
        try:
            preview = preview_digest(ctx.store, g.scope, year, number, org, ctx.clock())
        except DigestError as exc:
            return render_template("console/error.html", title="No preview", message=sentence(exc)), 404
        return printable(preview.printable_html)

    @bp.route("/console/digests/send", methods=["GET", "POST"])
    @requires("admin")
    def send_digest():
        year, number, org = chosen()
        week = week_label(year, number)
        form = ActionForm()
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400)
            try:
                result = send_digest_now(ctx.store, g.scope, year, number, org, ctx.clock(),
                                         again=bool(request.form.get("again")))
            except DigestError as exc:
                flash(sentence(exc), "error")
                return redirect(url_for("console.send_digest", week=week, org=org))
            return render_template("console/digest_sent.html", title="Digest sent", result=result)
        return render_template("console/digest_send.html", title="Send a digest", week=week, org=org or "",
                               recipients=recipients(ctx.store), form=form)

    @bp.get("/console/digests/<week>/<archive_scope>")
    @signed_in
    def archived_digest(week: str, archive_scope: str):
        page = printable_page(ctx.store, g.scope, week, archive_scope)
        if page is None:
            abort(404)
        return printable(page)
