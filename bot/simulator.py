"""The Telegram screen of the survey simulator (surveys.simulator.Screen): replies to a message joined as
`send_replies` joins them (`coalesce`), each message's text and inline keyboard as `TelegramChannel.send`
renders them (`render`), typed /commands read as the bot reads them, and a press answered as the bot answers
it (the buttons go and "✓ choice" is added, or a toast when the press changed nothing)."""
from __future__ import annotations

from dataclasses import replace

from bot.inbound import command_to_text, polite
from bot.render import coalesce, parse_callback_data, render, text_after_press
from surveys.engine import OutgoingMessage
from surveys.parsing import strip_controls
from surveys.simulator import Button, Shown


class TelegramScreen:
    name = "telegram"
    buttons = True

    def show(self, replies: list[OutgoingMessage], inline: bool) -> list[Shown]:
        # Replies to a message are joined (bot.inbound.send_replies); outbox rows (invitations) go one by one.
        out = []
        for message in (coalesce(replies) if inline else replies):
            text, markup = render(message)
            rows = tuple(tuple(Button(b.text, b.callback_data) for b in row) for row in markup.inline_keyboard) \
                if markup is not None else ()
            out.append(Shown(text, buttons=rows))
        return out

    def typed(self, text: str) -> str:
        return command_to_text(text)

    def press(self, data: str) -> tuple[str, str] | None:
        return parse_callback_data(data)

    def after_press(self, shown: Shown, data: str) -> Shown:
        label = next((b.label for row in shown.buttons for b in row if b.data == data), None)
        text = text_after_press(shown.text, strip_controls(label or ""))
        return replace(shown, text=text if text is not None else shown.text, buttons=())

    def closed(self, reason: str | None, language: str) -> str:
        return polite(reason, language or "en")
