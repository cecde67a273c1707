"""Sending one message through a channel, and what providers later say about it.

A send is committed around: the row is written (status 'sending') and committed before the provider is
called, and the result (provider id and 'queued', or the failure) is committed right after. A crash in
between leaves a 'sending' row, never a silent loss or a blind resend; the outbox of "Scheduled feedback
waves" resolves those. Failures carry their meaning for the contact (see `ChannelError.effect`).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import insert, select, update

from surveys import models as m
from surveys.channels import Channel, ChannelError
from surveys.engine import OutgoingMessage
from surveys.store import Store

log = logging.getLogger(__name__)
M, C = m.Message.__table__, m.Contact.__table__

# How far along a message is; a late callback never moves a message backwards (callbacks can arrive out
# of order: 'delivered' before 'sent' happens).
STATUS_RANK = {"sending": 0, "accepted": 1, "queued": 1, "scheduled": 1, "sent": 2, "delivered": 3,
               "undelivered": 3, "failed": 3, "read": 4, "canceled": 3, "unknown": 0}
FINAL_FAILURES = ("failed", "undelivered")
# Provider error codes that say something about the person, not the message.
OPTED_OUT_CODES = frozenset({"21610"})  # Twilio: the recipient replied STOP at the carrier
UNREACHABLE_CODES = frozenset({"21211", "21614", "21612", "30003", "30005", "30006"})


class Undeliverable(Exception):
    """The contact cannot be sent to (opted out, unreachable, no address)."""


def send_now(db: Store, channel: Channel, contact_id: int, message: OutgoingMessage, now: datetime,
             conversation_id: int | None = None) -> int:
    """Send `message` to a contact at once and record the outcome. Returns the message row id; raises
    Undeliverable without calling the provider when the contact must not or cannot be sent to, and
    ChannelError (after recording it) when the provider refused."""
    with db.write() as conn:
        contact = conn.execute(
            select(C.c.address, C.c.opted_out_at, C.c.unreachable_at, C.c.channel).where(C.c.id == contact_id)
        ).first()
        if contact is None or contact.address is None:
            raise Undeliverable("no address for this contact")
        if contact.opted_out_at is not None:
            raise Undeliverable("the contact has opted out")
        if contact.unreachable_at is not None:
            raise Undeliverable("the contact is marked unreachable")
        message_id = conn.execute(insert(M).values(
            channel=channel.name, direction="out", contact_id=contact_id, conversation_id=conversation_id,
            kind="text", text=message.text, payload=message.to_payload(), status="sending", created_at=now,
        )).inserted_primary_key[0]
    try:
        provider_id = channel.send(contact.address, message)
    except ChannelError as exc:
        record_failure(db, message_id, contact_id, exc, now)
        raise
    with db.write() as conn:
        conn.execute(update(M).where(M.c.id == message_id).values(status="queued", external_id=provider_id))
    return message_id


def record_failure(db: Store, message_id: int, contact_id: int, exc: ChannelError, now: datetime) -> None:
    status = "failed" if exc.permanent else "retry"
    with db.write() as conn:
        conn.execute(update(M).where(M.c.id == message_id).values(status=status, error_code=exc.code))
        apply_effect(conn, contact_id, exc.effect, exc.code, now)
    log.info("send of message %s failed (%s, code %s, %s)", message_id, status, exc.code, exc.effect or "no effect")


def record_status(db: Store, channel: str, provider_id: str, status: str, error_code: str | None,
                  now: datetime) -> bool:
    """Apply a provider's status callback. Returns False when no message has that provider id (the caller
    still acknowledges it, so the provider stops retrying).

    Whatever arrives, nothing raises: an id no message can have (not text, longer than the column, with a
    control character) matches nothing; a status Chorus does not know leaves the message as it is (one log line, with
    the message's row id only); an error code that is not a short code is not kept."""
    if not _storable(provider_id, 128):
        return False
    status = status.lower() if isinstance(status, str) else ""
    error_code = error_code if _storable(error_code, 32) else None
    with db.write() as conn:
        row = conn.execute(
            select(M.c.id, M.c.status, M.c.contact_id).where(
                M.c.channel == channel, M.c.external_id == provider_id, M.c.direction == "out")
        ).first()
        if row is None:
            return False
        if status not in STATUS_RANK:
            log.warning("status callback for message %s: status not understood (%d characters); ignored",
                        row.id, len(status))
            return True
        if STATUS_RANK[status] >= STATUS_RANK.get(row.status, 0):
            conn.execute(update(M).where(M.c.id == row.id).values(status=status, error_code=error_code or None))
        if status in FINAL_FAILURES and row.contact_id is not None:
            apply_effect(conn, row.contact_id, effect_of(error_code), error_code, now)
    return True


def _storable(value: object, limit: int) -> bool:
    """A provider's id or code: a non-empty printable string a column of `limit` characters can hold
    (PostgreSQL refuses NUL; no driver can encode a lone surrogate)."""
    return isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()


def effect_of(code: str | None) -> str | None:
    if code in OPTED_OUT_CODES:
        return "opted_out"
    if code in UNREACHABLE_CODES:
        return "unreachable"
    return None


def apply_effect(conn, contact_id: int, effect: str | None, code: str | None, now: datetime) -> None:
    if effect == "opted_out":
        # They said STOP to the carrier; honour it everywhere, as if they had said it to us.
        conn.execute(update(C).where(C.c.id == contact_id, C.c.opted_out_at.is_(None)).values(opted_out_at=now))
        conn.execute(update(m.Conversation.__table__).where(
            m.Conversation.__table__.c.contact_id == contact_id, m.Conversation.__table__.c.status == "open"
        ).values(status="stopped", ended_at=now))
    elif effect == "unreachable":
        conn.execute(update(C).where(C.c.id == contact_id).values(
            unreachable_at=now, unreachable_reason=f"provider error {code}" if code else "provider refused the address"))
