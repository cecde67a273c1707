"""Who is asking: the server-side session behind the cookie, and the decorators every view uses.

Before each console request the session cookie (a random token; the database keeps its hash) is looked up
with `surveys.signin.load_session`, which also applies the idle (30 min) and absolute (8 h) timeouts and
ends the session of a disabled account. Then, for the view:

    g.signed_in   SignedIn or None (its .account is the StaffAccount, .stage 'full' or 'two_factor')
    g.account     the StaffAccount of a complete session, else None
    g.scope       its surveys.scope.Scope, else None: pass it to every staff operation

    @signed_in                       a complete session (else: to sign-in, then back here)
    @requires("admin", "staff")      the same, and one of these roles (else 403)

A `Forbidden` raised by a staff operation becomes a 403 page with its message.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from console.context import ConsoleContext
from surveys.scope import ROLES, Forbidden
from surveys.signin import load_session

COOKIE = "chorus_session"
SECURE_COOKIE = "__Host-chorus_session"   # the __Host- prefix: Secure, path /, no Domain (https only)
# Views a person who must change their password (or is between password and second factor) may still use.
OPEN_WHILE_INCOMPLETE = {"console.change_password", "console.sign_out"}


def cookie_name(ctx: ConsoleContext) -> str:
    return SECURE_COOKIE if ctx.https else COOKIE


def set_session_cookie(response, ctx: ConsoleContext, token: str):
    """The cookie carries only the random token: HttpOnly, SameSite=Lax, Secure over https."""
    response.set_cookie(cookie_name(ctx), token, httponly=True, samesite="Lax", secure=ctx.https, path="/")
    return response


def clear_session_cookie(response, ctx: ConsoleContext):
    response.delete_cookie(cookie_name(ctx), path="/", secure=ctx.https, httponly=True, samesite="Lax")
    return response


def session_token(ctx: ConsoleContext) -> str | None:
    return request.cookies.get(cookie_name(ctx))


def client_ip() -> str | None:
    """The address the request came from (behind a proxy, config wires ProxyFix so this is the client's)."""
    return request.remote_addr


def safe_next(value: str | None) -> str | None:
    """Only a path of this console (no scheme, host or '//'), so a link cannot send people elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not (parts.path == "/console" or parts.path.startswith("/console/")):
        return None
    return value


def install(bp: Blueprint, ctx: ConsoleContext) -> None:
    @bp.before_request
    def _load_session():
        g.signed_in = g.account = g.scope = None
        token = session_token(ctx)
        if not token:
            return None
        check = load_session(ctx.store, token, ctx.clock())
        if check.signed_in is None:
            if check.ended and request.endpoint not in ("console.sign_in", "console.static"):
                flash(check.ended, "info")
            g.clear_cookie = True
            return None
        g.signed_in = check.signed_in
        if check.signed_in.complete:
            g.account = check.signed_in.account
            g.scope = check.signed_in.scope
        return None

    @bp.after_request
    def _drop_dead_cookie(response):
        if g.get("clear_cookie") and not g.get("cookie_set"):
            clear_session_cookie(response, ctx)
        return response

    @bp.errorhandler(Forbidden)
    def _forbidden(exc):
        return forbidden(str(exc))


def forbidden(message: str = "Your role may not see this page."):
    return render_template("console/error.html", title="Not allowed", message=message), 403


def to_sign_in():
    """Redirect to sign-in, coming back to this page afterwards (GET only: a form is not re-sent)."""
    here = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("console.sign_in", next=safe_next(here)))


def signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        state = g.get("signed_in")
        if state is None:
            return to_sign_in()
        if not state.complete:
            return redirect(url_for("console.two_factor", next=safe_next(request.full_path.rstrip("?"))))
        if state.account.must_change_password and request.endpoint not in OPEN_WHILE_INCOMPLETE:
            flash("Choose a password of your own before you go on.", "info")
            return redirect(url_for("console.change_password"))
        return view(*args, **kwargs)

    return wrapper


def requires(*roles: str):
    """@requires("admin"): signed in with one of these roles; anyone else gets 403."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles {sorted(unknown)} (one of {', '.join(ROLES)})")

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.scope.role not in roles:
                return forbidden()
            return view(*args, **kwargs)

        return signed_in(wrapper)

    return decorate
