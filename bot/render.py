"""How an OutgoingMessage looks in Telegram: the text, and its choices as an inline keyboard.

A button's callback_data is `<ref>|<value>` (a long ref replaced by the core's `ref_token`, see
`button_ref`), which the inbound side splits again. Telegram allows 64 bytes of callback data; a message whose buttons would not fit is sent
with its choices as a numbered list instead, which people answer by typing, as on SMS.
"""
from __future__ import annotations

import logging
import math
from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from surveys.engine import Choice, OutgoingMessage, ref_token
from surveys.render import render_plain

log = logging.getLogger(__name__)

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit per button
SHORT_LABEL = 14  # characters: labels this short sit two to a row
MAX_SCALE_ROW = 7  # buttons: 0-10 becomes two rows (0-5, 6-10)
MERGE_LIMIT = 3500  # characters; Telegram takes 4096, and a scale legend or a "✓ choice" may be added


SHORT_REF = 40  # bytes: a ref longer than this goes as the core's token, leaving room for the value


def button_ref(ref: str) -> str:
    """The ref as a button carries it: Telegram allows 64 bytes of callback data per button, and a
    question key may be 64 characters before its value is added, so a long one goes as its token."""
    return ref if len(ref.encode()) <= SHORT_REF else ref_token(ref)


def callback_data(ref: str, value: str) -> str:
    return f"{button_ref(ref)}|{value}"


def parse_callback_data(data: str | None) -> tuple[str, str] | None:
    """(ref, value) from a button we made, or None for anything else."""
    if not data or "|" not in data:
        return None
    ref, _, value = data.partition("|")
    return (ref, value) if ref and value else None


def coalesce(replies: list[OutgoingMessage]) -> list[OutgoingMessage]:
    """The core's replies as Telegram messages: consecutive replies go out as one message of paragraphs,
    up to and including the first that asks something (has choices or answers a question), which keeps its
    buttons last. "Thanks, saved" + the survey's intro + its first question is one message, not three:
    one notification, and no second's wait between them for the per-chat limit."""
    merged: list[OutgoingMessage] = []
    texts: list[str] = []
    for reply in replies:
        if texts and len("\n\n".join([*texts, reply.text])) > MERGE_LIMIT:
            merged.append(OutgoingMessage("\n\n".join(texts)))
            texts = []
        texts.append(reply.text)
        if reply.choices or reply.ref:
            merged.append(replace(reply, text="\n\n".join(texts)))
            texts = []
    if texts:
        merged.append(OutgoingMessage("\n\n".join(texts)))
    return merged


def render_summary(message: OutgoingMessage) -> str:
    """A short summary (style 'summary', the weekly digest's for a group): its title, its points as
    bullets, and the link to the whole, or where it went instead."""
    lines = [message.subject or ""] + [f"• {point}" for point in message.text.split("\n") if point]
    lines.append(f"The full digest: {message.link}" if message.link else "The full digest went to the governance email list.")
    return "\n".join(lines)


def render(message: OutgoingMessage) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text to send and its keyboard (None when the message has no choices to press)."""
    if not message.choices or not message.ref:
        return (render_summary(message) if message.style == "summary" else render_plain(message)), None
    datas = [callback_data(message.ref, c.value) for c in message.choices]
    if any(len(d.encode()) > CALLBACK_DATA_LIMIT for d in datas):
        log.warning("telegram: buttons for %r would exceed %d bytes of callback data; sending a numbered list",
                    message.ref, CALLBACK_DATA_LIMIT)
        return render_plain(message), None
    buttons = [InlineKeyboardButton(_label(message, c), callback_data=d) for c, d in zip(message.choices, datas, strict=True)]
    return _text(message), InlineKeyboardMarkup(_rows(message, buttons))


def _text(message: OutgoingMessage) -> str:
    """Buttons show the choices; a scale's buttons show only numbers, so the text keeps what its ends mean."""
    if message.style == "scale":
        lo, hi = message.choices[0], message.choices[-1]
        if lo.label and hi.label:
            return f"{message.text}\n({lo.value} = {lo.label}, {hi.value} = {hi.label})"
    return message.text


def _label(message: OutgoingMessage, choice: Choice) -> str:
    return choice.value if message.style == "scale" else (choice.label or choice.value)


def _rows(message: OutgoingMessage, buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    n = len(buttons)
    if message.style in ("scale", "yesno"):
        rows = math.ceil(n / MAX_SCALE_ROW)
        per_row = math.ceil(n / rows)
    elif n >= 4 and all(len(b.text) <= SHORT_LABEL for b in buttons):
        per_row = 2
    else:
        per_row = 1
    return [buttons[i:i + per_row] for i in range(0, n, per_row)]


MESSAGE_LIMIT = 4096  # characters in one Telegram message


def text_after_press(shown: str | None, label: str) -> str | None:
    """The text a pressed question is edited to: its own text and what was chosen ("✓ Bus"). None when it
    cannot be edited that way (no text, or too long with the echo): then only the buttons go."""
    text = f"{shown}\n\n✓ {label}" if shown else None
    return None if text is None or len(text) > MESSAGE_LIMIT else text


def pressed_label(markup: InlineKeyboardMarkup | None, data: str) -> str | None:
    """The text of the button with this callback data on a message, to echo what was chosen."""
    for row in (markup.inline_keyboard if markup else ()):
        for button in row:
            if button.callback_data == data:
                return button.text
    return None
