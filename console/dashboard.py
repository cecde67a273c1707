"""The dashboard: this week at a glance, per organisation and across the partnership, exactly the figures
`analysis.dashboard.dashboard()` returns (withheld cells say why). With `HX-Request` the same view returns
only the live part, which the page asks for every 30 seconds; without JavaScript a link refreshes it."""
from __future__ import annotations

from flask import Blueprint, g, render_template, request

from analysis.dashboard import dashboard as build_dashboard
from analysis.weeks import WeekError, parse_week
from console.auth import signed_in
from console.context import ConsoleContext

REFRESH_SECONDS = 30


def sentence(exc) -> str:
    """An operation's error as a sentence (its first letter up; names in it keep their case)."""
    text = str(exc)
    return text[:1].upper() + text[1:]


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    @bp.get("/console/dashboard")
    @signed_in
    def dashboard():
        raw = (request.args.get("week") or "").strip()[:16]
        week, problem = None, None
        if raw:
            try:
                week = parse_week(raw)
            except (WeekError, ValueError) as exc:
                problem = f"{sentence(exc)}. Showing this week instead."
        board = build_dashboard(ctx.store, g.scope, week, ctx.clock())
        args = {"board": board, "week_arg": raw if week else "", "refresh": REFRESH_SECONDS,
                "sees_flags": g.scope.sees_flags}
        if request.headers.get("HX-Request"):
            return render_template("console/_dashboard_body.html", **args)
        return render_template("console/dashboard.html", title="Dashboard", problem=problem, **args)
