"""Telegram updates in: turn an Update into a core call, then do what Telegram needs (replies with
buttons, callback answers, taking the buttons off a pressed message).

Conversation state lives in the database, never in PTB (no ConversationHandler, no JobQueue), so polling,
webhook workers and restarts all see the same conversation. `handle_update` is synchronous: the store is,
and so is the channel's `send`; the polling loop runs it in a worker thread, the web app in its request
thread.

External ids are unique across every chat: a message is `<chat id>:<message id>` (message ids repeat
between chats), an edit adds `:e<edit date>`, a button press is `cb:<callback query id>`.

PTB's `de_json` checks no types: a number where text belongs, a missing chat or a list for an id all
arrive as attributes of the wrong type. So every field Chorus reads is checked here (`_str`, `_id`,
`_private_chat`, ...), and an Update whose fields are not what Telegram sends is skipped with one log line:
Telegram delivers an update again until it gets a 200, and holds back the ones behind it, so one bad
update must never stop a bot.
"""
from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from datetime import datetime

from telegram import CallbackQuery, Chat, ChatMember, ChatMemberUpdated, InlineKeyboardMarkup, Message, Update, User

from bot.channel import TelegramChannel
from bot.render import coalesce, parse_callback_data, pressed_label, text_after_press
from surveys.channels import ChannelError
from surveys.parsing import strip_controls
from surveys.service import Handled, InboundMessage, handle_inbound, set_reachable
from surveys.store import Store

log = logging.getLogger(__name__)
CHANNEL = "telegram"
ID_LIMIT = 2**63  # Telegram's ids are signed 64-bit integers (chat ids are at most 52 bits)
_QUERY_ID = re.compile(r"[\x21-\x7e]{1,64}")  # callback query ids: short, printable ASCII
_START = re.compile(r"^/start(?:\s+(\S+))?\s*$", re.IGNORECASE)
# '/stop@SomeBot': how Telegram names the bot a command is for (in groups, or from a menu); the core reads
# '/stop', so the suffix goes at the edge.
_AT_BOT = re.compile(r"^(\s*/\w+)@\w+")

# What a press on a button that no longer counts is answered with (a toast on the person's screen).
_POLITE = {
    "en": {"stale button": "That question has closed.",
           "opted out": "You have stopped these messages. Send /start to take part again.",
           None: "That button no longer does anything."},
    "es": {"stale button": "Esa pregunta ya está cerrada.",
           "opted out": "Has dejado de recibir estos mensajes. Envía /start para volver a participar.",
           None: "Ese botón ya no hace nada."},
}


@dataclass(frozen=True)
class MemberChange:
    """The person blocked ("kicked") or unblocked ("member") the bot."""

    address: str
    reachable: bool


@dataclass(frozen=True)
class Skip:
    reason: str


def read_update(update: Update, now: datetime) -> InboundMessage | MemberChange | Skip:
    """What an Update means for the core, without acting on it. Never raises: an Update whose fields are
    not what Telegram sends is a Skip that says so."""
    try:
        return _read(update, now)
    except Exception as exc:  # noqa: BLE001 - a field missed by the checks below; say which kind of error
        return Skip(f"an update Chorus cannot read ({failure(exc)})")


def _read(update: Update, now: datetime) -> InboundMessage | MemberChange | Skip:
    if update.my_chat_member is not None:
        change = update.my_chat_member
        if not isinstance(change, ChatMemberUpdated) or not isinstance(change.new_chat_member, ChatMember):
            return Skip(_UNREADABLE)
        chat_id = _private_chat(change.chat)
        if chat_id is None:
            return Skip("membership change outside a private chat")
        status = _str(change.new_chat_member.status)
        if status in ("kicked", "member"):
            return MemberChange(str(chat_id), reachable=status == "member")
        return Skip("membership status not one Chorus acts on")

    if update.callback_query is not None:
        query = update.callback_query
        if not isinstance(query, CallbackQuery) or _query_id(query) is None:
            return Skip(_UNREADABLE)
        parsed = parse_callback_data(_str(query.data))
        if parsed is None:
            return Skip("a button that is not ours")
        chat = query.message.chat if query.message is not None else None
        if chat is not None:
            chat_id = _private_chat(chat)
            if chat_id is None:
                return Skip("a button outside a private chat")
        else:
            # In a private chat the chat id is the user id, so a press on an inline message still finds them.
            chat_id = _id(query.from_user.id) if isinstance(query.from_user, User) else None
            if chat_id is None:
                return Skip(_UNREADABLE)
        ref, value = parsed
        return InboundMessage(CHANNEL, str(chat_id), f"cb:{query.id}", text=value, kind="button", ref=ref,
                              received_at=now, extras=_extras(query.from_user))

    if update.edited_message is not None:
        message = update.edited_message
        chat_id, message_id = _message_ids(message)
        if chat_id is None or message_id is None:
            return Skip("an edit outside a private chat" if _is_group(message) else _UNREADABLE)
        text = _str(message.text) if message.text is not None else _str(message.caption)
        if text is None:
            return Skip("an edit without text (a live location, a replaced photo)")
        stamp = _edit_stamp(message, update.update_id)
        return InboundMessage(CHANNEL, str(chat_id), f"{chat_id}:{message_id}:e{stamp}", text=text, kind="edit",
                              ref=f"{chat_id}:{message_id}", received_at=_time(message.edit_date) or now,
                              extras=_extras(message.from_user))

    if update.message is not None:
        message = update.message
        chat_id, message_id = _message_ids(message)
        if chat_id is None or message_id is None:
            return Skip("a message outside a private chat" if _is_group(message) else _UNREADABLE)
        if message.text is not None:
            text = _str(message.text)
            if text is None:
                return Skip(_UNREADABLE)
            text, kind = command_to_text(text), "text"
        elif message.effective_attachment is not None or message.caption:
            text, kind = _str(message.caption) or "", "media"  # the core answers "please reply in text"
        else:
            return Skip("a service message")
        return InboundMessage(CHANNEL, str(chat_id), f"{chat_id}:{message_id}", text=text, kind=kind,
                              received_at=_time(message.date) or now, extras=_extras(message.from_user))

    return Skip("an update type Chorus does not use")


_UNREADABLE = "fields that are not what Telegram sends"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _id(value: object) -> int | None:
    """An id Telegram could have sent: an integer (not a boolean) that fits in 64 bits."""
    return value if type(value) is int and -ID_LIMIT < value < ID_LIMIT else None


def _private_chat(chat: object) -> int | None:
    """The chat's id when it is a private chat with a readable id; None otherwise."""
    if not isinstance(chat, Chat) or chat.type != "private":
        return None
    return _id(chat.id)


def _is_group(message: object) -> bool:
    chat = getattr(message, "chat", None)
    return isinstance(chat, Chat) and isinstance(chat.type, str) and chat.type != "private"


def _message_ids(message: object) -> tuple[int | None, int | None]:
    """(chat id, message id) of a message in a private chat; (None, None) for anything else."""
    if not isinstance(message, Message):
        return None, None
    chat_id, message_id = _private_chat(message.chat), _id(message.message_id)
    if chat_id is None or message_id is None or message_id <= 0:  # message ids count up from 1
        return None, None
    return chat_id, message_id


def _query_id(query: CallbackQuery) -> str | None:
    return query.id if isinstance(query.id, str) and _QUERY_ID.fullmatch(query.id) else None


def _time(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


def failure(exc: BaseException, stack: bool = False) -> str:
    """An exception, for a log line: its type and where it was raised (with `stack`, the whole traceback),
    never its message, which can quote what someone wrote or a database row."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    where = f" at {frame.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno}" if frame else ""
    if stack and exc.__traceback__ is not None:
        where += "\n" + "".join(traceback.format_tb(exc.__traceback__)).rstrip()
    return f"{type(exc).__name__}{where}"


def command_to_text(text: str) -> str:
    """`/start CODE` (a deep link) is `JOIN CODE`; a bare `/start` is `JOIN`, which the core explains to
    strangers and treats as START for members. Other commands (/stop, /help, /skip, /mydata, /delete, /language,
    with or without @BotName, which goes here) are keywords the core already reads."""
    if not text.lstrip().startswith("/"):
        return text
    text = _AT_BOT.sub(r"\1", text, count=1)
    found = _START.match(text.strip())
    if found is None:
        return text
    return f"JOIN {found.group(1)}" if found.group(1) else "JOIN"


def handle_update(update: Update, store: Store, channel: TelegramChannel, now: datetime) -> str:
    """Process one update completely; return what happened, in a word or two (for logs and tests).

    Updates that cannot mean anything to Chorus, or whose fields are not what Telegram sends, are skipped
    with one log line. Errors from the store propagate (the caller decides: see `bot.webhook`)."""
    item = read_update(update, now)
    update_id = _id(update.update_id)
    query = update.callback_query if isinstance(update.callback_query, CallbackQuery) else None
    if isinstance(item, Skip):
        log.info("telegram update %s skipped: %s", update_id, item.reason)
        if query is not None and _query_id(query) is not None:
            channel.answer_callback(query.id, _polite(query, None))
        return "skipped"
    if isinstance(item, MemberChange):
        reason = "" if item.reachable else "bot blocked by the user"
        known = set_reachable(store, CHANNEL, item.address, item.reachable, reason, now)
        state = "reachable" if item.reachable else "unreachable"
        log.info("telegram update %s: someone %s the bot (%s)", update_id,
                 "unblocked" if item.reachable else "blocked", f"participant now {state}" if known else "not a participant")
        return state

    handled = handle_inbound(store, item, now)
    if handled.duplicate:
        # Delivered before and handled then (the replies went out, or failed then): answer the button so its
        # spinner stops, send nothing twice.
        log.info("telegram update %s: already handled", update_id)
        if query is not None:
            channel.answer_callback(query.id)
        return "duplicate"
    if query is not None:
        if handled.ignored or handled.contact_id is None:
            # An old button (an earlier question, a closed conversation, someone who left): a polite toast,
            # and the message stays as it was. Whatever the core still says (how to join) is sent.
            channel.answer_callback(query.id, _polite(query, handled.ignored or "stale button"))
            send_replies(store, channel, item.address, handled, now)
            return "ignored"
        channel.answer_callback(query.id)
        _show_choice(channel, query, item)
    send_replies(store, channel, item.address, handled, now)
    return "handled"


def send_replies(store: Store, channel: TelegramChannel, address: str, handled: Handled, now: datetime) -> int:
    """Send the core's replies in order (consecutive ones joined into one message: see `coalesce`); stop at
    the first failure (a later message would make no sense without the earlier one). A chat that is gone
    marks the participant unreachable. Returns how many messages went."""
    messages = coalesce(handled.replies)
    for count, message in enumerate(messages):
        try:
            channel.send(address, message)
        except ChannelError as exc:
            log.warning("telegram: reply %d of %d not sent (%s)", count + 1, len(messages), exc)
            if exc.effect == "unreachable":
                set_reachable(store, CHANNEL, address, False, str(exc), now)
            return count
    return len(messages)


def _show_choice(channel: TelegramChannel, query, item: InboundMessage) -> None:
    """Take the buttons off the pressed question and append what was chosen ("✓ Bus") to its text."""
    message = query.message
    chat_id, message_id = _message_ids(message)
    if chat_id is None or message_id is None:  # older than 48 hours, or an inline message: nothing to edit
        return
    markup = message.reply_markup if isinstance(message.reply_markup, InlineKeyboardMarkup) else None
    # What is echoed is cleaned: the pressed button's data comes from the client, not from us.
    label = strip_controls(_str(pressed_label(markup, query.data)) or item.text)
    channel.edit_after_press(chat_id, message_id, text_after_press(_str(message.text), label))


def _polite(query, reason: str | None) -> str:
    user = query.from_user if isinstance(query.from_user, User) else None
    return polite(reason, _str(getattr(user, "language_code", None)) or "en")


def polite(reason: str | None, language: str) -> str:
    """What a press that changed nothing is answered with (a toast), in the person's language or English."""
    texts = _POLITE.get((language or "en")[:2].lower(), _POLITE["en"])
    return texts.get(reason, texts[None])


def _edit_stamp(message: Message, update_id: object) -> str:
    edited = _time(message.edit_date)
    if edited is not None:
        return str(int(edited.timestamp()))
    # Telegram always sends edit_date; an update id is unique all the same.
    return f"u{_id(update_id)}"


def _extras(user) -> dict:
    code = _str(getattr(user, "language_code", None)) if isinstance(user, User) else None
    # An IETF language tag ("en", "pt-br"); anything longer or stranger is not one.
    return {"language_code": code} if code and len(code) <= 35 and code.isprintable() else {}
