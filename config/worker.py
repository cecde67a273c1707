"""The outbox worker (the Procfile's `worker:` process, `chorus worker`): sends queued messages through
every configured channel at its configured rate."""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid

from local.channel import LocalChannel
from config.settings import Settings
from surveys.channels import Channel
from surveys.outbox import Worker
from surveys.store import Store

log = logging.getLogger("chorus.worker")

# The channels an installation may send through besides `local`, and how to configure each (README,
# "Configuration"). Anything waiting for one a worker has not got is failed at once with the reason.
HOW_TO_CONFIGURE = {
    "sms": "set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID",
    "telegram": "set TELEGRAM_BOT_TOKEN",
    "email": "set SMTP_HOST",
}


def channels_for(settings: Settings) -> tuple[dict[str, Channel], dict[str, float | None]]:
    """The channels this installation sends through, and their rates (None: no limit)."""
    channels: dict[str, Channel] = {"local": LocalChannel()}
    rates: dict[str, float | None] = {"local": None}
    if settings.sms_enabled:
        from sms.channel import SmsChannel

        channels["sms"] = SmsChannel.from_settings(settings)
        rates["sms"] = settings.sms_rate_per_second
    if settings.smtp_host:
        from mail.channel import EmailChannel

        channels["email"] = EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                                         settings.smtp_username, settings.smtp_password, settings.smtp_starttls)
        rates["email"] = None
    if settings.telegram_enabled:
        try:
            from bot.channel import TelegramChannel
        except ImportError:  # the Telegram adapter is optional in a trimmed install
            log.warning("TELEGRAM_BOT_TOKEN is set but the Telegram adapter is not available")
        else:
            channels["telegram"] = TelegramChannel.from_settings(settings)
            rates["telegram"] = settings.telegram_rate_per_second
    return channels, rates


def configured(settings: Settings) -> set[str]:
    """The names of the channels `channels_for` would build from these settings (without building them)."""
    return set(settings.configured_channels)


def unconfigured_channels(settings: Settings, by_channel: dict[str, int]) -> list[tuple[str, int, str]]:
    """(channel, invitations, how to configure it) for each channel of `by_channel` (a new wave's
    invitations per channel) that these settings would not send through, by name. A hint only: the
    worker decides with its own settings, and fails what it cannot send."""
    here = configured(settings)
    return [(name, n, HOW_TO_CONFIGURE[name]) for name, n in sorted(by_channel.items())
            if name not in here and name in HOW_TO_CONFIGURE]


def describe_channels(channels) -> str:
    """One line: what this process sends through, and what it cannot, with how to configure each."""
    missing = [f"{name} ({hint})" for name, hint in HOW_TO_CONFIGURE.items() if name not in channels]
    return f"sending through {', '.join(channels)}" + (f"; not configured: {'; '.join(missing)}" if missing else "")


def make_worker(store: Store, worker_id: str | None = None) -> Worker:
    channels, rates = channels_for(store.settings)
    return Worker(store, channels, rates, worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}",
                  hints=HOW_TO_CONFIGURE)


def build(settings: Settings | None = None) -> Worker:
    """What `chorus worker` runs: a worker on the store from the composition root (`config.wiring`), checked
    at start (a database that does not answer or is not set up stops it in one line, see config/startup.py)."""
    from config.startup import check_ready
    from config.wiring import announce, make_store

    store = make_store(settings)
    check_ready(store)
    announce(store)
    return make_worker(store)


def main(stop: threading.Event | None = None) -> None:
    """`chorus worker`: send until stopped (SIGTERM, or `stop`)."""
    serve(build(), stop)


def run(store: Store, stop: threading.Event | None = None, worker: Worker | None = None) -> None:
    """Send through `store` until `stop` is set: for `chorus run`, whose parts share one store."""
    serve(worker or make_worker(store), stop)


def serve(worker: Worker, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # What waits for a channel it has not got is failed, with a warning naming the channel (Worker.hints).
    log.info("worker %s %s", worker.worker_id, describe_channels(worker.channels))
    worker.run(stop.is_set, idle=1.0)
