"""The survey simulator: take a survey as a participant on a simulated SMS screen or Telegram chat, through the
real service on a sandbox (surveys.simulator). Admin and organisation staff.

GET /console/surveys/<id>/simulate starts a simulation with the settings in the query string (nothing real
changes: the sandbox is built and dropped within the request). Each message typed or button pressed POSTs the
settings and the inputs so far (hidden fields) plus the new one; the page, or for htmx the `_simulator.html`
fragment, shows the replayed run. The channel screens come from the composition root (`ctx.screens`).
"""
from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from console.auth import requires
from console.context import ConsoleContext
from surveys.simulator import (CHANNEL_LABELS, CHANNELS, MAX_INPUT_CHARS, SimInput, SimSettings, SimulatorError,
                               restart_settings, simulate, simulator_setup)


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    @bp.get("/console/surveys/<survey_id>/simulate")
    @requires("admin", "staff")
    def simulate_survey(survey_id: str):
        setup = _setup(ctx, survey_id)
        if setup is None:
            return redirect(url_for("console.design", survey_id=survey_id))
        settings = _settings(request.args, setup, ctx.clock().replace(microsecond=0))
        return _page(ctx, survey_id, setup, settings, [])

    @bp.post("/console/surveys/<survey_id>/simulate")
    @requires("admin", "staff")
    def simulate_step(survey_id: str):
        setup = _setup(ctx, survey_id)
        if setup is None:
            return redirect(url_for("console.design", survey_id=survey_id))
        form = request.form
        settings = _settings(form, setup, _started(form.get("started")) or ctx.clock().replace(microsecond=0))
        try:
            inputs = _inputs(form.get("inputs"))
        except SimulatorError as exc:
            return _page(ctx, survey_id, setup, settings, [], errors={"inputs": str(exc)}, status=400)
        new, error = _new_input(form)
        if error:
            return _page(ctx, survey_id, setup, settings, inputs, errors={"text": error}, status=400)
        return _page(ctx, survey_id, setup, settings, inputs + ([new] if new else []))


def _draft_asked() -> bool:
    return request.values.get("draft") in ("1", "on", "yes", "true")


def _setup(ctx: ConsoleContext, survey_id: str):
    """The survey's set-up; None (said in a flash, back to the designer) for a draft that cannot be tried."""
    try:
        return simulator_setup(ctx.store, g.scope, survey_id, draft=_draft_asked())
    except SimulatorError as exc:
        if not _draft_asked():
            abort(404)
        flash(str(exc)[:1].upper() + str(exc)[1:] + ".", "error")
        return None


def _settings(args, setup, started: datetime) -> SimSettings:
    """Settings from a query string or form, with the survey's and the first organisation's defaults. Checked
    by the operation (surveys.simulator.check_settings), which names the field of any problem."""
    survey = setup.survey
    org = (args.get("organisation") or setup.organisations[0].code).strip()[:64]
    chosen = next((o for o in setup.organisations if o.code.casefold() == org.casefold()), None)
    default_language = chosen.language if chosen and chosen.language in survey.languages else survey.languages[0]
    earlier = tuple((q.key, args.get(f"earlier-{q.key}", "").strip()) for q in survey.questions
                    if args.get(f"earlier-{q.key}", "").strip())
    return SimSettings(
        channel=(args.get("channel") or "sms").strip()[:16],
        organisation=org,
        language=(args.get("language") or default_language).strip()[:16],
        started=started,
        timezone=(args.get("timezone") or "").strip()[:64] or None,
        start_at=(args.get("start_at") or "").strip()[:64] or None,
        earlier=earlier,
        ask_consent=args.get("ask_consent") in ("1", "on", "y", "yes", "true"),
        draft=args.get("draft") in ("1", "on", "yes", "true"),
    )


def _started(value: str | None) -> datetime | None:
    try:
        started = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return started if started.tzinfo is not None else None


def _inputs(raw: str | None) -> list[SimInput]:
    """The inputs so far, as the page carries them: [{"t": text} | {"p": button data, "o": chat item}]."""
    if not raw:
        return []
    try:
        data = json.loads(raw)
        out = []
        for item in data:
            if set(item) == {"t"} and isinstance(item["t"], str):
                out.append(SimInput(text=item["t"]))
            elif set(item) == {"p", "o"} and isinstance(item["p"], str) and type(item["o"]) is int:
                out.append(SimInput(press=item["p"], on=item["o"]))
            else:
                raise ValueError
        return out
    except (ValueError, TypeError):
        raise SimulatorError("the simulation's messages could not be read: start again") from None


def _dump(inputs: list[SimInput]) -> str:
    return json.dumps([{"t": i.text} if i.press is None else {"p": i.press, "o": i.on} for i in inputs],
                      ensure_ascii=False)


def _new_input(form) -> tuple[SimInput | None, str | None]:
    press = form.get("press")
    if press:
        on, _, data = press.partition(":")
        if not on.isdigit() or not data:
            return None, "That button could not be read: start again."
        return SimInput(press=data, on=int(on)), None
    if "text" not in form:
        return None, None
    text = form.get("text", "")
    if not text.strip():
        return None, "Type a message to send."
    if len(text) > MAX_INPUT_CHARS:
        return None, f"A message of at most {MAX_INPUT_CHARS} characters."
    return SimInput(text=text), None


def _page(ctx: ConsoleContext, survey_id: str, setup, settings: SimSettings, inputs: list[SimInput],
          errors: dict | None = None, status: int = 200):
    errors = dict(errors or {})
    sim = None
    try:
        sim = simulate(ctx.store, g.scope, survey_id, settings, inputs, ctx.screens)
    except SimulatorError as exc:
        errors[exc.field or "inputs"] = str(exc)
        status = 400
        if exc.field == "inputs" and inputs:
            # A transcript that no longer replays (changed by hand): show the start, and say so.
            try:
                sim, inputs = simulate(ctx.store, g.scope, survey_id, settings, [], ctx.screens), []
            except SimulatorError:
                sim = None
    restarts = {}
    if sim is not None:
        for step, question in sim.asked.items():
            if step and question:
                restarts[step] = _query(restart_settings(sim, step))
    template = "console/simulator.html"
    if request.headers.get("HX-Request") and sim is not None:
        # htmx swaps only 2xx answers: the fragment carries its errors beside their fields all the same.
        template, status = "console/_simulator.html", 200
    return render_template(template, title=f"Simulator: {setup.survey.title}", survey_id=survey_id, setup=setup,
                           s=settings, sim=sim, inputs=_dump(inputs), errors=errors, restarts=restarts,
                           channels=[(c, CHANNEL_LABELS[c]) for c in CHANNELS],
                           channel_label=CHANNEL_LABELS.get(settings.channel, settings.channel),
                           max_chars=MAX_INPUT_CHARS), status


def _query(s: SimSettings) -> dict:
    """Settings as the query string of GET /simulate (what the settings form and 'restart here' links carry)."""
    args = {"channel": s.channel, "organisation": s.organisation, "language": s.language}
    if s.timezone:
        args["timezone"] = s.timezone
    if s.start_at:
        args["start_at"] = s.start_at
    if s.ask_consent:
        args["ask_consent"] = "1"
    if s.draft:
        args["draft"] = "1"
    for key, text in s.earlier:
        args[f"earlier-{key}"] = text
    return args
