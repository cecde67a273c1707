"""Responses as the console shows them, scoped by who is asking: per question a distribution and a trend by
week (with the digest's small-number rule), the free-text answers with sentiment and themes, corrections and
theme decisions, and exports of exactly the filtered rows (CSV, XLSX; in the background for large ones).

Who sees what:
- summaries (counts only, protected like the digest: 1 to 4 withheld, and by difference): admin, staff (every
  organisation: the partnership's aggregates) and governance; not safeguarding leads (they see flags);
- free-text answers: admin (all), staff (their organisations'), as written; governance only answers whose
  writer allows quoting, never a flagged one, redacted, unnamed, and only when at least 5 people are in the
  filtered group (as the digest's quotes);
- exports: admin and staff, of the rows they may see; masked by `analysis.exports` (one rule) unless the scope
  may see contact details and asks to keep them.

Filters: sentiment, theme and flagged describe free-text answers; an answer of another kind (a score, a choice)
matches them when its conversation has a free-text answer that does ("what did the unhappy ones score?").
"""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import IO, Iterable, Iterator

from sqlalchemy import and_, select, update

from analysis.corrections import LABELS as CORRECTABLE, CorrectionError, set_label
from analysis.digest.build import _label_expr
from analysis.digest.model import DIFFERENCE, NA, SMALL_REASON, Figure
from analysis.digest.suppress import SMALL, primary, protect
from analysis.exports import EXPORT_COLUMNS, answers_export
from analysis.redact import redact
from analysis.theme_report import ThemeError, aliases_for, set_alias
from analysis.themes import ThemeCounter, _scan, top_themes
from analysis.weeks import parse_week, previous_week, week_bounds, week_label, week_of
from surveys import models as m
from surveys.admin import AdminError, unknown
from surveys.scope import Forbidden, Scope
from surveys.store import Store

A, C, CV, E, O, F = (m.Answer.__table__, m.Contact.__table__, m.Conversation.__table__, m.Enrolment.__table__,
                     m.Organisation.__table__, m.Flag.__table__)
DEFAULT_WEEKS = 8
MAX_PAGE_SIZE = 200
SENTIMENTS = ("positive", "neutral", "negative", "mixed", "nothing to add", "not tagged: language")


class ResponseError(AdminError):
    pass


@dataclass(frozen=True)
class ResponseFilter:
    survey: str
    question: str | None = None
    week: str | None = None               # "2026-W47"; or since/until; neither: the last 8 weeks to now
    since: datetime | None = None
    until: datetime | None = None
    org: str | None = None                # join code
    sentiment: str | None = None          # the label that counts (a person's correction wins)
    theme: str | None = None              # a theme's key or label, as the page lists them
    flagged: bool | None = None
    channel: str | None = None
    completed: bool | None = None         # True: completed conversations; False: partial ones
    page: int = 1
    page_size: int = 50

    def to_json(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, d: dict) -> ResponseFilter:
        kw = {f.name: d.get(f.name) for f in fields(cls) if f.name in d}
        for k in ("since", "until"):
            if kw.get(k):
                kw[k] = datetime.fromisoformat(kw[k])
        return cls(**kw)


# ---- selecting the rows ------------------------------------------------------------------------------------
@dataclass
class _Row:
    id: int
    contact_id: int
    org_code: str | None
    org_id: int | None
    question: str | None
    qtype: str | None
    status: str
    raw_text: str | None
    value_num: float | None
    value_text: str | None
    answered_at: datetime
    language: str
    label: str | None          # the label that counts
    machine: str | None
    flag_id: int | None
    conversation_id: int | None
    quote_ok: bool
    free: bool = False
    keys: frozenset = frozenset()


@dataclass
class _Selection:
    rows: list[_Row]
    since: datetime
    until: datetime
    weeks: list[tuple[int, int]]          # oldest first
    themes: list                          # analysis.themes.Theme, the filtered answers' top themes


def _is_free(r) -> bool:
    return r.raw_text is not None and (r.qtype is None or r.qtype == "text" or r.status == "unparsed")


def _range(db: Store, f: ResponseFilter, now: datetime) -> tuple[datetime, datetime, list[tuple[int, int]]]:
    tz = db.settings.default_timezone
    if f.week:
        try:
            year, number = parse_week(f.week)
        except ValueError as exc:
            raise ResponseError(str(exc)) from None
        start, end = week_bounds(year, number, tz)
        return start, min(end, now), [(year, number)]
    until = min(f.until or now, now)
    since = f.since or week_bounds(*previous_week(*week_of(now, tz), DEFAULT_WEEKS - 1), tz)[0]
    if since >= until:
        raise ResponseError("the range is empty: 'since' must come before 'until'")
    weeks, w = [], week_of(since, tz)
    while week_bounds(*w, tz)[0] < until and len(weeks) < 520:
        weeks.append(w)
        w = previous_week(*w, -1)
    return since, until, weeks


def _select(db: Store, scope: Scope, f: ResponseFilter, now: datetime, *, rows_of_scope: bool) -> _Selection:
    """The filtered answers. `rows_of_scope`: only the organisations the scope covers (for rows shown or
    exported); otherwise every organisation (for protected aggregates)."""
    if f.page < 1 or not 1 <= f.page_size <= MAX_PAGE_SIZE:
        raise ResponseError(f"page from 1, page size from 1 to {MAX_PAGE_SIZE}")
    if f.sentiment is not None and f.sentiment not in SENTIMENTS:
        raise ResponseError(f"sentiment {f.sentiment!r}: one of {', '.join(SENTIMENTS)}")
    since, until, weeks = _range(db, f, now)
    with db.read() as conn:
        if conn.execute(select(m.Survey.id).where(m.Survey.id == f.survey)).first() is None:
            raise ResponseError(str(unknown("survey", f.survey, conn.execute(select(m.Survey.id)).scalars())))
        cond = [A.c.survey_id == f.survey, A.c.answered_at >= since, A.c.answered_at < until]
        if f.question:
            cond.append(A.c.question_key == f.question)
        if f.org is not None:
            org_id = conn.execute(select(O.c.id).where(O.c.code_key == f.org.strip().casefold())).scalar()
            if org_id is None:
                raise ResponseError(str(unknown("organisation with join code", f.org, conn.execute(select(O.c.code)).scalars())))
            if rows_of_scope and not scope.covers(org_id):
                raise Forbidden(f"the answers of {f.org!r} are not yours to see (its aggregates are)")
            cond.append(A.c.organisation_id == org_id)
        if rows_of_scope and not scope.all_organisations:
            cond.append(A.c.organisation_id.in_(sorted(scope.organisation_ids)))
        if f.channel:
            cond.append(C.c.channel == f.channel.strip().lower())
        if f.completed is not None:
            cond.append(CV.c.status == "completed" if f.completed else and_(CV.c.id.is_not(None), CV.c.status != "completed"))
        label = _label_expr(now)
        FL = F.alias("raised")      # not F itself: the label's own subquery on F must not be correlated to it
        q = (select(A.c.id, A.c.contact_id, O.c.code, A.c.organisation_id, A.c.question_key, A.c.question_type,
                    A.c.status, A.c.raw_text, A.c.value_num, A.c.value_text, A.c.answered_at, A.c.language,
                    label.label("label"), A.c.tags["label"].as_string().label("machine"), FL.c.id.label("flag_id"),
                    A.c.conversation_id, E.c.consent_quote, E.c.consent_status)
             .select_from(A.join(C, C.c.id == A.c.contact_id).outerjoin(CV, CV.c.id == A.c.conversation_id)
                          .outerjoin(O, O.c.id == A.c.organisation_id).outerjoin(FL, FL.c.answer_id == A.c.id)
                          .outerjoin(E, E.c.id == A.c.enrolment_id))
             .where(*cond).order_by(A.c.id))
        raw = conn.execute(q).all()
        aliases = aliases_for(conn, f.survey)
    lang = _survey_language(db, f.survey)
    rows = []
    for r in raw:
        row = _Row(r.id, r.contact_id, r.code, r.organisation_id, r.question_key, r.question_type, r.status,
                   r.raw_text, r.value_num, r.value_text, r.answered_at, r.language, r.label, r.machine, r.flag_id,
                   r.conversation_id, bool(r.consent_quote) and r.consent_status == "given")
        row.free = _is_free(row)
        if row.free:
            row.keys = frozenset(aliases.get(k, k) for k, _ in _scan(redact(row.raw_text), lang)) - {""}
        rows.append(row)
    # The week's top themes among the filtered free-text answers (never from a flagged answer, as the digest).
    counter = ThemeCounter(lang, aliases=aliases)
    for r in rows:
        if r.free and r.flag_id is None:
            counter.add(r.raw_text)
    themes = top_themes(counter, limit=10, min_count=SMALL)
    rows = _text_filters(rows, f, themes)
    return _Selection(rows, since, until, weeks, themes)


def _survey_language(db: Store, survey_id: str) -> str:
    with db.read() as conn:
        version = conn.execute(select(m.Survey.current_version_id).where(m.Survey.id == survey_id)).scalar()
        return db.survey_version(conn, version).languages[0] if version else "en"


def _text_filters(rows: list[_Row], f: ResponseFilter, themes) -> list[_Row]:
    if f.sentiment is None and f.theme is None and f.flagged is None:
        return rows
    theme_key = None
    if f.theme is not None:
        want = " ".join(f.theme.casefold().split())
        theme_key = next((t.key for t in themes if want in (t.key.casefold(), t.label.casefold())), want)

    def matches(r: _Row) -> bool:
        if f.sentiment is not None and r.label != f.sentiment:
            return False
        if theme_key is not None and theme_key not in {k.casefold() for k in r.keys}:
            return False
        if f.flagged is not None and (r.flag_id is not None) != f.flagged:
            return False
        return True

    free = [r for r in rows if r.free]
    convs = {r.conversation_id for r in free if r.conversation_id is not None and matches(r)}
    return [r for r in rows if (matches(r) if r.free else r.conversation_id in convs)]


# ---- the summary -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    value: str                 # the answer ("4", "yes", "the bus", "negative")
    count: Figure              # withheld with a reason ("small" | "difference")


@dataclass(frozen=True)
class WeekPoint:
    week: str
    count: Figure
    mean: Figure               # scale and NPS questions; NA otherwise


@dataclass(frozen=True)
class QuestionSummary:
    question: str
    prompt: str
    kind: str                  # scale | nps | choice | yesno | number | text
    total: Figure
    distribution: list[Cell]
    mean: Figure
    trend: list[WeekPoint]     # oldest first


@dataclass(frozen=True)
class ResponseSummary:
    survey: str
    since: datetime
    until: datetime
    questions: list[QuestionSummary]
    themes: list[str]          # the filtered answers' top themes (each in at least 5 answers)


def _summary_scope(scope: Scope) -> None:
    scope.require(scope.role in ("admin", "staff", "governance"), "see response summaries")


def response_summary(db: Store, scope: Scope, f: ResponseFilter, now: datetime) -> ResponseSummary:
    """Per question of the survey: the distribution of answers and a trend by week, protected with the digest's
    small-number rule (counts 1 to 4 withheld, and more withheld so none can be worked out by difference)."""
    _summary_scope(scope)
    sel = _select(db, scope, f, now, rows_of_scope=False)
    tz = db.settings.default_timezone
    with db.read() as conn:
        version = conn.execute(select(m.Survey.current_version_id).where(m.Survey.id == f.survey)).scalar()
        definition = db.survey_version(conn, version)
    lang = definition.languages[0]
    by_q: dict[str, list[_Row]] = defaultdict(list)
    for r in sel.rows:
        if r.status in ("answered", "unparsed") and r.question:
            by_q[r.question].append(r)
    out = []
    for q in definition.questions:
        if q.key not in by_q or (f.question and q.key != f.question):
            continue
        rows = by_q[q.key]
        text_like = q.type == "text"
        values: Counter = Counter()
        weekly: Counter = Counter()
        numbers: dict[tuple, list[float]] = defaultdict(list)
        for r in rows:
            v = (r.label or "not tagged") if text_like else _value(r)
            values[v] += 1
            w = week_of(r.answered_at, tz)
            weekly[w] += 1
            if q.type in ("scale", "nps", "number") and r.value_num is not None and r.status == "answered":
                numbers[w].append(r.value_num)
                numbers["all"].append(r.value_num)
        cells = {("v", v): n for v, n in values.items()}
        cells.update({("w", w): weekly.get(w, 0) for w in sel.weeks})
        cells["total"] = len(rows)
        hidden = protect(cells, [("total", [k for k in cells if k[0] == "v"]),
                                 ("total", [("w", w) for w in sel.weeks])])

        def fig(key):
            if key not in hidden:
                return Figure(cells[key])
            return Figure.withheld(SMALL_REASON if primary(cells[key]) else DIFFERENCE)

        dist = [Cell(str(v), fig(("v", v))) for v in _order(q, values)]
        trend = [WeekPoint(week_label(*w), fig(("w", w)), _mean(numbers.get(w), ("w", w) in hidden)) for w in sel.weeks]
        prompt = q.prompt.get(lang) or next(iter(q.prompt.values()), q.key)
        out.append(QuestionSummary(q.key, prompt, q.type, fig("total"), dist,
                                   _mean(numbers.get("all"), "total" in hidden), trend))
    return ResponseSummary(f.survey, sel.since, sel.until, out, [t.label for t in sel.themes])


def _value(r: _Row) -> str:
    if r.status == "unparsed":
        return "(not understood)"
    if r.value_text is not None and r.qtype != "text":
        return r.value_text
    if r.value_num is not None:
        return f"{r.value_num:g}"
    return "(none)"


def _order(q, values: Counter) -> list:
    def key(v):
        try:
            return (0, float(v), "")
        except ValueError:
            return (1, 0.0, v)
    return sorted(values, key=key)


def _mean(nums: list[float] | None, hidden: bool) -> Figure:
    if not nums:
        return NA
    if hidden or len(nums) < SMALL:
        return Figure.withheld(SMALL_REASON if len(nums) < SMALL else DIFFERENCE)
    return Figure(round(sum(nums) / len(nums), 2))


# ---- free-text answers -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FreeTextAnswer:
    answer_id: int
    question: str | None
    text: str                  # as written (admin, staff of its organisation) or redacted (governance)
    sentiment: str | None      # the label that counts (a person's correction wins; flagged: negative)
    machine_sentiment: str | None
    corrected: bool
    themes: list[str]
    flagged: bool
    organisation: str | None
    participant: str | None    # pseudonym; None for governance
    answered_at: datetime


@dataclass(frozen=True)
class FreeTextPage:
    rows: list[FreeTextAnswer]
    total: int
    page: int
    page_size: int
    withheld: str | None = None        # why nothing is shown (governance: a group under 5)


def free_text_answers(db: Store, scope: Scope, f: ResponseFilter, now: datetime) -> FreeTextPage:
    """The filtered free-text answers, newest first, one page, each with its sentiment and themes."""
    scope.require(scope.role in ("admin", "staff", "governance"), "see answers")
    governance = not scope.sees_rows
    sel = _select(db, scope, f, now, rows_of_scope=not governance)
    rows = [r for r in sel.rows if r.free]
    withheld = None
    if governance:
        if len({r.contact_id for r in rows}) < SMALL:
            rows, withheld = [], "fewer than 5 people in this group: their words are not shown"
        else:
            rows = [r for r in rows if r.quote_ok and r.flag_id is None]
    rows.sort(key=lambda r: (r.answered_at, r.id), reverse=True)
    page = rows[(f.page - 1) * f.page_size: f.page * f.page_size]
    labels = {t.key: t.label for t in sel.themes}
    out = [FreeTextAnswer(r.id, r.question, redact(r.raw_text) if governance else r.raw_text, r.label, r.machine,
                          r.label != r.machine and r.label is not None and r.flag_id is None,
                          [labels[k] for k in labels if k in r.keys], r.flag_id is not None, r.org_code,
                          None if governance else db.pseudonym(r.contact_id), r.answered_at) for r in page]
    return FreeTextPage(out, len(rows), f.page, f.page_size, withheld)


# ---- corrections and theme decisions -----------------------------------------------------------------------
@dataclass(frozen=True)
class LabelCorrected:
    answer_id: int
    machine: str | None
    label: str


def correct_sentiment(db: Store, scope: Scope, answer_id: int, label: str, now: datetime) -> LabelCorrected:
    """A person's sentiment label for an answer of the scope's organisations (`analysis.corrections`)."""
    scope.require(scope.sees_rows, "correct sentiment labels")
    with db.read() as conn:
        org = conn.execute(select(A.c.organisation_id).where(A.c.id == answer_id)).first()
    if org is None:
        raise CorrectionError(f"no answer {answer_id}")
    if not scope.covers(org[0]):
        raise Forbidden(f"answer {answer_id} is not of your organisations")
    machine, new = set_label(db, answer_id, label, scope.actor, now)
    return LabelCorrected(answer_id, machine, new)


@dataclass(frozen=True)
class ThemeDecision:
    keys: list[str]
    name: str
    survey: str | None         # None: every survey


def merge_themes(db: Store, scope: Scope, keys: Iterable[str], name: str, survey: str | None,
                 now: datetime) -> ThemeDecision:
    """Count the themes `keys` as one theme `name` (in `survey`, or every survey). Theme decisions shape the
    partnership's digest: admin and staff make them (`analysis.theme_report.set_alias`)."""
    scope.require(scope.sees_rows, "merge or rename themes")
    return ThemeDecision(set_alias(db, keys, name, survey, scope.actor, now), " ".join(name.split()), survey)


def rename_theme(db: Store, scope: Scope, key: str, name: str, survey: str | None, now: datetime) -> ThemeDecision:
    if not (key or "").strip():
        raise ThemeError("name the theme to rename (its key, as the list shows it)")
    return merge_themes(db, scope, [key], name, survey, now)


# ---- exports -----------------------------------------------------------------------------------------------
FORMATS = ("csv", "xlsx")


def _export_scope(scope: Scope, keep_personal_details: bool) -> None:
    scope.require(scope.sees_rows, "export answers")
    if keep_personal_details:
        scope.require(scope.sees_contact_details, "export personal details")


def export_ids(db: Store, scope: Scope, f: ResponseFilter, now: datetime) -> list[int]:
    """The ids of exactly the filtered rows the scope may export (every page, in id order)."""
    return [r.id for r in _select(db, scope, f, now, rows_of_scope=True).rows]


def answered_by(db: Store, scope: Scope, f: ResponseFilter, now: datetime) -> dict[int, int | None]:
    """Who gave exactly the filtered answers (the same rows as the page and the export): contact id ->
    the organisation of their first such answer. The action register reaches these people."""
    out: dict[int, int | None] = {}
    for r in _select(db, scope, f, now, rows_of_scope=True).rows:
        out.setdefault(r.contact_id, r.org_id)
    return out


def export_rows(db: Store, scope: Scope, f: ResponseFilter, now: datetime, *,
                keep_personal_details: bool = False) -> Iterator[list[str]]:
    """Header, then exactly the filtered rows (`analysis.exports.answers_export`: pseudonyms, masked words
    unless kept, a flagged answer's words never)."""
    _export_scope(scope, keep_personal_details)
    ids = export_ids(db, scope, f, now)
    return answers_export(db, keep_personal_details=keep_personal_details, answer_ids=ids)


def _safe(cell: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @ first) is kept as text with a leading quote."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") and not _number(cell) else cell


def _number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def write_export(rows: Iterable[list[str]], fmt: str, out: IO[bytes], progress=None) -> int:
    """Write rows (header first) as CSV or XLSX to `out`; returns the data rows written. `progress(n)` is
    called every 500 rows."""
    if fmt not in FORMATS:
        raise ResponseError(f"format {fmt!r}: csv or xlsx")
    n = 0
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        for i, row in enumerate(rows):
            writer.writerow([_safe(c) for c in row])
            n = i
            if progress and i and i % 500 == 0:
                progress(i)
        text.detach()
        return n
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("answers")
    for i, row in enumerate(rows):
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"             # always text: "=..." written by a person is never a formula
            cells.append(cell)
        ws.append(cells)
        n = i
        if progress and i and i % 500 == 0:
            progress(i)
    wb.save(out)
    return n


def export_responses(db: Store, scope: Scope, f: ResponseFilter, fmt: str, out: IO[bytes], now: datetime, *,
                     keep_personal_details: bool = False) -> int:
    """Export the filtered rows to `out` now (small exports); returns how many rows."""
    return write_export(export_rows(db, scope, f, now, keep_personal_details=keep_personal_details), fmt, out)


@dataclass(frozen=True)
class ExportJobView:
    id: int
    status: str                # queued | running | done | failed | erased (file removed after an erasure)
    format: str
    done: int
    total: int
    error: str | None
    filename: str | None       # for the download, when done
    created_at: datetime
    finished_at: datetime | None

    @property
    def percent(self) -> int:
        return 100 if self.status == "done" else (int(100 * self.done / self.total) if self.total else 0)


def start_export(db: Store, scope: Scope, f: ResponseFilter, fmt: str, now: datetime, *,
                 keep_personal_details: bool = False) -> ExportJobView:
    """Record an export to be written in the background (`run_export`); the page polls `export_status`."""
    _export_scope(scope, keep_personal_details)
    if fmt not in FORMATS:
        raise ResponseError(f"format {fmt!r}: csv or xlsx")
    _range(db, f, now)                     # a bad filter fails now, not in the background
    with db.session() as s:
        job = m.ExportJob(role=scope.role, organisation_ids=sorted(scope.organisation_ids), user_id=scope.user_id,
                          actor=scope.actor, filter={**f.to_json(), "now": now.isoformat()}, format=fmt,
                          keep_personal_details=keep_personal_details, status="queued", total=0, done=0,
                          created_at=now)
        s.add(job)
        s.flush()
        job_id = job.id
    return _job_view(db, job_id)


def _job_scope(job) -> Scope:
    return Scope(job.role, frozenset(job.organisation_ids or ()), job.user_id, job.actor)


def _job_view(db: Store, job_id: int) -> ExportJobView:
    with db.session() as s:
        j = s.get(m.ExportJob, job_id)
        return ExportJobView(j.id, j.status, j.format, j.done, j.total, j.error,
                             Path(j.path).name if j.path and j.status == "done" else None, j.created_at, j.finished_at)


def export_dir(db: Store) -> Path:
    return Path(db.settings.var_dir) / "exports"


def run_export(db: Store, job_id: int, now: datetime) -> ExportJobView:
    """Write a queued export job's file, under the scope of whoever asked, committing progress every 500 rows.
    Runs in a background thread or process; a failure is recorded on the job (one line), never raised."""
    with db.session() as s:
        job = s.get(m.ExportJob, job_id)
        if job is None:
            raise ResponseError(f"no export {job_id}")
        queued = job.status == "queued"
        if queued:
            job.status = "running"
            scope, fmt, keep = _job_scope(job), job.format, job.keep_personal_details
            data = dict(job.filter)
    if not queued:              # already run (or running): run once
        return _job_view(db, job_id)
    J = m.ExportJob.__table__
    path = export_dir(db) / f"export-{job_id}.{fmt}"
    try:
        f = ResponseFilter.from_json(data)
        ids = export_ids(db, scope, f, datetime.fromisoformat(data["now"]))
        with db.write() as conn:
            conn.execute(update(J).where(J.c.id == job_id).values(total=len(ids)))

        def progress(n):
            with db.write() as conn:
                conn.execute(update(J).where(J.c.id == job_id).values(done=n))

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with tmp.open("wb") as out:
            written = write_export(answers_export(db, keep_personal_details=keep, answer_ids=ids), fmt, out, progress)
        tmp.replace(path)
        with db.write() as conn:
            finished = conn.execute(update(J).where(J.c.id == job_id, J.c.status == "running").values(
                status="done", done=written, path=str(path), finished_at=now)).rowcount
        if not finished:
            # Someone was erased while it ran (surveys.erasure marked it): their rows may be in the file.
            path.unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - recorded on the job for the page to show
        reason = str(exc).splitlines()[0][:250] if isinstance(exc, (AdminError, Forbidden)) else exc.__class__.__name__
        path.with_suffix(".part").unlink(missing_ok=True)
        with db.write() as conn:
            conn.execute(update(J).where(J.c.id == job_id, J.c.status == "running").values(
                status="failed", error=reason, finished_at=now))
    return _job_view(db, job_id)


def _mine(db: Store, scope: Scope, job_id: int):
    with db.session() as s:
        job = s.get(m.ExportJob, job_id)
        if job is None:
            raise ResponseError(f"no export {job_id}")
        if not (scope.role == "admin" and scope.user_id is None) and job.user_id != scope.user_id:
            raise Forbidden("this export was asked for by someone else")
        return job


def export_status(db: Store, scope: Scope, job_id: int) -> ExportJobView:
    """How far an export has got (only for the person who asked, or the operator)."""
    _mine(db, scope, job_id)
    return _job_view(db, job_id)


def export_file(db: Store, scope: Scope, job_id: int) -> Path:
    """The finished file of an export (for the person who asked)."""
    job = _mine(db, scope, job_id)
    if job.status != "done" or not job.path or not Path(job.path).is_file():
        raise ResponseError(f"export {job_id} is {job.status}, not ready to download")
    return Path(job.path)


__all__ = ["ResponseFilter", "ResponseSummary", "QuestionSummary", "Cell", "WeekPoint", "FreeTextAnswer",
           "FreeTextPage", "LabelCorrected", "ThemeDecision", "ExportJobView", "ResponseError", "EXPORT_COLUMNS",
           "CORRECTABLE", "response_summary", "free_text_answers", "correct_sentiment", "merge_themes",
           "rename_theme", "export_rows", "export_responses", "write_export", "start_export", "run_export",
           "export_status", "export_file"]
