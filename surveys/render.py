"""Plain-text rendering of an OutgoingMessage, for channels without buttons (SMS, the terminal).

Lists are numbered because people answer with the number; scales show their ends only, since listing
0 to 10 would triple the length of an SMS.
"""
from __future__ import annotations

from surveys.engine import OutgoingMessage


def render_plain(message: OutgoingMessage) -> str:
    if not message.choices:
        return message.text
    if message.style == "list":
        return message.text + "\n" + "\n".join(f"{i}. {c.label}" for i, c in enumerate(message.choices, 1))
    if message.style == "scale":
        lo, hi = message.choices[0], message.choices[-1]
        if lo.label and hi.label:
            return f"{message.text}\n({lo.value} = {lo.label}, {hi.value} = {hi.label})"
        return f"{message.text} ({lo.value}-{hi.value})"
    return f"{message.text} ({' / '.join(c.label for c in message.choices)})"
