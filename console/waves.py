"""Waves: the latest ones the scope may see with their counts, one wave in full (counts, who was left out
and why, held and failed invitations), cancel (after a confirmation page) and send now. Admin and staff
(`surveys.waves`: staff act only on waves and surveys within their organisations)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from console.auth import requires
from console.context import ConsoleContext
from console.dashboard import sentence
from console.forms import ActionForm, WaveFromPreviewForm, WavePreviewForm
from surveys.admin import list_surveys
from surveys.wave_preview import preview_wave, send_previewed_wave
from surveys.waves import WaveError, cancel_wave_as, left_out_label, send_wave_now, wave_detail, waves_for


def _instant(raw: str, default: datetime) -> datetime:
    """A time as typed (ISO 8601; UTC unless it carries an offset), or `default` when empty."""
    if not raw.strip():
        return default
    try:
        at = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError("Type a time like 2026-11-30 10:00 (UTC), or leave it empty for now.") from None
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    bp.add_app_template_global(left_out_label, "left_out_label")

    def detail(wave_id: int):
        try:
            return wave_detail(ctx.store, g.scope, wave_id, ctx.clock())
        except WaveError:
            abort(404)

    @bp.get("/console/waves")
    @requires("admin", "staff")
    def waves():
        return render_template("console/waves.html", title="Waves", waves=waves_for(ctx.store, g.scope, limit=50),
                               surveys=list_surveys(ctx.store), form=ActionForm())

    @bp.get("/console/waves/<int:wave_id>")
    @requires("admin", "staff")
    def wave(wave_id: int):
        return render_template("console/wave.html", title=f"Wave {wave_id}", d=detail(wave_id))

    @bp.route("/console/waves/<int:wave_id>/cancel", methods=["GET", "POST"])
    @requires("admin", "staff")
    def cancel_wave(wave_id: int):
        d = detail(wave_id)
        form = ActionForm()
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400)
            n = cancel_wave_as(ctx.store, g.scope, wave_id, ctx.clock())
            flash(f"Wave {wave_id} is cancelled: {n} invitation{'s' if n != 1 else ''} will not go out. "
                  "Messages already handed to a provider cannot be called back.", "success")
            return redirect(url_for("console.wave", wave_id=wave_id))
        return render_template("console/wave_cancel.html", title=f"Cancel wave {wave_id}", d=d, form=form)

    @bp.post("/console/waves/send")
    @requires("admin", "staff")
    def send_wave():
        if not ActionForm().validate_on_submit():
            abort(400)
        survey = (request.form.get("survey") or "").strip()[:64]
        if not survey:
            flash("Choose a survey to send.", "error")
            return redirect(url_for("console.waves"))
        try:
            made = send_wave_now(ctx.store, g.scope, survey, ctx.clock())
        except WaveError as exc:
            flash(sentence(exc), "error")
            return redirect(url_for("console.waves"))
        flash(f"Wave {made.wave_id} of {survey}: {made.invited} people invited, going out now "
              "(quiet hours still apply to each person)." if made.created else
              f"Wave {made.wave_id} of {survey} was already made for this instant.", "success")
        return redirect(url_for("console.wave", wave_id=made.wave_id))

    @bp.get("/console/waves/preview")
    @requires("admin", "staff")
    def preview_wave_page():
        """Who a wave would reach and leave out, what it costs and when it ends; its button makes it."""
        form = WavePreviewForm(request.args)
        form.survey.choices = [("", "Choose a survey")] + [(s.id, f"{s.title} ({s.id})") for s in list_surveys(ctx.store)]
        preview, now = None, ctx.clock()
        if request.args and form.validate():
            try:
                at = _instant(form.at.data or "", now)
            except ValueError as exc:
                form.at.errors = [str(exc)]
            else:
                try:
                    preview = preview_wave(ctx.store, g.scope, form.survey.data, at, now, ctx.send_estimates)
                except WaveError as exc:
                    field = form.at if str(exc).startswith("at:") else form.survey
                    field.errors = [sentence(str(exc).removeprefix("at: "))]
        send = WaveFromPreviewForm(formdata=None, survey=preview.survey_id, at=preview.at.isoformat(),
                                   expect=preview.fingerprint) if preview else None
        return render_template("console/wave_preview.html", title="Preview a send", form=form, p=preview, send=send)

    @bp.post("/console/waves/preview")
    @requires("admin", "staff")
    def send_previewed():
        form = WaveFromPreviewForm()
        if not form.validate_on_submit():
            abort(400)
        survey = form.survey.data.strip()[:64]
        try:
            at = _instant(form.at.data, ctx.clock())
            made = send_previewed_wave(ctx.store, g.scope, survey, at, ctx.clock(), form.expect.data[:500])
        except (ValueError, WaveError) as exc:
            flash(sentence(exc), "error")
            return redirect(url_for("console.preview_wave_page", survey=survey))
        flash(f"Wave {made.wave_id} of {survey}: {made.invited} people invited, going out now "
              "(quiet hours still apply to each person)." if made.created else
              f"Wave {made.wave_id} of {survey} was already made for this instant.", "success")
        return redirect(url_for("console.wave", wave_id=made.wave_id))
