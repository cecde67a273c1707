"""`chorus participants ...`: enrol people, one by one or from a CSV file."""
from __future__ import annotations

import os
import sys

import click

from surveys.channels import PARTICIPANT_CHANNELS

from cli.common import now as _now, store as _store


@click.group()
def participants() -> None:
    """People who take part."""


@participants.command("add")
@click.argument("address")
@click.option("--org", "org_code", required=True, help="The organisation's join code.")
@click.option("--channel", type=click.Choice(PARTICIPANT_CHANNELS), default="sms", show_default=True)
@click.option("--language", default=None)
@click.option("--tag", "tags", multiple=True, help="A tag or cohort (repeatable).")
def participants_add(address, org_code, channel, language, tags) -> None:
    """Enrol ADDRESS for an organisation. Consent is asked before their first survey."""
    from surveys.admin import CREATED, UPDATED, AdminError, enrol_participant

    try:
        _, outcome = enrol_participant(_store(), channel, address, org_code, _now(), language, tags)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo({CREATED: "enrolled; consent pending (asked before the first survey)",
                UPDATED: "already enrolled; language or tags updated"}.get(outcome, "already enrolled; nothing changed"))


@participants.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def participants_import(csv_file) -> None:
    """Import participants from CSV (columns: channel, address, organisation, language, tags). Each row is
    created, updated (already enrolled: language or tags changed), unchanged or rejected. All or nothing:
    if any row is rejected, nothing is imported and every rejected row is listed."""
    from surveys.admin import import_participants

    text = csv_file.read()
    total = max(0, len(text.splitlines()) - 1)
    with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:
        report = import_participants(_store(), text, _now(), progress=bar.update)
    for line, reason in report.errors:
        click.echo(f"{getattr(csv_file, 'name', 'csv')}: line {line}: rejected: {reason}", err=True)
    if not report.imported:
        raise click.ClickException(f"nothing was imported: {report.rejected} rejected (without them: {report.created} "
                                   f"created, {report.updated} updated, {report.unchanged} unchanged); fix the "
                                   "rejected rows and run it again")
    click.echo(f"imported: {report.summary()}" + ("; consent pending for each one created" if report.created else ""))



@participants.command("erase")
@click.argument("participant_id", type=int)
@click.option("--request", default=None,
              help="Which request this answers, kept on the erasure's record (e.g. 'email of 3 Dec'); not their "
                   "name or number.")
@click.option("--by", default=None, help="Who is erasing (default: operator).")
def participants_erase(participant_id, request, by) -> None:
    """Erase participant ID (the number in the console's address) and everything they said, and send them a
    receipt. Cannot be undone."""
    from dataclasses import replace

    from surveys.participants import ParticipantError, erase_participant
    from surveys.scope import Scope

    scope = Scope.operator()
    if by and by.strip():
        scope = replace(scope, actor=by.strip()[:100])
    try:
        erased = erase_participant(_store(), scope, participant_id, _now(), request=request)
    except ParticipantError as exc:
        raise click.ClickException(str(exc)) from None
    receipt = ("receipt queued (the worker sends it, then forgets their address)" if erased.receipt == "queued"
               else f"no receipt: {erased.receipt.removeprefix('not sent: ')}")
    click.echo(f"erased {erased.pseudonym} ({', '.join(erased.organisations)}) as E-{erased.erasure_id}; {receipt}")


@participants.command("export")
@click.argument("contact_id", metavar="ID", type=int)
@click.option("--format", "fmt", type=click.Choice(("json", "text")), default="json", show_default=True,
              help="json: stable keys (see surveys/mydata.py); text: readable, in the person's language.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file (default: print).")
def participants_export(contact_id, fmt, output) -> None:
    """Everything Chorus holds about participant ID (the number in the console's address for them), to give
    them a copy. Leaves an audit entry."""
    from surveys.audit import COMMAND_LINE
    from surveys.mydata import export_participant
    from surveys.participants import ParticipantError
    from surveys.scope import Forbidden, Scope

    try:
        export = export_participant(_store(), Scope.operator(), contact_id, _now(), fmt, source=COMMAND_LINE)
    except (ParticipantError, Forbidden) as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        click.echo(export.body, nl=False)
        return
    try:
        # Only its owner may read it: it holds a person's number and words.
        with os.fdopen(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
            f.write(export.body)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"{export.pseudonym}: written to {output}", err=True)
