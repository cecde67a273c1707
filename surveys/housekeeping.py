"""What the clock does besides making waves: reminders, expiry of stale conversations, and the lease that
lets exactly one clock process act at a time."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from surveys import engine, messages
from surveys import models as m
from surveys.contacts import conversation_state, load_by_id
from surveys.conversations import end_open_conversations
from surveys.outgoing import outbound_row
from surveys.schedule import quiet_until
from surveys.store import Store

log = logging.getLogger(__name__)
I, W, CV, A, C, E, O, L, M = (m.Invitation.__table__, m.Wave.__table__, m.Conversation.__table__, m.Answer.__table__,
                              m.Contact.__table__, m.Enrolment.__table__, m.Organisation.__table__,
                              m.Lease.__table__, m.Message.__table__)


# ---- the lease -------------------------------------------------------------------------------------
def hold_lease(db: Store, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew lease `name` for `holder` until now + ttl. True when `holder` holds it. A holder that
    stops renewing loses it when it expires, so a second clock takes over within `ttl`."""
    with db.write() as conn:
        renewed = conn.execute(update(L).where(L.c.name == name, (L.c.holder == holder) | (L.c.expires_at < now))
                               .values(holder=holder, expires_at=now + ttl)).rowcount
        if renewed:
            return True
        if conn.execute(select(L.c.name).where(L.c.name == name)).first() is not None:
            return False
        try:
            with conn.begin_nested():
                conn.execute(insert(L).values(name=name, holder=holder, expires_at=now + ttl))
            return True
        except IntegrityError:
            return False


# ---- expiry ----------------------------------------------------------------------------------------
def expire_stale(db: Store, now: datetime) -> int:
    """Close open conversations with no answer for longer than their survey's expiry (or the default)."""
    closed = 0
    with db.write() as conn:
        versions = conn.execute(select(CV.c.survey_version_id).where(CV.c.status == "open").distinct()).scalars().all()
        for version_id in versions:
            hours = db.survey_version(conn, version_id).expire_after_hours or db.settings.conversation_expiry_hours
            closed += end_open_conversations(conn, "expired", now, CV.c.survey_version_id == version_id,
                                             CV.c.last_activity_at < now - timedelta(hours=hours))
    return closed


# ---- reminders -------------------------------------------------------------------------------------
def send_reminders(db: Store, now: datetime) -> int:
    """One reminder to people who never answered an invitation after N hours, and one to people who
    started but did not finish after M hours (the survey's `reminders`). Queued in the outbox with the
    question they are on, and held until quiet hours end."""
    queued = 0
    with db.write() as conn:
        open_invitations = conn.execute(
            select(I.c.id, I.c.contact_id, I.c.conversation_id, I.c.started_at, I.c.reminded_unstarted_at,
                   I.c.reminded_unfinished_at, W.c.survey_version_id, CV.c.last_activity_at,
                   exists().where(A.c.conversation_id == I.c.conversation_id).label("answered"))
            .join(W, W.c.id == I.c.wave_id)
            .join(CV, and_(CV.c.id == I.c.conversation_id, CV.c.status == "open"))
            .where(I.c.status == "started")
        ).all()
        for inv in open_invitations:
            survey = db.survey_version(conn, inv.survey_version_id)
            rules = survey.reminders
            if rules is None:
                continue
            if not inv.answered and rules.not_started_after_hours and inv.reminded_unstarted_at is None \
                    and inv.started_at <= now - timedelta(hours=rules.not_started_after_hours):
                column = "reminded_unstarted_at"
            elif inv.answered and rules.not_finished_after_hours and inv.reminded_unfinished_at is None \
                    and inv.last_activity_at <= now - timedelta(hours=rules.not_finished_after_hours):
                column = "reminded_unfinished_at"
            else:
                continue
            queued += _queue_reminder(db, conn, inv, now)
            conn.execute(update(I).where(I.c.id == inv.id).values(**{column: now}))
    return queued


def _queue_reminder(db: Store, conn, inv, now: datetime) -> int:
    contact = load_by_id(db, conn, inv.contact_id)
    if contact is None or contact.opted_out_at is not None or contact.unreachable_at is not None:
        return 0
    session = conversation_state(db, conn, contact)
    prompts = engine.reask(session)
    if not prompts:
        return 0
    tz = conn.execute(select(C.c.timezone, O.c.timezone).select_from(C.join(E, E.c.contact_id == C.c.id)
                                                                       .join(O, O.c.id == E.c.organisation_id))
                      .where(C.c.id == inv.contact_id).limit(1)).first()
    zone = (tz[0] or tz[1]) if tz else db.settings.default_timezone
    not_before = quiet_until(now, zone, db.settings.quiet_hours)
    org = session.conversation.org_name if session.conversation else ""
    first = engine.OutgoingMessage(messages.text(session.language, "reminder", org=org))
    rows = [first, *prompts]
    conn.execute(insert(M), [
        outbound_row(r, channel=contact.channel, contact_id=contact.id, conversation_id=inv.conversation_id,
                     status="pending", not_before=not_before, purpose="reminder", invitation_id=inv.id, created_at=now)
        for r in rows])
    return 1
