"""Outbound Telegram: a synchronous `send` over python-telegram-bot's async Bot, within Telegram's limits,
with provider errors turned into typed ChannelErrors.

Worker and web threads call `send`; the Bot runs on an event loop of its own in a daemon thread (see
bot/loop.py). Waiting for a rate-limit slot or a flood-control pause happens in the calling thread, so a
slow chat holds up only the thread sending to it.
"""
from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
from datetime import timedelta
from typing import Awaitable, Callable, TypeVar

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from bot.loop import LoopThread
from bot.ratelimit import RateLimited, RateLimiter
from bot.render import render
from config.settings import Settings
from surveys.channels import ChannelError
from surveys.engine import OutgoingMessage

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
# BadRequest descriptions that mean the chat itself is gone, not that our message was wrong.
_GONE = ("chat not found", "user not found", "peer_id_invalid", "user is deactivated")


class TelegramChannel:
    name = "telegram"
    buttons = True  # inline keyboards (bot/render.py), a numbered list when the callback data would not fit

    def __init__(self, token: str, base_url: str | None = None, rate_per_second: float = 30.0,
                 chat_rate_per_second: float = 1.0, *, max_tries: int = 3, max_retry_wait: float = 30.0,
                 timeout: float = 10.0, limiter: RateLimiter | None = None):
        """`max_tries` sends at most per message when Telegram answers "retry after N"; a wait longer than
        `max_retry_wait` seconds is not slept through but raised (temporary, with retry_after) for the
        outbox to reschedule."""
        # httpx logs every request URL at INFO, and a Bot API URL holds the bot token.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
        self.token = token
        self.base_url = base_url or DEFAULT_BASE_URL
        self.limiter = limiter or RateLimiter(rate_per_second, chat_rate_per_second)
        self.max_tries, self.max_retry_wait, self.timeout = max_tries, max_retry_wait, timeout
        self._loop = LoopThread("telegram-channel")
        self._bot: Bot | None = None
        self._bot_pid: int | None = None
        self._bot_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> "TelegramChannel":
        """A channel for the configured bot. Every channel made this way in one process shares one limiter
        (`chorus run` has the worker and the poller in one process, each with a channel of its own)."""
        if not settings.telegram_bot_token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        limiter = shared_limiter(settings.telegram_bot_token, settings.telegram_rate_per_second,
                                 settings.telegram_chat_rate_per_second)
        return cls(settings.telegram_bot_token, settings.telegram_api_base_url, limiter=limiter)

    @property
    def bot(self) -> Bot:
        """The Bot this channel calls through (also what webhook updates are parsed against). Its HTTP
        client is only ever used on the channel's loop."""
        with self._bot_lock:
            if self._bot is None or self._bot_pid != os.getpid():  # a forked worker makes its own
                request = HTTPXRequest(connection_pool_size=32, read_timeout=self.timeout, write_timeout=self.timeout,
                                       connect_timeout=self.timeout, pool_timeout=self.timeout)
                # The channel never polls: one HTTP client serves every call (each costs an SSL context).
                self._bot = Bot(self.token, base_url=self.base_url, request=request, get_updates_request=request)
                self._bot_pid = os.getpid()
            return self._bot

    # ---- sending ---------------------------------------------------------------------------------
    def units(self, message: OutgoingMessage) -> int:
        return 1  # Telegram's limits count messages

    def send(self, address: str, message: OutgoingMessage) -> str:
        """Send `message` to the chat `address`; return "<chat id>:<message id>" or raise ChannelError."""
        chat_id = chat_id_of(address)
        text, markup = render(message)
        sent = self._call(chat_id, lambda bot: bot.send_message(chat_id, text, reply_markup=markup), "send")
        return f"{chat_id}:{sent.message_id}"

    def edit_after_press(self, chat_id: int, message_id: int, text: str | None) -> None:
        """Take the buttons off a message whose button was pressed, and show what was chosen when `text` is
        given (editing the text drops the keyboard too: one call instead of two). Best effort: a failure is
        logged, never raised, since the answer is already stored."""
        try:
            if text is not None:
                try:
                    self._call(None, lambda bot: bot.edit_message_text(text, chat_id=chat_id, message_id=message_id),
                               "edit text")
                    return
                except ChannelError as exc:
                    if exc.code != "400":
                        raise
                    # The text could not be edited (too long with the echo, no longer editable): at least
                    # take the old buttons away.
            self._call(None, lambda bot: bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                                       reply_markup=None), "remove buttons")
        except ChannelError as exc:
            log.info("telegram: could not update the pressed message %s in a chat (%s)", message_id, exc)

    def answer_callback(self, query_id: str, text: str | None = None) -> None:
        """Stop the client's spinner on a pressed button (Telegram wants this within seconds). Best effort:
        an old or repeated query is refused by Telegram, which changes nothing."""
        try:
            self._run(lambda bot: bot.answer_callback_query(query_id, text=text))
        except (TelegramError, concurrent.futures.TimeoutError) as exc:
            log.info("telegram: answerCallbackQuery failed (%s)", exc)

    def username(self) -> str:
        """The bot's @username, from getMe."""
        try:
            me = self._run(lambda bot: bot.get_me())
        except (TelegramError, concurrent.futures.TimeoutError) as exc:
            raise classify(exc) from None
        return me.username

    def close(self) -> None:
        """Close the HTTP connections and stop the loop thread. A later call starts afresh."""
        if self._loop.started and self._bot is not None:
            try:
                # The Bot is never initialize()d (that costs a getMe), so Bot.shutdown() would do nothing.
                self._run(lambda bot: bot.request.shutdown())
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        with self._bot_lock:
            self._bot = None
        self._loop.stop()

    # ---- the call machinery ----------------------------------------------------------------------
    def _run(self, make: Callable[[Bot], Awaitable[T]]) -> T:
        bot = self.bot
        return self._loop.run(lambda: make(bot), timeout=4 * self.timeout + 5)

    def _call(self, chat_id: int | None, make: Callable[[Bot], Awaitable[T]], what: str) -> T:
        """One API call within the limits (per bot; per chat too when `chat_id` is given), retried after
        flood control up to `max_tries` times."""
        for attempt in range(1, self.max_tries + 1):
            try:
                slot = self.limiter.slot(chat_id, max_wait=self.max_retry_wait)
            except RateLimited as exc:
                raise ChannelError(f"telegram {what}: paused by flood control", permanent=False, code="429",
                                   retry_after=exc.wait) from None
            try:
                with slot:  # held until the response is back: see bot/ratelimit.py
                    return self._run(make)
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                self.limiter.pause(wait)
                log.warning("telegram %s: flood control, retry after %.1fs (try %d of %d)", what, wait, attempt, self.max_tries)
                if attempt == self.max_tries or wait > self.max_retry_wait:
                    raise ChannelError(f"telegram {what}: flood control, retry after {wait:g}s", permanent=False,
                                       code="429", retry_after=wait) from None
            except (TelegramError, concurrent.futures.TimeoutError) as exc:
                raise classify(exc) from None
            except OSError as exc:
                raise ChannelError(f"telegram {what}: network: {exc}", permanent=False, code="network") from None
        raise AssertionError("unreachable")  # pragma: no cover


_limiters: dict[tuple[str, float, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(token: str, rate_per_second: float, chat_rate_per_second: float) -> RateLimiter:
    """One limiter per bot and limits in this process: Telegram counts per bot, not per channel object."""
    key = (token, rate_per_second, chat_rate_per_second)
    with _limiters_lock:
        if key not in _limiters:
            _limiters[key] = RateLimiter(rate_per_second, chat_rate_per_second)
        return _limiters[key]


def chat_id_of(address: str) -> int:
    try:
        return int(str(address).strip())
    except ValueError:
        raise ChannelError("not a Telegram chat id", permanent=True, code="bad_address", effect="unreachable") from None


def retry_seconds(exc: RetryAfter) -> float:
    # PTB 22 keeps the wait as a timedelta; the public `retry_after` warns while it still returns ints.
    value = getattr(exc, "_retry_after", None)
    if not isinstance(value, timedelta):
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: BaseException) -> ChannelError:
    """What a Bot API error means for retrying and for the person.

    Forbidden (the user blocked the bot, deleted their account) and "chat not found" are permanent and
    mark the participant unreachable; other 400s are our mistake and permanent; a refused token, timeouts,
    network failures and 5xx are temporary (nothing about the person)."""
    if isinstance(exc, Forbidden):
        return ChannelError(f"telegram 403: {exc.message}", permanent=True, code="403", effect="unreachable")
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest is a subclass of it
        gone = any(marker in exc.message.lower() for marker in _GONE)
        return ChannelError(f"telegram 400: {exc.message}", permanent=True, code="400",
                            effect="unreachable" if gone else None)
    if isinstance(exc, ChatMigrated):
        return ChannelError("telegram: the chat became a supergroup", permanent=True, code="migrated", effect="unreachable")
    if isinstance(exc, InvalidToken):
        return ChannelError("telegram 401: the bot token was refused (check TELEGRAM_BOT_TOKEN)", permanent=False, code="401")
    if isinstance(exc, (TimedOut, concurrent.futures.TimeoutError)):
        return ChannelError("telegram: timed out", permanent=False, code="timeout")
    if isinstance(exc, TelegramError):
        return ChannelError(f"telegram: {exc.message}", permanent=False, code="network")
    return ChannelError(f"telegram: {exc}", permanent=False)
