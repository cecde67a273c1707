"""Shared pieces for the Telegram tests: Updates as Telegram writes them, a real PTB Application polling the
fake Bot API in a background thread, and the webhook app."""
from __future__ import annotations

import asyncio
import itertools
import threading
from pathlib import Path

from telegram import Update
from telegram.ext import TypeHandler

from bot.channel import TelegramChannel
from bot.polling import build_application, poll
from bot.ratelimit import RateLimiter
from config.app import create_app
from surveys.store import Store
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.sms_helpers import Clock  # noqa: F401 - shared test clock, re-exported for the Telegram tests

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_DATA = ROOT.parent / "shared" / "data" / "channels" / "telegram"
PANTRY = ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml"
SECRET = "test-webhook-secret_0123456789"


def fast_channel(fake: FakeTelegram, **kw) -> TelegramChannel:
    """A channel on the fake whose limits do not slow tests down (the limiter has tests of its own)."""
    return TelegramChannel(TOKEN, fake.base_url, limiter=RateLimiter(1000, 1000), timeout=5, **kw)


# ---- Updates, as Telegram sends them ------------------------------------------------------------------
class Updates:
    """Builds Update JSON. Message ids count per chat from 1 (the fake's own messages start at 501)."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self._message_ids: dict[int, itertools.count] = {}
        self._queries = itertools.count(1)

    def _date(self) -> int:
        return int(self.clock().timestamp())

    def user(self, chat_id: int, language: str = "en") -> dict:
        return {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": language}

    def chat(self, chat_id: int) -> dict:
        return {"id": chat_id, "type": "private", "first_name": "Sam"}

    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def text(self, chat_id: int, text: str, message_id: int | None = None, **extra) -> dict:
        message = {"message_id": message_id or self.next_message_id(chat_id), "from": self.user(chat_id),
                   "chat": self.chat(chat_id), "date": self._date(), "text": text, **extra}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"message": message}

    def media(self, chat_id: int, **content) -> dict:
        return {"message": {"message_id": self.next_message_id(chat_id), "from": self.user(chat_id),
                            "chat": self.chat(chat_id), "date": self._date(), **content}}

    def edit(self, chat_id: int, message_id: int, text: str, sent_at: int | None = None) -> dict:
        return {"edited_message": {"message_id": message_id, "from": self.user(chat_id), "chat": self.chat(chat_id),
                                   "date": sent_at or self._date() - 30, "edit_date": self._date(), "text": text}}

    def press(self, chat_id: int, message: dict, data: str, query_id: str | None = None, language: str = "en") -> dict:
        return {"callback_query": {"id": query_id or f"{chat_id}{next(self._queries):06d}",
                                   "from": self.user(chat_id, language), "message": message,
                                   "chat_instance": f"-{chat_id}77", "data": data}}

    def member(self, chat_id: int, status: str, old: str = "member") -> dict:
        bot = {"id": 123456, "is_bot": True, "first_name": "Chorus", "username": "chorus_test_bot"}

        def member(s: str) -> dict:
            return {"user": bot, "status": s, **({"until_date": 0} if s == "kicked" else {})}

        return {"my_chat_member": {"chat": self.chat(chat_id), "from": self.user(chat_id), "date": self._date(),
                                   "old_chat_member": member(old), "new_chat_member": member(status)}}


def button(message: dict, label: str) -> str:
    """The callback data of the button labelled `label` on a sent message."""
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if b["text"] == label:
                return b["callback_data"]
    raise AssertionError(f"no button {label!r} on {message['text']!r}")


# ---- a real PTB Application, polling the fake ------------------------------------------------------
class PollingBot:
    """`build_application` + `poll`, as `chorus bot` runs them, in a thread with its own event loop.
    `deliver` queues an update on the fake and waits until the Application has finished with it."""

    def __init__(self, fake: FakeTelegram, store: Store, clock: Clock, channel: TelegramChannel | None = None):
        self.fake, self.store, self.clock = fake, store, clock
        self.settings = store.settings.with_overrides(telegram_bot_token=TOKEN, telegram_api_base_url=fake.base_url)
        self.channel = channel or fast_channel(fake)
        self.updates = Updates(clock)
        self.done: dict[int, object] = {}
        self.errors: list[BaseException] = []
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.conflict: bool | None = None

    def start(self) -> "PollingBot":
        app = build_application(self.settings, self.store, self.channel, self.clock)

        async def finished(update, context):  # group 1 runs after the Chorus handler (group 0) is done
            with self._cond:
                self.done[update.update_id] = True
                self._cond.notify_all()

        async def failed(update, context):
            with self._cond:
                self.errors.append(context.error)
                if isinstance(update, Update):
                    self.done[update.update_id] = context.error
                self._cond.notify_all()

        app.add_handler(TypeHandler(Update, finished), group=1)
        app.add_error_handler(failed)
        ready = threading.Event()
        polls = len(self.fake.of("getUpdates"))

        async def main():
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            ready.set()
            self.conflict = await poll(app, self._stop)

        self._thread = threading.Thread(target=lambda: asyncio.run(main()), name="ptb-polling", daemon=True)
        self._thread.start()
        ready.wait(5)
        self.fake.wait_for(lambda: len(self.fake.of("getUpdates")) > polls or not self._thread.is_alive())
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        self.channel.close()

    def deliver(self, update: dict, timeout: float = 10.0) -> None:
        update_id = self.fake.push(update)
        with self._cond:
            if not self._cond.wait_for(lambda: update_id in self.done, timeout):
                raise AssertionError(f"update {update_id} was not handled in {timeout}s")
            outcome = self.done[update_id]
        if isinstance(outcome, BaseException):
            raise AssertionError(f"update {update_id} failed: {outcome!r}") from outcome

    # ---- a person in a chat ------------------------------------------------------------------------
    def say(self, chat_id: int, text: str) -> list[str]:
        """Send a text as `chat_id`; return the texts the bot sent back."""
        return self._exchange(chat_id, self.updates.text(chat_id, text))

    def press(self, chat_id: int, label: str, message: dict | None = None) -> list[str]:
        """Press the button labelled `label` on the bot's latest message with buttons (or on `message`)."""
        message = message or self.last_keyboard(chat_id)
        return self._exchange(chat_id, self.updates.press(chat_id, message, button(message, label)))

    def _exchange(self, chat_id: int, update: dict) -> list[str]:
        self.clock.advance(minutes=1)
        before = len(self.fake.messages_to(chat_id))
        self.deliver(update)
        return [m["text"] for m in self.fake.messages_to(chat_id)[before:]]

    def last_keyboard(self, chat_id: int) -> dict:
        with_buttons = [m for m in self.fake.messages_to(chat_id) if m.get("reply_markup")]
        assert with_buttons, "the bot has sent no buttons to this chat"
        return with_buttons[-1]


def webhook_app(db: Store, fake: FakeTelegram, clock: Clock, secret: str = SECRET):
    settings = db.settings.with_overrides(
        telegram_bot_token=TOKEN, telegram_api_base_url=fake.base_url,
        telegram_webhook_url="https://chorus.example.org", telegram_webhook_secret=secret,
        telegram_chat_rate_per_second=1000.0, telegram_rate_per_second=1000.0,
    )
    store = Store(settings, sql_engine=db.sql_engine)
    app = create_app(settings, store, clock)
    app.testing = True
    return app, store
