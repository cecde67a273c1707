"""Surveys: the designer. The list of surveys and drafts the person may read; a survey's page with its YAML in
an editor checked as you type (the same messages as `chorus surveys validate`), an outline of the questions
with every language side by side, the schedule's next occurrences; save a draft (kept as written, valid or
not), publish it as a new version, discard it; versions with a readable difference between any two; duplicate,
import and export YAML. Admin and staff (`surveys.designer`: staff edit their organisations' surveys only)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from console.auth import requires
from console.context import ConsoleContext
from console.dashboard import sentence
from console.forms import ActionForm
from surveys import designer as ds
from surveys import survey_form as sf
from surveys.admin import list_organisations

MAX_UPLOAD = ds.MAX_YAML * 4        # bytes: UTF-8 text of MAX_YAML characters at most


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    def checks():
        if ctx.survey_checks is None:
            abort(503)
        return ctx.survey_checks()

    def owners():
        """The organisations the person may make a survey for (admins: also the partnership's)."""
        orgs = [o for o in list_organisations(ctx.store) if ds.may_edit(g.scope, o.id)]
        return ([("", "The partnership (backbone admins edit it)")] if g.scope.role == "admin" else []) + \
            [(o.code, f"{o.name} ({o.code})") for o in orgs]

    def opened(survey_id: str) -> ds.Design:
        """The survey as the designer opens it for this person; 404 when there is none (403: Forbidden)."""
        try:
            return ds.open_design(ctx.store, g.scope, survey_id)
        except ds.DesignError:
            abort(404)

    def posted(form: ActionForm | None = None) -> None:
        if not (form or ActionForm()).validate_on_submit():
            abort(400)

    def posted_fields() -> dict[str, str]:
        return {k: v[:ds.MAX_YAML] for k, v in request.form.items() if k != "csrf_token"}

    def form_context(text: str, checked, fields=None) -> dict:
        """What _design_form_wrap.html needs: the form's fields (given, or read from the text) and its errors."""
        if fields is None:
            fields = sf.fields_for_text(text, checked.survey.to_dict() if checked.survey is not None else None)
        return dict(fields=fields or {}, lay=sf.layout(fields or {}), has_form=fields is not None,
                    field_errors=sf.errors_by_field(checked.problems), form=ActionForm())

    def design_page(survey_id: str, text: str | None = None, checked=None, status: int = 200, fields=None):
        design = ds.open_design(ctx.store, g.scope, survey_id)
        text = design.yaml_text if text is None else text
        checked = checked or ds.check_design(design, text, checks())
        upcoming = ds.next_occurrences(checked.survey, ctx.settings.default_timezone, ctx.clock()) \
            if checked.survey is not None else []
        return render_template("console/design.html", title=f"Survey {survey_id}", d=design, text=text, checked=checked,
                               upcoming=upcoming, owners=owners(), config_timezone=ctx.settings.default_timezone,
                               **form_context(text, checked, fields)), status

    @bp.get("/console/surveys")
    @requires("admin", "staff")
    def designs():
        return render_template("console/designs.html", title="Surveys", designs=ds.list_designs(ctx.store, g.scope),
                               owners=owners(), form=ActionForm(), raw={})

    @bp.post("/console/surveys/new")
    @requires("admin", "staff")
    def new_design():
        posted()
        f = request.form
        try:
            design = ds.new_design(ctx.store, g.scope, f.get("id", "")[:80], f.get("title", "")[:200], ctx.clock(),
                                   org_code=f.get("organisation") or None, language=(f.get("language") or "en")[:20])
        except ds.DesignError as exc:
            return render_template("console/designs.html", title="Surveys", designs=ds.list_designs(ctx.store, g.scope),
                                   owners=owners(), form=ActionForm(), raw=f, problem=sentence(exc)), 400
        flash(f"Draft {design.survey_id} made from the template: change it, then publish.", "success")
        return redirect(url_for("console.design", survey_id=design.survey_id))

    @bp.post("/console/surveys/import")
    @requires("admin", "staff")
    def import_design():
        posted()
        upload = request.files.get("file")
        raw = upload.read(MAX_UPLOAD + 1) if upload else b""
        problem = None
        if not raw:
            problem = "Choose a YAML file to import."
        elif len(raw) > MAX_UPLOAD:
            problem = f"The file is larger than {MAX_UPLOAD:,} bytes; a survey is a few kilobytes."
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                problem = "The file is not UTF-8 text; save it as UTF-8."
        if problem is None:
            try:
                design, checked = ds.import_yaml(ctx.store, g.scope, text, ctx.clock(), checks(),
                                                 org_code=request.form.get("organisation") or None)
            except ds.DesignError as exc:
                problem = sentence(exc)
        if problem is not None:
            return render_template("console/designs.html", title="Surveys", designs=ds.list_designs(ctx.store, g.scope),
                                   owners=owners(), form=ActionForm(), raw=request.form, import_problem=problem), 400
        flash(f"Imported as the draft of {design.survey_id}" +
              ("." if checked.ok else f": {len(checked.problems)} problem(s) to fix before publishing."),
              "success" if checked.ok else "error")
        return redirect(url_for("console.design", survey_id=design.survey_id))

    @bp.get("/console/surveys/<survey_id>")
    @requires("admin", "staff")
    def design(survey_id: str):
        try:
            return design_page(survey_id)
        except ds.DesignError:
            abort(404)

    @bp.post("/console/surveys/<survey_id>/check")
    @requires("admin", "staff")
    def check_design(survey_id: str):
        """The editor's check as you type (htmx): the problems and warnings of the text; nothing is saved."""
        posted()
        design = opened(survey_id)
        text = request.form.get("yaml", "")
        checked = ds.check_design(design, text, checks())
        # the check, and the form following the YAML (swapped in beside it, out of band)
        return render_template("console/_design_check.html", d=design, checked=checked) + (render_template(
            "console/_design_form_wrap.html", d=design, oob=True, **form_context(text, checked))
            if design.editable else "")

    @bp.post("/console/surveys/<survey_id>/form-yaml")
    @requires("admin", "staff")
    def form_to_yaml(survey_id: str):
        """The form as you change it (htmx): its YAML for the editor, and the check beside it; nothing is saved."""
        posted()
        design = opened(survey_id)
        text = ds.survey_yaml(sf.from_fields(posted_fields(), survey_id))
        checked = ds.check_design(design, text, checks())
        return render_template("console/_design_yaml.html", d=design, text=text) + \
            render_template("console/_design_check.html", d=design, checked=checked, oob=True)

    @bp.post("/console/surveys/<survey_id>/draft")
    @requires("admin", "staff")
    def save_design(survey_id: str):
        posted()
        text = request.form.get("yaml", "")
        try:
            checked = ds.save_draft(ctx.store, g.scope, survey_id, text, ctx.clock(), checks())
        except ds.DesignError as exc:
            flash(sentence(exc), "error")
            return design_page(survey_id, text, status=400)
        flash("Draft saved." + ("" if checked.ok else f" It has {len(checked.problems)} problem(s) to fix before "
                                                       "it can be published."), "success" if checked.ok else "error")
        return redirect(url_for("console.design", survey_id=survey_id))

    @bp.post("/console/surveys/<survey_id>/form")
    @requires("admin", "staff")
    def save_design_form(survey_id: str):
        """The form, saved as the draft's YAML (kept even with problems, which then sit next to their fields)."""
        posted()
        fields = posted_fields()
        text = ds.survey_yaml(sf.from_fields(fields, survey_id))
        try:
            checked = ds.save_draft(ctx.store, g.scope, survey_id, text, ctx.clock(), checks())
        except ds.DesignError as exc:
            flash(sentence(exc), "error")
            return redirect(url_for("console.design", survey_id=survey_id))
        if checked.ok:
            flash("Draft saved from the form.", "success")
            return redirect(url_for("console.design", survey_id=survey_id))
        flash(f"Draft saved from the form. It has {len(checked.problems)} problem(s) to fix before it can be "
              "published: each is next to its field.", "error")
        return design_page(survey_id, text, checked, fields=fields)

    @bp.post("/console/surveys/<survey_id>/publish")
    @requires("admin", "staff")
    def publish_design(survey_id: str):
        posted()
        try:
            if "yaml" in request.form:       # "Save and publish": what is in the editor is what is published
                ds.save_draft(ctx.store, g.scope, survey_id, request.form["yaml"], ctx.clock(), checks())
            done = ds.publish(ctx.store, g.scope, survey_id, ctx.clock(), checks())
        except ds.DesignError as exc:
            flash(sentence(exc).splitlines()[0] + " See the problems below.", "error")
            return redirect(url_for("console.design", survey_id=survey_id))
        r = done.result
        flash(f"Published {survey_id} as version {r.number}: new conversations use it; open ones finish on theirs."
              if r.created else f"The draft is the same as version {r.number}, which is current again.", "success")
        return redirect(url_for("console.design_versions", survey_id=survey_id))

    @bp.route("/console/surveys/<survey_id>/discard", methods=["GET", "POST"])
    @requires("admin", "staff")
    def discard_design(survey_id: str):
        form = ActionForm()
        design = opened(survey_id)
        if request.method == "POST":
            posted(form)
            ds.discard_draft(ctx.store, g.scope, survey_id, ctx.clock())
            flash("The draft is discarded." + (" The published version is unchanged." if design.current else ""), "success")
            return redirect(url_for("console.design", survey_id=survey_id) if design.current else url_for("console.designs"))
        return render_template("console/design_discard.html", title=f"Discard the draft of {survey_id}", d=design, form=form)

    @bp.post("/console/surveys/<survey_id>/duplicate")
    @requires("admin", "staff")
    def duplicate_design(survey_id: str):
        posted()
        try:
            copy = ds.duplicate(ctx.store, g.scope, survey_id, request.form.get("new_id", "")[:80], ctx.clock(),
                                org_code=request.form.get("organisation") or None)
        except ds.DesignError as exc:
            flash(sentence(exc), "error")
            return redirect(url_for("console.design", survey_id=survey_id))
        flash(f"Draft {copy.survey_id} made from {survey_id}.", "success")
        return redirect(url_for("console.design", survey_id=copy.survey_id))

    @bp.get("/console/surveys/<survey_id>/versions")
    @requires("admin", "staff")
    def design_versions(survey_id: str):
        design = opened(survey_id)
        return render_template("console/design_versions.html", title=f"Versions of {survey_id}", d=design,
                               versions=ds.versions(ctx.store, g.scope, survey_id))

    @bp.get("/console/surveys/<survey_id>/diff")
    @requires("admin", "staff")
    def design_diff(survey_id: str):
        older, newer = request.args.get("from", "")[:10], request.args.get("to", "")[:10]
        try:
            design = ds.open_design(ctx.store, g.scope, survey_id)
            lines = ds.diff_versions(ctx.store, g.scope, survey_id, older, newer)
        except ds.DesignError as exc:
            return render_template("console/design_diff.html", title=f"Compare versions of {survey_id}",
                                   survey_id=survey_id, problem=sentence(exc), lines=[], older=older, newer=newer), 400
        return render_template("console/design_diff.html", title=f"Compare versions of {survey_id}", d=design,
                               survey_id=survey_id, lines=lines, older=older, newer=newer)

    @bp.get("/console/surveys/<survey_id>/versions/<int:number>.yaml")
    @requires("admin", "staff")
    def export_design(survey_id: str, number: int):
        try:
            text = ds.version_yaml(ctx.store, g.scope, survey_id, number)
        except ds.DesignError:
            abort(404)
        return Response(text, mimetype="application/yaml", headers={
            "Content-Disposition": f'attachment; filename="{survey_id}-v{number}.yaml"'})
