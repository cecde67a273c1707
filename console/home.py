"""`/` and the console's home page."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for

from console.auth import signed_in
from console.context import ConsoleContext
from console.nav import items_for


def register(bp: Blueprint, ctx: ConsoleContext) -> None:
    @bp.app_context_processor
    def _navigation():
        scope = g.get("scope")
        return {"nav_items": items_for(scope.role if scope else None)}

    @bp.get("/")
    def root():
        return redirect(url_for("console.home" if g.get("scope") else "console.sign_in"))

    @bp.get("/console/")
    @signed_in
    def home():
        return render_template("console/home.html", account=g.account)
