"""Signing in and out, the second factor, and a person's own account (password, two-factor)."""
from __future__ import annotations

import segno
from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for

from console.auth import (clear_session_cookie, client_ip, safe_next, session_token, set_session_cookie, signed_in)
from console.context import ConsoleContext
from console.forms import ActionForm, ChangePasswordForm, CodeForm, PasswordForm, SignInForm, show_error
from surveys import accounts, signin, twofactor
from surveys.accounts import AccountError
from surveys.signin import SignInError


def _qr(uri: str) -> str:
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    def with_cookie(response, token: str):
        g.cookie_set = True
        return set_session_cookie(response, ctx, token)

    @bp.route("/console/sign-in", methods=["GET", "POST"])
    def sign_in():
        state = g.get("signed_in")
        nxt = safe_next(request.args.get("next"))
        if state is not None and request.method == "GET":
            return redirect(nxt or url_for("console.home") if state.complete
                            else url_for("console.two_factor", next=nxt))
        form = SignInForm()
        status, retry = 200, None
        if form.validate_on_submit():
            try:
                started = signin.sign_in(ctx.store, form.username.data, form.password.data, ctx.clock(),
                                         ip=client_ip(), user_agent=request.user_agent.string)
            except SignInError as exc:
                form.form_errors.append(str(exc))
                status, retry = (429, exc.retry_after) if exc.retry_after else (200, None)
            else:
                target = (nxt or url_for("console.home")) if started.complete else url_for("console.two_factor", next=nxt)
                return with_cookie(redirect(target), started.token)
        response = make_response(render_template("console/sign_in.html", form=form, title="Sign in"), status)
        if retry:
            response.headers["Retry-After"] = str(retry)
        return response

    @bp.route("/console/sign-in/two-factor", methods=["GET", "POST"])
    def two_factor():
        state = g.get("signed_in")
        nxt = safe_next(request.args.get("next"))
        if state is None:
            return redirect(url_for("console.sign_in", next=nxt))
        if state.complete:
            return redirect(nxt or url_for("console.home"))
        form = CodeForm()
        enrolling = not state.account.two_factor
        if form.validate_on_submit():
            try:
                if enrolling:
                    done = twofactor.confirm_enrolment(ctx.store, state.session_id, form.code.data, ctx.clock(),
                                                       source=client_ip())
                else:
                    done = twofactor.verify_second_factor(ctx.store, state, form.code.data, ctx.clock(), source=client_ip())
            except (SignInError, AccountError) as exc:
                form.code.errors = [str(exc)]
            else:
                if done.recovery_codes:
                    page = render_template("console/recovery_codes.html", title="Your recovery codes",
                                           codes=done.recovery_codes, next=nxt or url_for("console.home"))
                    return with_cookie(make_response(page), done.token)
                return with_cookie(redirect(nxt or url_for("console.home")), done.token)
        enrolment = twofactor.start_enrolment(ctx.store, state.session_id) if enrolling else None
        return render_template("console/two_factor.html", form=form, enrolment=enrolment,
                               qr=_qr(enrolment.uri) if enrolment else None, title="Two-factor sign-in",
                               sign_out_form=ActionForm())

    @bp.post("/console/sign-out")
    def sign_out():
        if ActionForm().validate_on_submit():
            signin.sign_out(ctx.store, session_token(ctx), ctx.clock(), ip=client_ip())
        flash("You are signed out.", "info")
        return clear_session_cookie(redirect(url_for("console.sign_in")), ctx)

    @bp.route("/console/account/password", methods=["GET", "POST"])
    @signed_in
    def change_password():
        form = ChangePasswordForm()
        if form.validate_on_submit():
            try:
                accounts.change_password(ctx.store, g.account.id, form.current_password.data, form.new_password.data,
                                         ctx.clock(), keep_session_id=g.signed_in.session_id, source=client_ip())
            except AccountError as exc:
                show_error(form, exc)
            else:
                flash("Your password is changed. Your other sessions were signed out.", "success")
                return redirect(url_for("console.home"))
        return render_template("console/change_password.html", form=form, title="Change your password")

    @bp.route("/console/account/two-factor", methods=["GET", "POST"])
    @signed_in
    def account_two_factor():
        form = CodeForm()
        if not g.account.two_factor and form.validate_on_submit():
            try:
                done = twofactor.confirm_enrolment(ctx.store, g.signed_in.session_id, form.code.data, ctx.clock(),
                                                   source=client_ip())
            except AccountError as exc:
                show_error(form, exc)
            else:
                return render_template("console/recovery_codes.html", title="Your recovery codes",
                                       codes=done.recovery_codes, next=url_for("console.account_two_factor"))
        enrolment = None if g.account.two_factor else twofactor.start_enrolment(ctx.store, g.signed_in.session_id)
        return render_template(
            "console/account_two_factor.html", title="Two-factor sign-in", form=form, enrolment=enrolment,
            qr=_qr(enrolment.uri) if enrolment else None, codes_form=CodeForm(prefix="codes"),
            remove_form=PasswordForm(prefix="remove"), required=twofactor.require_two_factor(ctx.store),
            codes_left=twofactor.recovery_codes_left(ctx.store, g.account.id) if g.account.two_factor else 0)

    @bp.post("/console/account/two-factor/recovery-codes")
    @signed_in
    def new_recovery_codes():
        form = CodeForm(prefix="codes")
        if form.validate_on_submit():
            try:
                codes = twofactor.new_recovery_codes(ctx.store, g.account.id, form.code.data, ctx.clock(),
                                                     source=client_ip())
            except AccountError as exc:
                flash(str(exc), "error")
            else:
                return render_template("console/recovery_codes.html", title="Your new recovery codes", codes=codes,
                                       next=url_for("console.account_two_factor"))
        else:
            flash("Type the code your app shows now to make new recovery codes.", "error")
        return redirect(url_for("console.account_two_factor"))

    @bp.post("/console/account/two-factor/remove")
    @signed_in
    def remove_two_factor():
        form = PasswordForm(prefix="remove")
        if form.validate_on_submit():
            try:
                twofactor.remove_two_factor(ctx.store, g.account.id, form.password.data, ctx.clock(), source=client_ip())
            except AccountError as exc:
                flash(str(exc).capitalize(), "error")
            else:
                flash("Two-factor sign-in is off.", "success")
        else:
            flash("Type your password to turn two-factor sign-in off.", "error")
        return redirect(url_for("console.account_two_factor"))
