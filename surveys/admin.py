"""Staff operations on the store: organisations, surveys, participants, exports.

Used by the CLI now and the staff console later. Not on the inbound hot path, so plain ORM.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from surveys import models as m
from surveys.addresses import InvalidAddress, normalise_address
from surveys.definition import Survey as SurveyDefinition
from surveys.store import Store

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHANNELS = ("sms", "telegram", "local")


class AdminError(ValueError):
    pass


# ---- organisations ---------------------------------------------------------------------------------
def add_organisation(db: Store, name: str, code: str, now: datetime, timezone: str | None = None,
                     language: str = "en", welcome_survey: str | None = None) -> int:
    if not CODE_RE.match(code or ""):
        raise AdminError(f"join code {code!r}: use 1-64 characters A-Z, a-z, 0-9, _ or -")
    if not name.strip():
        raise AdminError("organisation name: must not be empty")
    tz = timezone or db.settings.default_timezone
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise AdminError(f"timezone {tz!r}: unknown (use an IANA name such as Europe/London)") from None
    with db.session() as s:
        if s.scalar(select(m.Organisation.id).where(m.Organisation.code_key == code.casefold())) is not None:
            raise AdminError(f"join code {code!r} is already used by another organisation")
        org = m.Organisation(name=name.strip(), code=code, code_key=code.casefold(), timezone=tz, language=language,
                             welcome_survey_id=welcome_survey, created_at=now)
        s.add(org)
        s.flush()
        return org.id


def find_organisation(db: Store, code: str) -> m.Organisation:
    with db.session() as s:
        org = s.scalar(select(m.Organisation).where(m.Organisation.code_key == code.casefold()))
        if org is None:
            raise AdminError(f"no organisation with join code {code!r}")
        return org


def list_organisations(db: Store) -> list[m.Organisation]:
    with db.session() as s:
        return list(s.scalars(select(m.Organisation).order_by(m.Organisation.name)))


# ---- surveys ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadResult:
    survey_id: str
    number: int
    created: bool  # False when the stored current version already had this content


def load_survey(db: Store, survey: SurveyDefinition, now: datetime) -> LoadResult:
    """Store `survey` as a new immutable version, unless its content equals a stored version (then that
    version becomes current again)."""
    digest = survey.content_hash
    with db.session() as s:
        row = s.get(m.Survey, survey.id)
        if row is None:
            row = m.Survey(id=survey.id, title=survey.title, created_at=now)
            s.add(row)
            s.flush()
        same = s.scalar(select(m.SurveyVersion).where(m.SurveyVersion.survey_id == survey.id,
                                                     m.SurveyVersion.content_hash == digest))
        if same is not None:
            row.current_version_id = same.id
            return LoadResult(survey.id, same.number, False)
        number = (s.scalar(select(func.max(m.SurveyVersion.number)).where(m.SurveyVersion.survey_id == survey.id)) or 0) + 1
        version = m.SurveyVersion(survey_id=survey.id, number=number, label=survey.version, content_hash=digest,
                                  definition=survey.to_dict(), created_at=now)
        s.add(version)
        s.flush()
        row.current_version_id = version.id
        row.title = survey.title
        return LoadResult(survey.id, number, True)


@dataclass(frozen=True)
class SurveySummary:
    id: str
    title: str
    versions: int
    current: int | None
    label: str | None
    answers: int


def list_surveys(db: Store) -> list[SurveySummary]:
    with db.session() as s:
        out = []
        for row in s.scalars(select(m.Survey).order_by(m.Survey.id)):
            versions = s.scalar(select(func.count()).where(m.SurveyVersion.survey_id == row.id))
            current = s.get(m.SurveyVersion, row.current_version_id) if row.current_version_id else None
            answers = s.scalar(select(func.count()).where(m.Answer.survey_id == row.id))
            out.append(SurveySummary(row.id, row.title, versions, current.number if current else None,
                                     current.label if current else None, answers))
        return out


# ---- participants ----------------------------------------------------------------------------------
def add_participant(db: Store, channel: str, address: str, org_code: str, now: datetime, language: str | None = None,
                    tags: Iterable[str] = (), source: str = "staff") -> int:
    """Enrol someone on staff's word: consent starts pending and is asked before their first survey."""
    with db.session() as s:
        return _add_participant(db, s, channel, address, org_code, now, language, list(tags), source)


def _add_participant(db: Store, s, channel, address, org_code, now, language, tags, source) -> int:
    if channel not in CHANNELS:
        raise AdminError(f"channel {channel!r}: use one of {', '.join(CHANNELS)}")
    try:
        address = normalise_address(channel, address)
    except InvalidAddress as exc:
        raise AdminError(f"address {address!r}: {exc}") from None
    org = s.scalar(select(m.Organisation).where(m.Organisation.code_key == (org_code or "").casefold()))
    if org is None:
        raise AdminError(f"organisation {org_code!r}: no organisation has this join code")
    h = db.address_hash(channel, address)
    contact = s.scalar(select(m.Contact).where(m.Contact.channel == channel, m.Contact.address_hash == h))
    if contact is None:
        contact = m.Contact(channel=channel, address=address, address_hash=h, language=language or org.language,
                            created_at=now)
        s.add(contact)
        s.flush()
    elif contact.address is None:
        contact.address = address
    if s.scalar(select(m.Enrolment.id).where(m.Enrolment.contact_id == contact.id,
                                             m.Enrolment.organisation_id == org.id)) is None:
        s.add(m.Enrolment(contact_id=contact.id, organisation_id=org.id, consent_status="pending", source=source,
                          tags=sorted(set(tags)), created_at=now))
        s.flush()
    return contact.id


@dataclass
class ImportReport:
    added: int
    errors: list[tuple[int, str]]  # (line number, reason)


IMPORT_COLUMNS = ("channel", "address", "organisation", "language", "tags")


def import_participants(db: Store, text: str, now: datetime, progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import a CSV with columns channel, address, organisation (join code) and optionally language and
    tags (separated by ';'). All or nothing: any bad row means nothing is imported, and every bad row is
    reported with its line number."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("address", "organisation") if c not in (reader.fieldnames or [])]
    if missing:
        return ImportReport(0, [(1, f"missing column(s): {', '.join(missing)} (expected {', '.join(IMPORT_COLUMNS)})")])
    errors: list[tuple[int, str]] = []
    added = 0
    seen: set[tuple[str, str, str]] = set()
    try:
        with db.session() as s:
            for row in reader:
                line = reader.line_num
                channel = (row.get("channel") or "sms").strip().lower()
                try:
                    raw = row.get("address") or ""
                    try:
                        key = (channel, normalise_address(channel, raw), (row.get("organisation") or "").casefold())
                    except InvalidAddress as exc:
                        raise AdminError(f"address {raw!r}: {exc}") from None
                    if key in seen:
                        raise AdminError("duplicate of an earlier row")
                    seen.add(key)
                    tags = [t.strip() for t in (row.get("tags") or "").split(";") if t.strip()]
                    _add_participant(db, s, channel, row.get("address") or "", (row.get("organisation") or "").strip(),
                                     now, (row.get("language") or "").strip() or None, tags, "import")
                    added += 1
                except AdminError as exc:
                    errors.append((line, str(exc)))
                if progress:
                    progress(1)
            if errors:
                raise _Rollback()
    except _Rollback:
        return ImportReport(0, errors)
    return ImportReport(added, errors)


class _Rollback(Exception):
    pass


def find_contact(db: Store, channel: str, address: str) -> int | None:
    try:
        address = normalise_address(channel, address)
    except InvalidAddress:
        return None
    h = db.address_hash(channel, address)
    with db.read() as conn:
        return conn.execute(select(m.Contact.id).where(m.Contact.channel == channel, m.Contact.address_hash == h)).scalar()


# ---- export ----------------------------------------------------------------------------------------
EXPORT_COLUMNS = ("answer_id", "answered_at", "organisation", "survey", "survey_version", "question", "question_type",
                  "status", "value", "text", "language", "sentiment", "sentiment_by_person", "participant")


def keep_words(text: str) -> str:
    """The `redact` to pass to `export_answers` when staff asked for the words as written (`--no-redact`)."""
    return text


def export_answers(db: Store, survey_id: str | None = None, *,
                   redact: Callable[[str], str]) -> Iterator[list[str]]:
    """Rows for a CSV export. Participants appear as their pseudonym (`Store.pseudonym`: the same in every
    export, never an address). Every column that carries what people wrote, or was read from it (`value`: the
    words of a text answer; `text`: the message as sent), goes through `redact` here and nowhere else, so no
    column can leave unmasked by oversight. `redact` has no default: the core cannot mask by itself
    (`analysis.redact` does), and an export must say whether it masks; `keep_words` keeps the words.
    `sentiment` is the machine's label; `sentiment_by_person` a staff correction, if any. The words of an answer
    that raised a safeguarding flag are never exported, masked or not: its `value` is empty and its `text` reads
    "[withheld: safeguarding flag #N]" (the person handling the flag reads it with `chorus flags show N`)."""
    q = (
        select(m.Answer, m.Organisation.code, m.SurveyVersion.number)
        .outerjoin(m.Organisation, m.Organisation.id == m.Answer.organisation_id)
        .outerjoin(m.SurveyVersion, m.SurveyVersion.id == m.Answer.survey_version_id)
        .order_by(m.Answer.id)
    )
    if survey_id:
        q = q.where(m.Answer.survey_id == survey_id)
    yield list(EXPORT_COLUMNS)
    with db.session() as s:
        people = dict(s.execute(select(m.AnswerLabel.answer_id, m.AnswerLabel.label)
                                .where(m.AnswerLabel.id.in_(m.latest_answer_labels()))).all())
        flagged = dict(s.execute(select(m.Flag.answer_id, m.Flag.id).where(m.Flag.answer_id.is_not(None))).all())
        for answer, org_code, number in s.execute(q):
            value = redact(answer.value_text) if answer.value_text is not None else (
                "" if answer.value_num is None else f"{answer.value_num:g}")
            yield [str(answer.id), answer.answered_at.isoformat(), org_code or "", answer.survey_id or "",
                   "" if number is None else str(number), answer.question_key or "", answer.question_type or "",
                   answer.status, value if answer.id not in flagged else "",
                   f"[withheld: safeguarding flag #{flagged[answer.id]}]" if answer.id in flagged
                   else redact(answer.raw_text or ""), answer.language,
                   (answer.tags or {}).get("label", ""), people.get(answer.id, ""), db.pseudonym(answer.contact_id)]
