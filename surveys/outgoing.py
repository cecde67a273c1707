"""The one place an outbound message row is built.

Every message Chorus sends or returns (replies on the inbound hot path, invitations and reminders in the
outbox, safeguarding alerts, a message sent at once, anything queued by staff tools) is a `message` row
with direction 'out'. `outbound_row` builds that row as a plain dict of column values; callers insert it
their own way (a Core insert, or the hot path's named statement after converting the types its driver
needs), so building it costs one small dict and nothing else.

A row goes to a contact (`contact_id`) or to an address that is not a contact's (`to_address`: staff
alerts, the digest by email); a reply to a stranger goes to neither and keeps only the `address_hash`.
"""
from __future__ import annotations

from datetime import datetime

from surveys.engine import OutgoingMessage

# The columns `outbound_row` fills, in order (the hot path's named statement inserts exactly these).
OUTBOUND_COLUMNS = ("channel", "direction", "contact_id", "to_address", "address_hash", "conversation_id",
                    "in_reply_to_id", "kind", "text", "payload", "status", "not_before", "purpose",
                    "invitation_id", "created_at")


def outbound_row(message: OutgoingMessage, *, channel: str, status: str, created_at,
                 contact_id: int | None = None, to_address: str | None = None, address_hash: str | None = None,
                 conversation_id: int | None = None, in_reply_to_id: int | None = None,
                 not_before: datetime | None = None, purpose: str | None = None,
                 invitation_id: int | None = None) -> dict:
    """The column values of one outbound row carrying `message`. `status` is 'inline' (returned to the
    adapter), 'pending' (for the outbox worker, from `not_before`) or 'sending' (sent at once). Values
    are passed through as given: `created_at` may already be in a driver's format (see hotpath.time_in),
    and `payload` is the message's own dict (JSON), to be encoded by whoever needs text."""
    return {
        "channel": channel, "direction": "out", "contact_id": contact_id, "to_address": to_address,
        "address_hash": address_hash, "conversation_id": conversation_id, "in_reply_to_id": in_reply_to_id,
        "kind": "text", "text": message.text, "payload": message.to_payload(), "status": status,
        "not_before": not_before, "purpose": purpose, "invitation_id": invitation_id, "created_at": created_at,
    }


def insert_replies(db, conn, channel: str, replies, in_reply_to_id: int | None, contact_id: int | None,
                   conversation_id: int | None, now: datetime, address_hash: str | None = None) -> None:
    """Store `replies` as 'inline' rows (returned to the adapter, which delivers them itself), with the
    hot path's named statement: this runs for nearly every inbound message."""
    if not replies:
        return
    hot = db.hot
    t = hot.time_in(now)
    rows = [outbound_row(r, channel=channel, status="inline", created_at=t, contact_id=contact_id,
                         address_hash=address_hash, conversation_id=conversation_id, in_reply_to_id=in_reply_to_id)
            for r in replies]
    for row in rows:
        row["payload"] = hot.json_in(row["payload"])
    hot.executemany(conn, "insert_outbound", rows)
