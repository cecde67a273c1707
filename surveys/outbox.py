"""The outbox worker: outbound message rows ('pending') are claimed, sent at each channel's rate, and
their results recorded, so that every row is sent at most once.

A row moves pending -> claimed (a batch, one commit) -> sending (one commit, just before the provider is
called) -> queued/sent, retry or failed (one commit, just after). A worker sends through a few lanes at
once (`Worker.senders`), each with at most one row 'sending'; a worker that dies leaves 'claimed' rows
(never attempted: safe to hand out again) and at most one 'sending' row per lane (outcome unknown).
`recover` returns stale 'claimed' rows to the queue, and for stale 'sending' rows asks the channel to
reconcile (Twilio can list what was sent to a number); when it cannot, the row is marked 'unknown' for a
person to check, never resent blindly.

Every commit here is durable (synchronous): the one that marks a row 'sending' must be, since a row that
lost its mark would look 'claimed' and be sent again; the previous row's result shares that commit.
"""
from __future__ import annotations

import contextlib
import logging
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import and_, func, insert, select, update

from surveys import models as m
from surveys import ratelimit
from surveys.channels import Channel, ChannelError, not_configured, units_of
from surveys.delivery import apply_effect
from surveys.erasure import IN_HAND, RECEIPT, erased_external_id, forget_receipt
from surveys.engine import OutgoingMessage
from surveys.conversations import ServiceError, start_in
from surveys.outgoing import outbound_row
from surveys.store import Store

log = logging.getLogger(__name__)
M, C, I, W = m.Message.__table__, m.Contact.__table__, m.Invitation.__table__, m.Wave.__table__

MAX_ATTEMPTS = 6
STALE_CLAIM = timedelta(minutes=2)  # a send call times out long before this
SENDERS = 4  # lanes per worker (see Worker); also the most rows a crash can leave 'sending'
MARK_AHEAD = 0.05  # seconds before its rate-limit slot that a row is marked 'sending' (see _send_lane)
# How often a worker looks for rows waiting for a channel it has not got (see fail_unconfigured): the look
# scans every waiting row, so it is not made in every round of a drain.
UNCONFIGURED_EVERY = timedelta(seconds=10)
NOT_CONFIGURED = "channel not configured"  # the error code of an outbox row failed that way


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at an hour, with jitter so retries of a burst do not arrive together."""
    base = min(3600, 30 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Worker:
    """Sends claimed rows through `senders` lanes at once, each a thread with a connection of its own.

    A contact's rows always go through the same lane, in order, so an invitation's messages arrive in the
    order they were queued. Each lane has at most one row 'sending' at a time, so a crash can hide the
    outcome of at most `senders` rows. Channels must be safe to call from several threads (all of ours
    are). Several lanes matter twice over: a real provider takes about 100 ms a call, which one lane would
    wait out in turn, and on PostgreSQL the lanes' commits overlap, so one disk flush makes several of
    them durable (group commit) instead of one flush per message."""

    db: Store
    channels: dict[str, Channel]
    rates: dict[str, float | None] = field(default_factory=dict)  # per second; None or absent = no limit
    worker_id: str = "worker"
    batch: int = 100
    clock: Callable[[], datetime] = _utcnow
    stale_after: timedelta = STALE_CLAIM
    sleep: Callable[[float], None] = time.sleep
    senders: int = SENDERS
    rebooked: int = field(default=0, init=False)  # rate-limit slots given up after a late wake (a statistic)
    # How to configure a channel this worker has not got ({"sms": "set TWILIO_..."}), for its warning.
    hints: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stats_lock = threading.Lock()
        self._next_sweep: datetime | None = None

    # ---- one round -----------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Fail what waits for a channel this worker has not got (every UNCONFIGURED_EVERY), start due
        invitations, recover abandoned rows, then claim and send one batch. Returns the number of rows
        handled (0 when there was nothing to do)."""
        now = self.clock()
        failed = 0
        if self._next_sweep is None or now >= self._next_sweep:
            self._next_sweep = now + UNCONFIGURED_EVERY
            failed = self._fail_unconfigured()
        started = start_due_invitations(self.db, now, self.batch, tuple(self.channels))
        recover(self.db, self.channels, now, self.stale_after)
        rows = claim(self.db, self.worker_id, now, self.batch, tuple(self.channels))
        if rows:
            self.send_batch(rows)
        return len(rows) + started + failed

    def _fail_unconfigured(self) -> int:
        counts = fail_unconfigured(self.db, tuple(self.channels))
        for name, (invitations, messages) in sorted(counts.items()):
            hint = self.hints.get(name)
            log.warning("no %s channel is configured in this worker%s: %d invitation(s) and %d message(s) for "
                        "it failed", name, f" ({hint})" if hint else "", invitations, messages)
        return sum(i + n for i, n in counts.values())

    def run(self, stop: Callable[[], bool], idle: float = 1.0) -> None:
        while not stop():
            try:
                handled = self.run_once()
            except Exception:  # noqa: BLE001 - one bad round must not stop the worker
                log.exception("outbox round failed")
                handled = 0
            if not handled:
                self.sleep(idle)

    # ---- sending -------------------------------------------------------------------------------------
    def send_batch(self, rows: list["_Row"]) -> None:
        """Send claimed rows, one lane per group of contacts (see the class docstring); returns when every
        lane is done. An error in one lane is raised after the others have finished."""
        # An in-memory SQLite database is one per connection: its rows cannot be shared between lanes.
        count = 1 if self.db.sql_engine.url.database in (None, "", ":memory:") else max(1, self.senders)
        lanes: list[list[_Row]] = [[] for _ in range(count)]
        for row in rows:
            key = row.contact_id if row.contact_id is not None else hash(row.address)
            lanes[key % len(lanes)].append(row)
        lanes = [lane for lane in lanes if lane]
        if len(lanes) == 1:
            self._send_lane(lanes[0])
            return
        with ThreadPoolExecutor(len(lanes), thread_name_prefix="outbox-lane") as pool:
            for future in [pool.submit(self._send_lane, lane) for lane in lanes]:
                future.result()

    def _send_lane(self, rows: list["_Row"]) -> None:
        """Send one lane's rows in turn. Without a rate limit, each commit records the previous row's
        result and marks the next row 'sending' (one statement), so the lane never has more than one row
        whose outcome a crash could hide, at one durable commit per message. With a rate limit, the
        previous result is recorded at once and the row is marked only just before its slot (MARK_AHEAD):
        a worker killed during the wait for a slot leaves the row 'claimed', which is safe to send again."""
        done: tuple | None = None  # (row, provider id or ChannelError), not yet recorded
        with _Lane(self.db) as lane:
            for row in rows:
                reason = _unsendable(row)
                channel = self.channels[row.channel]
                message = OutgoingMessage.from_row(row.text or "", row.payload)
                rate = None if reason else self.rates.get(row.channel)
                slot = 0.0
                if rate:
                    if done is not None:
                        self._record(lane, *done)
                        done = None
                    units = units_of(channel, message)
                    slot = self._book(lane, row.channel, units, rate)
                    self._sleep_until(slot - MARK_AHEAD)
                now = self.db.hot.time_in(self.clock())
                if done is not None and not reason and not isinstance(done[1], ChannelError):
                    # The common case in one statement: record the previous send, mark this one.
                    prev, provider_id = done
                    marked = lane.run("sent_and_mark", {
                        "prev": prev.id, "prev_status": "queued" if provider_id else "sent",
                        "provider_id": provider_id or None, "next": row.id, "worker": self.worker_id,
                        "now": now}) == 2
                    self._forget(lane, prev, provider_id)
                else:
                    if done is not None:
                        self._record(lane, *done)
                    done = None
                    if reason:
                        lane.run("cancel", {"row_id": row.id, "why": reason})
                        self._forget(lane, row)
                        continue
                    marked = lane.run("mark_sending", {"row_id": row.id, "worker": self.worker_id, "now": now}) == 1
                done = None
                if not marked:
                    # Handed to another worker by recovery, or the contact opted out or became unreachable
                    # since the claim: cancel it in the second case.
                    lane.run("cancel_if_unsendable", {"row_id": row.id, "worker": self.worker_id})
                    self._forget(lane, row)
                    continue
                if rate:
                    self._sleep_until(slot)
                    for _ in range(ratelimit.REBOOKS):
                        if time.time() - slot <= ratelimit.LATE:
                            break
                        # Woke too late (a busy machine): sent now, this message could crowd the ones
                        # booked after its slot into less than a second. Give the slot up, book another.
                        with self._stats_lock:
                            self.rebooked += 1
                        slot = self._book(lane, row.channel, units, rate)
                        self._sleep_until(slot)
                # No transaction is open: no locks are held over a provider call.
                try:
                    done = (row, channel.send(row.address, message))
                except ChannelError as exc:
                    done = (row, exc)
            if done is not None:
                self._record(lane, *done)

    def _book(self, lane: "_Lane", channel: str, units: int, rate: float) -> float:
        with lane.lock:
            return ratelimit.reserve(self.db, channel, units, rate)

    def _sleep_until(self, at: float) -> None:
        wait = at - time.time()
        if wait > 0:
            self.sleep(wait)

    def _forget(self, lane: "_Lane", row: "_Row", provider_id: str | None = None) -> None:
        """An erasure's receipt the worker is done with (sent, failed for good, cancelled) keeps no address,
        text or readable provider id (see surveys.erasure); one still to retry keeps them."""
        if row.purpose == RECEIPT:
            lane.run("forget_receipt", {"row_id": row.id, "erased": erased_external_id(self.db, row.channel, provider_id)
                                        if provider_id else None})

    def _record(self, lane: "_Lane", row: "_Row", outcome) -> None:
        self._record_outcome(lane, row, outcome)
        self._forget(lane, row, None if isinstance(outcome, ChannelError) else outcome)

    def _record_outcome(self, lane: "_Lane", row: "_Row", outcome) -> None:
        if not isinstance(outcome, ChannelError):
            lane.run("sent", {"row_id": row.id, "new_status": "queued" if outcome else "sent",
                              "provider_id": outcome or None, "now": self.db.hot.time_in(self.clock())})
            return
        # A failure: rare, several statements, so SQLAlchemy and one transaction of its own.
        now = self.clock()
        exc, attempts = outcome, row.attempts + 1
        with lane.lock, self.db.write() as conn:
            if exc.permanent or attempts >= MAX_ATTEMPTS:
                conn.execute(update(M).where(M.c.id == row.id).values(
                    status="failed", attempts=attempts, error_code=exc.code or ("permanent" if exc.permanent else "retries")))
                if row.contact_id is not None:
                    apply_effect(conn, row.contact_id, exc.effect, exc.code, now)
                    if exc.effect:
                        # Nothing more can reach them: the rest of what was queued for them is cancelled.
                        conn.execute(update(M).where(M.c.contact_id == row.contact_id,
                                                     M.c.status.in_(("pending", "retry", "claimed")))
                                     .values(status="cancelled", error_code=exc.effect))
            else:
                wait = timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(attempts)
                conn.execute(update(M).where(M.c.id == row.id).values(
                    status="retry", attempts=attempts, error_code=exc.code, not_before=now + wait, claimed_by=None))
        log.info("outbox row %s: %s (%s)", row.id, exc, "permanent" if exc.permanent else f"attempt {attempts}")


# The statements a lane runs for every message, as plain SQL on its own DBAPI connection: SQLAlchemy's
# per-statement work cost one lane on PostgreSQL about a tenth of its rate (2,677 -> 3,028 rows/s in
# benchmarks/wave.py). Times are bound in the format the models store (surveys.hotpath.HotPath.time_in).
# A copy of their data (purpose 'mydata') is sent after an opt-out too: they asked for it (the right of access).
_UNSENDABLE = ("EXISTS (SELECT 1 FROM contact WHERE contact.id = message.contact_id "
               "AND ((contact.opted_out_at IS NOT NULL AND COALESCE(message.purpose, '') <> 'mydata') "
               "OR contact.unreachable_at IS NOT NULL))")
_LANE_SQL = {
    # Marks a claimed row 'sending' only if it is still ours and its contact can still be sent to: someone
    # who said STOP after the batch was claimed is not sent the rest of it.
    "mark_sending": "UPDATE message SET status = 'sending', claimed_at = :now WHERE id = :row_id "
                    f"AND status = 'claimed' AND claimed_by = :worker AND NOT {_UNSENDABLE}",
    "sent": "UPDATE message SET status = :new_status, external_id = :provider_id, sent_at = :now WHERE id = :row_id",
    "sent_and_mark": f"""
UPDATE message SET
    status = CASE WHEN id = :prev THEN :prev_status ELSE 'sending' END,
    external_id = CASE WHEN id = :prev THEN :provider_id ELSE external_id END,
    sent_at = CASE WHEN id = :prev THEN :now ELSE sent_at END,
    claimed_at = CASE WHEN id = :next THEN :now ELSE claimed_at END
WHERE id = :prev
   OR (id = :next AND status = 'claimed' AND claimed_by = :worker AND NOT {_UNSENDABLE})""",
    "cancel_if_unsendable": "UPDATE message SET status = 'cancelled', error_code = 'contact unsendable' "
                            f"WHERE id = :row_id AND status = 'claimed' AND claimed_by = :worker AND {_UNSENDABLE}",
    "cancel": "UPDATE message SET status = 'cancelled', error_code = :why WHERE id = :row_id",
    "forget_receipt": "UPDATE message SET to_address = NULL, text = NULL, payload = NULL, external_id = :erased "
                      f"WHERE id = :row_id AND purpose = '{RECEIPT}' AND status NOT IN "
                      f"({', '.join(repr(s) for s in IN_HAND)})",
}
_LANE_SQL_PG = {k: re.sub(r":(\w+)", r"%(\1)s", v) for k, v in _LANE_SQL.items()}
# On SQLite the lanes of every worker in this process take turns at the database through this lock: SQLite
# has one writer at a time anyway, and its own busy handler would make a waiting lane sleep for
# milliseconds (1, 2, 5, 10 ... ms) where the lock hands over at once.
_SQLITE_WRITES = threading.Lock()


class _Lane:
    """One lane's connection. Each `run` is one short transaction of one statement: on PostgreSQL in
    autocommit (the statement commits itself, saving the round trip of a separate COMMIT); on SQLite
    BEGIN IMMEDIATE ... COMMIT (see surveys.store)."""

    def __init__(self, db: Store):
        self.db = db
        self.pg = db.dialect == "postgresql"
        self.sql = _LANE_SQL_PG if self.pg else _LANE_SQL
        self.lock = contextlib.nullcontext() if self.pg else _SQLITE_WRITES

    def __enter__(self) -> "_Lane":
        conn = self.db.sql_engine.connect()
        if self.pg:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        self.conn = conn
        self.raw = conn.connection.dbapi_connection
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()

    def run(self, name: str, params: dict) -> int:
        """Run one statement in a transaction of its own; returns the number of rows it changed."""
        with self.lock:
            cur = self.raw.cursor()
            try:
                if self.pg:
                    cur.execute(self.sql[name], params)
                    return cur.rowcount
                cur.execute("BEGIN IMMEDIATE")
                try:
                    cur.execute(self.sql[name], params)
                    changed = cur.rowcount
                    cur.execute("COMMIT")
                except BaseException:
                    self.raw.rollback()
                    raise
                return changed
            finally:
                cur.close()


def _unsendable(row: "_Row") -> str | None:
    if row.address is None:
        return "no address"
    if row.opted_out:
        return "opted out"
    if row.unreachable:
        return "unreachable"
    return None


# ---- claiming and recovery -------------------------------------------------------------------------
_CLAIM_PG = """
WITH claimed AS (
    UPDATE message SET status = 'claimed', claimed_by = %(worker)s, claimed_at = %(now)s
    WHERE id IN (
        SELECT id FROM message
        WHERE status IN ('pending', 'retry') AND direction = 'out' AND not_before <= %(now)s
          AND channel = ANY(%(channels)s)
        ORDER BY not_before, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
    RETURNING id, channel, contact_id, text, payload, attempts, to_address, purpose)
SELECT claimed.id, claimed.channel, claimed.contact_id, claimed.text, claimed.payload, claimed.attempts,
       COALESCE(claimed.to_address, c.address),
       c.opted_out_at IS NOT NULL AND COALESCE(claimed.purpose, '') <> 'mydata', c.unreachable_at IS NOT NULL,
       claimed.purpose
FROM claimed LEFT OUTER JOIN contact c ON c.id = claimed.contact_id
"""


def claim(db: Store, worker_id: str, now: datetime, limit: int, channels: tuple[str, ...]):
    """Claim up to `limit` due rows for this worker. On PostgreSQL, SKIP LOCKED lets several workers take
    disjoint batches at once; SQLite serialises writers, so a plain select-then-update is enough there."""
    with db.write() as conn:
        if db.dialect == "postgresql":
            cur = conn.connection.dbapi_connection.cursor()
            cur.execute(_CLAIM_PG, {"worker": worker_id, "now": now, "limit": limit, "channels": list(channels)})
            rows = [_Row(*r) for r in cur.fetchall()]
            cur.close()
            if db.cipher.enabled:  # raw SQL: the `Sealed` type did not decrypt (the SQLite path below did)
                rows = [replace(r, address=db.cipher.open(r.address)) for r in rows]
            return sorted(rows, key=lambda r: r.id)
        found = conn.execute(
            select(M.c.id, M.c.channel, M.c.contact_id, M.c.text, M.c.payload, M.c.attempts,
                   func.coalesce(M.c.to_address, C.c.address),
                   and_(C.c.opted_out_at.is_not(None), func.coalesce(M.c.purpose, "") != "mydata").is_(True),
                   C.c.unreachable_at.is_not(None).is_(True), M.c.purpose)
            .select_from(M.outerjoin(C, C.c.id == M.c.contact_id))
            .where(M.c.status.in_(("pending", "retry")), M.c.direction == "out", M.c.not_before <= now,
                   M.c.channel.in_(channels))
            .order_by(M.c.not_before, M.c.id).limit(limit)
        ).all()
        if found:
            conn.execute(update(M).where(M.c.id.in_([r.id for r in found]))
                         .values(status="claimed", claimed_by=worker_id, claimed_at=now))
        return [_Row(*r) for r in found]


@dataclass(frozen=True)
class _Row:
    id: int
    channel: str
    contact_id: int | None
    text: str | None
    payload: dict | None
    attempts: int
    address: str | None
    opted_out: bool
    unreachable: bool
    purpose: str | None = None


def recover(db: Store, channels: dict[str, Channel], now: datetime, stale_after: timedelta = STALE_CLAIM) -> dict[str, int]:
    """Rows abandoned by a dead worker: 'claimed' ones go back to the queue; 'sending' ones are
    reconciled with the provider when the channel can, else marked 'unknown'."""
    stale = now - stale_after
    counts = {"requeued": 0, "reconciled": 0, "unknown": 0}
    with db.write() as conn:
        counts["requeued"] = conn.execute(update(M).where(M.c.status == "claimed", M.c.claimed_at < stale)
                                          .values(status="pending", claimed_by=None)).rowcount
        sending = conn.execute(
            select(M.c.id, M.c.channel, M.c.claimed_at, M.c.text, M.c.payload,
                   func.coalesce(M.c.to_address, C.c.address).label("address"))
            .select_from(M.outerjoin(C, C.c.id == M.c.contact_id))
            .where(M.c.status == "sending", M.c.claimed_at < stale)
        ).all()
    for row in sending:
        channel = channels.get(row.channel)
        reconcile = getattr(channel, "reconcile", None)
        found = None
        if reconcile is not None and row.address:
            try:
                found = reconcile(row.address, row.claimed_at, OutgoingMessage.from_row(row.text or "", row.payload))
            except ChannelError:
                found = None
                reconcile = None  # could not ask: fall through to 'unknown'
        with db.write() as conn:
            if reconcile is not None and found:
                conn.execute(update(M).where(M.c.id == row.id, M.c.status == "sending")
                             .values(status="queued", external_id=found, sent_at=row.claimed_at))
                forget_receipt(db, conn, row.id)
                counts["reconciled"] += 1
            elif reconcile is not None:
                # The provider has no such message: it was never sent, so sending it now is safe.
                conn.execute(update(M).where(M.c.id == row.id, M.c.status == "sending")
                             .values(status="pending", claimed_by=None))
                counts["requeued"] += 1
            else:
                conn.execute(update(M).where(M.c.id == row.id, M.c.status == "sending").values(status="unknown"))
                forget_receipt(db, conn, row.id)
                counts["unknown"] += 1
                log.warning("outbox row %s: send outcome unknown after a worker stopped; check it by hand", row.id)
    return counts


# ---- channels this process cannot send through ---------------------------------------------------------
def fail_unconfigured(db: Store, channels: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Fail, at once and for good, what waits for a channel not in `channels` (the sending process's
    own): invitations not yet started, whenever they are due (reason `surveys.channels.not_configured`),
    and outbox rows pending or to retry (error code NOT_CONFIGURED). Left pending they would wait forever, counted as
    neither sent nor failed. Only the process that sends knows its channels, so only a worker calls this;
    `surveys.waves.resend_unconfigured` puts a wave's failed invitations back once the channel exists.
    Returns {channel: (invitations failed, messages failed)}."""
    counts: dict[str, tuple[int, int]] = {}
    with db.write() as conn:
        waiting = set(conn.execute(
            select(I.c.channel).join(W, and_(W.c.id == I.c.wave_id, W.c.status == "open"))
            .where(I.c.status == "pending", I.c.channel.not_in(channels)).distinct()).scalars())
        waiting |= set(conn.execute(
            select(M.c.channel).where(M.c.status.in_(("pending", "retry")), M.c.direction == "out",
                                      M.c.channel.not_in(channels)).distinct()).scalars())
        for name in sorted(waiting):
            invitations = conn.execute(
                update(I).where(I.c.status == "pending", I.c.channel == name,
                                I.c.wave_id.in_(select(W.c.id).where(W.c.status == "open")))
                .values(status="failed", reason=not_configured(name))).rowcount
            waiting_here = (M.c.status.in_(("pending", "retry")), M.c.direction == "out", M.c.channel == name)
            receipts = conn.execute(select(M.c.id).where(*waiting_here, M.c.purpose == RECEIPT)).scalars().all()
            messages = conn.execute(update(M).where(*waiting_here)
                                    .values(status="failed", error_code=NOT_CONFIGURED)).rowcount
            for receipt in receipts:
                forget_receipt(db, conn, receipt)
            counts[name] = (invitations, messages)
    return counts


# ---- invitations -----------------------------------------------------------------------------------
def start_due_invitations(db: Store, now: datetime, limit: int, channels: tuple[str, ...] | None = None) -> int:
    """Turn due invitations (quiet hours over) into conversations and queued messages, in one
    transaction per batch; with `channels`, only invitations on those (the others wait for
    fail_unconfigured). Someone who opted out, became unreachable or is busy in another survey since
    the wave was made is skipped with the reason."""
    with db.write() as conn:
        q = (select(I.c.id, I.c.contact_id, I.c.enrolment_id, W.c.survey_version_id)
             .join(W, and_(W.c.id == I.c.wave_id, W.c.status == "open"))
             .where(I.c.status == "pending", I.c.not_before <= now))
        if channels is not None:
            q = q.where(I.c.channel.in_(channels))
        due = conn.execute(
            q.order_by(I.c.not_before, I.c.id).limit(limit)
            # Several workers: each takes invitations no other worker holds (PostgreSQL; SQLite serialises).
            .with_for_update(of=I, skip_locked=True)
        ).all()
        for inv in due:
            try:
                _, conv_id = start_in(db, conn, inv.contact_id, inv.survey_version_id, now,
                                      enrolment_id=inv.enrolment_id,
                                      outbox={"purpose": "invitation", "invitation_id": inv.id})
            except ServiceError as exc:
                conn.execute(update(I).where(I.c.id == inv.id).values(status="skipped", reason=str(exc)[:64]))
                continue
            conn.execute(update(I).where(I.c.id == inv.id).values(status="started", started_at=now,
                                                                  conversation_id=conv_id))
    return len(due)


def queue(db: Store, channel: str, message: OutgoingMessage, now: datetime, *, contact_id: int | None = None,
          to_address: str | None = None, purpose: str = "alert", not_before: datetime | None = None,
          conn=None) -> int:
    """Put one message in the outbox for the worker: to a contact, or to an address that is not one (staff
    alerts and digests by email). Returns the row id. With `conn`, inside the caller's transaction."""
    if (contact_id is None) == (to_address is None):
        raise ValueError("give a contact or an address, not both")
    if conn is None:
        with db.write() as own:
            return queue(db, channel, message, now, contact_id=contact_id, to_address=to_address, purpose=purpose,
                         not_before=not_before, conn=own)
    return conn.execute(insert(M).values(outbound_row(
        message, channel=channel, contact_id=contact_id, to_address=to_address, status="pending",
        not_before=not_before or now, purpose=purpose, created_at=now))).inserted_primary_key[0]
