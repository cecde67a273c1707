"""`chorus demo`: load eight weeks of demo data (demo/seed.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import click

from cli.common import op_default, store as _store
from demo.seed import DEMO_CODES, DemoError, demo_loaded, other_data, seed_demo


@click.command("demo")
@click.option("--if-empty", is_flag=True,
              help="Succeed without loading anything when the database is not a new one (it has participants, "
                   "safeguarding contacts, or organisations other than 'demo'); without it that is an error. "
                   "`make run` uses this.")
@click.option("--weeks", default=op_default(seed_demo, "weeks"), show_default=True, type=click.IntRange(1, 26), help="Weeks of history.")
@click.option("--participants", "participants_per_org", default=op_default(seed_demo, "participants_per_org"), show_default=True, type=click.IntRange(1, 200),
              help="Participants per organisation at the start (most text JOIN, staff enrol the rest); a few "
                   "more join during the weeks.")
@click.option("--seed", default=op_default(seed_demo, "seed"), show_default=True, help="Random seed: the same seed gives the same data.")
def demo(if_empty, weeks, participants_per_org, seed) -> None:
    """Load realistic demo data: 3 organisations, WEEKS weeks of check-ins and visit surveys answered in the
    voice of service users, a few safeguarding flags. Loaded once; a second run changes nothing."""
    store = _store()
    try:
        loaded = demo_loaded(store)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
    if loaded:
        click.echo("demo data already loaded (organisations " + ", ".join(DEMO_CODES) + ")")
        return
    reason = other_data(store)
    if if_empty and reason:
        click.echo(f"not loading demo data: {reason}")
        return
    click.echo(f"loading {weeks} weeks of demo data (this takes a few seconds) ...", err=True)
    try:
        report = seed_demo(store, datetime.now(timezone.utc), weeks=weeks, participants_per_org=participants_per_org,
                           seed=seed)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"loaded demo data in {report.seconds:.1f} s")
    for line in report.lines():
        click.echo("  " + line)
    click.echo(f"  try: chorus digest build --week {report.last_week}   |   chorus flags list")

