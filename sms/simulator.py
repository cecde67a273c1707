"""The SMS screen of the survey simulator (surveys.simulator.Screen): every reply exactly as `SmsChannel.send`
and the webhook's TwiML send it (`render_sms`), each with its segments as `sms_cost` counts them."""
from __future__ import annotations

from sms.channel import render_sms
from sms.segments import count_segments
from surveys.engine import OutgoingMessage
from surveys.simulator import Shown


class SmsScreen:
    name = "sms"
    buttons = False

    def show(self, replies: list[OutgoingMessage], inline: bool) -> list[Shown]:
        # Inline replies go one <Message> each in the TwiML, invitations one outbox row each: the same either way.
        out = []
        for reply in replies:
            text = render_sms(reply)
            cost = count_segments(text)
            out.append(Shown(text, segments=cost.segments, encoding=cost.encoding, units=cost.units))
        return out

    def typed(self, text: str) -> str:
        return text

    def press(self, data: str) -> tuple[str, str] | None:
        return None   # SMS has no buttons

    def after_press(self, shown: Shown, data: str) -> Shown:
        return shown

    def closed(self, reason: str | None, language: str) -> str:
        return ""
