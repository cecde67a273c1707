"""`python -m bot` (the Procfile's `bot:` process).

Without TELEGRAM_BOT_TOKEN: says so and exits 0 (nothing Telegram-related runs). In polling mode (no
TELEGRAM_WEBHOOK_URL): polls until stopped. In webhook mode: registers the webhook and exits, since the web
app serves the updates.
"""
from __future__ import annotations

import logging
import sys

from bot.polling import run_polling_in_thread
from config.settings import SettingsError, load_settings

__all__ = ["main", "run_polling_in_thread"]  # `chorus run` starts the poller in a thread of its own


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"configuration: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not settings.telegram_enabled:
        print("TELEGRAM_BOT_TOKEN is not set, so there is no Telegram bot to run. Create a bot with @BotFather "
              "and set the token (see README, 'Telegram').")
        return 0

    from bot.polling import register_webhook, run_polling

    if settings.telegram_webhook_url:
        return register_webhook(settings)

    from bot.channel import TelegramChannel
    from surveys.channels import register
    from surveys.store import DatabaseUnavailable, Store

    store = Store(settings)
    try:
        store.check()  # at start, in one line: not on the first update, as a traceback
    except DatabaseUnavailable as exc:
        print(f"chorus bot: {exc}", file=sys.stderr)
        return 1
    channel = TelegramChannel.from_settings(settings)
    register(channel)
    return run_polling(settings, store, channel)


if __name__ == "__main__":
    sys.exit(main())
