"""Admin pages: users (list, add, role and organisations, disable/enable, reset password or two-factor),
the audit log, retention (periods and the last purges) and the console settings. Every change goes through surveys.accounts / surveys.twofactor with
the admin's scope, which writes its audit entry."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from console.auth import client_ip, requires
from console.context import ConsoleContext
from console.forms import ActionForm, AddUserForm, RoleForm, SelectChoice, SettingsForm, show_error
from surveys import accounts, audit, participants, retention, twofactor
from surveys.accounts import AccountError
from surveys.admin import list_organisations


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    def org_choices(form: RoleForm) -> None:
        form.organisations.choices = [SelectChoice(o.code, f"{o.name} ({o.code})") for o in list_organisations(ctx.store)]

    def account(user_id: int):
        try:
            return accounts.get_user(ctx.store, g.scope, user_id)
        except AccountError:
            abort(404)

    @bp.get("/console/users")
    @requires("admin")
    def users():
        return render_template("console/users.html", title="Users", users=accounts.list_users(ctx.store, g.scope))

    @bp.route("/console/users/new", methods=["GET", "POST"])
    @requires("admin")
    def add_user():
        form = AddUserForm()
        org_choices(form)
        if form.validate_on_submit():
            try:
                made = accounts.add_user(ctx.store, g.scope, form.username.data, form.display_name.data or "",
                                         form.role.data, form.organisations.data, ctx.clock(), email=form.email.data,
                                         source=client_ip())
            except AccountError as exc:
                show_error(form, exc)
            else:
                return render_template("console/one_time_password.html", title="User added", made=made, added=True)
        return render_template("console/user_new.html", title="Add a user", form=form)

    @bp.route("/console/users/<int:user_id>", methods=["GET", "POST"])
    @requires("admin")
    def user(user_id: int):
        person = account(user_id)
        form = RoleForm(data={"role": person.role, "organisations": list(person.organisation_codes)}
                        if request.method == "GET" else None)
        org_choices(form)
        if form.validate_on_submit():
            try:
                accounts.set_role(ctx.store, g.scope, person.username, form.role.data, form.organisations.data,
                                  ctx.clock(), source=client_ip())
            except AccountError as exc:
                show_error(form, exc)
            else:
                flash(f"{person.username}: role and organisations saved.", "success")
                return redirect(url_for("console.user", user_id=user_id))
        return render_template("console/user_edit.html", title=f"User {person.username}", person=person, form=form,
                               action_form=ActionForm())

    def action(user_id: int, do, done: str):
        person = account(user_id)
        if not ActionForm().validate_on_submit():
            abort(400)
        try:
            result = do(person)
        except AccountError as exc:
            flash(str(exc).capitalize(), "error")
            return redirect(url_for("console.user", user_id=user_id))
        if done:
            flash(done.format(name=person.username), "success")
        return result or redirect(url_for("console.user", user_id=user_id))

    @bp.post("/console/users/<int:user_id>/disable")
    @requires("admin")
    def disable_user(user_id: int):
        return action(user_id, lambda p: accounts.set_disabled(ctx.store, g.scope, p.username, True, ctx.clock(),
                                                               source=client_ip()) and None,
                      "{name} is disabled; their sessions ended.")

    @bp.post("/console/users/<int:user_id>/enable")
    @requires("admin")
    def enable_user(user_id: int):
        return action(user_id, lambda p: accounts.set_disabled(ctx.store, g.scope, p.username, False, ctx.clock(),
                                                               source=client_ip()) and None,
                      "{name} may sign in again.")

    @bp.post("/console/users/<int:user_id>/reset-password")
    @requires("admin")
    def reset_password(user_id: int):
        def do(person):
            made = accounts.reset_password(ctx.store, g.scope, person.username, ctx.clock(), source=client_ip())
            return render_template("console/one_time_password.html", title="New password", made=made, added=False)
        return action(user_id, do, "")

    @bp.post("/console/users/<int:user_id>/reset-two-factor")
    @requires("admin")
    def reset_two_factor(user_id: int):
        return action(user_id, lambda p: twofactor.reset_two_factor(ctx.store, g.scope, p.username, ctx.clock(),
                                                                    source=client_ip()) and None,
                      "{name}'s two-factor sign-in is cleared; they set it up again at their next sign-in.")

    @bp.get("/console/audit", endpoint="audit")
    @requires("admin")
    def audit_log():
        before = request.args.get("before", type=int)
        action_filter = (request.args.get("action") or "").strip()[:64] or None
        entries = audit.list_entries(ctx.store, g.scope, limit=100, before_id=before, action=action_filter)
        return render_template("console/audit.html", title="Audit log", entries=entries, action=action_filter or "",
                               older=entries[-1].id if len(entries) == 100 else None)

    @bp.get("/console/erasures")
    @requires("admin")
    def erasures():
        return render_template("console/erasures.html", title="Erasures",
                               tombstones=participants.list_erasures(ctx.store, g.scope))

    @bp.route("/console/settings", methods=["GET", "POST"])
    @requires("admin")
    def settings():
        form = SettingsForm(data={"require_two_factor": twofactor.require_two_factor(ctx.store)}
                            if request.method == "GET" else None)
        if form.validate_on_submit():
            twofactor.set_require_two_factor(ctx.store, g.scope, form.require_two_factor.data, ctx.clock(),
                                             source=client_ip())
            flash("Settings saved.", "success")
            return redirect(url_for("console.settings"))
        return render_template("console/settings.html", title="Settings", form=form)

    @bp.get("/console/retention", endpoint="retention")
    @requires("admin")
    def retention_page():
        now = ctx.clock()
        return render_template("console/retention.html", title="Retention", now=now, counts=retention.COUNTS,
                               view=retention.overview(ctx.store, g.scope, now))
