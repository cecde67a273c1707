"""`chorus themes ...`: recurring words and phrases per survey and week; merge and rename them."""
from __future__ import annotations

import click

from analysis.theme_report import themes_for_week
from cli.common import WEEK_HELP, op_default, known as _known, now as _now, store as _store, week as _week


@click.group()
def themes() -> None:
    """Recurring words and phrases per survey and week; merge and rename them."""


@themes.command("list")
@click.option("--survey", "survey_id", required=True)
@click.option("--week", default=None, help=WEEK_HELP)
@click.option("--weeks-back", default=op_default(themes_for_week, "weeks_back"), show_default=True, type=click.IntRange(0, 52))
@click.option("--limit", default=op_default(themes_for_week, "limit"), show_default=True)
def themes_list(survey_id, week, weeks_back, limit) -> None:
    """The week's top themes with their change against earlier weeks."""
    from analysis.weeks import week_label

    store = _known(_store(), survey_id)
    tz = store.settings.default_timezone
    year, number = _week(store, week)
    trends = themes_for_week(store, survey_id, year, number, tz=tz, weeks_back=weeks_back, limit=limit)
    click.echo(f"themes in {survey_id}, {week_label(year, number)} ({tz}):")
    if not trends:
        click.echo("  none yet (a theme needs at least 2 answers in the week)")
    for t in trends:
        click.echo(f"  {t.label:30} {t.count:>5} answers  last week {t.previous_count:>4}  "
                   f"{t.change:+5d}  {t.status:8} key: {t.key}")


@themes.command("merge")
@click.argument("keys", nargs=-1, required=True)
@click.option("--into", "name", required=True, help="The merged theme's name.")
@click.option("--survey", "survey_id", default=None, help="Only for this survey (default: every survey).")
@click.option("--by", "by", default=None)
def themes_merge(keys, name, survey_id, by) -> None:
    """Count themes KEYS... (as `themes list` shows them) as one theme called NAME."""
    from analysis.theme_report import ThemeError, set_alias

    try:
        done = set_alias(_known(_store(), survey_id), keys, name, survey_id, by, _now())
    except ThemeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{', '.join(done)} now count as '{name}'" + (f" in {survey_id}" if survey_id else ""))


@themes.command("rename")
@click.argument("key")
@click.argument("name")
@click.option("--survey", "survey_id", default=None, help="Only for this survey (default: every survey).")
@click.option("--by", "by", default=None)
def themes_rename(key, name, survey_id, by) -> None:
    """Show theme KEY under NAME."""
    from analysis.theme_report import ThemeError, set_alias

    try:
        set_alias(_known(_store(), survey_id), [key], name, survey_id, by, _now())
    except ThemeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"'{key}' is now shown as '{name}'" + (f" in {survey_id}" if survey_id else ""))


@themes.command("aliases")
def themes_aliases() -> None:
    """Every merge and rename in force."""
    from analysis.theme_report import list_aliases

    rows = list_aliases(_store())
    if not rows:
        click.echo("no merges or renames")
    for sid, key, name, by in rows:
        click.echo(f"{sid or '(every survey)':20} {key:30} -> {name}" + (f"  (by {by})" if by else ""))


@themes.command("unalias")
@click.argument("key")
@click.option("--survey", "survey_id", default=None)
def themes_unalias(key, survey_id) -> None:
    """Undo a merge or rename for KEY."""
    from analysis.theme_report import remove_alias

    if not remove_alias(_known(_store(), survey_id), key, survey_id):
        raise click.ClickException(f"no merge or rename for {key!r}" + (f" in {survey_id}" if survey_id else ""))
    click.echo(f"'{key}' is counted under its own name again")

