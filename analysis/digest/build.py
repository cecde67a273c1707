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
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from sqlalchemy import and_, case, func, literal, or_, select

from analysis.digest.narrative import summarise
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


def build(db: Store, opts: Options, now: datetime) -> Digest:
    cutoff = opts.cutoff or now
    weeks = [previous_week(opts.year, opts.week, n) for n in range(TREND_WEEKS)]      # this week first
    bounds = [week_bounds(y, w, opts.tz) for y, w in weeks]
    start, end = bounds[0]
    with db.read() as conn:
        org_id, orgs = _organisations(conn, opts.org_code)
        counts = _participation(conn, bounds, cutoff, org_id)
        sentiment = _sentiment(conn, bounds, cutoff, org_id)
        answers = _answer_counts(conn, bounds[:1], cutoff, org_id)
        surveys = _surveys(conn, end, bounds[1], cutoff, org_id)
        open_flags = conn.execute(select(func.count()).select_from(F).where(
            F.c.created_at < cutoff, or_(F.c.closed_at.is_(None), F.c.closed_at >= cutoff),
            *([F.c.organisation_id == org_id] if org_id is not None else []))).scalar_one()
        contact_set = _contacts_cover(conn, [o for o in orgs if o != NO_ORG], cutoff, alert_channels(db.settings))
        parts = [_survey_part(conn, db, sid, title, version_id, bounds, cutoff, org_id)
                 for sid, title, version_id in surveys]

    # ---- the table of organisations and the total, protected together ----------------------------------
    org_keys = [o for o in orgs if o != NO_ORG or _any(counts, sentiment, answers, NO_ORG)]
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
        not_tagged_share=not_tagged_share, safeguarding_contact=contact_set)
    return replace(digest, summary=summarise(digest))


def _hidden_fig(cells, hidden, key) -> Figure:
    """A protected cell: its value, or withheld, saying whether it is small itself or hidden by difference."""
    if key not in hidden:
        return Figure(cells[key])
    return Figure.withheld(SMALL_REASON if primary(cells[key]) else DIFFERENCE)


def _weakest(*figs: Figure) -> str:
    """The reason for a figure derived from withheld ones: small when any rests on fewer than 5 people."""
    return SMALL_REASON if any(f.suppressed and f.reason == SMALL_REASON for f in figs) else DIFFERENCE


# ---- queries ----------------------------------------------------------------------------------------------
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
    invitations sent]. A person is a contact; the total counts each person once across organisations."""
    wk = _buckets(I.c.started_at, bounds)
    sent = select(literal(1)).where(M.c.invitation_id == I.c.id, M.c.purpose == "invitation",
                                    M.c.status.in_(SENT_STATUSES), M.c.sent_at < cutoff).exists()
    responded = select(literal(1)).where(A.c.conversation_id == I.c.conversation_id, A.c.status == "answered",
                                         A.c.answered_at < cutoff).exists()
    completed = and_(CV.c.status == "completed", CV.c.ended_at < cutoff)
    invitations = (select(wk.label("wk"), E.c.organisation_id.label("org"), I.c.contact_id.label("contact"),
                          case((responded, 1), else_=0).label("responded"),
                          case((completed, 1), else_=0).label("completed"))
                   .select_from(I.join(E, E.c.id == I.c.enrolment_id).outerjoin(CV, CV.c.id == I.c.conversation_id))
                   .where(I.c.started_at >= bounds[-1][0], I.c.started_at < bounds[0][1], I.c.started_at < cutoff,
                          sent))
    if org_id is not None:
        invitations = invitations.where(E.c.organisation_id == org_id)
    inv = invitations.subquery()
    out = {}
    for scope in ("org", "total"):
        keys = [inv.c.wk, inv.c.org] if scope == "org" else [inv.c.wk]
        person = (select(*keys, func.max(inv.c.responded).label("responded"),
                         func.max(inv.c.completed).label("completed"), func.count().label("n"))
                  .group_by(*keys, inv.c.contact).subquery())
        outer = [person.c.wk, person.c.org] if scope == "org" else [person.c.wk]
        q = (select(*outer, func.count(), func.sum(person.c.responded), func.sum(person.c.completed),
                    func.sum(person.c.n)).group_by(*outer))
        for r in conn.execute(q):
            key = (int(r[0]), r[1] if scope == "org" else "total")
            out[key] = [int(v or 0) for v in r[-4:]]
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


def _sentiment(conn, bounds, cutoff, org_id):
    """(week index, org id, label) -> count of free-text answers."""
    wk = _buckets(A.c.answered_at, bounds)
    label = _label_expr(cutoff)
    q = (select(wk.label("wk"), A.c.organisation_id, label.label("label"), func.count())
         .where(A.c.answered_at >= bounds[-1][0], A.c.answered_at < bounds[0][1], A.c.answered_at < cutoff,
                A.c.tags.is_not(None), m.free_text_answers())
         .group_by(wk, A.c.organisation_id, label))
    if org_id is not None:
        q = q.where(A.c.organisation_id == org_id)
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


def _survey_part(conn, db, survey_id, title, version_id, bounds, cutoff, org_id) -> SurveyPart:
    """One survey's part. A prompt's {org} reads as the organisation's name in its own digest, "us" in the
    partnership's (each organisation asked about itself)."""
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
    themes, rising, falling = _themes(conn, survey_id, bounds, cutoff, org_filter, lang)
    # Fewer than 5 people answering in the digest's scope: a quote could point to one of them.
    quotes = _quotes(conn, survey_id, bounds[0], cutoff, org_filter, lang, themes) if responses >= SMALL else []
    return SurveyPart(survey_id, title, _count_fig(responses), scores, themes, rising, falling, quotes)


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


def _themes(conn, survey_id, bounds, cutoff, org_filter, lang):
    back = bounds[:THEME_WEEKS_BACK + 1]
    wk = _buckets(A.c.answered_at, back)
    aliases = aliases_for(conn, survey_id, cutoff)
    counters = [ThemeCounter(lang, aliases=aliases) for _ in back]
    # A theme's label is words people wrote: never from a flagged answer, like quotes.
    flagged = select(F.c.answer_id).where(F.c.answer_id.is_not(None))
    rows = conn.execute(select(wk, A.c.raw_text).where(
        A.c.survey_id == survey_id, A.c.answered_at >= back[-1][0], A.c.answered_at < back[0][1],
        A.c.answered_at < cutoff, m.free_text_answers(), A.c.id.not_in(flagged), *org_filter).order_by(A.c.id))
    for w, text in rows:
        if w >= 0:
            counters[w].add(text)
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
