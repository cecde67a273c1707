"""A contact (a participant) as the core reads and changes it: loading one with its open conversation and
enrolments, the conversation state the engine runs on, enrolment, opt-out and reachability.

Each of these is written here once. Loading and enrolment by text run for inbound messages, so they use
the hot path's named statements (surveys.hotpath); the rest are rare and use Core.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, update

from surveys import messages
from surveys import models as m
from surveys.engine import ConversationView, ConversationState
from surveys.store import Store

C = m.Contact.__table__


@dataclass(frozen=True)
class Enrolled:
    id: int
    consent_status: str
    organisation_id: int
    name: str


@dataclass(frozen=True)
class OpenConversation:
    conv_id: int
    conv_enrolment: int
    survey_version_id: int
    question: str | None
    attempts: int
    last_activity_at: datetime


@dataclass(frozen=True)
class LoadedContact:
    """One contact as the session query returns it: the contact, its open conversation, its enrolments."""

    id: int
    language: str
    opted_out_at: datetime | None
    state: dict | None
    address: str | None
    channel: str
    conv: OpenConversation | None
    enrolments: tuple[Enrolled, ...]
    unreachable_at: datetime | None = None

    @property
    def consented(self) -> bool:
        return any(e.consent_status == "given" for e in self.enrolments)

    def organisation_of(self, enrolment_id: int | None) -> int | None:
        return next((e.organisation_id for e in self.enrolments if e.id == enrolment_id), None)


# ---- loading ---------------------------------------------------------------------------------------
def _load(db: Store, conn: Connection, statement: str, params: dict) -> LoadedContact | None:
    """The contact, its open conversation and its enrolments, in one query (see hotpath._SESSION)."""
    rows = db.hot.fetchall(conn, statement, params)
    if not rows:
        return None
    r = rows[0]
    hot = db.hot
    conv = None if r[6] is None else OpenConversation(r[6], r[7], r[8], r[9], r[10], hot.time_out(r[11]))
    enrolments = tuple(Enrolled(x[12], x[13], x[14], x[15]) for x in rows if x[12] is not None)
    return LoadedContact(r[0], r[1], hot.time_out(r[2]), hot.json_out(r[3]), db.cipher.open(r[4]), r[5], conv, enrolments,
                         hot.time_out(r[16]))


def load_by_hash(db: Store, conn: Connection, channel: str, address_hash: str) -> LoadedContact | None:
    return _load(db, conn, "session_by_hash", {"channel": channel, "hash": address_hash})


def load_by_id(db: Store, conn: Connection, contact_id: int) -> LoadedContact | None:
    return _load(db, conn, "session_by_id", {"contact_id": contact_id})


def conversation_state(db: Store, conn: Connection, contact: LoadedContact) -> ConversationState:
    """What the engine needs to know of this contact: language, consent still asked, the open conversation
    and the one to start next, the organisations it is enrolled with."""
    state = contact.state or {}
    names = {e.id: e.name for e in contact.enrolments}
    conv = None
    survey_langs: tuple[str, ...] = ()
    row = contact.conv
    if row is not None:
        survey = db.survey_version(conn, row.survey_version_id)
        survey_langs = survey.languages
        conv = ConversationView(survey, row.survey_version_id, row.conv_enrolment, names.get(row.conv_enrolment, ""),
                                row.conv_id, row.question, row.attempts, row.last_activity_at)
    nxt = None
    then = state.get("then")
    if then:
        survey = db.survey_version(conn, then["version"])
        nxt = ConversationView(survey, then["version"], then["enrolment"], names.get(then["enrolment"], ""))
    given = [e for e in contact.enrolments if e.consent_status == "given"]
    default = given[-1] if given else (contact.enrolments[-1] if contact.enrolments else None)
    expiry_hours = (conv.survey.expire_after_hours if conv is not None else None) or db.settings.conversation_expiry_hours
    return ConversationState(
        language=contact.language,
        expiry=timedelta(hours=expiry_hours),
        opted_out=contact.opted_out_at is not None,
        pending=state.get("pending"),
        conversation=conv,
        next_conversation=nxt,
        org_names=tuple(e.name for e in given) or tuple(e.name for e in contact.enrolments),
        languages=survey_langs or messages.supported_languages(),
        aliases=messages.KEYWORD_ALIASES.get(contact.language, {}),
        default_enrolment=(default.id, default.name) if default else None,
    )


def state_of(s: ConversationState) -> dict | None:
    """The part of a conversation state kept on the contact row (a question still pending, what comes next)."""
    then = None
    if s.next_conversation is not None:
        then = {"version": s.next_conversation.version_id, "enrolment": s.next_conversation.enrolment}
    if not s.pending and not then:
        return None
    return {"pending": s.pending, "then": then}


def save_state(db: Store, conn: Connection, contact: LoadedContact, before: ConversationState, after: ConversationState) -> None:
    new_state = state_of(after)
    if new_state != (contact.state or None) or after.language != before.language:
        db.hot.execute(conn, "contact_state", {"contact_id": contact.id, "state": db.hot.json_in(new_state),
                                               "language": after.language})


# ---- enrolment -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredContact:
    """What enrolment needs to know of a contact already stored at the address."""

    id: int
    address: str | None
    language: str


def save_contact(db: Store, conn: Connection, existing: StoredContact | None, *, channel: str, address: str,
                 address_hash: str, language: str | None, default_language: str, now: datetime,
                 lift_opt_out: bool) -> tuple[int, bool]:
    """The contact at this address, created when `existing` is None (in `language`, or `default_language`,
    the organisation's, when None). An existing one gets its address back when a refusal had dropped it,
    and `language` when one is given. `lift_opt_out`: the person asked to take part themselves (a JOIN),
    which lifts an earlier STOP; staff adding someone never does. Returns (contact id, whether an existing
    contact changed)."""
    if existing is None:
        contact_id = db.hot.execute(conn, "insert_contact", dict(
            channel=channel, address=db.cipher.seal(address), address_hash=address_hash, language=language or default_language,
            state=None, created_at=db.hot.time_in(now)))
        return contact_id, False
    if lift_opt_out:
        # The address hashes to the stored one, so setting it again only restores what a refusal dropped.
        db.hot.execute(conn, "rejoin_contact", {"contact_id": existing.id, "address": db.cipher.seal(address)})
        return existing.id, existing.address is None
    values: dict = {}
    if existing.address is None:
        values["address"] = address
    if language is not None and existing.language != language:
        values["language"] = language
    if values:
        conn.execute(update(C).where(C.c.id == existing.id).values(**values))
    return existing.id, bool(values)


def add_enrolment(db: Store, conn: Connection, contact_id: int, organisation_id: int, *, source: str,
                  tags: list[str], now: datetime) -> int:
    """Enrol a contact with an organisation: consent starts pending (asked before their first survey),
    nothing agreed yet. Returns the enrolment id."""
    return db.hot.execute(conn, "insert_enrolment", dict(
        contact_id=contact_id, organisation_id=organisation_id, consent_status="pending", consent_participate=False,
        consent_quote=False, source=source, tags=db.hot.json_in(list(tags)), created_at=db.hot.time_in(now)))


# ---- opt-out and reachability ------------------------------------------------------------------------
def record_opt_out(conn: Connection, contact_id: int, now: datetime, *, renew: bool) -> None:
    """The contact said STOP. `renew`: they said it to us, and a repeated STOP moves the time to now; a
    carrier's report of an opt-out keeps the time of the first."""
    where = [C.c.id == contact_id] if renew else [C.c.id == contact_id, C.c.opted_out_at.is_(None)]
    conn.execute(update(C).where(*where).values(opted_out_at=now))


def record_opt_in(conn: Connection, contact_id: int) -> None:
    """The contact said START (a JOIN lifts an opt-out too: see save_contact)."""
    conn.execute(update(C).where(C.c.id == contact_id).values(opted_out_at=None))


def reachability(reachable: bool, reason: str | None, now: datetime) -> dict:
    return {"unreachable_at": None, "unreachable_reason": None} if reachable else \
        {"unreachable_at": now, "unreachable_reason": reason}


def record_reachability(conn: Connection, where, reachable: bool, reason: str | None, now: datetime) -> int:
    """Record that the contacts matching `where` (a Core condition) can (no longer) be reached: a provider
    refused the address, a Telegram user blocked or unblocked the bot, or they wrote to us. Returns how
    many contacts it changed."""
    return conn.execute(update(C).where(where).values(**reachability(reachable, reason, now))).rowcount
