"""`chorus digest ...`: the weekly user-voice digest for governance."""
from __future__ import annotations

import click

from cli.common import WEEK_HELP, date as _date, known as _known, now as _now, store as _store, week as _week


@click.group()
def digest() -> None:
    """The weekly user-voice digest for governance."""


def _build(store, week, org_code, cutoff, out):
    from pathlib import Path

    from analysis.digest.staff import DigestError, build_digest

    _known(store, org_code=org_code)
    year, number = _week(store, week)
    try:
        return build_digest(store, year, number, org_code, _now(), cutoff=_date(cutoff), out_dir=Path(out) if out else None)
    except DigestError as exc:
        raise click.ClickException(str(exc)) from None


@digest.command("build")
@click.option("--week", default=None, help=WEEK_HELP)
@click.option("--org", "org_code", default=None, help="One organisation's digest (default: the partnership).")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Also write every format here.")
@click.option("--cutoff", default=None, help="Data cut-off (ISO time; default: the archived one, else now).")
def digest_build(week, org_code, out, cutoff) -> None:
    """Build (or rebuild) a week's digest: HTML email, printable HTML, Markdown and JSON, archived."""
    store = _store()
    archived = _build(store, week, org_code, cutoff, out)
    d = archived.digest
    click.echo(f"digest {d.week} ({d.organisation or 'partnership'}), data up to {d.cutoff}: "
               f"{'rebuilt' if archived.rebuilt else 'built'} in {archived.path}" + (f" and {out}" if out else ""))
    for line in d.summary:
        click.echo(f"  {line}")


@digest.command("send")
@click.option("--week", default=None, help=WEEK_HELP)
@click.option("--org", "org_code", default=None)
@click.option("--again", is_flag=True, help="Send even if this week's digest was sent before.")
def digest_send(week, org_code, again) -> None:
    """Build the digest if needed and queue it to DIGEST_RECIPIENTS (and DIGEST_TELEGRAM_CHAT)."""
    from analysis.digest.staff import DigestError, send_digest

    store = _store()
    _known(store, org_code=org_code)
    try:
        sent = send_digest(store, *_week(store, week), org_code, _now(), again=again)
    except DigestError as exc:
        raise click.ClickException(str(exc)) from None
    if sent.queued == 0:
        click.echo(f"digest {sent.archived.digest.week} was queued before; --again to send it again "
                   "(`chorus digest list` shows what became of it)")
    else:
        click.echo(f"digest {sent.archived.digest.week} queued to {sent.queued} recipient(s); the worker sends it")
    if sent.warning:
        click.echo(f"warning: {sent.warning}", err=True)


@digest.command("list")
def digest_list() -> None:
    """Archived digests, and what really happened to each: not sent and why, or queued to N recipients and
    how many of those messages went, failed or still wait in the outbox."""
    from analysis.digest.archive import list_archives

    rows = list_archives(_store())
    if not rows:
        click.echo("no digests yet (chorus digest build)")
    for r in rows:
        click.echo(f"{r.week} {r.scope:16} data up to {r.cutoff:%Y-%m-%d %H:%M} UTC  {r.path}")
        click.echo(f"    {r.delivery()}")

