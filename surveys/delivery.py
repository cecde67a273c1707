"""Sending one message through a channel (`send_one`; a whole wave is surveys.waves.send_now), and what
providers later say about it.

A send is committed around: the row is written (status 'sending') and committed before the provider is
called, and the result (provider id and 'queued', or the failure) is committed right after. A crash in
between leaves a 'sending' row, never a silent loss or a blind resend; the outbox of "Scheduled feedback
waves" resolves those. Failures carry their meaning for the contact (see `ChannelError.effect`).

Providers' words stay with their channels: a channel reads its provider's status reports into a
`StatusReport` in the core's words (a stage, and a neutral outcome below), and the core acts on that.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import insert, select, update

from surveys import models as m
from surveys.channels import Channel, ChannelError
from surveys.contacts import record_opt_out, record_reachability
from surveys.conversations import end_open_conversations
from surveys.engine import OutgoingMessage
from surveys.outgoing import outbound_row
from surveys.store import Store

log = logging.getLogger(__name__)
M, C = m.Message.__table__, m.Contact.__table__

# What became of a message, in the core's words; each channel maps its provider's statuses and codes to
# these. 'opted_out' and 'unreachable' are also `ChannelError.effect`'s words: they change the contact.
DELIVERED, FAILED_PERMANENT, FAILED_TEMPORARY = "delivered", "failed-permanent", "failed-temporary"
OPTED_OUT, UNREACHABLE = "opted_out", "unreachable"
OUTCOMES = (DELIVERED, FAILED_PERMANENT, FAILED_TEMPORARY, UNREACHABLE, OPTED_OUT)
EFFECTS = (OPTED_OUT, UNREACHABLE)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A provider's report on a message it took, as its channel reads it. `status` is the word kept on the
    message (the provider's own, for staff and counts); `stage` says how far along it is (0 not yet heard
    of, 1 accepted, 2 sent, 3 final, 4 read), since reports can arrive out of order and a late one must
    never move a message backwards; `outcome` is one of OUTCOMES, or None while the message is on its way."""
    status: str
    stage: int
    outcome: str | None = None


# A channel's reader: (status, error code) as the provider wrote them -> a report, or None when the status
# is not one the provider documents.
StatusReader = Callable[[str, "str | None"], "StatusReport | None"]


class Undeliverable(Exception):
    """The contact cannot be sent to (opted out, unreachable, no address)."""


def send_one(db: Store, channel: Channel, contact_id: int, message: OutgoingMessage, now: datetime,
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
        message_id = conn.execute(insert(M).values(outbound_row(
            message, channel=channel.name, contact_id=contact_id, conversation_id=conversation_id, status="sending",
            created_at=now))).inserted_primary_key[0]
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
                  now: datetime, read: StatusReader) -> bool:
    """Apply a provider's status callback, read by the channel's `read`. Returns False when no message has
    that provider id (the caller still acknowledges it, so the provider stops retrying).

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
        report = read(status, error_code)
        if report is None:
            log.warning("status callback for message %s: status not understood (%d characters); ignored",
                        row.id, len(status))
            return True
        current = read(row.status, None)
        if report.stage >= (current.stage if current is not None else 0):
            conn.execute(update(M).where(M.c.id == row.id).values(status=report.status, error_code=error_code or None))
        if report.outcome in EFFECTS and row.contact_id is not None:
            apply_effect(conn, row.contact_id, report.outcome, error_code, now)
    return True


def _storable(value: object, limit: int) -> bool:
    """A provider's id or code: a non-empty printable string a column of `limit` characters can hold
    (PostgreSQL refuses NUL; no driver can encode a lone surrogate)."""
    return isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()


def apply_effect(conn, contact_id: int, effect: str | None, code: str | None, now: datetime) -> None:
    if effect == OPTED_OUT:
        # They said STOP to the carrier; honour it everywhere, as if they had said it to us.
        record_opt_out(conn, contact_id, now, renew=False)
        end_open_conversations(conn, "stopped", now, m.Conversation.__table__.c.contact_id == contact_id)
    elif effect == UNREACHABLE:
        record_reachability(conn, C.c.id == contact_id, False,
                            f"provider error {code}" if code else "provider refused the address", now)
