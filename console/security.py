"""CSRF and response headers for the console, and nothing else of the app.

CSRF (Flask-WTF) is checked on every POST/PUT/PATCH/DELETE to a console route, from the form field or the
X-CSRFToken header that console.js adds to htmx requests; the Twilio and Telegram webhooks (other
blueprints, verified by their own signatures) are not touched. Flask's signed cookie holds only the CSRF
secret, never who is signed in (that is the server-side session in console.auth).
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from console.context import ConsoleContext

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'; object-src 'none'")
# A digest's printable page (its own inline <style>, charts as data: images), served on its own routes:
# sandboxed (no script, its own opaque origin) and framable by the console only, for the preview in the page.
PRINTABLE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
                 "base-uri 'none'; form-action 'none'; sandbox")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
csrf = CSRFProtect()


def install(bp: Blueprint, ctx: ConsoleContext) -> None:
    @bp.record_once
    def _setup(state) -> None:
        app = state.app
        if not app.secret_key:
            app.secret_key = hmac.new(ctx.settings.secret_key.encode(), b"console-flask", hashlib.sha256).hexdigest()
        app.config.update(
            WTF_CSRF_CHECK_DEFAULT=False,            # checked by the console's own before_request, below
            WTF_CSRF_TIME_LIMIT=8 * 3600,            # as long as a session may last
            SESSION_COOKIE_NAME="chorus_csrf",
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=ctx.https,
        )
        csrf.init_app(app)

    @bp.before_request
    def _check_csrf():
        if request.method in UNSAFE:
            csrf.protect()

    @bp.errorhandler(CSRFError)
    def _csrf_failed(exc):
        return render_template("console/error.html", title="The form could not be sent",
                               message="The form was old or did not come from this site. Go back, reload the page "
                                       "and try again."), 400

    @bp.after_request
    def _headers(response):
        h = response.headers
        printable = g.get("printable", False)
        h["Content-Security-Policy"] = PRINTABLE_CSP if printable else CSP
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h["X-Frame-Options"] = "SAMEORIGIN" if printable else "DENY"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if ctx.https or request.is_secure:
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "console.static":
            h["Cache-Control"] = "no-store"
            h["Pragma"] = "no-cache"
        return response
