"""The `chorus` command line: a composition root (it wires settings, store and channels together)."""
from __future__ import annotations

import csv
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from config.settings import SettingsError, load_settings
from surveys.channels import PARTICIPANT_CHANNELS

EXAMPLES = Path(__file__).resolve().parent.parent / "surveys" / "examples"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _store():
    from config.wiring import make_store

    try:
        return make_store()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


class _ChorusGroup(click.Group):
    """Every command runs inside this: a configuration or database problem (not set up, unreachable, a bad
    setting) becomes one line and exit status 1 instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - explained, or re-raised as it is
            from config.startup import explain

            line = explain(exc)
            if line is None:
                raise
            raise click.ClickException(line) from None


def _known(store, survey_id: str | None = None, org_code: str | None = None) -> None:
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


@click.group(cls=_ChorusGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Chorus: scheduled feedback conversations by SMS and Telegram, and a weekly user-voice digest."""
    from config.logs import configure_logging

    configure_logging()


# ---- db --------------------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    from config.migrate import upgrade

    store = _store()
    upgrade(store.engine)
    click.echo(f"database is up to date ({store.dialect})")


# ---- surveys ---------------------------------------------------------------------------------------
@main.group()
def surveys() -> None:
    """Survey definitions (YAML)."""


def _load_files(files) -> list:
    from surveys.loader import SurveyError, load_survey_file

    loaded, failed = [], False
    for path in files:
        try:
            loaded.append((path, load_survey_file(path)))
        except SurveyError as exc:
            failed = True
            click.echo(str(exc), err=True)
    if failed:
        raise click.ClickException("some survey files are invalid; nothing was changed")
    return loaded


@surveys.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def surveys_validate(files) -> None:
    """Check survey files; print every problem with its file, path and reason, and warnings."""
    from analysis.safeguarding import LexiconError, Safeguarding
    from config.checks import survey_warnings

    try:
        lexicons = Safeguarding(load_settings().safeguarding_lexicon_dir).languages()
    except (SettingsError, LexiconError) as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    for path, survey in _load_files(files):
        warnings = survey_warnings(survey, lexicons)
        for w in warnings:
            click.echo(f"{Path(path).name}: warning: {w}")
        click.echo(f"{Path(path).name}: ok ({survey.id} v{survey.version}, {len(survey.questions)} questions, "
                   f"{', '.join(survey.languages)})")


@surveys.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def surveys_load(files) -> None:
    """Validate and store survey files; a new version is made only when the content changed."""
    from surveys.admin import load_survey

    store = _store()
    for path, survey in _load_files(files):
        result = load_survey(store, survey, _now())
        state = "new version" if result.created else "unchanged"
        click.echo(f"{survey.id}: {state} {result.number} (from {Path(path).name})")


@surveys.command("list")
def surveys_list() -> None:
    """List stored surveys with their current version and answer counts."""
    from surveys.admin import list_surveys

    rows = list_surveys(_store())
    if not rows:
        click.echo("no surveys loaded (try: chorus surveys load surveys/examples/*.yaml)")
    for r in rows:
        click.echo(f"{r.id:24} v{r.current} (label {r.label}, {r.versions} version(s))  {r.answers} answers  {r.title}")


# ---- organisations ---------------------------------------------------------------------------------
@main.group()
def orgs() -> None:
    """Partner organisations."""


@orgs.command("add")
@click.argument("name")
@click.option("--code", required=True, help="Join code people text (JOIN CODE); 1-64 of A-Z a-z 0-9 _ -.")
@click.option("--timezone", "tz", default=None, help="IANA timezone (default CHORUS_TIMEZONE).")
@click.option("--language", default="en", show_default=True, help="Language for new contacts.")
@click.option("--welcome-survey", default=None, help="Survey id to start right after consent.")
@click.option("--exist-ok", is_flag=True, help="Succeed quietly when the code is already taken by this name.")
def orgs_add(name, code, tz, language, welcome_survey, exist_ok) -> None:
    """Add an organisation."""
    from surveys.admin import AdminError, add_organisation, find_organisation

    store = _store()
    try:
        add_organisation(store, name, code, _now(), tz, language, welcome_survey)
    except AdminError as exc:
        if exist_ok:
            try:
                if find_organisation(store, code).name.casefold() == name.strip().casefold():
                    click.echo(f"{name}: already present")
                    return
            except AdminError:
                pass
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {name} (join code {code})")


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
    from bot.links import join_link, write_qr
    from config.settings import load_settings
    from surveys.admin import AdminError, find_organisation

    try:
        org = find_organisation(_store(), code)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    if bot_username is None:
        bot_username = _telegram_username(load_settings())
    try:
        link = join_link(bot_username, org.code)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(link)
    if qr_file:
        write_qr(link, qr_file)
        click.echo(f"QR code written to {qr_file}", err=True)


def _telegram_username(settings) -> str:
    from bot.channel import TelegramChannel
    from surveys.channels import ChannelError

    if not settings.telegram_enabled:
        raise click.ClickException("TELEGRAM_BOT_TOKEN is not set: set it, or pass --bot-username NAME")
    channel = TelegramChannel.from_settings(settings)
    try:
        return channel.username()
    except ChannelError as exc:
        raise click.ClickException(f"could not ask Telegram for the bot's username ({exc}); "
                                   "pass --bot-username NAME instead") from None
    finally:
        channel.close()


# ---- participants ----------------------------------------------------------------------------------
@main.group()
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


# ---- chat ------------------------------------------------------------------------------------------
@main.command("chat")
@click.option("--as", "address", default="+447700900123", show_default=True, help="Who you are (any address).")
@click.option("--survey", "survey_id", default=None, help="Start this survey for you first.")
@click.option("--org", "org_code", default=None, help="Enrol you with this organisation first (consent pending).")
def chat(address, survey_id, org_code, store=None) -> None:
    """Talk to Chorus in the terminal through the real service on the "local" channel. Leave with Ctrl-D or
    /quit (never sent); `quit` or `exit` asks first, since a participant texting them means something. With
    piped input, each line is one message and each reply is printed (`< ` first line, `| ` continuation)."""
    from surveys.admin import AdminError, add_participant, find_contact
    from surveys.render import render_plain
    from local.inbound import turn
    from surveys.service import ServiceError, pending_prompts, start_conversation

    store = store or _store()    # `chorus run --chat` passes the store its other parts use
    _known(store, survey_id, org_code)
    interactive = sys.stdin.isatty()

    def show(replies) -> None:
        say(render_plain(r) for r in replies)

    def say(texts) -> None:
        for text in texts:
            click.echo("< " + text.replace("\n", "\n| "))

    contact = find_contact(store, "local", address)
    if org_code and contact is None:
        try:
            contact = add_participant(store, "local", address, org_code, _now())
        except AdminError as exc:
            raise click.ClickException(str(exc)) from None
    if survey_id:
        if contact is None:
            raise click.ClickException("you are not enrolled yet: add --org CODE, or text JOIN CODE first")
        try:
            show(start_conversation(store, contact, survey_id, _now()))
        except ServiceError as exc:
            click.echo(f"(not starting {survey_id}: {exc})", err=True)
            show(pending_prompts(store, contact))
    if not interactive:
        for line in sys.stdin:  # piped: every line is a message, except /quit and /exit
            if line.strip().lower() in LEAVE:
                break
            say(turn(store, address, line.rstrip("\n"), _now()))
        return
    from config.terminal import output_above_prompt, prompting

    try:
        import readline  # noqa: F401 - line editing and history for input(), and the typed text to redraw
    except ImportError:
        pass
    click.echo("(type your replies; HELP for options. To leave: Ctrl-D or /quit, which is never sent)", err=True)
    with output_above_prompt():  # log lines from other threads (chorus run) print above the prompt, not into it
        while True:
            try:
                with prompting("> "):
                    line = input("> ")
            except (EOFError, KeyboardInterrupt):
                break
            if line.strip().lower() in LEAVE or (line.strip().lower() in QUIT_WORDS and _confirm_leave(line.strip())):
                break
            say(turn(store, address, line, _now()))


LEAVE = ("/quit", "/exit")
QUIT_WORDS = ("quit", "exit")  # what people type to leave a terminal program


def _confirm_leave(word: str) -> bool:
    """`quit` or `exit` typed in the terminal chat: the person most likely wants to leave, but over SMS the
    same word is a participant's message ('quit' means STOP), so ask rather than guess either way."""
    from config.terminal import prompting
    from surveys.parsing import match_keyword

    meaning = match_keyword(word)
    effect = (f"Chorus reads it as {meaning}" + (", opting you out of everything" if meaning == "STOP" else "")
              if meaning else "Chorus reads it as a reply")
    click.echo(f"(sent as a message, '{word}' is what a participant texts: {effect}.)", err=True)
    while True:
        try:
            with prompting("Leave the chat? [Y/n, n sends it] "):
                answer = input("Leave the chat? [Y/n, n sends it] ").strip().lower()
        except (EOFError, KeyboardInterrupt):
            return True
        if answer in ("", "y", "yes"):
            return True
        if answer in ("n", "no"):
            return False


# ---- export ----------------------------------------------------------------------------------------
@main.group()
def export() -> None:
    """Exports for staff."""


@export.command("answers")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--survey", "survey_id", default=None)
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default stdout).")
@click.option("--no-redact", "no_redact", is_flag=True,
              help="Keep phone numbers, emails, postcodes and names in the answers (backbone staff only; never share).")
def export_answers_cmd(fmt, survey_id, out, no_redact) -> None:
    """Export answers (participants as pseudonyms like P-7KQ2M4XR9ABC, the same in every export, never
    addresses; personal details masked in every column that holds what people wrote)."""
    from analysis.redact import redact
    from surveys.admin import export_answers, keep_words

    store = _store()
    _known(store, survey_id)
    writer = csv.writer(out)
    for row in export_answers(store, survey_id, redact=keep_words if no_redact else redact):
        writer.writerow(row)


def _register_operations() -> None:
    from config import cli_analysis, cli_ops, demo

    for command in cli_ops.COMMANDS + cli_analysis.COMMANDS + demo.COMMANDS:
        main.add_command(command)


_register_operations()


if __name__ == "__main__":
    main()
