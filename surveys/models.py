"""The data model: typed SQLAlchemy 2 tables.

Uniqueness that matters for correctness lives in the database (one inbound message per channel and
external id, one open conversation per contact, one enrolment per contact and organisation), never in a
check-then-insert. Migrations in `migrations/` create these tables; tests check they agree.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import text as sa_text  # a column below is called `text`
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on both engines (SQLite would drop the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Chorus stores aware datetimes only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Sealed(TypeDecorator):
    """A contact detail (phone number, chat id, email address): encrypted at rest when the Store that opened
    the engine has a key (see surveys.crypto), stored as it is otherwise. Never compare it in SQL with a
    value (tokens differ each time): look up by a keyed hash, or compare in Python after reading."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        cipher = getattr(dialect, "chorus_cipher", None)
        return value if cipher is None or value is None else cipher.seal(value)

    def process_result_value(self, value, dialect):
        cipher = getattr(dialect, "chorus_cipher", None)
        return value if cipher is None or value is None else cipher.open(value)


# A Fernet token of a 254-character email address, with its prefix, is about 430 characters.
SEALED_LENGTH = 512


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Organisation(Base):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Join codes are matched case-insensitively: code_key is the casefolded form, code the display form.
    code: Mapped[str] = mapped_column(String(64))
    code_key: Mapped[str] = mapped_column(String(64), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    language: Mapped[str] = mapped_column(String(16), default="en")
    welcome_survey_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Contact(Base):
    """One reachable address on one channel. STOP, START and DELETE act here, across organisations."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    # Cleared when nobody may contact this address any more (consent declined everywhere); the hash stays
    # so a refusal is remembered and a later JOIN finds the same contact.
    address: Mapped[str | None] = mapped_column(Sealed(SEALED_LENGTH))
    address_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    opted_out_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    # The engine's contact-level state (a pending consent, language or deletion question), plain JSON.
    state: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


class Enrolment(Base):
    __tablename__ = "enrolment"
    __table_args__ = (UniqueConstraint("contact_id", "organisation_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    # pending | given | declined | withdrawn
    consent_status: Mapped[str] = mapped_column(String(16), default="pending")
    consent_participate: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_quote: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]
    consent_channel: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="join")  # join | staff | import
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]


class ConsentEvent(Base):
    """Consent history: every change is a row, so what was agreed when is never overwritten."""

    __tablename__ = "consent_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    participate: Mapped[bool] = mapped_column(Boolean)
    quote: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class Survey(Base):
    __tablename__ = "survey"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # Whose survey it is: an organisation's (its staff edit it in the console) or, when NULL, the
    # partnership's (backbone admins only). Files loaded with `chorus surveys load` are the partnership's.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))


class SurveyVersion(Base):
    """Immutable: a changed file makes a new version; answers point at the version they answered."""

    __tablename__ = "survey_version"
    __table_args__ = (UniqueConstraint("survey_id", "number"), UniqueConstraint("survey_id", "content_hash"))
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    published_by: Mapped[str | None] = mapped_column(String(100))   # the console user; NULL from a file


class SurveyDraft(Base):
    """A survey being written in the console: the YAML exactly as its author left it (valid or not, so no work
    is lost). A draft never reaches participants; publishing it makes a SurveyVersion and removes the draft.
    `base_number` is the version it was started from (None for a new survey), to warn when another was
    published meanwhile."""

    __tablename__ = "survey_draft"
    survey_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    yaml_text: Mapped[str] = mapped_column(Text)
    base_number: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class Conversation(Base):
    __tablename__ = "conversation"
    __table_args__ = (
        # At most one open conversation per contact, enforced by the database on both engines.
        Index(
            "uq_conversation_open_contact",
            "contact_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"), index=True)
    # open | completed | expired | stopped
    status: Mapped[str] = mapped_column(String(16), default="open")
    question: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Message(Base):
    """Every message in and out. Inbound rows from strangers, people who have not consented or who have
    opted out keep only the external id, the time and the address hash: never the text."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        # The worker's queue: only outbox rows that still need something are indexed.
        Index("ix_message_outbox", "status", "not_before",
              sqlite_where=sa_text("status IN ('pending', 'retry', 'claimed')"),
              postgresql_where=sa_text("status IN ('pending', 'retry', 'claimed')")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    external_id: Mapped[str | None] = mapped_column(String(128))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id", ondelete="SET NULL"))
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="text")  # text | media | button | edit
    text: Mapped[str | None] = mapped_column(Text)
    # Outbound: how to present it (choices, style, the question it asks) so a resend looks the same.
    payload: Mapped[dict[str, Any] | None]
    # in: received | ignored. out: inline (returned to the adapter) | suppressed | pending (in the outbox) |
    # claimed | sending | queued | sent | delivered | undelivered | failed | retry | unknown | cancelled
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # The outbox (outbound rows the worker sends): why it is sent, not before when (quiet hours, backoff),
    # what it costs against the channel's rate (SMS segments), and the claim that makes a send happen once.
    purpose: Mapped[str | None] = mapped_column(String(16))  # reply | invitation | reminder | alert | broadcast | receipt | mydata | loop
    # For outbox rows to someone who is not a contact (staff alerts, the digest by email).
    to_address: Mapped[str | None] = mapped_column(Sealed(SEALED_LENGTH))
    # Indexed: the digest and wave counts look up an invitation's messages.
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"), index=True)
    not_before: Mapped[datetime | None]
    # Server defaults too: the inbound hot path inserts rows with plain SQL.
    units: Mapped[int] = mapped_column(Integer, default=1, server_default=sa_text("1"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=sa_text("0"))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


# The answers that are people's own words, as SQL (the partial index's condition; see free_text_answers()).
FREE_TEXT_SQL = "raw_text IS NOT NULL AND (question_type IS NULL OR question_type = 'text' OR status = 'unparsed')"


class Answer(Base):
    __tablename__ = "answer"
    # A week's answers of one organisation (or of none): the digest's and the dashboard's figures. A week's
    # free-text answers (`free_text_answers()`, about a fifth of all): the digest's sentiment and themes.
    __table_args__ = (Index("ix_answer_organisation_answered", "organisation_id", "answered_at"),
                      Index("ix_answer_free_text_answered", "answered_at", sqlite_where=sa_text(FREE_TEXT_SQL),
                            postgresql_where=sa_text(FREE_TEXT_SQL)))
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    survey_id: Mapped[str | None] = mapped_column(String(64), index=True)
    survey_version_id: Mapped[int | None] = mapped_column(ForeignKey("survey_version.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    question_key: Mapped[str | None] = mapped_column(String(64))
    question_type: Mapped[str | None] = mapped_column(String(16))
    # answered | skipped | unparsed (kept as free text) | late (after expiry) | comment (no survey open)
    status: Mapped[str] = mapped_column(String(16))
    raw_text: Mapped[str | None] = mapped_column(Text)
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = mapped_column(index=True)
    # Room for "Analysis": the machine's tags (sentiment, themes, flags) as written by the tagger.
    tags: Mapped[dict[str, Any] | None]


def free_text_answers() -> ColumnElement[bool]:
    """The answers that are people's own words: free-text questions, comments (no question) and replies that
    could not be read as the number or choice asked for. The service tags exactly these with sentiment."""
    a = Answer.__table__.c
    # The constants are literal, not bound: so both databases see that the partial index
    # ix_answer_free_text_answered (FREE_TEXT_SQL, the same terms in the same order) holds these rows.
    return and_(a.raw_text.is_not(None),
                or_(a.question_type.is_(None), a.question_type == literal_column("'text'"),
                    a.status == literal_column("'unparsed'")))


class Erasure(Base):
    """The tombstone of an erasure: when, by whom, on what request, what was removed (counts) and whether the
    person was sent a receipt. No identifier of the person is kept (see surveys.erasure)."""

    __tablename__ = "erasure"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    # The staff member's name (or "operator" at the command line), or "the person (DELETE)".
    by: Mapped[str | None] = mapped_column(String(100))
    # Staff erasure: a reference to the request ("email of 3 Dec"), never the person's name or number.
    request: Mapped[str | None] = mapped_column(String(200))
    # What was removed, as counts: {"answers": 4, "messages": 12, ...}
    removed: Mapped[dict[str, Any] | None]
    # replied (their own DELETE: the reply is the receipt) | queued (a staff erasure: see receipt_message_id,
    # an outbox row that forgets its address and text once sent or failed) | not sent: <why>
    receipt: Mapped[str | None] = mapped_column(String(64))
    receipt_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))


class Wave(Base):
    """One sending of a survey: scheduled (one per survey and occurrence, so a restart or a second clock
    cannot double it) or started by hand."""

    __tablename__ = "wave"
    __table_args__ = (UniqueConstraint("survey_id", "scheduled_for"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"))
    scheduled_for: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | manual
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | cancelled | missed
    # Who was left out and why, as counts: {"fatigue": 12, "busy": 3}
    skipped: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]


class Invitation(Base):
    """The wave's snapshot: who was invited, on which channel, in which language, from when."""

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("wave_id", "contact_id"),
        Index("ix_invitation_due", "status", "not_before"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    # pending (not yet sent) | started (its messages are in the outbox) | skipped | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(64))
    not_before: Mapped[datetime]
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    # Indexed: the digest and the dashboard count the people invited in a week by when invitations started.
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    reminded_unstarted_at: Mapped[datetime | None]
    reminded_unfinished_at: Mapped[datetime | None]


class Lease(Base):
    """A named lease in the database: the clock's leader holds "clock" and renews it."""

    __tablename__ = "lease"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class RateSlot(Base):
    """Per channel, the next instant a send may start: every worker takes its slot from this one row,
    so the configured rate holds across all of them."""

    __tablename__ = "rate_slot"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch


# ---- Analysis: staff corrections, safeguarding flags and contacts, theme decisions, re-tag runs -------------
class AnswerLabel(Base):
    """A person's sentiment label for an answer, kept beside the machine's tag (never overwriting it).
    The latest row per answer is the one that counts; earlier rows are the history."""

    __tablename__ = "answer_label"
    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


def latest_answer_labels():
    """The ids of the answer_label rows that count: the latest per answer."""
    return select(func.max(AnswerLabel.id)).group_by(AnswerLabel.answer_id)


class Flag(Base):
    """A safeguarding flag: an answer a person must read. Created with the answer, in the same transaction,
    with its alerts; never closed automatically. When the person is erased the answer link is cut and the staff
    notes (here and in flag_event) are cleared, not the flag: the record that a flag was raised and how it was
    handled survives (surveys.erasure)."""

    __tablename__ = "flag"
    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answer.id", ondelete="SET NULL"), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    survey_id: Mapped[str | None] = mapped_column(String(64))
    categories: Mapped[list[Any]]
    rules: Mapped[list[Any]]
    layer: Mapped[str | None] = mapped_column(String(16))       # what raised it: lexicon | similarity
    score: Mapped[float | None]                                 # similarity layer: closeness to the example
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | closed
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))     # when closed: concern | not_a_concern


class SafeguardingContact(Base):
    """Who hears about a flag at once: an email address or a Telegram chat, per organisation (or, with no
    organisation, for answers that belong to none)."""

    __tablename__ = "safeguarding_contact"
    __table_args__ = (UniqueConstraint("organisation_id", "channel", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # email | telegram
    # Encrypted at rest with a key (Sealed): the unique constraint then holds only without one, and the
    # staff operations in surveys.flags compare addresses after reading (a handful of rows per organisation).
    address: Mapped[str] = mapped_column(Sealed(SEALED_LENGTH))
    created_at: Mapped[datetime]


class ThemeAlias(Base):
    """A staff decision about a theme: the key (as `chorus themes list` shows it) is counted under `name`.
    Several keys with one name merge them; one key with a new name renames it. survey_id '' is every survey."""

    __tablename__ = "theme_alias"
    __table_args__ = (UniqueConstraint("survey_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(64), default="")
    key: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(120))
    by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class RetagRun(Base):
    """Progress of `chorus analysis retag`: answers are re-tagged in id order and `last_answer_id` is
    committed with each batch, so an interrupted run resumes where it stopped."""

    __tablename__ = "retag_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    analyzer: Mapped[str] = mapped_column(String(120))
    since: Mapped[datetime | None]
    survey_id: Mapped[str | None] = mapped_column(String(64))
    last_answer_id: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


# ---- The weekly digest's archive ------------------------------------------------------------------------------
class DigestArchive(Base):
    """A built digest: its week, scope ('partnership' or an organisation code), the data cut-off it was built
    from, and where its rendered files are. Rebuilding the week from the same cut-off reproduces it."""

    __tablename__ = "digest_archive"
    __table_args__ = (UniqueConstraint("week", "scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(String(64))
    cutoff: Mapped[datetime]
    path: Mapped[str] = mapped_column(String(500))
    built_at: Mapped[datetime]
    # When its sending was last decided (queued, or not sent and why); the weekly job does not try again.
    sent_at: Mapped[datetime | None]
    queued: Mapped[int | None] = mapped_column(Integer)                 # messages queued then (see DigestDelivery)
    not_sent_reason: Mapped[str | None] = mapped_column(String(200))    # set when nothing was queued


class DigestDelivery(Base):
    """One message of a digest's sending (email to a recipient, the Telegram summary): its outbox row tells
    whether it went, failed or still waits."""

    __tablename__ = "digest_delivery"
    id: Mapped[int] = mapped_column(primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("digest_archive.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    queued_at: Mapped[datetime]


class DigestQuote(Base):
    """Which answers an archived digest quotes. When a person is erased their answers go and the link is cut,
    which marks the archive for a rebuild without their words (see analysis.digest.archive)."""

    __tablename__ = "digest_quote"
    id: Mapped[int] = mapped_column(primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("digest_archive.id", ondelete="CASCADE"), index=True)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answer.id", ondelete="SET NULL"), index=True)


# ---- The staff console: a flag's history, background exports ---------------------------------------------------
class FlagEvent(Base):
    """What people did with a flag, in order: assigned to someone, a note added, closed with a note. The flag
    row keeps its current state (status, closed_by, note); these rows are the history and are never changed."""

    __tablename__ = "flag_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flag.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))     # assigned | note | closed
    by: Mapped[str] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class ExportJob(Base):
    """A large export written in the background: who asked (the scope it runs under, so the rows it may
    contain are decided by the same rule as a page), the filter, and how far it has got."""

    __tablename__ = "export_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    organisation_ids: Mapped[list[Any]] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    filter: Mapped[dict[str, Any]]
    format: Mapped[str] = mapped_column(String(8))          # csv | xlsx
    keep_personal_details: Mapped[bool] = mapped_column(Boolean)
    # queued | running | done | failed | erased (its file was removed: it could hold an erased person's answers)
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

# ---- The staff console: accounts, sessions, sign-in throttling, two-factor, audit, settings ----------------
class StaffUser(Base):
    """A person who signs in to the console. `username` is stored casefolded (matched case-insensitively).
    The password is an Argon2id hash; the TOTP secret is set once enrolment is confirmed, and
    `totp_last_step` (the 30-second step of the last code accepted) refuses a code used twice."""

    __tablename__ = "staff_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(Sealed(SEALED_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # surveys.scope.ROLES
    disabled_at: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class StaffUserOrganisation(Base):
    """Which organisations a staff member covers (staff and safeguarding leads; admins cover all)."""

    __tablename__ = "staff_user_organisation"
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True,
                                                 index=True)


class ConsoleSession(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored, so a copy of the
    database cannot be used to sign in. Revoking the row ends the session at once, in every worker.
    stage: 'two_factor' after the password, until the second factor is given; then 'full'."""

    __tablename__ = "console_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16), default="full")
    # A TOTP secret being enrolled from this session (shown as a QR code), until a code confirms it.
    totp_enrol_secret: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class SignInThrottle(Base):
    """Failed sign-ins per account and per address, and until when each is locked (the back-off). Keyed by a
    hash of 'account:<name>' or 'address:<ip>', so a password typed into the username field is not kept."""

    __tablename__ = "sign_in_throttle"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # account | address
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class StaffRecoveryCode(Base):
    """A single-use two-factor recovery code, stored as its SHA-256 (the codes are random, 60 bits each)."""

    __tablename__ = "staff_recovery_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what to which object, when and from where. Never answer text, a password or a code: `detail`
    holds short facts such as 'role staff -> admin'."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(64))  # the request's address, or "command line"
    detail: Mapped[str | None] = mapped_column(String(200))


class ConsoleSetting(Base):
    """A console-wide setting an admin changes in the console (e.g. require_two_factor = 'true')."""

    __tablename__ = "console_setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(100))


# ---- Closing the loop: the action register and "you said, we did" -----------------------------------------------
class Action(Base):
    """What staff heard and what they are doing about it: linked to a survey (and question), a theme, an
    organisation (NULL: the partnership) and a period. `message` is the "you said, we did" text per language
    ({"en": "...", "es": "..."}); publishing it queues one LoopMessage per person reached."""

    __tablename__ = "action"
    id: Mapped[int] = mapped_column(primary_key=True)
    heard: Mapped[str] = mapped_column(Text)            # what people said ("the waiting room is cold")
    doing: Mapped[str] = mapped_column(Text)            # what is being done ("we have fixed the heating")
    # planned | in_progress | done | cant_do (with `why_not`)
    status: Mapped[str] = mapped_column(String(16))
    why_not: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    survey_id: Mapped[str | None] = mapped_column(String(64))
    question_key: Mapped[str | None] = mapped_column(String(64))
    theme: Mapped[str | None] = mapped_column(String(100))
    since: Mapped[datetime | None]                      # the period the answers it answers were given in
    until: Mapped[datetime | None]
    # Who a publication reaches: "raised" (the answers above) or "cohort" (an organisation's people, by tag).
    audience: Mapped[str] = mapped_column(String(16), default="raised")
    cohort_tag: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[dict[str, Any] | None]
    due_on: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(String(100))


class ActionEvent(Base):
    """An action's history: each status change or note, when and by whom. The digest reads an action's status
    at its cut-off from here, so rebuilding a week gives the same figures."""

    __tablename__ = "action_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    status: Mapped[str | None] = mapped_column(String(16))   # the status from then on (None: a note only)
    note: Mapped[str | None] = mapped_column(Text)


class LoopMessage(Base):
    """One person told about one action: at most once (the unique constraint), through the outbox message
    `message_id`. A person's erasure removes the row (the count of people told is kept on the action's
    publication events, not here)."""

    __tablename__ = "loop_message"
    __table_args__ = (UniqueConstraint("action_id", "contact_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(16))
    not_before: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(index=True)


class ActionReply(Base):
    """A person's reply to a "you said, we did" message: their answer (a comment) linked to the action."""

    __tablename__ = "action_reply"
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"), unique=True)


# ---- Retention ---------------------------------------------------------------------------------------------------
class RetentionRun(Base):
    """One run of the retention purge (surveys/retention.py): when, who started it ('clock' or 'command line'),
    the periods in force (days per kind, null: kept) and how many rows or files of each kind it purged. Counts
    only: never what was purged."""

    __tablename__ = "retention_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(64))
    periods: Mapped[dict[str, Any]]
    counts: Mapped[dict[str, Any]]
    finished_at: Mapped[datetime | None]
