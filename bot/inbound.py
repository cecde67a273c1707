"""Telegram updates in: turn an Update into a core call, then do what Telegram needs (replies with
buttons, callback answers, taking the buttons off a pressed message).

Conversation state lives in the database, never in PTB (no ConversationHandler, no JobQueue), so polling,
webhook workers and restarts all see the same conversation. `handle_update` is synchronous: the store is,
and so is the channel's `send`; the polling loop runs it in a worker thread, the web app in its request
thread.

External ids are unique across every chat: a message is `<chat id>:<message id>` (message ids repeat
between chats), an edit adds `:e<edit date>`, a button press is `cb:<callback query id>`.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from telegram import Message, Update

from bot.channel import TelegramChannel
from bot.render import coalesce, parse_callback_data, pressed_label
from surveys.channels import ChannelError
from surveys.service import Handled, InboundMessage, handle_inbound, set_reachable
from surveys.store import Store

log = logging.getLogger(__name__)
CHANNEL = "telegram"
MESSAGE_LIMIT = 4096  # characters in one Telegram message
_START = re.compile(r"^/start(?:@\w+)?(?:\s+(\S+))?\s*$", re.IGNORECASE)

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
    """What an Update means for the core, without acting on it."""
    if update.my_chat_member is not None:
        change = update.my_chat_member
        if change.chat.type != "private":
            return Skip("membership change outside a private chat")
        status = change.new_chat_member.status
        if status in ("kicked", "member"):
            return MemberChange(str(change.chat.id), reachable=status == "member")
        return Skip(f"membership status {status}")

    if update.callback_query is not None:
        query = update.callback_query
        parsed = parse_callback_data(query.data)
        if parsed is None:
            return Skip("a button that is not ours")
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return Skip("a button outside a private chat")
        # In a private chat the chat id is the user id, so a press on an inline message still finds them.
        chat_id = chat.id if chat is not None else query.from_user.id
        ref, value = parsed
        return InboundMessage(CHANNEL, str(chat_id), f"cb:{query.id}", text=value, kind="button", ref=ref,
                              received_at=now, extras=_extras(query.from_user))

    if update.edited_message is not None:
        message = update.edited_message
        if message.chat.type != "private":
            return Skip("an edit outside a private chat")
        text = message.text if message.text is not None else message.caption
        if text is None:
            return Skip("an edit without text (a live location, a replaced photo)")
        chat_id, stamp = message.chat.id, _edit_stamp(message, update.update_id)
        return InboundMessage(CHANNEL, str(chat_id), f"{chat_id}:{message.message_id}:e{stamp}", text=text, kind="edit",
                              ref=f"{chat_id}:{message.message_id}", received_at=message.edit_date or now,
                              extras=_extras(message.from_user))

    if update.message is not None:
        message = update.message
        if message.chat.type != "private":
            return Skip("a message outside a private chat")
        if message.text is not None:
            text, kind = command_to_text(message.text), "text"
        elif message.effective_attachment is not None or message.caption:
            text, kind = message.caption or "", "media"  # the core answers "please reply in text"
        else:
            return Skip("a service message")
        chat_id = message.chat.id
        return InboundMessage(CHANNEL, str(chat_id), f"{chat_id}:{message.message_id}", text=text, kind=kind,
                              received_at=message.date or now, extras=_extras(message.from_user))

    return Skip("an update type Chorus does not use")


def command_to_text(text: str) -> str:
    """`/start CODE` (a deep link) is `JOIN CODE`; a bare `/start` is `JOIN`, which the core explains to
    strangers and treats as START for members. Other commands (/stop, /help, /skip, /delete, /language,
    with or without @BotName) are keywords the core already reads."""
    found = _START.match(text.strip())
    if found is None:
        return text
    return f"JOIN {found.group(1)}" if found.group(1) else "JOIN"


def handle_update(update: Update, store: Store, channel: TelegramChannel, now: datetime) -> str:
    """Process one update completely; return what happened, in a word or two (for logs and tests).

    Updates that cannot mean anything to Chorus are skipped with one log line. Errors from the store
    propagate (the webhook answers 500 and Telegram delivers the update again)."""
    item = read_update(update, now)
    query = update.callback_query
    if isinstance(item, Skip):
        log.info("telegram update %s skipped: %s", update.update_id, item.reason)
        if query is not None:
            channel.answer_callback(query.id, _polite(query, None))
        return "skipped"
    if isinstance(item, MemberChange):
        reason = "" if item.reachable else "bot blocked by the user"
        known = set_reachable(store, CHANNEL, item.address, item.reachable, reason, now)
        state = "reachable" if item.reachable else "unreachable"
        log.info("telegram update %s: someone %s the bot (%s)", update.update_id,
                 "unblocked" if item.reachable else "blocked", f"participant now {state}" if known else "not a participant")
        return state

    handled = handle_inbound(store, item, now)
    if handled.duplicate:
        # Delivered before and handled then (the replies went out, or failed then): answer the button so its
        # spinner stops, send nothing twice.
        log.info("telegram update %s: already handled", update.update_id)
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
    if not isinstance(message, Message):  # older than 48 hours, or an inline message: nothing to edit
        return
    label = pressed_label(message.reply_markup, query.data) or item.text
    text = f"{message.text}\n\n✓ {label}" if message.text else None
    if text is not None and len(text) > MESSAGE_LIMIT:
        text = None
    channel.edit_after_press(message.chat.id, message.message_id, text)


def _polite(query, reason: str | None) -> str:
    language = (getattr(query.from_user, "language_code", None) or "en")[:2].lower()
    texts = _POLITE.get(language, _POLITE["en"])
    return texts.get(reason, texts[None])


def _edit_stamp(message: Message, update_id: int) -> str:
    if message.edit_date is not None:
        return str(int(message.edit_date.timestamp()))
    return f"u{update_id}"  # Telegram always sends edit_date; an update id is unique all the same


def _extras(user) -> dict:
    code = getattr(user, "language_code", None)
    return {"language_code": code} if code else {}
