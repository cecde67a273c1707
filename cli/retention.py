"""`chorus retention ...`: the retention periods in force, the last purges, and a purge now (the clock runs
one every day; see surveys/retention.py)."""
from __future__ import annotations

import click

from cli.common import now as _now, store as _store


@click.group()
def retention() -> None:
    """Retention: how long personal data is kept, and the daily purge."""


def _counts(counts: dict[str, int]) -> str:
    from surveys.retention import COUNTS

    return ", ".join(f"{label} {counts.get(key, 0)}" for key, label in COUNTS)


@retention.command("show")
@click.option("--runs", "limit", default=10, show_default=True, type=click.IntRange(1, 500),
              help="How many of the last runs to list.")
def retention_show(limit) -> None:
    """The periods in force (from RETENTION_*_DAYS) and the last runs with what each purged."""
    from surveys.retention import overview
    from surveys.scope import Scope

    view = overview(_store(), Scope.operator(), _now(), limit)
    click.echo(f"periods (purged daily after {view.run_at}):")
    for p in view.periods:
        click.echo(f"  {p.label:16} {p.shown:10} {p.setting}")
    click.echo(f"next run: {view.next_run:%Y-%m-%d %H:%M} UTC")
    click.echo("last runs:" if view.runs else "last runs: none yet")
    for r in view.runs:
        done = _counts(r.counts) if r.finished_at else "did not finish"
        click.echo(f"  {r.at:%Y-%m-%d %H:%M:%S} UTC  {r.source:12}  {done}")


@retention.command("run")
def retention_run() -> None:
    """Purge now everything older than its period, record the run and print what was purged."""
    from surveys.retention import COMMAND_LINE, run

    done = run(_store(), _now(), source=COMMAND_LINE)
    click.echo(f"purged: {_counts(done.counts)}")
