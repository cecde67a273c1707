"""`chorus orgs ...`: partner organisations and their Telegram join links."""
from __future__ import annotations

import click

from surveys.admin import add_organisation_once
from cli.common import now as _now, op_default, store as _store


@click.group()
def orgs() -> None:
    """Partner organisations."""


@orgs.command("add")
@click.argument("name")
@click.option("--code", required=True, help="Join code people text (JOIN CODE); 1-64 of A-Z a-z 0-9 _ -.")
@click.option("--timezone", "tz", default=None, help="IANA timezone (default CHORUS_TIMEZONE).")
@click.option("--language", default=op_default(add_organisation_once, "language"), show_default=True, help="Language for new contacts.")
@click.option("--welcome-survey", default=None, help="Survey id to start right after consent.")
@click.option("--exist-ok", is_flag=True, help="Succeed quietly when the code is already taken by this name.")
def orgs_add(name, code, tz, language, welcome_survey, exist_ok) -> None:
    """Add an organisation."""
    from surveys.admin import AdminError, add_organisation_once

    try:
        added = add_organisation_once(_store(), name, code, _now(), tz, language, welcome_survey, exist_ok=exist_ok)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {name} (join code {code})" if added.created else f"{name}: already present")


@orgs.command("list")
def orgs_list() -> None:
    """List organisations."""
    from surveys.admin import list_organisations

    for org in list_organisations(_store()):
        click.echo(f"{org.code:16} {org.name}  ({org.timezone}, {org.language}, welcome: {org.welcome_survey_id or '-'})")


@orgs.command("link")
@click.argument("code")
@click.option("--qr", "qr_file", type=click.Path(dir_okay=False, writable=True),
              help="Also write the link as a QR code PNG (for posters and leaflets).")
@click.option("--bot-username", default=None,
              help="The bot's @username; without it Chorus asks Telegram (getMe) using TELEGRAM_BOT_TOKEN.")
def orgs_link(code, qr_file, bot_username) -> None:
    """Print the Telegram link that enrols someone with organisation CODE (https://t.me/<bot>?start=CODE)."""
    from bot.links import LinkError, organisation_join_link, write_qr
    from surveys.admin import AdminError

    try:
        link = organisation_join_link(_store(), code, bot_username).link
    except (AdminError, LinkError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(link)
    if qr_file:
        write_qr(link, qr_file)
        click.echo(f"QR code written to {qr_file}", err=True)
