"""`chorus chat`: talk to Chorus in the terminal, on the "local" channel."""
from __future__ import annotations

import sys

import click

from local.inbound import DEFAULT_ADDRESS
from cli.common import known as _known, now as _now, store as _store


@click.command("chat")
@click.option("--as", "address", default=DEFAULT_ADDRESS, show_default=True, help="Who you are (any address).")
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

