"""Participants: search and filter, add one, import a CSV (a preview listing every bad row, then a confirm
that imports), one person with their consent history, and erase (a confirmation page, then a POST: the same
operation as the person's own DELETE). Views call surveys.participants with the signed-in scope; contact
details appear only as the operation returns them (it hides them from a scope that may not see them)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from console.auth import client_ip, requires
from console.context import ConsoleContext
from surveys import mydata
from surveys import participants as p
from surveys.admin import AdminError, list_organisations
from surveys.channels import PARTICIPANT_CHANNELS

MAX_CSV_BYTES = 5 * 1024 * 1024
YES_NO = [SelectChoice("", "Any"), SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class FilterForm(FlaskForm):
    class Meta:
        csrf = False            # a GET search changes nothing

    q = StringField("Search", validators=[Optional(), Length(max=100)],
                    description="A pseudonym (P-...), a tag, or part of a number")
    org = SelectField("Organisation", choices=[], validate_choice=False)
    channel = SelectField("Channel", choices=[SelectChoice("", "Any")] + [SelectChoice(c, c) for c in PARTICIPANT_CHANNELS],
                          validate_choice=False)
    consent = SelectField("Consent", choices=[SelectChoice("", "Any")] + [SelectChoice(c, c) for c in p.CONSENT_STATUSES],
                          validate_choice=False)
    opted_out = SelectField("Opted out", choices=YES_NO, validate_choice=False)
    unreachable = SelectField("Unreachable", choices=YES_NO, validate_choice=False)
    tag = StringField("Tag", validators=[Optional(), Length(max=64)])
    language = StringField("Language", validators=[Optional(), Length(max=16)], description="like en or es")


class AddParticipantForm(FlaskForm):
    channel = SelectField("Channel", choices=[SelectChoice(c, c) for c in PARTICIPANT_CHANNELS])
    address = StringField("Phone number or chat id", validators=[InputRequired("Type a number or chat id."),
                                                                 Length(max=64)],
                          render_kw={"autocomplete": "off", "spellcheck": "false"})
    organisation = SelectField("Organisation", choices=[], validators=[InputRequired("Choose an organisation.")])
    language = StringField("Language (optional)", validators=[Optional(), Length(max=16)], description="like en or es")
    tags = StringField("Tags (optional)", validators=[Optional(), Length(max=500)], description="Separated by ;")


class ImportForm(FlaskForm):
    file = FileField("CSV file")
    text = TextAreaField("Or paste the CSV here", validators=[Optional(), Length(max=MAX_CSV_BYTES)],
                         description="Columns: channel, address, organisation (join code), language, tags "
                                     "(separated by ;). The first line names the columns.")


class ConfirmImportForm(FlaskForm):
    text = TextAreaField("The file to import", validators=[InputRequired()])


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _org_choices(ctx: ConsoleContext, first: SelectChoice | None) -> list[SelectChoice]:
    mine = [SelectChoice(o.code, f"{o.name} ({o.code})") for o in list_organisations(ctx.store) if g.scope.covers(o.id)]
    return ([first] if first else []) + mine


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    @bp.get("/console/participants")
    @requires("admin", "staff")
    def participants():
        form = FilterForm(request.args)
        form.org.choices = _org_choices(ctx, SelectChoice("", "All of mine"))
        page_no = max(1, request.args.get("page", 1, type=int) or 1)
        result, error = None, None
        if form.validate():
            f = p.ParticipantFilter(org=form.org.data or None, channel=form.channel.data or None,
                                    consent=form.consent.data or None, opted_out=_yes_no(form.opted_out.data),
                                    unreachable=_yes_no(form.unreachable.data), tag=form.tag.data or None,
                                    language=form.language.data or None, query=form.q.data or None, page=page_no)
            try:
                result = p.search_participants(ctx.store, g.scope, f)
            except AdminError as exc:
                error = str(exc).capitalize()
        args = {k: v for k, v in request.args.items() if k != "page" and v}
        return render_template("console/participants.html", title="Participants", form=form, result=result,
                               error=error, args=args)

    @bp.route("/console/participants/new", methods=["GET", "POST"])
    @requires("admin", "staff")
    def add_participant():
        form = AddParticipantForm()
        form.organisation.choices = _org_choices(ctx, None)
        if form.validate_on_submit():
            tags = tuple(t.strip() for t in (form.tags.data or "").split(";") if t.strip())
            try:
                row = p.add_participant(ctx.store, g.scope, form.channel.data, form.address.data,
                                        form.organisation.data, ctx.clock(), language=form.language.data or None,
                                        tags=tags)
            except AdminError as exc:
                form.address.errors = [*form.address.errors, str(exc).capitalize()]
            else:
                flash(f"{row.pseudonym} added to {form.organisation.data}; they are asked for consent before "
                      "their first survey.", "success")
                return redirect(url_for("console.participant", contact_id=row.id))
        return render_template("console/participant_new.html", title="Add a participant", form=form)

    @bp.route("/console/participants/import", methods=["GET", "POST"])
    @requires("admin", "staff")
    def import_preview():
        """GET: the upload form. POST: the preview (nothing is written), with a confirm form when it is clean."""
        form = ImportForm()
        if request.method == "POST" and form.validate_on_submit():
            text = _uploaded_text(form)
            if text is None:
                form.form_errors.append("Choose a CSV file, or paste its lines.")
            else:
                report = p.preview_import(ctx.store, g.scope, text, ctx.clock())
                return render_template("console/participants_import_preview.html", title="Import: preview",
                                       report=report, confirm=ConfirmImportForm(formdata=None, data={"text": text}))
        return render_template("console/participants_import.html", title="Import participants", form=form)

    @bp.post("/console/participants/import/confirm")
    @requires("admin", "staff")
    def import_confirm():
        confirm = ConfirmImportForm()
        if not confirm.validate_on_submit():
            flash("The import form expired or was empty: choose the file again.", "error")
            return redirect(url_for("console.import_preview"))
        report = p.import_participants(ctx.store, g.scope, confirm.text.data, ctx.clock(), source=client_ip())
        if not report.written:
            # The file changed meaning between preview and confirm (someone else imported): show it again.
            return render_template("console/participants_import_preview.html", title="Import: preview",
                                   report=report, confirm=confirm)
        flash(f"Imported: {report.created} added, {report.updated} updated, {report.unchanged} unchanged.", "success")
        return redirect(url_for("console.participants"))

    def detail(contact_id: int) -> p.ParticipantDetail:
        try:
            return p.participant_detail(ctx.store, g.scope, contact_id)
        except p.ParticipantError:
            abort(404)

    @bp.get("/console/participants/<int:contact_id>")
    @requires("admin", "staff")
    def participant(contact_id: int):
        return render_template("console/participant.html", title="Participant", d=detail(contact_id))

    @bp.get("/console/participants/<int:contact_id>/data.json", defaults={"ext": "json"})
    @bp.get("/console/participants/<int:contact_id>/data.txt", defaults={"ext": "txt"})
    @requires("admin", "staff")
    def participant_data(contact_id: int, ext: str):
        """Everything held about them, to give them a copy (an attachment; the console never caches a page)."""
        try:
            export = mydata.export_participant(ctx.store, g.scope, contact_id, ctx.clock(),
                                               "json" if ext == "json" else "text", source=client_ip())
        except p.ParticipantError:
            abort(404)
        return Response(export.body, content_type=export.content_type, headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"', "Cache-Control": "no-store"})

    @bp.route("/console/participants/<int:contact_id>/erase", methods=["GET", "POST"])
    @requires("admin", "staff")
    def erase_participant(contact_id: int):
        d = detail(contact_id)
        form = EraseForm()
        if form.validate_on_submit():
            try:
                erased = p.erase_participant(ctx.store, g.scope, contact_id, ctx.clock(), source=client_ip(),
                                             request=form.request.data)
            except p.RequestProblem as exc:
                form.request.errors.append(str(exc).removeprefix("request: "))
                return render_template("console/participant_erase.html", title="Erase a participant", d=d,
                                       form=form), 400
            except p.ParticipantError:
                abort(404)
            receipt = ("a receipt is on its way to them" if erased.receipt == "queued"
                       else f"no receipt was sent ({erased.receipt.removeprefix('not sent: ')})")
            flash(f"{erased.pseudonym} and everything they said are erased (E-{erased.erasure_id}); {receipt}.",
                  "success")
            return redirect(url_for("console.participants"))
        return (render_template("console/participant_erase.html", title="Erase a participant", d=d, form=form),
                400 if request.method == "POST" else 200)


class EraseForm(FlaskForm):
    request = StringField("Which request is this? (optional, kept on the record)",
                          validators=[Optional(), Length(max=p.REQUEST_MAX, message="At most 200 characters.")],
                          description="For example 'email of 3 Dec' or a ticket number; not the person's name "
                                      "or number.")


def _uploaded_text(form: ImportForm) -> str | None:
    upload = form.file.data
    if upload is not None and getattr(upload, "filename", ""):
        raw = upload.read(MAX_CSV_BYTES + 1)[:MAX_CSV_BYTES]
        text = raw.decode("utf-8-sig", errors="replace")
        return text if text.strip() else None
    text = (form.text.data or "").strip()
    return text + "\n" if text else None
