"""Responses: per question a distribution and a trend by week (the digest's small-number rule, as
`analysis.responses.response_summary` applies it), the free-text answers with sentiment and themes, filters,
correcting a sentiment label in place, merging or renaming themes, and exports of exactly the filtered rows
(CSV or XLSX; small ones at once, large ones in a background thread with a progress bar). Every export is
audited (what and how many, never answer text)."""
from __future__ import annotations

import io
import threading
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, send_file, url_for
from werkzeug.datastructures import MultiDict

from analysis import responses as rs
from analysis.corrections import CorrectionError
from analysis.theme_report import ThemeError
from console.auth import client_ip, requires
from console.context import ConsoleContext
from console.dashboard import sentence
from console.forms import ActionForm
from surveys import audit
from surveys.admin import AdminError, list_organisations, list_surveys

BACKGROUND_OVER = 5000          # rows: a larger export is written in the background
FILTER_KEYS = ("survey", "question", "week", "since", "until", "org", "sentiment", "theme", "flagged", "channel",
               "completed", "page")
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class FilterProblem(ValueError):
    pass


def _day(value: str, end: bool) -> datetime | None:
    if not value:
        return None
    try:
        d = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise FilterProblem(f"date {value!r}: write it like 2026-11-16") from None
    return datetime.combine(d, time.max if end else time.min, tzinfo=timezone.utc)


def _yes_no(value: str, yes: str, no: str) -> bool | None:
    return True if value == yes else False if value == no else None


def read_filter(args, default_survey: str | None) -> tuple[rs.ResponseFilter | None, dict]:
    """The filter from the query (or a form's hidden copy of it) and the raw values to refill the form."""
    raw = {k: (args.get(k) or "").strip()[:120] for k in FILTER_KEYS}
    raw["survey"] = raw["survey"] or (default_survey or "")
    if not raw["survey"]:
        return None, raw
    try:
        page = int(raw["page"] or 1)
    except ValueError:
        page = 1
    f = rs.ResponseFilter(
        raw["survey"], question=raw["question"] or None, week=raw["week"] or None,
        since=_day(raw["since"], False), until=_day(raw["until"], True), org=raw["org"] or None,
        sentiment=raw["sentiment"] or None, theme=raw["theme"] or None,
        flagged=_yes_no(raw["flagged"], "yes", "no"), channel=raw["channel"] or None,
        completed=_yes_no(raw["completed"], "completed", "partial"), page=max(1, page))
    return f, raw


def query_of(raw: dict, **change) -> str:
    return urlencode({k: v for k, v in {**raw, **change}.items() if v})


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    def surveys():
        return list_surveys(ctx.store)

    @bp.get("/console/responses")
    @requires("admin", "staff", "governance")
    def responses():
        known = surveys()
        problem = summary = answers = None
        try:
            f, raw = read_filter(request.args, known[0].id if known else None)
        except FilterProblem as exc:
            f, raw, problem = None, {k: request.args.get(k, "") for k in FILTER_KEYS}, sentence(exc)
        questions = []
        if f is not None:
            try:
                summary = rs.response_summary(ctx.store, g.scope, f, ctx.clock())
                answers = rs.free_text_answers(ctx.store, g.scope, f, ctx.clock())
                questions = [(q.question, q.prompt) for q in rs.response_summary(
                    ctx.store, g.scope, rs.ResponseFilter(f.survey, week=f.week, since=f.since, until=f.until),
                    ctx.clock()).questions] if f.question else [(q.question, q.prompt) for q in summary.questions]
            except AdminError as exc:
                problem, summary, answers = sentence(exc), None, None
        orgs = list_organisations(ctx.store)
        period = {}
        if summary is not None:
            # The action's period as dates (the form takes dates): the filter's first day, and its end only when
            # the filter has one (an open range runs to when the action is published).
            period["since"] = (summary.since + timedelta(hours=12)).date().isoformat()
            if f.week or f.until:
                period["until"] = (summary.until + timedelta(hours=12)).date().isoformat()
        return render_template("console/responses.html", title="Responses", surveys=known, raw=raw, f=f,
                               action_period=period,
                               summary=summary, answers=answers, questions=questions, problem=problem, orgs=orgs,
                               sentiments=rs.SENTIMENTS, labels=rs.CORRECTABLE, query=query_of(raw),
                               query_of=query_of, form=ActionForm(),
                               may_export=g.scope.sees_rows, may_keep=g.scope.sees_contact_details,
                               may_theme=g.scope.sees_rows)

    @bp.post("/console/responses/answers/<int:answer_id>/sentiment")
    @requires("admin", "staff")
    def correct_sentiment(answer_id: int):
        if not ActionForm().validate_on_submit():
            abort(400)
        back = (request.form.get("query") or "")[:2000]
        label = (request.form.get("label") or "").strip()
        try:
            done = rs.correct_sentiment(ctx.store, g.scope, answer_id, label, ctx.clock())
            message, ok = f"Answer {answer_id}: sentiment set to {done.label}.", True
        except CorrectionError as exc:
            message, ok = sentence(exc), False
        if not request.headers.get("HX-Request"):
            flash(message, "success" if ok else "error")
            return redirect(url_for("console.responses") + ("?" + back if back else ""))
        f, raw = read_filter(MultiDict(parse_qsl(back)), None) if back else (None, {})
        row = None
        if f is not None:
            page = rs.free_text_answers(ctx.store, g.scope, f, ctx.clock())
            row = next((r for r in page.rows if r.answer_id == answer_id), None)
            if row is not None and ok:   # read at the same instant the correction was made: show what was set
                row = replace(row, sentiment=done.label, corrected=done.label != done.machine)
        return render_template("console/_answer_row.html", r=row, answer_id=answer_id, message=message, ok=ok,
                               labels=rs.CORRECTABLE, query=back, form=ActionForm(), may_correct=True)

    @bp.post("/console/responses/themes")
    @requires("admin", "staff")
    def themes():
        if not ActionForm().validate_on_submit():
            abort(400)
        back = (request.form.get("query") or "")[:2000]
        survey = (request.form.get("survey") or "").strip() or None
        keys = [k.strip() for k in (request.form.get("keys") or "").split(",") if k.strip()]
        name = (request.form.get("name") or "").strip()
        everywhere = request.form.get("everywhere") == "1"
        try:
            if request.form.get("action") == "rename":
                if len(keys) != 1:
                    raise ThemeError("to rename, name exactly one theme (merge names several)")
                done = rs.rename_theme(ctx.store, g.scope, keys[0], name, None if everywhere else survey, ctx.clock())
            else:
                done = rs.merge_themes(ctx.store, g.scope, keys, name, None if everywhere else survey, ctx.clock())
            flash(f"{', '.join(done.keys)} now count as “{done.name}”"
                  f"{' in every survey' if done.survey is None else ' in ' + done.survey}.", "success")
        except (ThemeError, AdminError, ValueError) as exc:
            flash(sentence(exc), "error")
        return redirect(url_for("console.responses") + ("?" + back if back else ""))

    @bp.post("/console/responses/export")
    @requires("admin", "staff")
    def export():
        if not ActionForm().validate_on_submit():
            abort(400)
        back = (request.form.get("query") or "")[:2000]
        fmt = request.form.get("format") or "csv"
        keep = request.form.get("keep") == "1" and g.scope.sees_contact_details
        try:
            f, raw = read_filter(MultiDict(parse_qsl(back)), None)
            if f is None:
                raise FilterProblem("choose a survey first")
            if fmt not in rs.FORMATS:
                raise FilterProblem(f"format {fmt!r}: csv or xlsx")
            now = ctx.clock()
            rows = len(rs.export_ids(ctx.store, g.scope, f, now))
            if rows > BACKGROUND_OVER:
                job = rs.start_export(ctx.store, g.scope, f, fmt, now, keep_personal_details=keep)
                audit.note(ctx.store, g.scope, now, "export.start", object_type="export", object_id=job.id,
                           source=client_ip(), detail=f"{f.survey} {fmt} {rows} rows" + (" with contact details" if keep else ""))
                threading.Thread(target=rs.run_export, args=(ctx.store, job.id, now), daemon=True).start()
                return redirect(url_for("console.export_job", job_id=job.id))
            out = io.BytesIO()
            written = rs.export_responses(ctx.store, g.scope, f, fmt, out, now, keep_personal_details=keep)
        except (FilterProblem, AdminError) as exc:
            flash(sentence(exc), "error")
            return redirect(url_for("console.responses") + ("?" + back if back else ""))
        audit.note(ctx.store, g.scope, now, "export", object_type="survey", object_id=f.survey, source=client_ip(),
                   detail=f"{fmt} {written} rows" + (" with contact details" if keep else ""))
        name = f"answers-{f.survey}-{now.strftime('%Y%m%d-%H%M')}.{fmt}"
        return Response(out.getvalue(), mimetype=MIME[fmt],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    def job_or_404(job_id: int):
        try:
            return rs.export_status(ctx.store, g.scope, job_id)
        except rs.ResponseError:
            abort(404)

    @bp.get("/console/exports/<int:job_id>")
    @requires("admin", "staff")
    def export_job(job_id: int):
        job = job_or_404(job_id)
        if request.headers.get("HX-Request"):
            return render_template("console/_export_progress.html", job=job)
        return render_template("console/export.html", title=f"Export {job_id}", job=job)

    @bp.get("/console/exports/<int:job_id>/download")
    @requires("admin", "staff")
    def export_download(job_id: int):
        job = job_or_404(job_id)
        try:
            path = rs.export_file(ctx.store, g.scope, job_id)
        except rs.ResponseError as exc:
            flash(sentence(exc), "error")
            return redirect(url_for("console.export_job", job_id=job_id))
        audit.note(ctx.store, g.scope, ctx.clock(), "export.download", object_type="export", object_id=job_id,
                   source=client_ip(), detail=f"{job.format} {job.done} rows")
        return send_file(path, mimetype=MIME[job.format], as_attachment=True, download_name=path.name)
