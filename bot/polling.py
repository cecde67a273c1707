"""Long polling with a python-telegram-bot Application, and webhook registration.

Exactly one process may poll: Telegram answers a second one with 409 Conflict. Rather than fight over
updates (each would see half of them), the poller that gets a Conflict says so and stops.

Updates are handled concurrently across chats but in order within a chat (a lock per chat): a person's
"2" must not overtake their "JOIN". The handling itself (`bot.inbound.handle_update`) is synchronous and
runs in a worker thread, so a slow database never stalls the polling loop.

One update python-telegram-bot cannot read would stall polling for good: PTB reads a batch of updates as
a whole, so the batch fails, the offset never moves past it and every later call fetches it again. Each
update is therefore checked on its own as it arrives (`UpdatesRequest`), and one that cannot be read is
replaced by an empty update with the same id, which is skipped with a log line and confirmed.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Callable

from telegram import Bot, BotCommand, Update
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest

from bot.channel import TelegramChannel
from bot.inbound import failure, handle_update
from bot.webhook import webhook_url
from config.settings import Settings
from surveys.store import Store

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("start", "Join, or start again after stopping"),
    BotCommand("help", "What this is and your options"),
    BotCommand("skip", "Skip this question"),
    BotCommand("language", "Change language"),
    BotCommand("stop", "Stop all messages"),
    BotCommand("mydata", "Get a copy of everything we hold about you"),
    BotCommand("delete", "Delete everything we hold about you"),
]
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
CONCURRENT_UPDATES = 16  # chats handled at once; about what the database connection pool serves (5 + 10)
CONFLICT_MESSAGE = "another bot process is already polling Telegram with this token; only one may run. Exiting."


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def build_application(settings: Settings, store: Store, channel: TelegramChannel,
                      clock: Callable[[], datetime] = _utcnow) -> Application:
    """A PTB Application whose only handler passes every update to `handle_update`. No JobQueue and no
    persistence: the conversation lives in the database."""
    builder = Application.builder().token(settings.telegram_bot_token).job_queue(None) \
        .concurrent_updates(CONCURRENT_UPDATES).get_updates_request(UpdatesRequest(connection_pool_size=1))
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
    app = builder.build()
    locks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    async def on_update(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
        key = _chat_key(update)
        lock = locks.get(key)
        if lock is None:
            lock = locks[key] = asyncio.Lock()
        async with lock:
            await asyncio.to_thread(handle_update, update, store, channel, clock())

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = getattr(update, "update_id", None)
        # Without the exception's message: it can quote what someone wrote, or a database row.
        log.error("telegram update %s failed (%s)", update_id if type(update_id) is int else None,
                  failure(context.error, stack=True))

    app.add_handler(TypeHandler(Update, on_update))
    app.add_error_handler(on_error)
    return app


def _chat_key(update: Update) -> object:
    """What updates are serialised by: the chat (in a private chat the user id is the same), else the update."""
    try:
        chat, user = update.effective_chat, update.effective_user
        for value in (getattr(chat, "id", None), getattr(user, "id", None)):
            if type(value) is int:
                return value
    except Exception:  # noqa: BLE001 - fields of the wrong type; handle_update skips such an update
        pass
    return ("update", id(update))


class UpdatesRequest(HTTPXRequest):
    """PTB's HTTP client for getUpdates, handing PTB only updates it can read (see the module's notes)."""

    async def post(self, url: str, *args, **kwargs):
        result = await super().post(url, *args, **kwargs)
        if url.endswith("/getUpdates") and isinstance(result, list):
            return readable_updates(result)
        return result


def readable_updates(result: list) -> list:
    """The batch, with each update PTB cannot read replaced by an empty one with its id (so it is confirmed
    and skipped), and anything without an id left out."""
    readable = []
    for item in result:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if type(update_id) is not int:
            log.warning("telegram polling: an update without an update id; left out")
            continue
        try:
            Update.de_json(item, None)
        except Exception as exc:  # noqa: BLE001 - PTB raises TypeError, KeyError, ValueError... on bad input
            log.warning("telegram polling: update %s is not one python-telegram-bot can read (%s); skipped",
                        update_id, failure(exc))
            item = {"update_id": update_id}
        readable.append(item)
    return readable


async def poll(app: Application, stop: asyncio.Event) -> bool:
    """Run `app` until `stop` is set or another poller shows up. Returns True on a 409 Conflict.

    Telegram ends the *older* of two pending getUpdates calls with 409, so the process that gets it is the
    one to go. It must not call getUpdates again on its way out (PTB's usual last call to confirm what it
    fetched): that call would cut off the other poller's, which would then see a Conflict and go too."""
    conflict = False

    def on_polling_error(exc: TelegramError) -> None:
        nonlocal conflict
        if isinstance(exc, Conflict):
            conflict = True
            stop.set()
            raise exc  # ends PTB's polling loop at once: no retry, no final getUpdates
        log.warning("telegram polling: %s (PTB retries)", exc)

    # Threads for handle_update: the default pool (CPU count + 4) would let a few chats waiting out their
    # per-chat send limit hold up everyone else.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=CONCURRENT_UPDATES, thread_name_prefix="telegram-update"))
    async with app:  # initialize (getMe) ... shutdown
        await app.bot.set_my_commands(COMMANDS)
        await app.start()
        await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, error_callback=on_polling_error)
        log.info("telegram: polling for updates as @%s", app.bot.username)
        await stop.wait()
        try:
            await app.updater.stop()
        except Conflict:
            pass  # the polling task ended with it (above); the updates it fetched were all handed over
        await app.stop()
    return conflict


def run_polling(settings: Settings, store: Store, channel: TelegramChannel,
                stop_when: threading.Event | None = None) -> int:
    """`chorus bot` in polling mode: until SIGINT/SIGTERM or `stop_when` is set (exit 0), a 409 Conflict
    or a refused token (exit 1)."""
    async def main() -> bool:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if stop_when is not None:
            def relay() -> None:
                stop_when.wait()
                try:
                    loop.call_soon_threadsafe(stop.set)
                except RuntimeError:  # the loop has already finished
                    pass
            threading.Thread(target=relay, name="telegram-stop", daemon=True).start()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
                pass
        return await poll(build_application(settings, store, channel), stop)

    try:
        conflict = asyncio.run(main())
    except InvalidToken:
        log.error("telegram: Telegram refused TELEGRAM_BOT_TOKEN; check the token BotFather gave you")
        return 1
    except TelegramError as exc:
        log.error("telegram: could not start polling: %s", exc)
        return 1
    finally:
        channel.close()
    if conflict:
        log.error("telegram: %s", CONFLICT_MESSAGE)
        return 1
    log.info("telegram: stopped")
    return 0


def run_polling_in_thread(store: Store, stop: threading.Event) -> int:
    """Poll in the calling (non-main) thread until `stop` is set: for `chorus run`, which keeps web, clock,
    worker and bot in one process."""
    channel = TelegramChannel.from_settings(store.settings)
    return run_polling(store.settings, store, channel, stop_when=stop)


def register_webhook(settings: Settings) -> int:
    """`chorus bot` in webhook mode: tell Telegram where to deliver updates, with the secret it must
    send back, set the command menu, and exit (the web app serves the updates)."""
    url = webhook_url(settings.telegram_webhook_url, settings.webhook_secret())

    async def main() -> None:
        bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url or "https://api.telegram.org/bot")
        async with bot:
            await bot.set_webhook(url, secret_token=settings.webhook_secret(), allowed_updates=ALLOWED_UPDATES)
            await bot.set_my_commands(COMMANDS)
            log.info("telegram: webhook registered for @%s at %s/…", bot.username, url.rsplit("/", 1)[0])

    try:
        asyncio.run(main())
    except InvalidToken:
        log.error("telegram: Telegram refused TELEGRAM_BOT_TOKEN; check the token BotFather gave you")
        return 1
    except TelegramError as exc:
        log.error("telegram: could not register the webhook: %s", exc)
        return 1
    return 0
