"""Staff operations on the store: organisations, surveys, participants, exports.

Used by the CLI now and the staff console later. Not on the inbound hot path, so plain ORM.
"""
from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from surveys import contacts
from surveys import models as m
from surveys.addresses import InvalidAddress, normalise_address
from surveys.channels import PARTICIPANT_CHANNELS
from surveys.definition import Survey as SurveyDefinition
from surveys.messages import supported_languages
from surveys.store import Store

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class AdminError(ValueError):
    pass


def unknown(kind: str, value: str, known: Iterable[str], hint: str = "") -> AdminError:
    """'no survey 'weekly' (did you mean: weekly-checkin?)': the error for an id nothing has, with the
    close matches, or what there is when nothing is close."""
    known = sorted(set(known))
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.5) or \
        [k for k in known if value.casefold() in k.casefold() or k.casefold() in value.casefold()][:3]
    if close:
        return AdminError(f"no {kind} {value!r} (did you mean: {', '.join(close)}?)")
    if not known:
        return AdminError(f"no {kind} {value!r}: there are none yet" + (f" ({hint})" if hint else ""))
    listed = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
    return AdminError(f"no {kind} {value!r} (there are: {listed})")


def require_survey(db: Store, survey_id: str) -> str:
    """`survey_id` when a survey with that id is stored; AdminError with a did-you-mean otherwise."""
    with db.session() as s:
        if s.get(m.Survey, survey_id) is not None:
            return survey_id
        known = list(s.scalars(select(m.Survey.id)))
    raise unknown("survey", survey_id, known, "chorus surveys load FILE")


def known_languages(s) -> list[str]:
    """The languages a contact may be given: those Chorus has its own texts in, and those any stored survey
    declares (so a participant never gets a language nothing is written in)."""
    known = set(supported_languages())
    for (definition,) in s.execute(select(m.SurveyVersion.definition)
                                   .join(m.Survey, m.Survey.current_version_id == m.SurveyVersion.id)):
        known.update((definition or {}).get("languages") or ())
    return sorted(known)


def _language(s, raw: str | None) -> str | None:
    """A language code as stored (the known spelling, e.g. 'es' for 'ES'), None when not given, AdminError
    when neither Chorus nor a stored survey writes in it."""
    if raw is None or not raw.strip():
        return None
    code = raw.strip().replace("_", "-")
    known = known_languages(s)
    for k in known:
        if k.casefold() == code.casefold():
            return k
    raise AdminError(f"language {raw.strip()!r}: neither Chorus nor a loaded survey is written in it "
                     f"(use one of {', '.join(known)}; a survey declaring it adds it)")


# ---- organisations ---------------------------------------------------------------------------------
def add_organisation(db: Store, name: str, code: str, now: datetime, timezone: str | None = None,
                     language: str = "en", welcome_survey: str | None = None) -> int:
    if not CODE_RE.match(code or ""):
        raise AdminError(f"join code {code!r}: use 1-64 characters A-Z, a-z, 0-9, _ or -")
    name = " ".join((name or "").split())   # "Demo  Partnership " is "Demo Partnership", in lists and checks
    if not name:
        raise AdminError("organisation name: must not be empty")
    tz = timezone or db.settings.default_timezone
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise AdminError(f"timezone {tz!r}: unknown (use an IANA name such as Europe/London)") from None
    with db.session() as s:
        if s.scalar(select(m.Organisation.id).where(m.Organisation.code_key == code.casefold())) is not None:
            raise AdminError(f"join code {code!r} is already used by another organisation")
        # Two organisations with one name would be told apart only by their codes in every digest and list.
        # Checked here rather than by a unique index: names are few and added by hand, and writes on SQLite
        # are serialised (BEGIN IMMEDIATE).
        for other_name, other_code in s.execute(select(m.Organisation.name, m.Organisation.code)):
            if " ".join(other_name.split()).casefold() == name.casefold():
                raise AdminError(f"organisation name {name!r} is already used (join code {other_code})")
        language = _language(s, language) or db.settings.default_language
        if welcome_survey is not None and s.get(m.Survey, welcome_survey) is None:
            raise unknown("survey", welcome_survey, s.scalars(select(m.Survey.id)), "chorus surveys load FILE")
        org = m.Organisation(name=name, code=code, code_key=code.casefold(), timezone=tz, language=language,
                             welcome_survey_id=welcome_survey, created_at=now)
        s.add(org)
        s.flush()
        return org.id


@dataclass(frozen=True)
class OrganisationAdded:
    """What `add_organisation_once` did: `created` False when the code was already this organisation's."""
    id: int
    name: str
    code: str
    created: bool


def add_organisation_once(db: Store, name: str, code: str, now: datetime, timezone: str | None = None,
                          language: str = "en", welcome_survey: str | None = None, *,
                          exist_ok: bool = False) -> OrganisationAdded:
    """Add an organisation. With `exist_ok`, a join code already used by an organisation of the same name
    (compared ignoring case) is success, not an error: what `make run` relies on to be run again."""
    try:
        org_id = add_organisation(db, name, code, now, timezone, language, welcome_survey)
    except AdminError:
        if exist_ok:
            try:
                org = find_organisation(db, code)
            except AdminError:
                org = None
            if org is not None and org.name.casefold() == " ".join(name.split()).casefold():
                return OrganisationAdded(org.id, org.name, org.code, created=False)
        raise
    return OrganisationAdded(org_id, " ".join(name.split()), code, created=True)


def organisation_id(db: Store, code: str | None) -> int | None:
    """The id of the organisation with join code `code` (None for None: "every organisation"); an unknown
    code is an AdminError with a did-you-mean."""
    return None if code is None else find_organisation(db, code).id


@dataclass(frozen=True)
class OrganisationView:
    """An organisation as staff see it (plain data: no database session behind it)."""
    id: int
    name: str
    code: str
    timezone: str
    language: str
    welcome_survey_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, org: m.Organisation) -> OrganisationView:
        return cls(org.id, org.name, org.code, org.timezone, org.language, org.welcome_survey_id, org.created_at)


def find_organisation(db: Store, code: str) -> OrganisationView:
    with db.session() as s:
        org = s.scalar(select(m.Organisation).where(m.Organisation.code_key == (code or "").casefold()))
        if org is None:
            raise unknown("organisation with join code", code, s.scalars(select(m.Organisation.code)),
                          "chorus orgs add NAME --code CODE")
        return OrganisationView.of(org)


def list_organisations(db: Store) -> list[OrganisationView]:
    with db.session() as s:
        return [OrganisationView.of(org) for org in s.scalars(select(m.Organisation).order_by(m.Organisation.name))]


# ---- surveys ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadResult:
    survey_id: str
    number: int
    created: bool  # False when the stored current version already had this content


@dataclass(frozen=True)
class SurveyFile:
    path: str
    survey: SurveyDefinition


class SurveyFilesError(AdminError):
    """Some of the survey files are invalid; `problems` holds one line per problem (file, path, reason)."""

    def __init__(self, problems: list[str]):
        super().__init__("some survey files are invalid; nothing was changed")
        self.problems = problems


def read_survey_files(paths: Iterable[str]) -> list[SurveyFile]:
    """Read and check every file; all or nothing: any invalid file is a SurveyFilesError listing every
    problem in every file, so that nothing is stored from a set of files that is half wrong."""
    from surveys.loader import SurveyError, load_survey_file

    loaded, problems = [], []
    for path in paths:
        try:
            loaded.append(SurveyFile(str(path), load_survey_file(path)))
        except SurveyError as exc:
            problems.append(str(exc))
    if problems:
        raise SurveyFilesError(problems)
    return loaded


def load_survey_files(db: Store, paths: Iterable[str], now: datetime) -> list[tuple[SurveyFile, LoadResult]]:
    """Check every file first (read_survey_files), then store each survey (load_survey)."""
    return [(f, load_survey(db, f.survey, now)) for f in read_survey_files(paths)]


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
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def add_participant(db: Store, channel: str, address: str, org_code: str, now: datetime, language: str | None = None,
                    tags: Iterable[str] = (), source: str = "staff") -> int:
    """Enrol someone on staff's word: consent starts pending and is asked before their first survey."""
    return enrol_participant(db, channel, address, org_code, now, language, tags, source)[0]


def enrol_participant(db: Store, channel: str, address: str, org_code: str, now: datetime, language: str | None = None,
                      tags: Iterable[str] = (), source: str = "staff") -> tuple[int, str]:
    """add_participant, also saying what happened: CREATED (a new enrolment), UPDATED (already enrolled; the
    language or tags given differ from the stored ones, which they replace) or UNCHANGED."""
    tags = list(tags or ()) or None  # none given: an existing enrolment keeps its tags
    with db.session() as s:
        return _add_participant(db, s, channel, address, org_code, now, language, tags, source)


def _staff_address(db: Store, channel: str, raw: str) -> str:
    if channel not in PARTICIPANT_CHANNELS:
        raise AdminError(f"channel {channel!r}: use one of {', '.join(PARTICIPANT_CHANNELS)}")
    try:
        return normalise_address(channel, raw, db.settings.sms_default_region, strict=True)
    except InvalidAddress as exc:
        raise AdminError(f"address {raw!r}: {exc}") from None


def _add_participant(db: Store, s, channel, address, org_code, now, language, tags, source) -> tuple[int, str]:
    """`language` None leaves a contact's language as it is (new contacts get the organisation's); `tags` None
    leaves an enrolment's tags as they are, otherwise they become exactly `tags`."""
    address = _staff_address(db, channel, address)
    org = s.scalar(select(m.Organisation).where(m.Organisation.code_key == (org_code or "").casefold()))
    if org is None:
        raise unknown("organisation with join code", org_code or "", s.scalars(select(m.Organisation.code)),
                      "chorus orgs add NAME --code CODE")
    language = _language(s, language)
    tags = None if tags is None else sorted({t.strip() for t in tags if t.strip()})
    h = db.address_hash(channel, address)
    conn = s.connection()
    C = m.Contact.__table__
    found = conn.execute(select(C.c.id, C.c.address, C.c.language)
                         .where(C.c.channel == channel, C.c.address_hash == h)).first()
    # Staff adding someone never lifts their STOP: only the person can (JOIN, START).
    contact_id, changed = contacts.save_contact(
        db, conn, None if found is None else contacts.StoredContact(*found), channel=channel, address=address,
        address_hash=h, language=language, default_language=org.language, now=now, lift_opt_out=False)
    enrolment = s.scalar(select(m.Enrolment).where(m.Enrolment.contact_id == contact_id,
                                                   m.Enrolment.organisation_id == org.id))
    if enrolment is None:
        contacts.add_enrolment(db, conn, contact_id, org.id, source=source, tags=tags or [], now=now)
        return contact_id, CREATED
    if tags is not None and sorted(enrolment.tags or []) != tags:
        enrolment.tags, changed = tags, True
    return contact_id, UPDATED if changed else UNCHANGED


@dataclass(frozen=True)
class RowProblem:
    """One bad row of an import: its line in the file (the header is line 1), the column at fault (None when
    the row as a whole is), and why, in words a person can act on."""
    line: int
    column: str | None
    reason: str


@dataclass
class ImportReport:
    """Per row: created (a new enrolment), updated (already enrolled; language or tags changed), unchanged,
    or rejected (`errors`: line number and reason; `problems`: the same with the column). All or nothing: with
    any rejected row nothing is stored, and the other counts say what the import would have done. `written`
    False for a preview (nothing is ever stored) or when a row was rejected."""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    written: bool = False

    @property
    def rejected(self) -> int:
        return len(self.errors)

    @property
    def imported(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.rejected} rejected")

    def reject(self, line: int, column: str | None, reason: str) -> None:
        self.errors.append((line, reason))
        self.problems.append(RowProblem(line, column, reason))


IMPORT_COLUMNS = ("channel", "address", "organisation", "language", "tags")


def import_participants(db: Store, text: str, now: datetime, progress: Callable[[int], None] | None = None, *,
                        organisation_ids: frozenset[int] | None = None, preview: bool = False) -> ImportReport:
    """Import a CSV with columns channel, address, organisation (join code) and optionally language and
    tags (separated by ';'). A row for someone already enrolled updates their language (when given) and their
    tags (when the file has a tags column) and is counted as updated or unchanged, so importing the same file
    twice creates nothing the second time. All or nothing: any bad row means nothing is imported, and every
    bad row is reported with its line number and column (a second row for the same number and organisation is
    one). `organisation_ids`: the organisations rows may name (None: any), so staff import only into their own.
    `preview`: every row is checked exactly as the import would (the same code, in a transaction), and the
    transaction is always rolled back, so a preview and the import that follows it agree."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("address", "organisation") if c not in (reader.fieldnames or [])]
    if missing:
        report = ImportReport()
        report.reject(1, None, f"missing column(s): {', '.join(missing)} (expected {', '.join(IMPORT_COLUMNS)})")
        return report
    has_tags = "tags" in (reader.fieldnames or [])
    report = ImportReport()
    seen: dict[tuple[str, str, str], int] = {}
    try:
        with db.session() as s:
            for row in reader:
                line = reader.line_num
                channel = (row.get("channel") or "sms").strip().lower()
                raw = row.get("address") or ""
                org_code = (row.get("organisation") or "").strip()
                column = "channel"
                try:
                    if channel not in PARTICIPANT_CHANNELS:
                        _staff_address(db, channel, raw)        # raises the channel's error
                    column = "address"
                    key = (channel, _staff_address(db, channel, raw), org_code.casefold())
                    if key in seen:
                        raise AdminError(f"same number as line {seen[key]}" if channel == "sms"
                                         else f"same address as line {seen[key]}")
                    seen[key] = line
                    column = "organisation"
                    org_id = s.scalar(select(m.Organisation.id).where(m.Organisation.code_key == org_code.casefold()))
                    if org_id is not None and organisation_ids is not None and org_id not in organisation_ids:
                        raise AdminError(f"organisation {org_code!r} is not one of yours: you may import only "
                                         "into your own organisation(s)")
                    if org_id is not None:
                        column = "language"
                        _language(s, (row.get("language") or "").strip() or None)
                    tags = [t for t in (row.get("tags") or "").split(";")] if has_tags else None
                    # Every check comes before the first write, so a rejected row changes nothing.
                    _, outcome = _add_participant(db, s, channel, raw, org_code, now,
                                                  (row.get("language") or "").strip() or None, tags, "import")
                    setattr(report, outcome, getattr(report, outcome) + 1)
                except AdminError as exc:
                    report.reject(line, column, str(exc))
                if progress:
                    progress(1)
            if report.errors or preview:
                raise _Rollback()
            report.written = True
    except _Rollback:
        pass
    return report


class _Rollback(Exception):
    pass


def find_contact(db: Store, channel: str, address: str) -> int | None:
    try:
        address = normalise_address(channel, address, db.settings.sms_default_region)
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
                   redact: Callable[[str], str], answer_ids: list[int] | None = None) -> Iterator[list[str]]:
    """Rows for a CSV export. Participants appear as their pseudonym (`Store.pseudonym`: the same in every
    export, never an address). Every column that carries what people wrote, or was read from it (`value`: the
    words of a text answer; `text`: the message as sent), goes through `redact` here and nowhere else, so no
    column can leave unmasked by oversight. `redact` has no default: the core cannot mask by itself
    (`analysis.redact` does), and an export must say whether it masks; `keep_words` keeps the words.
    `sentiment` is the machine's label; `sentiment_by_person` a staff correction, if any. The words of an answer
    that raised a safeguarding flag are never exported, masked or not: its `value` is empty and its `text` reads
    "[withheld: safeguarding flag #N]" (the person handling the flag reads it with `chorus flags show N`).
    `answer_ids`: exactly these answers (a console filter's rows), in id order, read in chunks."""
    q = (
        select(m.Answer, m.Organisation.code, m.SurveyVersion.number)
        .outerjoin(m.Organisation, m.Organisation.id == m.Answer.organisation_id)
        .outerjoin(m.SurveyVersion, m.SurveyVersion.id == m.Answer.survey_version_id)
        .order_by(m.Answer.id)
    )
    if survey_id:
        q = q.where(m.Answer.survey_id == survey_id)
    with db.session() as s:
        # Read before the header goes out: a database that cannot be read fails with nothing written.
        people = dict(s.execute(select(m.AnswerLabel.answer_id, m.AnswerLabel.label)
                                .where(m.AnswerLabel.id.in_(m.latest_answer_labels()))).all())
        flagged = dict(s.execute(select(m.Flag.answer_id, m.Flag.id).where(m.Flag.answer_id.is_not(None))).all())
        yield list(EXPORT_COLUMNS)
        if answer_ids is None:
            rows = s.execute(q)
        else:
            ids = sorted(set(answer_ids))
            rows = (r for i in range(0, len(ids), 500) for r in s.execute(q.where(m.Answer.id.in_(ids[i:i + 500]))))
        for answer, org_code, number in rows:
            value = redact(answer.value_text) if answer.value_text is not None else (
                "" if answer.value_num is None else f"{answer.value_num:g}")
            yield [str(answer.id), answer.answered_at.isoformat(), org_code or "", answer.survey_id or "",
                   "" if number is None else str(number), answer.question_key or "", answer.question_type or "",
                   answer.status, value if answer.id not in flagged else "",
                   f"[withheld: safeguarding flag #{flagged[answer.id]}]" if answer.id in flagged
                   else redact(answer.raw_text or ""), answer.language,
                   (answer.tags or {}).get("label", ""), people.get(answer.id, ""), db.pseudonym(answer.contact_id)]
