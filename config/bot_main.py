"""`chorus bot` (the Procfile's `bot:` process; `python -m config.bot_main` and `python -m bot` run it too).

Without TELEGRAM_BOT_TOKEN: says so and exits 0 (nothing Telegram-related runs). In polling mode (no
TELEGRAM_WEBHOOK_URL): polls until stopped. In webhook mode: registers the webhook and exits, since the web
app serves the updates. The store comes from the composition root (`config.wiring.make_store`), like every
other process's, so answers received by polling are tagged and flagged the same way.
"""
from __future__ import annotations

import sys
import threading

from config.settings import Settings, SettingsError, load_settings
from config.wiring import announce, make_store


def polling_parts(settings: Settings):
    """The store and the registered Telegram channel the poller runs on."""
    from bot.channel import TelegramChannel
    from surveys.channels import register

    from config.startup import check_ready

    store = make_store(settings)
    check_ready(store)  # at start, in one line: not on the first update, as a traceback
    announce(store)
    channel = TelegramChannel.from_settings(settings)
    register(channel)
    return store, channel


def main(stop_when: threading.Event | None = None) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"configuration: {exc}", file=sys.stderr)
        return 2
    from config.logs import configure_logging

    configure_logging(settings.log_level)
    if not settings.telegram_enabled:
        print("TELEGRAM_BOT_TOKEN is not set, so there is no Telegram bot to run. Create a bot with @BotFather "
              "and set the token (see README, 'Telegram').")
        return 0

    from bot.polling import register_webhook, run_polling

    if settings.telegram_webhook_url:
        return register_webhook(settings)
    from surveys.store import DatabaseUnavailable

    try:
        store, channel = polling_parts(settings)
    except SettingsError as exc:
        print(f"configuration: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        print(f"chorus bot: {exc}", file=sys.stderr)
        return 1
    return run_polling(settings, store, channel, stop_when=stop_when)


if __name__ == "__main__":
    sys.exit(main())
