"""The action register: the list, record an action (also from a theme on the responses page), one action with
its history and replies, status changes, and "you said, we did": a preview of who it tells and who is left out
and why, then publish. The rules live in `analysis.actions`; everyone signed in reads the register, admin and
staff (of the action's organisation) change it."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from analysis.actions import (AUDIENCES, STATUSES, ActionError, ActionInput, get_action, left_out_label, list_actions,
                              preview_publication, publish_action, record_action, set_status, update_action)
from console.auth import requires, signed_in
from console.context import ConsoleContext
from console.dashboard import sentence
from console.forms import ActionForm, ActionRecordForm, ActionStatusForm
from surveys.admin import list_organisations, list_surveys
from surveys.messages import language_name, supported_languages

STATUS_CHOICES = [SelectChoice(key, label) for key, label in STATUSES.items()]


def _instant(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0), tzinfo=timezone.utc) if day else None


def _field_error(form, exc: Exception) -> None:
    """'heard: say what ...' goes next to the field `heard`; anything else above the form."""
    text = str(exc)
    name = text.split(":", 1)[0].strip().replace(" ", "_")
    target = {"period": "since", "message": None, "why_not": "why_not", "cohort": "cohort_tag",
              "organisation with join code": "org"}.get(name, name)
    if target and target in form._fields:
        # Next to its field, the field's name is not repeated: "Say what is being done about it."
        said = sentence(text.split(":", 1)[1].strip()) if ":" in text else sentence(text)
        form[target].errors = [*form[target].errors, said if said.endswith(".") else said + "."]
    else:
        form.form_errors.append(sentence(text))


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    bp.add_app_template_global(left_out_label, "loop_left_out_label")

    def detail(action_id: int):
        try:
            return get_action(ctx.store, g.scope, action_id)
        except ActionError:
            abort(404)

    def choices(form: ActionRecordForm) -> None:
        orgs = [o for o in list_organisations(ctx.store) if g.scope.covers(o.id)]
        form.org.choices = ([SelectChoice("", "The partnership (backbone)")] if g.scope.role == "admin" else []) + \
            [SelectChoice(o.code, o.name) for o in orgs]
        form.survey.choices = [SelectChoice("", "None")] + [SelectChoice(s.id, f"{s.title} ({s.id})")
                                                           for s in list_surveys(ctx.store)]
        form.status.choices = STATUS_CHOICES

    def messages_from(form_data) -> dict:
        return {lang: form_data.get(f"message_{lang}", "") for lang in supported_languages()}

    def inp(form: ActionRecordForm, messages: dict) -> ActionInput:
        return ActionInput(form.heard.data or "", form.doing.data or "", form.owner.data or "", form.org.data or None,
                           form.survey.data or None, form.question.data or None, form.theme.data or None,
                           _instant(form.since.data), _instant(form.until.data), form.audience.data or "raised",
                           form.cohort_tag.data or None, messages, _instant(form.due_on.data), form.status.data,
                           form.why_not.data or None)

    def languages() -> list[tuple[str, str]]:
        return [(code, language_name(code)) for code in supported_languages()]

    @bp.get("/console/actions")
    @signed_in
    def actions():
        status = request.args.get("status") or None
        if status not in (None, *STATUSES):
            status = None
        return render_template("console/actions.html", title="Actions", status=status, statuses=STATUSES,
                               rows=list_actions(ctx.store, g.scope, status),
                               may_record=g.scope.role in ("admin", "staff"))

    @bp.route("/console/actions/new", methods=["GET", "POST"])
    @requires("admin", "staff")
    def new_action():
        form = ActionRecordForm()
        choices(form)
        messages = messages_from(request.form)
        if request.method == "GET":
            # From a theme on the responses page: what it is about comes filled in.
            for name in ("survey", "question", "theme", "org"):
                if request.args.get(name):
                    form[name].data = request.args[name][:100]
            for name in ("since", "until"):
                try:
                    form[name].data = date.fromisoformat(request.args.get(name, "")[:10])
                except ValueError:
                    pass
            if form.theme.data and not form.heard.data:
                form.heard.data = f"{form.theme.data}"
            form.owner.data = g.scope.actor
        elif form.validate_on_submit():
            try:
                made = record_action(ctx.store, g.scope, inp(form, messages), ctx.clock())
            except ActionError as exc:
                _field_error(form, exc)
            else:
                flash(f"Action #{made.id} is in the register.", "success")
                return redirect(url_for("console.action", action_id=made.id))
        return render_template("console/action_edit.html", title="Record an action", form=form, messages=messages,
                               languages=languages(), action=None)

    @bp.get("/console/actions/<int:action_id>")
    @signed_in
    def action(action_id: int):
        d = detail(action_id)
        form = ActionStatusForm(formdata=None, status=d.action.status)
        form.status.choices = STATUS_CHOICES
        return render_template("console/action.html", title=f"Action #{action_id}", d=d, form=form,
                               audiences=AUDIENCES, languages=dict(languages()))

    @bp.route("/console/actions/<int:action_id>/edit", methods=["GET", "POST"])
    @requires("admin", "staff")
    def edit_action(action_id: int):
        d = detail(action_id)
        if not d.may_edit:
            abort(403)
        a = d.action
        form = ActionRecordForm(data=None if request.method == "POST" else dict(
            heard=a.heard, doing=a.doing, owner=a.owner, status=a.status, why_not=a.why_not, org=a.org_code or "",
            survey=a.survey_id or "", question=a.question_key, theme=a.theme, audience=a.audience,
            cohort_tag=a.cohort_tag, since=a.since.date() if a.since else None,
            until=a.until.date() if a.until else None, due_on=a.due_on.date() if a.due_on else None))
        choices(form)
        messages = messages_from(request.form) if request.method == "POST" else dict(a.message)
        if request.method == "POST" and form.validate_on_submit():
            try:
                update_action(ctx.store, g.scope, action_id, inp(form, messages), ctx.clock())
            except ActionError as exc:
                _field_error(form, exc)
            else:
                flash(f"Action #{action_id} is saved.", "success")
                return redirect(url_for("console.action", action_id=action_id))
        return render_template("console/action_edit.html", title=f"Change action #{action_id}", form=form,
                               messages=messages, languages=languages(), action=a)

    @bp.post("/console/actions/<int:action_id>/status")
    @requires("admin", "staff")
    def action_status(action_id: int):
        d = detail(action_id)
        if not d.may_edit:
            abort(403)
        form = ActionStatusForm()
        form.status.choices = STATUS_CHOICES
        if not form.validate_on_submit():
            abort(400)
        try:
            set_status(ctx.store, g.scope, action_id, form.status.data, ctx.clock(), why_not=form.why_not.data,
                       note=form.note.data)
        except ActionError as exc:
            flash(sentence(exc), "error")
        else:
            flash(f"Action #{action_id} is now {STATUSES[form.status.data]}.", "success")
        return redirect(url_for("console.action", action_id=d.action.id))

    @bp.get("/console/actions/<int:action_id>/publish")
    @requires("admin", "staff")
    def preview_action(action_id: int):
        d = detail(action_id)
        if not d.may_edit:
            abort(403)
        error, p = None, None
        try:
            p = preview_publication(ctx.store, g.scope, action_id, ctx.clock())
        except ActionError as exc:
            error = sentence(exc)
        return render_template("console/action_publish.html", title=f"Tell people about action #{action_id}",
                               d=d, p=p, error=error, form=ActionForm(), languages=dict(languages()))

    @bp.post("/console/actions/<int:action_id>/publish")
    @requires("admin", "staff")
    def publish(action_id: int):
        if not detail(action_id).may_edit:
            abort(403)
        if not ActionForm().validate_on_submit():
            abort(400)
        try:
            p = publish_action(ctx.store, g.scope, action_id, ctx.clock())
        except ActionError as exc:
            flash(sentence(exc), "error")
            return redirect(url_for("console.preview_action", action_id=action_id))
        n = len(p.reached)
        flash(f"\u201cYou said, we did\u201d is on its way to {n} {'person' if n == 1 else 'people'}"
              + (f" ({p.held} after quiet hours end where they live)" if p.held else "") + ".", "success")
        return redirect(url_for("console.action", action_id=action_id))
