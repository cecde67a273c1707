"""The terminal chat's inbound side: one line typed (or piped) becomes an InboundMessage on the "local"
channel, goes through the real service, and the replies come back as plain text, the way the local channel
prints what it sends."""
from __future__ import annotations

import uuid
from datetime import datetime

from surveys.render import render_plain
from surveys.service import InboundMessage, handle_inbound
from surveys.store import Store

NAME = "local"
# Who you are in the terminal chat unless you say (`--as`): an Ofcom drama number, never a real person's.
DEFAULT_ADDRESS = "+447700900123"


def turn(store: Store, address: str, text: str, now: datetime) -> list[str]:
    """One turn of the terminal chat: `text` from `address`, handled by the service; the replies as plain
    text (numbered choices). Each line gets an external id of its own, so two identical lines are two
    messages, never a duplicate."""
    msg = InboundMessage(NAME, address, f"local-{uuid.uuid4().hex}", text)
    return [render_plain(r) for r in handle_inbound(store, msg, now).replies]
