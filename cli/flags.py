"""`chorus flags ...`: safeguarding flags and who hears about them."""
from __future__ import annotations

import click

from cli.common import known as _known, now as _now, store as _store


@click.group()
def flags() -> None:
    """Safeguarding flags: answers a person must read. Never closed automatically."""


def _flag_line(f) -> str:
    line = (f"#{f.id:<5} {f.status:6} {f.created_at:%Y-%m-%d %H:%M} UTC  {f.organisation or '(no organisation)':24} "
            f"{f.survey_id or '-':18} {', '.join(f.categories)}")
    if f.status == "closed":
        line += f"  closed {f.closed_at:%Y-%m-%d %H:%M} by {f.closed_by}"
        if f.outcome:
            line += f" ({f.outcome.replace('_', ' ')})"
    return line


def _warn_no_contact(store) -> None:
    from surveys.flags import contact_warning

    warning = contact_warning(store)
    if warning:
        click.echo(f"warning: {warning}", err=True)


def _as(by: str | None):
    """The operator's scope, naming the person who acts (--by) in the flag's history."""
    from dataclasses import replace

    from surveys.scope import Scope

    return replace(Scope.operator(), actor=(by or "").strip())


@flags.command("list")
@click.option("--all", "include_closed", is_flag=True, help="Closed flags too.")
@click.option("--org", "org_code", default=None)
def flags_list(include_closed, org_code) -> None:
    """Open flags (no answer text here: `flags show ID` for that)."""
    from surveys.flags import FlagQueueFilter, flag_queue
    from surveys.scope import Scope

    store = _known(_store(), org_code=org_code)
    _warn_no_contact(store)
    rows = flag_queue(store, Scope.operator(), FlagQueueFilter("all" if include_closed else "open", org_code))
    if not rows:
        click.echo("no open flags" if not include_closed else "no flags")
    for item in sorted(rows, key=lambda i: i.flag.id):
        click.echo(_flag_line(item.flag) + (f"  assigned to {item.assignee}" if item.assignee and
                                            item.flag.status == "open" else ""))


@flags.command("show")
@click.argument("flag_id", type=int)
def flags_show(flag_id) -> None:
    """One flag with the answer's words, for the person handling it, and its history."""
    from surveys.flags import FlagError, flag_detail
    from surveys.scope import Scope

    store = _store()
    try:
        d = flag_detail(store, Scope.operator(), flag_id)
    except FlagError as exc:
        raise click.ClickException(str(exc)) from None
    f = d.flag
    _warn_no_contact(store)
    click.echo(_flag_line(f))
    click.echo(f"why: {f.why}")
    click.echo(f"answer #{f.answer_id}: {f.answer_text!r}" if f.answer_id else "answer: erased at the person's request")
    if d.assignee and f.status == "open":
        click.echo(f"assigned to: {d.assignee}")
    if f.note:
        click.echo(f"note: {f.note}")
    for e in d.history:
        what = {"assigned": f"assigned to {e.assignee}", "note": f"note: {e.note}", "closed": f"closed: {e.note}"}
        click.echo(f"  {e.at:%Y-%m-%d %H:%M} UTC  {e.by}: {what.get(e.kind, e.kind)}")


@flags.command("assign")
@click.argument("flag_id", type=int)
@click.option("--to", "assignee", required=True, help="Who handles it.")
@click.option("--by", "by", required=True)
def flags_assign(flag_id, assignee, by) -> None:
    """Give an open flag to a person (kept in its history)."""
    from surveys.flags import FlagError, assign_flag

    try:
        d = assign_flag(_store(), _as(by), flag_id, assignee, _now())
    except FlagError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"flag #{d.flag.id} assigned to {d.assignee}")


@flags.command("note")
@click.argument("flag_id", type=int)
@click.option("--by", "by", required=True)
@click.option("--note", required=True)
def flags_note(flag_id, by, note) -> None:
    """Add a note to a flag's history."""
    from surveys.flags import FlagError, add_flag_note

    try:
        d = add_flag_note(_store(), _as(by), flag_id, note, _now())
    except FlagError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"note added to flag #{d.flag.id} ({len(d.history)} entries in its history)")


@flags.command("close")
@click.argument("flag_id", type=int)
@click.option("--by", "by", required=True)
@click.option("--note", required=True, help="What was done.")
@click.option("--not-a-concern", "not_a_concern", is_flag=True,
              help="The answer was no risk (a false alarm); without it the flag is closed as a concern.")
def flags_close(flag_id, by, note, not_a_concern) -> None:
    """Close a flag once a person has handled it, saying what was done. Closed as a concern unless
    --not-a-concern; `chorus analysis accuracy` counts both (safeguarding precision per layer and rule)."""
    from surveys.flags import FlagError, close_flag_as

    try:
        d = close_flag_as(_store(), _as(by), flag_id, note, _now(), not_a_concern=not_a_concern)
    except FlagError as exc:
        raise click.ClickException(str(exc)) from None
    f = d.flag
    click.echo(f"flag #{f.id} closed by {f.closed_by} ({f.outcome.replace('_', ' ')})")


@flags.group("contacts")
def flag_contacts() -> None:
    """Who hears about a flag at once (email and/or a Telegram chat)."""


@flag_contacts.command("add")
@click.option("--org", "org_code", default=None, help="Organisation code (default: hears about every flag).")
@click.option("--email", default=None)
@click.option("--telegram-chat", "chat", default=None, help="A Telegram chat id (negative for a group).")
def contacts_add(org_code, email, chat) -> None:
    """Add a safeguarding contact."""
    from surveys.admin import AdminError
    from surveys.flags import ContactChoiceError, FlagError, add_safeguarding_contact

    try:
        c = add_safeguarding_contact(_store(), org_code, _now(), email=email, telegram_chat=chat)
    except ContactChoiceError:
        raise click.UsageError("give --email or --telegram-chat (one per command)") from None
    except (FlagError, AdminError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(("added" if c.changed else "already there") + f": {c.channel} {c.address} for "
               f"{c.organisation or 'every organisation'}")
    if c.warning:
        click.echo(f"warning: {c.warning}", err=True)


@flag_contacts.command("remove")
@click.option("--org", "org_code", default=None)
@click.option("--email", default=None)
@click.option("--telegram-chat", "chat", default=None)
def contacts_remove(org_code, email, chat) -> None:
    from surveys.admin import AdminError
    from surveys.flags import ContactChoiceError, remove_safeguarding_contact

    try:
        c = remove_safeguarding_contact(_store(), org_code, email=email, telegram_chat=chat)
    except ContactChoiceError:
        raise click.UsageError("give --email or --telegram-chat") from None
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    if not c.changed:
        raise click.ClickException("no such safeguarding contact")
    click.echo(f"removed: {c.channel} {c.address}")


@flag_contacts.command("list")
def contacts_list() -> None:
    from surveys.flags import list_contacts

    rows = list_contacts(_store())
    if not rows:
        click.echo("no safeguarding contacts: flags are raised but nobody is alerted "
                   "(add one with `chorus flags contacts add --email ...`)")
    for code, channel, address in rows:
        click.echo(f"{code or '(every organisation)':24} {channel:9} {address}")

