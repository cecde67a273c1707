"""Retention: how long each kind of personal data is kept, and the purge that enforces it.

Periods come from the settings (RETENTION_*_DAYS; None keeps the data). The clock runs `run` once a day
(`due`: no run yet since the last RUN_AT in CHORUS_TIMEZONE); `chorus retention run` runs it at once.

The boundary, for every kind: a row whose time is at or before `now - N days` is purged; one a second younger
is kept ("older than N days" includes exactly N days).

What each kind purges (rows are kept wherever figures depend on them; only their words or details go):
- free_text: the words of answers (`raw_text`, and `value_text` of free-text answers) and the text of inbound
  messages, by when they arrived. Numbers, choices and the machine's tags (sentiment label and polarity, the
  safeguarding categories and rule ids: no words) stay. An answer behind an open safeguarding flag keeps its
  words until the flag is closed: a person must still read them.
- contacts: the address (phone number, chat id) of a contact with no activity for N days: no message in or
  out, no conversation activity, no enrolment, consent change or invitation. The keyed hash stays, so a STOP
  or a refusal is still remembered and a person who writes again is found. The contact is marked unreachable;
  one with a message still waiting in the outbox is left alone.
- messages: the text, presentation payload and recipient address of the message log (both directions), never
  of a row the outbox still needs (pending, retry, claimed, sending).
- exports: background export jobs (by when they were asked for) and their files; any other export file in
  the exports folder older than the period too (a crashed job's leftovers).
- audit: audit log entries.

Every kind works in batches of BATCH rows, each its own short transaction, so a large table is never locked
for long; a run that stops half-way is finished by the next. Purging twice changes nothing the second time.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, exists, literal, null, or_, select, update

from config.settings import Settings
from surveys import models as m
from surveys.scope import Scope
from surveys.store import Store

log = logging.getLogger(__name__)

A, M, C, CV, E, CE, I, J, AU, F, R = (m.Answer.__table__, m.Message.__table__, m.Contact.__table__,
                                       m.Conversation.__table__, m.Enrolment.__table__, m.ConsentEvent.__table__,
                                       m.Invitation.__table__, m.ExportJob.__table__, m.AuditEntry.__table__,
                                       m.Flag.__table__, m.RetentionRun.__table__)

BATCH = 500
RUN_AT = time(3, 0)  # local time (CHORUS_TIMEZONE) after which the clock runs the day's purge
OUTBOX_NEEDS = ("pending", "retry", "claimed", "sending")  # statuses whose text the outbox still sends
UNREACHABLE_REASON = "contact details removed after inactivity (retention)"
CLOCK = "clock"
COMMAND_LINE = "command line"


@dataclass(frozen=True)
class Kind:
    key: str
    setting: str
    label: str
    purges: str


KINDS: tuple[Kind, ...] = (
    Kind("free_text", "RETENTION_FREE_TEXT_DAYS", "Free text",
         "the words of answers and of inbound messages (numbers, choices and tags stay)"),
    Kind("contacts", "RETENTION_CONTACT_DAYS", "Contact details",
         "phone numbers and chat ids of people with no activity for the period (they become unreachable)"),
    Kind("messages", "RETENTION_MESSAGES_DAYS", "Message log",
         "the text of messages in and out (never one still waiting to be sent)"),
    Kind("exports", "RETENTION_EXPORTS_DAYS", "Exports", "background export files and their jobs"),
    Kind("audit", "RETENTION_AUDIT_DAYS", "Audit log", "audit log entries"),
)

# What a run counts, in the order people read them.
COUNTS: tuple[tuple[str, str], ...] = (
    ("free_text_answers", "answers' words"),
    ("free_text_messages", "inbound messages' words"),
    ("contacts", "contact details"),
    ("messages", "message log texts"),
    ("export_jobs", "export jobs"),
    ("export_files", "export files"),
    ("audit_entries", "audit entries"),
)


def periods(settings: Settings) -> dict[str, int | None]:
    """Days per kind (None: kept), from the settings."""
    return {"free_text": settings.retention_free_text_days, "contacts": settings.retention_contact_days,
            "messages": settings.retention_messages_days, "exports": settings.retention_exports_days,
            "audit": settings.retention_audit_days}


def cutoff(now: datetime, days: int) -> datetime:
    """The boundary: rows at or before this instant are purged."""
    return now - timedelta(days=days)


def export_dir(settings: Settings) -> Path:
    """Where background exports are written (analysis.responses.export_dir: the same folder)."""
    return Path(settings.var_dir) / "exports"


# ---- the purge ---------------------------------------------------------------------------------------------
def purge(db: Store, now: datetime, days: dict[str, int | None] | None = None) -> dict[str, int]:
    """Purge everything older than its period (`days`, default: the settings). Returns counts per kind."""
    days = periods(db.settings) if days is None else days
    counts = {key: 0 for key, _ in COUNTS}
    if days.get("free_text"):
        at = cutoff(now, days["free_text"])
        counts["free_text_answers"] = _purge_answer_words(db, at)
        counts["free_text_messages"] = _batched(db, M, [M.c.direction == "in", M.c.created_at <= at,
                                                        M.c.text.is_not(None)], {"text": None})
    if days.get("messages"):
        at = cutoff(now, days["messages"])
        counts["messages"] = _batched(
            db, M, [M.c.created_at <= at, M.c.status.not_in(OUTBOX_NEEDS),
                    or_(M.c.text.is_not(None), M.c.payload.is_not(None), M.c.to_address.is_not(None))],
            {"text": None, "payload": null(), "to_address": None})
    if days.get("contacts"):
        counts["contacts"] = _purge_contacts(db, now, cutoff(now, days["contacts"]))
    if days.get("exports"):
        counts["export_jobs"], counts["export_files"] = _purge_exports(db, cutoff(now, days["exports"]))
    if days.get("audit"):
        counts["audit_entries"] = _batched(db, AU, [AU.c.at <= cutoff(now, days["audit"])], None)
    return counts


def _batched(db: Store, table, where: list, values: dict | None) -> int:
    """Update (or, with `values` None, delete) the rows matching `where`, BATCH at a time in id order, each
    batch its own transaction. The condition is checked again by the statement itself, so a row that changed
    since it was selected (a message queued again, a flag opened) is left alone."""
    done, last = 0, 0
    while True:
        with db.write() as conn:
            ids = conn.execute(select(table.c.id).where(table.c.id > last, *where)
                               .order_by(table.c.id).limit(BATCH)).scalars().all()
            if not ids:
                return done
            if values is None:
                done += conn.execute(delete(table).where(table.c.id.in_(ids), *where)).rowcount
            else:
                done += conn.execute(update(table).where(table.c.id.in_(ids), *where).values(**values)).rowcount
        if len(ids) < BATCH:
            return done
        last = ids[-1]


def _purge_answer_words(db: Store, at: datetime) -> int:
    words = or_(A.c.question_type.is_(None), A.c.question_type == "text", A.c.status == "unparsed")
    open_flag = exists().where(F.c.answer_id == A.c.id, F.c.status == "open")
    return _batched(db, A, [A.c.answered_at <= at, ~open_flag,
                            or_(A.c.raw_text.is_not(None), and_(words, A.c.value_text.is_not(None)))],
                    {"raw_text": None, "value_text": case((words, None), else_=A.c.value_text)})


def _purge_contacts(db: Store, now: datetime, at: datetime) -> int:
    """Contacts whose latest activity of every kind is at or before `at`."""
    enrolments = select(E.c.id).where(E.c.contact_id == C.c.id)
    where = [
        C.c.address.is_not(None), C.c.created_at <= at,
        ~exists().where(M.c.contact_id == C.c.id, or_(M.c.created_at > at, M.c.status.in_(OUTBOX_NEEDS))),
        ~exists().where(CV.c.contact_id == C.c.id, CV.c.last_activity_at > at),
        ~exists().where(E.c.contact_id == C.c.id, E.c.created_at > at),
        ~exists().where(CE.c.enrolment_id.in_(enrolments), CE.c.at > at),
        ~exists().where(I.c.contact_id == C.c.id, I.c.created_at > at),
    ]
    first_time = C.c.unreachable_at.is_(None)
    return _batched(db, C, where, {
        "address": None,
        "unreachable_at": case((first_time, literal(now, C.c.unreachable_at.type)), else_=C.c.unreachable_at),
        "unreachable_reason": case((first_time, literal(UNREACHABLE_REASON)), else_=C.c.unreachable_reason)})


_EXPORT_FILE = re.compile(r"export-(\d+)\.[A-Za-z]+\Z")


def _purge_exports(db: Store, at: datetime) -> tuple[int, int]:
    """Export jobs asked for at or before `at`, with their files; then any export file in the folder last
    written at or before `at` that no remaining job owns. Returns (jobs, files)."""
    folder = export_dir(db.settings)
    jobs = files = 0
    while True:
        with db.write() as conn:
            rows = conn.execute(select(J.c.id, J.c.path, J.c.format).where(J.c.created_at <= at)
                                .order_by(J.c.id).limit(BATCH)).all()
            if not rows:
                break
            for job_id, path, fmt in rows:
                candidates = {folder / f"export-{job_id}.{fmt}", folder / f"export-{job_id}.part"}
                if path:
                    candidates.add(Path(path))
                files += sum(_unlink(p) for p in candidates)
            jobs += conn.execute(delete(J).where(J.c.id.in_([r.id for r in rows]))).rowcount
        if len(rows) < BATCH:
            break
    if folder.is_dir():
        with db.read() as conn:
            kept = set(conn.execute(select(J.c.id)).scalars())
        limit = at.timestamp()
        for p in folder.iterdir():
            found = _EXPORT_FILE.match(p.name)
            if found and int(found.group(1)) not in kept and p.is_file() and p.stat().st_mtime <= limit:
                files += _unlink(p)
    return jobs, files


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1


# ---- runs ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetentionRun:
    id: int
    at: datetime
    source: str
    periods: dict[str, int | None]
    counts: dict[str, int]
    finished_at: datetime | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def run(db: Store, now: datetime, source: str = CLOCK) -> RetentionRun:
    """Purge with the configured periods and record the run (started, then its counts when finished). The
    counts are logged at INFO: numbers only, never what was purged."""
    days = periods(db.settings)
    with db.write() as conn:
        run_id = conn.execute(R.insert().values(at=now, source=source[:64], periods=days, counts={})
                              .returning(R.c.id)).scalar_one()
    counts = purge(db, now, days)
    with db.write() as conn:
        conn.execute(update(R).where(R.c.id == run_id).values(counts=counts, finished_at=now))
    log.info("retention (%s): purged %s", source, ", ".join(f"{k}={v}" for k, v in counts.items()))
    return RetentionRun(run_id, now, source, days, counts, now)


def last_boundary(now: datetime, tz: str) -> datetime:
    """The latest RUN_AT (local time in `tz`) at or before `now`."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    boundary = datetime.combine(local.date(), RUN_AT, tzinfo=zone)
    if boundary > local:
        boundary = datetime.combine(local.date() - timedelta(days=1), RUN_AT, tzinfo=zone)
    return boundary.astimezone(timezone.utc)


def due(db: Store, now: datetime) -> bool:
    """True when no run has started since the day's RUN_AT (so a clock that was down at RUN_AT catches up at
    its next check, and a day never gets two runs from the clock)."""
    since = last_boundary(now, db.settings.default_timezone)
    with db.read() as conn:
        return conn.execute(select(R.c.id).where(R.c.at >= since).limit(1)).first() is None


def next_run(db: Store, now: datetime) -> datetime:
    """When the clock runs the purge next: at its next check if due now, else at the next RUN_AT."""
    if due(db, now):
        return now
    return last_boundary(now + timedelta(days=1), db.settings.default_timezone)


def last_runs(db: Store, scope: Scope, limit: int = 20) -> list[RetentionRun]:
    """The latest runs, newest first (admins, and the operator at the command line)."""
    scope.require(scope.role == "admin", "see retention runs")
    with db.read() as conn:
        rows = conn.execute(select(R).order_by(R.c.at.desc(), R.c.id.desc()).limit(max(1, min(limit, 500)))).all()
    return [RetentionRun(r.id, r.at, r.source, dict(r.periods or {}), {k: int(v) for k, v in (r.counts or {}).items()},
                         r.finished_at) for r in rows]


@dataclass(frozen=True)
class PeriodView:
    key: str
    label: str
    setting: str
    days: int | None
    purges: str

    @property
    def shown(self) -> str:
        return "kept" if self.days is None else f"{self.days} day{'s' if self.days != 1 else ''}"


@dataclass(frozen=True)
class RetentionOverview:
    periods: list[PeriodView]
    runs: list[RetentionRun]
    next_run: datetime
    run_at: str  # "03:00 Europe/London"


def overview(db: Store, scope: Scope, now: datetime, limit: int = 20) -> RetentionOverview:
    """The periods in force, the latest runs and when the next one is (the console page, `chorus retention
    show`)."""
    runs = last_runs(db, scope, limit)
    days = periods(db.settings)
    return RetentionOverview([PeriodView(k.key, k.label, k.setting, days[k.key], k.purges) for k in KINDS], runs,
                             next_run(db, now), f"{RUN_AT.strftime('%H:%M')} {db.settings.default_timezone}")


__all__ = ["KINDS", "COUNTS", "BATCH", "RUN_AT", "RetentionRun", "RetentionOverview", "PeriodView", "periods",
           "cutoff", "purge", "run", "due", "next_run", "last_runs", "overview", "export_dir"]
