"""What every command shares: the store, the clock, ids that must exist, weeks and dates as typed."""
from __future__ import annotations

import inspect
from datetime import datetime, timezone

import click

from config.settings import SettingsError

# Every command that takes --week means the same week when it is not given: analysis.weeks.default_week.
WEEK_HELP = "ISO week like 2026-W47 (default: the last complete week, Monday to Sunday in CHORUS_TIMEZONE)."


def op_default(operation, parameter: str):
    """The default the staff operation gives `parameter`: a command shows it and passes it on, never restates
    it (so the command line and the console cannot drift apart)."""
    return inspect.signature(operation).parameters[parameter].default


def now() -> datetime:
    """The clock. A caller that runs the commands in-process may fix it: `main(obj={"now": instant})` (tests
    do, with click's CliRunner); people always get the real time."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    fixed = obj.get("now") if isinstance(obj, dict) else None
    return fixed if isinstance(fixed, datetime) else datetime.now(timezone.utc)


def store():
    from config.wiring import make_store

    try:
        return make_store()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


def ready_store():
    """The store for a long-running process, checked first: a database that does not answer or is not set up
    stops it at start with one line (see config/startup.py), not on its first message."""
    from config.startup import check_ready

    ready = store()
    check_ready(ready)
    return ready


def known(store, survey_id: str | None = None, org_code: str | None = None):
    """Ids given on the command line must name something: an unknown one is an error with a did-you-mean,
    before the command does anything (rather than an empty result that looks like "nothing happened")."""
    from surveys.admin import AdminError, find_organisation, require_survey

    try:
        if survey_id is not None:
            require_survey(store, survey_id)
        if org_code is not None:
            find_organisation(store, org_code)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    return store


def week(store, value: str | None) -> tuple[int, int]:
    from analysis.weeks import WeekError, default_week, parse_week

    if value:
        try:
            return parse_week(value)
        except WeekError as exc:
            raise click.BadParameter(str(exc), param_hint="--week") from None
    return default_week(now(), store.settings.default_timezone)


def date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: write it like 2026-11-01") from None
    return day if day.tzinfo else day.replace(tzinfo=timezone.utc)


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"
