"""Build the digest value for one ISO week: every figure aggregated in SQL, then protected.

Only what was stored before the cut-off counts: invitations started, answers received, conversations
completed, staff labels and theme decisions made, flags open at that instant. So the same week built again
from the same cut-off gives the same value, except for people erased since (their rows are gone).

Definitions (docs/digest-schema.md gives them to readers of the JSON):
- people invited: distinct people (contacts) with an invitation of any wave started in the week whose
  invitation message was sent (handed to the provider before the cut-off, and not reported failed or
  undelivered); an invitation still waiting in the outbox, failed or cancelled invites nobody. A person
  invited by two organisations counts once in each organisation's row and once in the total;
- people who responded: those of them who answered at least one question of such an invitation (before the
  cut-off); people who completed: those who completed such a conversation;
- invitations sent: the invitation messages themselves (a person may get several in a week);
- rates are of people invited; the change is in percentage points against the week before;
- sentiment: free-text answers received in the week, by label; a person's correction wins over the machine's;
  an answer that says there is nothing to add ("no ta", label 'nothing to add') is no comment and is not
  counted; a flagged answer's machine label counts as negative (never positive, neutral, mixed or nothing to
  add);
- scores: scale and NPS answers received in the week; a mean with a 95% interval (t distribution), and NPS
  (% promoters 9-10 minus % detractors 0-6) with a 95% interval from its variance;
- themes: `analysis.themes` over the week's free-text answers and the four weeks before;
- quotes: only when at least 5 people answered the survey in the digest's scope that week; from people whose
  consent allows quoting (as it stands now), never from a flagged answer, redacted (an answer that says there
  is nothing to add is neither positive nor negative and has no theme, so it is never quoted);
- safeguarding contact: whether every organisation in scope had someone alerted about its flags at the cut-off.
"""
from __future__ import annotations

import math
import threading
from collections import defaultdict
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from sqlalchemy import and_, case, func, literal, or_, select

from analysis.digest.narrative import summarise
from analysis.digest.loop import loop_figures
from analysis.digest.model import (
    DIFFERENCE,
    NA,
    SMALL_REASON,
    Digest,
    Figure,
    Quote,
    Row,
    Score,
    Sentiment,
    SurveyPart,
    ThemeItem,
    TrendPoint,
)
from analysis.digest.suppress import SMALL, primary, protect
from analysis.redact import redact
from analysis.sentiment import MIXED, NEGATIVE, NEUTRAL, NOT_TAGGED_LANGUAGE, NOTHING_TO_ADD, POSITIVE
from analysis.theme_report import aliases_for
from analysis.themes import ThemeCounter, compare, terms, top_themes
from analysis.weeks import previous_week, week_bounds, week_label
from surveys import models as m
from surveys.flags import alert_channels
from surveys.definition import Survey as SurveyDefinition
from surveys.store import Store

A = m.Answer.__table__
I = m.Invitation.__table__  # noqa: E741
E = m.Enrolment.__table__
CV = m.Conversation.__table__
L = m.AnswerLabel.__table__
F = m.Flag.__table__
M = m.Message.__table__
SC = m.SafeguardingContact.__table__
O = m.Organisation.__table__  # noqa: E741
S = m.Survey.__table__
SV = m.SurveyVersion.__table__

TREND_WEEKS = 8
THEME_WEEKS_BACK = 4
THEME_MIN = SMALL          # a theme is listed only when at least 5 answers share it
LABELS = (POSITIVE, NEUTRAL, NEGATIVE, MIXED, NOT_TAGGED_LANGUAGE)
SENTIMENT_KEYS = ("positive", "neutral", "negative", "mixed", "not_tagged")
PEOPLE = ("people_invited", "people_responded", "people_completed")
COUNTS = PEOPLE + ("invitations_sent", "answers")
# An invitation message counts as sent once handed to the provider, unless the provider reported it failed.
SENT_STATUSES = ("sent", "queued", "delivered", "read")
QUOTE_MIN_CHARS, QUOTE_MAX_CHARS = 15, 280
NO_ORG = 0                 # the key of answers that belong to no organisation

# two-sided 95% t quantiles for small samples; 1.96 beyond
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t95(df: int) -> float:
    if df <= 0:
        return float("nan")
    best = 1.96
    for k in sorted(_T95, reverse=True):
        if df <= k:
            best = _T95[k]
    return best


@dataclass(frozen=True)
class Options:
    year: int
    week: int
    tz: str = "Europe/London"
    cutoff: datetime | None = None       # default: the end of the week's digest day (now, by the caller)
    org_code: str | None = None
    partnership: str = "Chorus partnership"
    flags_link: str | None = None


def _buckets(col, bounds: list[tuple[datetime, datetime]]):
    """A CASE giving the index of the week `col` falls in (0 = the digest's week, 1 = the week before...)."""
    return case(*[(and_(col >= s, col < e), literal(i)) for i, (s, e) in enumerate(bounds)], else_=literal(-1))


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat()


def build(db: Store, opts: Options, now: datetime, *, light: bool = False,
          theme_cache: ThemeCache | None = None, pool: Executor | None = None) -> Digest:
    """The digest value. `light` (the console's dashboard): only what the tables, the surveys' responses and
    themes, the open flags and the summary need, computed by the same functions so that those are exactly the
    digest's; the trend then has this week and the week before only, and there are no quotes. `theme_cache`
    reuses the theme counts of a survey's week when its answers are exactly those counted before. `pool`: the
    independent blocks (participation, sentiment and answer counts, each survey's part) run meanwhile on
    connections of their own (the same queries, so the same figures while the data does not change during the
    call; every query is bounded by the cut-off)."""
    cutoff = opts.cutoff or now
    trend_weeks = 2 if light else TREND_WEEKS
    weeks = [previous_week(opts.year, opts.week, n) for n in range(max(trend_weeks, THEME_WEEKS_BACK + 1))]
    bounds = [week_bounds(y, w, opts.tz) for y, w in weeks]     # this week first
    weeks, trend_bounds = weeks[:trend_weeks], bounds[:trend_weeks]
    start, end = bounds[0]
    no_org_bounds = [week_bounds(*previous_week(opts.year, opts.week, n), opts.tz) for n in range(trend_weeks, TREND_WEEKS)]
    with db.read() as conn:
        run = _Runner(db, conn, pool)
        org_id, orgs = _organisations(conn, opts.org_code)
        counts_ = run(_participation, trend_bounds, cutoff, org_id)
        # The full build has a "No organisation" row when such answers count in any of its trend weeks (an
        # invitation always has an organisation, through its enrolment): the light one asks the same.
        sentiment_ = run(_sentiment_blocks, trend_bounds, bounds[:1], no_org_bounds if light and org_id is None
                         else None, cutoff, org_id)
        surveys = _surveys(conn, end, bounds[1], cutoff, org_id)
        parts_ = [(run(_survey_themes, db, sid, version_id, bounds, cutoff, org_id, theme_cache),
                   run(_survey_figures, db, sid, version_id, bounds, cutoff, org_id)) for sid, _, version_id in surveys]
        open_flags = conn.execute(select(func.count()).select_from(F).where(
            F.c.created_at < cutoff, or_(F.c.closed_at.is_(None), F.c.closed_at >= cutoff),
            *([F.c.organisation_id == org_id] if org_id is not None else []))).scalar_one()
        contact_set = _contacts_cover(conn, [o for o in orgs if o != NO_ORG], cutoff, alert_channels(db.settings))
        counts = counts_.result()
        sentiment, answers, no_org_before = sentiment_.result()
        parts = [_survey_part(conn, db, sid, title, version_id, bounds, cutoff, org_id, figures.result(),
                              themes.result(), quotes=not light)
                 for (sid, title, version_id), (themes, figures) in zip(surveys, parts_)]
        loop = loop_figures(conn, start, end, cutoff, org_id if opts.org_code is not None else None,
                            [(p.survey_id, t.label) for p in parts for t in p.themes])

    # ---- the table of organisations and the total, protected together ----------------------------------
    org_keys = [o for o in orgs if o != NO_ORG or no_org_before or _any(counts, sentiment, answers, NO_ORG)]
    cells: dict = {}
    for w in range(2):
        for o in org_keys + ["total"]:
            for k in COUNTS:
                cells[(w, o, k)] = _value(counts, sentiment, answers, w, o, k, org_keys)
            for k in SENTIMENT_KEYS:
                cells[(w, o, "s_" + k)] = _svalue(sentiment, w, o, k, org_keys)
            cells[(w, o, "s_total")] = sum(cells[(w, o, "s_" + k)] for k in SENTIMENT_KEYS)
    groups = []
    for w in range(2):
        for k in COUNTS + tuple("s_" + k for k in SENTIMENT_KEYS) + ("s_total",):
            if len(org_keys) > 1 or opts.org_code is None:
                # People are distinct across the partnership, so a total of people can be a little under the
                # sum of its rows (someone invited by two organisations): the same protection still holds.
                groups.append(((w, "total", k), [(w, o, k) for o in org_keys]))
        for o in org_keys + ["total"]:
            groups.append(((w, o, "s_total"), [(w, o, "s_" + k) for k in SENTIMENT_KEYS]))
    hidden = protect(cells, groups)

    def fig(key) -> Figure:
        return _hidden_fig(cells, hidden, key)

    def rate(num, den) -> Figure:
        if den in hidden or num in hidden or cells[den] < SMALL:
            if cells[den] == 0:
                return NA
            small = cells[den] < SMALL or primary(cells[num]) or primary(cells[den])
            return Figure.withheld(SMALL_REASON if small else DIFFERENCE)
        return Figure(round(cells[num] / cells[den], 4))

    def row(o, name, code) -> Row:
        rr = rate((0, o, "people_responded"), (0, o, "people_invited"))
        rr_prev = rate((1, o, "people_responded"), (1, o, "people_invited"))
        if rr.value is not None and rr_prev.value is not None:
            change = Figure(round(100 * (rr.value - rr_prev.value), 1))
        elif rr.suppressed or rr_prev.suppressed:
            change = Figure.withheld(_weakest(rr, rr_prev))
        else:
            change = NA
        return Row(name, code, fig((0, o, "people_invited")), fig((0, o, "people_responded")),
                   fig((0, o, "people_completed")), fig((0, o, "invitations_sent")), rr,
                   rate((0, o, "people_completed"), (0, o, "people_invited")), change, fig((0, o, "answers")),
                   _sentiment_figures(cells, hidden, 0, o))

    # A one-organisation digest has that organisation as its only row, which is also its total.
    if opts.org_code is None:
        scope, org_rows = "total", [row(o, *orgs[o]) for o in org_keys]
        total = row(scope, opts.partnership, None)
    else:
        scope, org_rows = org_keys[0], []
        total = row(scope, *orgs[scope])
    def protected_point(w) -> tuple[Figure, ...]:
        """Week w's figures (0: this week, 1: the week before) as the tables protect them, for the trend: a
        share or rate the tables withhold by difference must not be shown beside them."""
        s = _sentiment_figures(cells, hidden, w, scope)
        return (fig((w, scope, "people_invited")), fig((w, scope, "people_responded")),
                rate((w, scope, "people_responded"), (w, scope, "people_invited")),
                rate((w, scope, "people_completed"), (w, scope, "people_invited")), s.positive_share, s.negative_share)

    tagged_total, not_tagged = cells[(0, scope, "s_total")], cells[(0, scope, "s_not_tagged")]
    not_tagged_share = (Figure(round(not_tagged / tagged_total, 4)) if tagged_total >= SMALL
                        and not (0 < not_tagged < SMALL) else (NA if tagged_total == 0 else Figure.withheld()))
    digest = Digest(
        partnership=opts.partnership, week=week_label(opts.year, opts.week), timezone=opts.tz,
        period_start=_iso(start), period_end=_iso(end), cutoff=_iso(cutoff),
        organisation=orgs[scope][1] if opts.org_code is not None else None,      # its code as stored
        summary=[], total=total, organisations=org_rows,
        trend=_trend(counts, sentiment, weeks, org_keys, scope, protected={w: protected_point(w) for w in range(2)}),
        surveys=parts, open_flags=_count_fig(open_flags), flags_link=opts.flags_link,
        not_tagged_share=not_tagged_share, safeguarding_contact=contact_set, loop=loop)
    return replace(digest, summary=summarise(digest))


def _hidden_fig(cells, hidden, key) -> Figure:
    """A protected cell: its value, or withheld, saying whether it is small itself or hidden by difference."""
    if key not in hidden:
        return Figure(cells[key])
    return Figure.withheld(SMALL_REASON if primary(cells[key]) else DIFFERENCE)


def _weakest(*figs: Figure) -> str:
    """The reason for a figure derived from withheld ones: small when any rests on fewer than 5 people."""
    return SMALL_REASON if any(f.suppressed and f.reason == SMALL_REASON for f in figs) else DIFFERENCE


class _Runner:
    """Runs a query block on the build's connection now, or (with a pool) on a connection of its own meanwhile;
    either way `.result()` gives its value."""

    def __init__(self, db: Store, conn, pool: Executor | None) -> None:
        self.db, self.conn, self.pool = db, conn, pool

    def __call__(self, fn, *args, **kwargs):
        if self.pool is None:
            done: Future = Future()
            done.set_result(fn(self.conn, *args, **kwargs))
            return done
        return self.pool.submit(_on_own_connection, self.db, fn, *args, **kwargs)


def _on_own_connection(db: Store, fn, *args, **kwargs):
    with db.read() as conn:
        return fn(conn, *args, **kwargs)


# ---- queries ----------------------------------------------------------------------------------------------
def _sentiment_blocks(conn, trend_bounds, week, no_org_bounds, cutoff, org_id):
    """Sentiment of the trend weeks, the week's answer counts, and whether answers of no organisation count in
    the full build's older trend weeks (`no_org_bounds`; None: not asked)."""
    sentiment = _sentiment(conn, trend_bounds, cutoff, org_id)
    answers = _answer_counts(conn, week, cutoff, org_id)
    no_org_before = bool(no_org_bounds and _sentiment(conn, no_org_bounds, cutoff, None, no_org_only=True))
    return sentiment, answers, no_org_before


def _organisations(conn, org_code):
    q = select(O.c.id, O.c.name, O.c.code).order_by(O.c.name, O.c.id)
    if org_code is not None:
        q = q.where(O.c.code_key == org_code.strip().lower())
    rows = conn.execute(q).all()
    if org_code is not None and not rows:
        raise ValueError(f"no organisation with code {org_code!r}")
    orgs = {r.id: (r.name, r.code) for r in rows}
    if org_code is None:
        orgs[NO_ORG] = ("No organisation", None)
    return (rows[0].id if org_code is not None else None), orgs


def _participation(conn, bounds, cutoff, org_id):
    """(week index, org id or "total") -> [people invited, people who responded, people who completed,
    invitations sent]. A person is a contact; the total counts each person once across organisations.

    One pass over the weeks' invitations, per (week, organisation, person) in SQL; the organisations' rows and
    the total (a person once, responded or completed when they did through any organisation) are summed here.
    The existence tests are in the select list, not the where clause, so both databases probe the indexes of
    the week's invitations instead of hashing every message and conversation ever stored."""
    wk = _buckets(I.c.started_at, bounds)
    sent = select(literal(1)).where(M.c.invitation_id == I.c.id, M.c.purpose == "invitation",
                                    M.c.status.in_(SENT_STATUSES), M.c.sent_at < cutoff).exists()
    responded = select(literal(1)).where(A.c.conversation_id == I.c.conversation_id, A.c.status == "answered",
                                         A.c.answered_at < cutoff).exists()
    completed = select(literal(1)).where(CV.c.id == I.c.conversation_id, CV.c.status == "completed",
                                         CV.c.ended_at < cutoff).exists()
    invitations = (select(wk.label("wk"), E.c.organisation_id.label("org"), I.c.contact_id.label("contact"),
                          case((sent, 1), else_=0).label("sent"), case((responded, 1), else_=0).label("responded"),
                          case((completed, 1), else_=0).label("completed"))
                   .select_from(I.join(E, E.c.id == I.c.enrolment_id))
                   .where(I.c.started_at >= bounds[-1][0], I.c.started_at < bounds[0][1], I.c.started_at < cutoff))
    if org_id is not None:
        invitations = invitations.where(E.c.organisation_id == org_id)
    inv = invitations.subquery()
    q = (select(inv.c.wk, inv.c.org, inv.c.contact, func.max(inv.c.responded), func.max(inv.c.completed),
                func.count())
         .where(inv.c.sent == 1).group_by(inv.c.wk, inv.c.org, inv.c.contact))
    out: dict = {}
    people: dict = {}
    for w, org, contact, responded_, completed_, n in conn.execute(q).all():     # all at once: far fewer calls
        w, responded_, completed_, n = int(w), int(responded_ or 0), int(completed_ or 0), int(n)
        row = out.setdefault((w, org), [0, 0, 0, 0])
        row[0] += 1
        row[1] += responded_
        row[2] += completed_
        row[3] += n
        seen = people.get((w, contact))
        people[(w, contact)] = ((responded_, completed_, n) if seen is None else
                                (max(seen[0], responded_), max(seen[1], completed_), seen[2] + n))
    for (w, _), (responded_, completed_, n) in people.items():
        row = out.setdefault((w, "total"), [0, 0, 0, 0])
        row[0] += 1
        row[1] += responded_
        row[2] += completed_
        row[3] += n
    return out


def _label_expr(cutoff):
    """The label that counts: a person's latest correction before the cut-off, else the machine's, where a
    flagged answer is negative (as `analysis.tagger` tags it; also for tags written before that rule)."""
    staff = (select(L.c.label).where(L.c.answer_id == A.c.id, L.c.created_at < cutoff)
             .order_by(L.c.id.desc()).limit(1).scalar_subquery())
    machine = A.c.tags["label"].as_string()
    flagged = select(literal(1)).where(F.c.answer_id == A.c.id, F.c.created_at < cutoff).exists()
    machine = case((and_(machine.in_((POSITIVE, NEUTRAL, MIXED, NOTHING_TO_ADD)), flagged), literal(NEGATIVE)), else_=machine)
    return func.coalesce(staff, machine)


def _sentiment(conn, bounds, cutoff, org_id, no_org_only: bool = False):
    """(week index, org id, label) -> count of free-text answers (`no_org_only`: of answers that belong to no
    organisation)."""
    wk = _buckets(A.c.answered_at, bounds)
    label = _label_expr(cutoff)
    q = (select(wk.label("wk"), A.c.organisation_id, label.label("label"), func.count())
         .where(A.c.answered_at >= bounds[-1][0], A.c.answered_at < bounds[0][1], A.c.answered_at < cutoff,
                A.c.tags.is_not(None), m.free_text_answers())
         .group_by(wk, A.c.organisation_id, label))
    if org_id is not None:
        q = q.where(A.c.organisation_id == org_id)
    if no_org_only:
        q = q.where(A.c.organisation_id.is_(None))
    out = defaultdict(int)
    for w, org, lab, n in conn.execute(q):
        if lab in LABELS:
            out[(int(w), org or NO_ORG, lab)] += int(n)
    return out


def _answer_counts(conn, bounds, cutoff, org_id):
    q = (select(A.c.organisation_id, func.count())
         .where(A.c.answered_at >= bounds[0][0], A.c.answered_at < bounds[0][1], A.c.answered_at < cutoff)
         .group_by(A.c.organisation_id))
    if org_id is not None:
        q = q.where(A.c.organisation_id == org_id)
    return {(0, org or NO_ORG): int(n) for org, n in conn.execute(q)}


def _surveys(conn, end, prev, cutoff, org_id):
    """Surveys with answers in the week or the week before, in title order."""
    q = (select(S.c.id, S.c.title, S.c.current_version_id).where(S.c.id.in_(
        select(A.c.survey_id).where(A.c.answered_at >= prev[0], A.c.answered_at < end, A.c.answered_at < cutoff,
                                    *([A.c.organisation_id == org_id] if org_id is not None else []))
        .distinct())).order_by(S.c.title, S.c.id))
    return [tuple(r) for r in conn.execute(q)]


def _survey_figures(conn, db, survey_id, version_id, bounds, cutoff, org_id):
    """One survey's people who answered this week and its scores. A prompt's {org} reads as the organisation's
    name in its own digest, "us" in the partnership's (each organisation asked about itself)."""
    definition: SurveyDefinition = db.survey_version(conn, version_id)
    org_name = conn.execute(select(O.c.name).where(O.c.id == org_id)).scalar() if org_id is not None else None
    lang = definition.languages[0]
    org_filter = [A.c.organisation_id == org_id] if org_id is not None else []
    wk = _buckets(A.c.answered_at, bounds[:2])
    in_two = [A.c.survey_id == survey_id, A.c.answered_at >= bounds[1][0], A.c.answered_at < bounds[0][1],
              A.c.answered_at < cutoff, *org_filter]
    responses = conn.execute(select(func.count(func.distinct(A.c.contact_id))).where(
        A.c.survey_id == survey_id, A.c.answered_at >= bounds[0][0], A.c.answered_at < bounds[0][1],
        A.c.answered_at < cutoff, A.c.status == "answered", *org_filter)).scalar_one()
    # scores: count, sum, sum of squares, promoters, detractors per question and week
    v = A.c.value_num
    stats = conn.execute(
        select(wk.label("wk"), A.c.question_key, func.count(v), func.sum(v), func.sum(v * v),
               func.sum(case((v >= 9, 1), else_=0)), func.sum(case((v <= 6, 1), else_=0)))
        .where(*in_two, A.c.status == "answered", A.c.question_type.in_(("scale", "nps")), v.is_not(None))
        .group_by(wk, A.c.question_key)).all()
    by_q: dict = defaultdict(dict)
    for w, key, n, total, squares, promoters, detractors in stats:
        by_q[key][int(w)] = (int(n), float(total or 0), float(squares or 0), int(promoters or 0), int(detractors or 0))
    scores = []
    for q in definition.questions:
        if q.type not in ("scale", "nps") or q.key not in by_q:
            continue
        scores.append(_score(q, lang, by_q[q.key].get(0), by_q[q.key].get(1), org_name))
    return responses, scores


def _survey_themes(conn, db, survey_id, version_id, bounds, cutoff, org_id, theme_cache: ThemeCache | None = None):
    lang = db.survey_version(conn, version_id).languages[0]
    org_filter = [A.c.organisation_id == org_id] if org_id is not None else []
    return _themes(conn, survey_id, bounds, cutoff, org_filter, lang,
                   theme_cache and theme_cache.scoped((survey_id, org_id, lang)))


def _survey_part(conn, db, survey_id, title, version_id, bounds, cutoff, org_id, figures, themes,
                 quotes: bool = True) -> SurveyPart:
    """One survey's part, from its figures and themes (`_survey_figures`, `_survey_themes`)."""
    responses, scores = figures
    themes, rising, falling = themes
    lang = db.survey_version(conn, version_id).languages[0]
    org_filter = [A.c.organisation_id == org_id] if org_id is not None else []
    # Fewer than 5 people answering in the digest's scope: a quote could point to one of them.
    chosen = (_quotes(conn, survey_id, bounds[0], cutoff, org_filter, lang, themes)
              if quotes and responses >= SMALL else [])
    return SurveyPart(survey_id, title, _count_fig(responses), scores, themes, rising, falling, chosen)


def _count_fig(n: int) -> Figure:
    return Figure.withheld() if 0 < n < SMALL else Figure(n)


def _score(q, lang, now_stats, prev_stats, org_name: str | None = None) -> Score:
    def value(st):
        if st is None or st[0] < SMALL:
            return None
        n, total, squares, promoters, detractors = st
        if q.type == "nps":
            p, d = promoters / n, detractors / n
            nps = 100 * (p - d)
            se = 100 * math.sqrt(max(0.0, (p + d - (p - d) ** 2) / n))
            return round(nps, 1), round(nps - 1.96 * se, 1), round(nps + 1.96 * se, 1)
        mean = total / n
        var = max(0.0, (squares - n * mean * mean) / (n - 1)) if n > 1 else 0.0
        half = t95(n - 1) * math.sqrt(var / n)
        return round(mean, 2), round(mean - half, 2), round(mean + half, 2)

    n = now_stats[0] if now_stats else 0
    current, previous = value(now_stats), value(prev_stats)
    withheld = 0 < n < SMALL
    missing = Figure.withheld() if withheld else NA
    prompt = (q.prompt.get(lang) or next(iter(q.prompt.values()), q.key)).replace("{org}", org_name or "us")
    return Score(q.key, prompt, q.type, int(q.min if q.min is not None else 0), int(q.max if q.max is not None else 10),
                 _count_fig(n), Figure(current[0]) if current else missing, Figure(current[1]) if current else missing,
                 Figure(current[2]) if current else missing,
                 Figure(previous[0]) if previous else (Figure.withheld() if prev_stats and prev_stats[0] > 0 else NA))


class ThemeCache:
    """Theme counts of a survey's weeks, kept between builds (the console's dashboard) so that only answers
    not counted before are read through the theme finder.

    A week's counter is reused only when the week's answers, read again from the database at each build, are
    exactly (id and text) the ones it counted, in the same order; when they are those followed by newer ones
    (a higher id), a copy of it counts the new ones; anything else (an answer erased, edited or flagged, a
    theme decision, another cut-off's answers) counts the week afresh. So a build with the cache gives
    exactly what one without it gives. Safe to share between threads."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: dict = {}           # key -> (the (id, text) pairs counted, their ThemeCounter)
        self._lock = threading.Lock()

    def scoped(self, scope: tuple) -> _ScopedThemeCache:
        return _ScopedThemeCache(self, scope)

    def counter(self, key: tuple, answers: list[tuple[int, str]], make) -> ThemeCounter:
        with self._lock:
            entry = self._entries.pop(key, None)
        if entry is not None and entry[0] == answers:
            counter = entry[1]
        else:
            known = len(entry[0]) if entry is not None else 0
            if entry is not None and known and answers[:known] == entry[0]:
                counter = entry[1].copy()
            else:
                counter, known = make(), 0
            for _, text in answers[known:]:
                counter.add(text)
        with self._lock:
            self._entries[key] = (answers, counter)        # most recently used last
            while len(self._entries) > self.size:
                self._entries.pop(next(iter(self._entries)))
        return counter


@dataclass(frozen=True)
class _ScopedThemeCache:
    cache: ThemeCache
    scope: tuple

    def counter(self, key: tuple, answers: list[tuple[int, str]], make) -> ThemeCounter:
        return self.cache.counter(self.scope + key, answers, make)


def _themes(conn, survey_id, bounds, cutoff, org_filter, lang, cache: _ScopedThemeCache | None = None):
    back = bounds[:THEME_WEEKS_BACK + 1]
    wk = _buckets(A.c.answered_at, back)
    aliases = aliases_for(conn, survey_id, cutoff)
    # A theme's label is words people wrote: never from a flagged answer, like quotes.
    flagged = select(F.c.answer_id).where(F.c.answer_id.is_not(None))
    where = (A.c.survey_id == survey_id, A.c.answered_at >= back[-1][0], A.c.answered_at < back[0][1],
             A.c.answered_at < cutoff, m.free_text_answers(), A.c.id.not_in(flagged), *org_filter)
    if cache is None:
        counters = [ThemeCounter(lang, aliases=aliases) for _ in back]
        for w, text in conn.execute(select(wk, A.c.raw_text).where(*where).order_by(A.c.id)):
            if w >= 0:
                counters[w].add(text)
    else:
        by_week: list[list[tuple[int, str]]] = [[] for _ in back]
        for w, answer_id, text in conn.execute(select(wk, A.c.id, A.c.raw_text).where(*where).order_by(A.c.id)).all():
            if w >= 0:
                by_week[w].append((answer_id, text))
        alias_key = tuple(sorted(aliases.items()))
        counters = [cache.counter((week, min(week[1], cutoff), alias_key), answers,
                                  lambda: ThemeCounter(lang, aliases=aliases))
                    for week, answers in zip(back, by_week)]
    current = top_themes(counters[0], limit=8, min_count=THEME_MIN)
    trends = compare(current, [c.counts() for c in counters[1:]])
    items = [ThemeItem(t.label, _count_fig(t.count), _count_fig(t.previous_count), t.status) for t in trends]
    rising = [t.label for t in trends if t.status in ("rising", "new")]
    falling = [t.label for t in trends if t.status == "falling"]
    return items, rising, falling


def _quotes(conn, survey_id, week, cutoff, org_filter, lang, themes) -> list[Quote]:
    """Up to 5: the most positive and most negative (two of each when there are enough), and one on the top
    theme; from people who allow quoting, never from a flagged answer, redacted."""
    flagged = select(F.c.answer_id).where(F.c.answer_id.is_not(None))
    polarity = A.c.tags["polarity"].as_float()
    label = _label_expr(cutoff)
    rows = conn.execute(
        select(A.c.id, A.c.raw_text, label, polarity)
        .select_from(A.join(E, E.c.id == A.c.enrolment_id))
        .where(A.c.survey_id == survey_id, A.c.answered_at >= week[0], A.c.answered_at < week[1],
               A.c.answered_at < cutoff, m.free_text_answers(), E.c.consent_quote.is_(True), E.c.consent_status == "given",
               A.c.id.not_in(flagged), func.length(A.c.raw_text) >= QUOTE_MIN_CHARS,
               func.length(A.c.raw_text) <= QUOTE_MAX_CHARS, *org_filter)
        .order_by(A.c.id)).all()
    pos = sorted((r for r in rows if r[2] == POSITIVE), key=lambda r: (-(r[3] or 0), r[0]))
    neg = sorted((r for r in rows if r[2] == NEGATIVE), key=lambda r: ((r[3] or 0), r[0]))
    chosen: list[tuple[str, str | None, tuple]] = []
    for r in pos[:1]:
        chosen.append(("positive", None, r))
    for r in neg[:1]:
        chosen.append(("negative", None, r))
    if themes:
        top = themes[0].label
        keys = terms(top, lang)
        used = {c[2][0] for c in chosen}
        for r in rows:
            if r[0] not in used and keys and keys & terms(r[1], lang):
                chosen.append(("theme", top, r))
                break
    used = {c[2][0] for c in chosen}
    for kind, pool in (("positive", pos[1:]), ("negative", neg[1:])):
        for r in pool:
            if len(chosen) >= 5:
                break
            if r[0] not in used:
                chosen.append((kind, None, r))
                used.add(r[0])
                break
    return [Quote(redact(r[1]).strip(), kind, theme, answer_id=r[0]) for kind, theme, r in chosen]


# ---- assembling ------------------------------------------------------------------------------------------
def _any(counts, sentiment, answers, org) -> bool:
    return any(k[1] == org for k in counts) or any(k[1] == org for k in sentiment) or any(k[1] == org for k in answers)


def _value(counts, sentiment, answers, w, o, k, org_keys) -> int:
    if k in PEOPLE:        # people are distinct: the total is counted, not summed
        return counts.get((w, o), [0, 0, 0, 0])[COUNTS.index(k)]
    if o == "total":
        return sum(_value(counts, sentiment, answers, w, x, k, org_keys) for x in org_keys)
    if k == "answers":
        return answers.get((w, o), 0)
    return counts.get((w, o), [0, 0, 0, 0])[COUNTS.index(k)]


def _svalue(sentiment, w, o, k, org_keys) -> int:
    if o == "total":
        return sum(_svalue(sentiment, w, x, k, org_keys) for x in org_keys)
    label = NOT_TAGGED_LANGUAGE if k == "not_tagged" else k
    return sentiment.get((w, o, label), 0)


def _sentiment_figures(cells, hidden, w, o) -> Sentiment:
    def fig(k):
        return _hidden_fig(cells, hidden, (w, o, k))

    figs = {k: fig("s_" + k) for k in SENTIMENT_KEYS}
    total = fig("s_total")
    tagged = cells[(w, o, "s_total")] - cells[(w, o, "s_not_tagged")]
    base_hidden = total.suppressed or figs["not_tagged"].suppressed or tagged < SMALL

    def share(k):
        if tagged == 0:
            return NA
        if base_hidden or figs[k].suppressed:
            reason = SMALL_REASON if tagged < SMALL else _weakest(total, figs["not_tagged"], figs[k])
            return Figure.withheld(reason)
        return Figure(round(cells[(w, o, "s_" + k)] / tagged, 4))

    return Sentiment(figs["positive"], figs["neutral"], figs["negative"], figs["mixed"], figs["not_tagged"], total,
                     share("positive"), share("negative"))


def _trend(counts, sentiment, weeks, org_keys, scope, protected: dict) -> list[TrendPoint]:
    """The scope's last 8 weeks (the partnership's, or the one organisation's), oldest first. This week and
    the week before (`protected`: w -> figures) are shown as the tables protect them, so the trend never shows
    a share the tables withhold by difference; the earlier weeks' figures are protected on their own."""
    points = []
    for w in reversed(range(len(weeks))):
        if w in protected:
            points.append(TrendPoint(week_label(*weeks[w]), *protected[w]))
            continue
        inv, resp, comp, _ = counts.get((w, scope), [0, 0, 0, 0])
        by = {lab: sum(sentiment.get((w, o, lab), 0) for o in org_keys) for lab in LABELS}
        tagged = sum(by[lab] for lab in LABELS if lab != NOT_TAGGED_LANGUAGE)

        def rate(num, den):
            if den == 0:
                return NA
            if den < SMALL or 0 < num < SMALL:
                return Figure.withheld()
            return Figure(round(num / den, 4))

        points.append(TrendPoint(week_label(*weeks[w]), _count_fig(inv), _count_fig(resp), rate(resp, inv),
                                 rate(comp, inv), rate(by[POSITIVE], tagged), rate(by[NEGATIVE], tagged)))
    return points


def _contacts_cover(conn, org_ids, cutoff, channels) -> bool:
    """True when a safeguarding contact set before the cut-off, on a channel this installation sends alerts
    through (`channels`), hears about every organisation's flags (its own contact, or one for every
    organisation); False when some organisation's flags would alert nobody."""
    rows = conn.execute(select(SC.c.organisation_id).where(SC.c.created_at < cutoff, SC.c.channel.in_(sorted(channels)))
                        .distinct()).scalars().all()
    if None in rows:
        return True
    return bool(org_ids) and set(org_ids) <= set(rows)
