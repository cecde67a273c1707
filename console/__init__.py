"""The staff console: a Flask blueprint over the staff operations in `surveys/` and `analysis/`.

`make_blueprint(store, settings, clock)` builds it; config/app.py registers it on the same app as the
webhooks. Each area is a module with `register(bp, ctx)` listed in AREAS: a view checks who is asking
(`@signed_in`, `@requires(...)` from console.auth, which put the signed-in person's Scope in `g.scope`),
calls one staff operation with that scope, and renders a template that extends console/base.html.
Imports: surveys, analysis and config.settings only (the contract in pyproject.toml).
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import Blueprint

from console.context import ConsoleContext, Settings  # (the package itself imports config only through context)
from surveys.store import Store


def make_blueprint(store: Store, settings: Settings, clock: Callable[[], datetime],
                   *, survey_checks: Callable[[], object] | None = None,
                   send_estimates: object | None = None, screens=None) -> Blueprint:
    from console import admin, auth, home, security, signin_views
    from console import actions, dashboard, designer, digests, flags, participants, responses, simulator, waves

    from analysis.digest.render import points

    ctx = ConsoleContext(store, settings, clock, survey_checks=survey_checks, send_estimates=send_estimates,
                         screens=screens or {})
    bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/console/static")
    security.install(bp, ctx)
    auth.install(bp, ctx)
    # A change in a rate reads as the digest writes it ("+3.2 points", "no change"): one rule for both.
    bp.add_app_template_filter(lambda value: points({"value": value}), "change_points")
    # Each area adds its routes; add new areas (participants, responses, flags, ...) to this tuple.
    for area in (home, signin_views, admin,
                 dashboard, participants, responses, flags, actions, digests, waves, designer, simulator):
        area.register(bp, ctx)
    return bp
