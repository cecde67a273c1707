"""`chorus worker`, `chorus clock`, `chorus bot` and `chorus run`: the processes of the service."""
from __future__ import annotations

import logging
import threading

import click

from local.inbound import DEFAULT_ADDRESS
from cli.common import known as _known, ready_store as _ready_store

log = logging.getLogger("chorus.run")


@click.command("worker")
def worker() -> None:
    """Send queued messages (invitations, reminders, alerts) at each channel's rate."""
    from config.settings import SettingsError
    from config.worker import main

    try:
        main()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


@click.command("bot")
def bot() -> None:
    """The Telegram bot: polls for updates (run exactly one), or in webhook mode registers the webhook and
    exits. Says so and exits when no TELEGRAM_BOT_TOKEN is set."""
    from config.bot_main import main

    raise SystemExit(main())


@click.command("clock")
def clock() -> None:
    """Run the scheduler: due waves, reminders, expiry. Safe to run twice (one leads)."""
    from config.clock import main

    _ready_store().dispose()
    main()


@click.command("run")
@click.option("--port", default=8000, show_default=True, help="Port for the web app (webhooks).")
@click.option("--chat/--no-chat", default=None,
              help="Also chat in this terminal (default: when it is one, or when --survey or --org is given).")
@click.option("--as", "address", default=DEFAULT_ADDRESS, show_default=True)
@click.option("--survey", "survey_id", default=None)
@click.option("--org", "org_code", default=None)
@click.pass_context
def run(ctx, port, chat, address, survey_id, org_code) -> None:
    """Everything in one process for one machine: web, Telegram bot (when configured), clock and worker.
    The local channel prints what would be sent when no provider is configured."""
    import sys

    from werkzeug.serving import make_server

    from config.app import create_app
    from config.clock import scheduler
    from config.worker import describe_channels, make_worker
    from config.worker import run as run_worker

    store = _ready_store()
    _known(store, survey_id, org_code)
    stop = threading.Event()
    server = make_server("127.0.0.1", port, create_app(store.settings, store), threaded=True)
    sender = make_worker(store)
    threads = [threading.Thread(target=server.serve_forever, name="web", daemon=True),
               threading.Thread(target=run_worker, args=(store, stop, sender), name="worker", daemon=True)]
    if store.settings.telegram_enabled and not store.settings.telegram_webhook_url:
        try:
            from bot.polling import run_polling_in_thread
        except ImportError:
            log.warning("TELEGRAM_BOT_TOKEN is set but the Telegram adapter cannot start here")
        else:
            threads.append(threading.Thread(target=run_polling_in_thread, args=(store, stop), name="bot", daemon=True))
    for t in threads:
        t.start()
    sched = scheduler(store, blocking=False)
    sched.start()
    click.echo(f"chorus is running: web on http://127.0.0.1:{server.port}, clock and worker"
               f"{', Telegram bot' if len(threads) > 2 else ''}; {describe_channels(sender.channels)}", err=True)
    _warn_safeguarding(store)
    safeguarding = getattr(store.tagger, "safeguarding", None)
    if safeguarding is not None:
        click.echo(safeguarding.describe(), err=True)
    try:
        if chat if chat is not None else (sys.stdin.isatty() or bool(survey_id or org_code)):
            from cli.chat import chat as chat_command

            # The chat runs on this process's store: one store, built once, for web, bot, worker, clock and chat.
            ctx.invoke(chat_command, address=address, survey_id=survey_id, org_code=org_code, store=store)
        else:
            stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        sched.shutdown(wait=False)
        server.shutdown()


def _warn_safeguarding(store) -> None:
    """Loudly, at start: a safeguarding flag raised where no contact is set alerts nobody."""
    from surveys.flags import contact_warning

    warning = contact_warning(store)
    if warning:
        click.echo(f"WARNING: {warning}", err=True)

