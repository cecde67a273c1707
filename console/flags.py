"""Safeguarding flags: the queue (open by default; it refreshes itself every 30 seconds with htmx, and is an
ordinary page without JavaScript), and the flag page (the answer's words, the way to reach the person as the
operation returns it, the history; assign, note, close). Opening a flag page writes the audit entry
'flag.view'. The link in alerts and digests (PUBLIC_BASE_URL + /console/flags/ID) lands here after sign-in."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from console.auth import client_ip, requires
from console.context import ConsoleContext
from surveys import flags as fl
from surveys.admin import list_organisations

FLAG_ROLES = ("admin", "staff", "safeguarding")


class QueueForm(FlaskForm):
    class Meta:
        csrf = False            # a GET filter changes nothing

    status = SelectField("Status", choices=[SelectChoice("open", "Open"), SelectChoice("closed", "Closed"),
                                            SelectChoice("all", "All")], validate_choice=False)
    org = SelectField("Organisation", choices=[], validate_choice=False)


class AssignForm(FlaskForm):
    assignee = StringField("Assign to", validators=[Length(max=100)], description="A person's name: pick one who may read this flag, or type another")


class NoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[Length(max=5000)], description="What was tried, who was called")


class CloseForm(FlaskForm):
    note = TextAreaField("What was done", validators=[Length(max=5000)],
                         description="A flag is never closed without a note.")
    not_a_concern = BooleanField("Not a concern (a false alarm)")


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    @bp.get("/console/flags")
    @requires(*FLAG_ROLES)
    def flags():
        form = QueueForm(request.args)
        form.org.choices = [SelectChoice("", "All of mine")] + [
            SelectChoice(o.code, f"{o.name} ({o.code})") for o in list_organisations(ctx.store) if g.scope.covers(o.id)]
        status = form.status.data if form.status.data in ("open", "closed", "all") else "open"
        org = form.org.data or None
        error, items = None, []
        try:
            items = fl.flag_queue(ctx.store, g.scope, fl.FlagQueueFilter(status=status, org=org))
        except fl.FlagError as exc:
            error = str(exc).capitalize()
        args = {"status": status, "org": org}
        template = "console/_flag_queue.html" if request.headers.get("HX-Request") else "console/flags.html"
        return render_template(template, title="Safeguarding flags", form=form, items=items, error=error,
                               args=args, status=status, updated=ctx.clock())

    def page(flag_id: int, detail: fl.FlagDetail, status: int = 200, **forms):
        forms.setdefault("assign", AssignForm(prefix="assign", data={"assignee": detail.assignee or g.account.display_name}))
        forms.setdefault("note", NoteForm(prefix="note"))
        forms.setdefault("close", CloseForm(prefix="close"))
        return render_template("console/flag.html", title=f"Flag #{flag_id}", d=detail, **forms), status

    def load(flag_id: int, **kw) -> fl.FlagDetail:
        try:
            return fl.flag_detail(ctx.store, g.scope, flag_id, **kw)
        except fl.FlagError:
            abort(404)

    @bp.get("/console/flags/<int:flag_id>")
    @requires(*FLAG_ROLES)
    def flag(flag_id: int):
        return page(flag_id, load(flag_id, viewed_at=ctx.clock(), source=client_ip()))

    def act(flag_id: int, name: str, form: FlaskForm, do, done: str):
        detail = load(flag_id)
        if form.validate_on_submit():
            try:
                do(form)
            except fl.FlagError as exc:
                field = form.assignee if name == "assign" else form.note
                field.errors = [*field.errors, str(exc).capitalize()]
            else:
                flash(done, "success")
                return redirect(url_for("console.flag", flag_id=flag_id))
        return page(flag_id, detail, 400, **{name: form})

    @bp.post("/console/flags/<int:flag_id>/assign")
    @requires(*FLAG_ROLES)
    def assign_flag(flag_id: int):
        return act(flag_id, "assign", AssignForm(prefix="assign"), lambda f: fl.assign_flag(
            ctx.store, g.scope, flag_id, f.assignee.data, ctx.clock()), "Flag assigned.")

    @bp.post("/console/flags/<int:flag_id>/note")
    @requires(*FLAG_ROLES)
    def note_flag(flag_id: int):
        return act(flag_id, "note", NoteForm(prefix="note"), lambda f: fl.add_flag_note(
            ctx.store, g.scope, flag_id, f.note.data, ctx.clock()), "Note added.")

    @bp.post("/console/flags/<int:flag_id>/close")
    @requires(*FLAG_ROLES)
    def close_flag(flag_id: int):
        return act(flag_id, "close", CloseForm(prefix="close"), lambda f: fl.close_flag_as(
            ctx.store, g.scope, flag_id, f.note.data, ctx.clock(), not_a_concern=f.not_a_concern.data),
            "Flag closed.")
