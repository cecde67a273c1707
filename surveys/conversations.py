"""Starting and ending conversations: the one place a conversation row is opened or closed.

`start_in` starts a survey for a contact inside the caller's transaction (staff, the local chat, the
outbox worker's due invitations). Ending has two shapes: one conversation as the engine ends it (on the
inbound hot path, a named statement that also records the moment as its last activity), and every open
conversation matching a condition (expiry, a cancelled wave, an opt-out a carrier reported), which keeps
the last activity as it was.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from surveys import engine, messages
from surveys import models as m
from surveys.contacts import conversation_state, load_by_id, save_state
from surveys.engine import ConversationView, OutgoingMessage, ConversationState
from surveys.outgoing import insert_replies, outbound_row
from surveys.store import Store

CV, M = m.Conversation.__table__, m.Message.__table__


class ServiceError(Exception):
    """This contact cannot be asked now (opted out, no usable enrolment, busy in another survey ...)."""


def insert_conversation(db: Store, conn: Connection, contact_id: int, after: ConversationState, now: datetime) -> int:
    """Open the conversation `after.conversation` (the engine has just started it). Returns its id."""
    nc = after.conversation
    t = db.hot.time_in(now)
    return db.hot.execute(conn, "insert_conversation", dict(
        contact_id=contact_id, enrolment_id=nc.enrolment, survey_version_id=nc.version_id, status="open",
        question=nc.question, attempts=0, language=after.language, started_at=t, last_activity_at=t,
    ))


def end_conversation(db: Store, conn: Connection, conv_id: int, status: str, now: datetime) -> None:
    """End one conversation as the engine does (completed, stopped, expired ...): `now` is also its last
    activity."""
    db.hot.execute(conn, "end_conversation", {"conv_id": conv_id, "status": status, "now": db.hot.time_in(now)})


def end_open_conversations(conn: Connection, status: str, now: datetime, *where) -> int:
    """End every open conversation matching `where` (Core conditions) with `status`, keeping its last
    activity. Returns how many ended."""
    return conn.execute(update(CV).where(CV.c.status == "open", *where).values(status=status, ended_at=now)).rowcount


def start_in(db: Store, conn: Connection, contact_id: int, version_id: int, now: datetime, *,
             organisation_id: int | None = None, enrolment_id: int | None = None,
             outbox: dict | None = None) -> tuple[list[OutgoingMessage], int | None]:
    """Start survey version `version_id` for a contact inside the caller's transaction. With `outbox`
    (`purpose` and `invitation_id` of the queued rows), the messages are queued for the worker as
    'pending' rows instead of being returned for inline delivery. Returns (messages, conversation id);
    raises ServiceError when this contact cannot be asked now."""
    contact = load_by_id(db, conn, contact_id)
    if contact is None:
        raise ServiceError(f"no contact {contact_id}")
    if contact.opted_out_at is not None:
        raise ServiceError("this contact has opted out")
    usable = [e for e in contact.enrolments if e.consent_status in ("given", "pending")
              and (organisation_id is None or e.organisation_id == organisation_id)
              and (enrolment_id is None or e.id == enrolment_id)]
    if not usable:
        raise ServiceError("this contact has no enrolment that allows a survey")
    session = conversation_state(db, conn, contact)
    open_conv = session.conversation
    if open_conv is not None:
        if open_conv.last_activity is None or now - open_conv.last_activity <= session.expiry:
            raise ServiceError("this contact already has a conversation open")
        # Stale: close it as the engine would on the next reply, then start afresh.
        end_conversation(db, conn, open_conv.id, "expired", now)
        session = replace(session, conversation=None)
    enrolment = next((e for e in usable if e.consent_status == "given"), usable[0])
    view = ConversationView(db.survey_version(conn, version_id), version_id, enrolment.id, enrolment.name)
    if (enrolment.consent_status == "pending" or consent_outdated(conn, enrolment)) and not session.pending:
        st = engine.ask_consent(session, enrolment.id, enrolment.name, then=view)
    else:
        st = engine.start(session, view, now)
    conv_id = None
    if any(isinstance(ev, engine.ConversationStarted) for ev in st.events):
        conv_id = insert_conversation(db, conn, contact_id, st.session, now)
    save_state(db, conn, contact, session, st.session)
    if outbox is None:
        insert_replies(db, conn, contact.channel, st.replies, None, contact_id, conv_id, now)
    else:
        conn.execute(insert(M), [
            outbound_row(r, channel=contact.channel, contact_id=contact_id, conversation_id=conv_id,
                         status="pending", not_before=now, created_at=now, **outbox)
            for r in st.replies
        ])
    return st.replies, conv_id


def consent_outdated(conn, enrolment) -> bool:
    """Consent given to an older wording than messages.CONSENT_VERSION: it is asked again, with the current
    wording, before their next survey (their answer records the new version; a no ends their taking part).
    A consent recorded with no version (set directly, before versions were kept) is not re-asked."""
    if enrolment.consent_status != "given":
        return False
    version = conn.execute(select(m.Enrolment.consent_version).where(m.Enrolment.id == enrolment.id)).scalar()
    return version is not None and version != messages.CONSENT_VERSION
