"""The console's dashboard: one week at a glance, per organisation and across the partnership.

Every figure comes from the digest's own builder (`analysis.digest.build.build`) for the same week, with the
cut-off at `now`: the same definitions (people invited, responded, rates, sentiment), the same small-number
protection and the same themes. So the dashboard and the digest built for that week and cut-off show the same
numbers; the dashboard only chooses which rows a scope sees:

- admin and governance: every organisation's row and the partnership's (aggregates, protected);
- staff and safeguarding leads: their organisations' rows and the partnership's.

Open flags: every scope sees the partnership's count as the digest shows it (withheld when 1 to 4). Scopes that
handle flags (admin, staff, safeguarding) also see the exact count of each organisation they cover; governance
sees counts only, never per organisation and never a flag's content.

Waves in progress (open waves scheduled from the week's start on): admin and governance see every one, staff
and leads those that reached their people; governance's wave counts are protected like the digest's (1 to 4
withheld), the others see them as `chorus waves` does.

Speed: the digest is built in its light mode (`build(..., light=True)`): the same functions and protection for
this week and the week before (all the tables, the open flags and the summary use), no quotes and no older
trend weeks; theme counts of a survey's weeks are kept in `_THEMES` and reused only when the week's answers,
read again at every call, are exactly those counted (new answers are counted onto a copy). No figure is cached:
every call reads the database, so the page follows answers, labels, flags and messages as they arrive. The
build's independent blocks (participation, sentiment and answer counts, each survey's figures and themes) and
the waves in progress run at the same time on pooled connections of their own (`_POOL`); each is bounded by
the same cut-off, so the figures are the digest's whenever the data does not change during the call.
Measured by benchmarks/dashboard.py on the million-answer data set: see the README (Benchmarks).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from analysis.digest.loop import loop_lines
from analysis.digest.build import ThemeCache, build
from analysis.digest.deliver import options
from analysis.digest.model import Figure, Row
from analysis.digest.suppress import primary
from analysis.weeks import week_bounds, week_label, week_of
from surveys import models as m
from surveys.scope import Scope
from surveys.store import Store
from surveys.waves import list_waves_by_id, wave_organisations

WAVES_SHOWN = 10
# Theme counts of the weeks already read, per process: a week's answers are still read at every call, and the
# counts reused only when those answers are exactly the ones counted (see ThemeCache).
_THEMES = ThemeCache()
# The waves in progress and the light build's independent blocks (participation, sentiment, each survey's part)
# run on connections of their own meanwhile: on PostgreSQL each in its own server process, on SQLite with the
# GIL released while a statement runs.
_POOL = ThreadPoolExecutor(max_workers=6, thread_name_prefix="dashboard")


@dataclass(frozen=True)
class SurveyGlance:
    survey_id: str
    title: str
    responses: Figure                 # people who answered this week (withheld when 1 to 4)
    themes_rising: list[str]


@dataclass(frozen=True)
class WaveProgress:
    id: int
    survey_id: str
    scheduled_for: datetime
    kind: str
    counts: dict[str, Figure]         # invited, sent, delivered, started, completed, opted out, failed, waiting


@dataclass(frozen=True)
class Dashboard:
    week: str
    cutoff: datetime
    partnership: Row                  # the digest's total row
    organisations: list[Row]          # the digest's organisation rows the scope may see
    surveys: list[SurveyGlance]
    themes_rising: list[str]          # across surveys, in the digest's order
    open_flags: Figure                # the partnership's, as the digest shows it
    open_flags_by_org: dict[str, int]  # organisation code -> open flags; only for scopes that handle flags
    waves: list[WaveProgress]
    summary: list[str]                # the digest's own summary lines
    loop: list[str] = field(default_factory=list)   # "you said, we did", in the digest's own sentences
    loop_warning: str = ""


def dashboard(db: Store, scope: Scope, week: tuple[int, int] | None, now: datetime) -> Dashboard:
    """The week (default: the current one, in the partnership's timezone) as it stands at `now`."""
    tz = db.settings.default_timezone
    year, number = week or week_of(now, tz)
    # The waves in progress do not depend on the digest: counted meanwhile, on a connection of their own.
    waves = _POOL.submit(_waves, db, scope, week_bounds(year, number, tz)[0])
    digest = build(db, options(db, year, number, None, now), now, light=True, theme_cache=_THEMES, pool=_POOL)
    with db.read() as conn:
        org_ids = dict(conn.execute(select(m.Organisation.code, m.Organisation.id)).all())
    everyone = scope.role in ("admin", "governance")
    rows = [r for r in digest.organisations if everyone or (r.code in org_ids and scope.covers(org_ids[r.code]))]
    by_org: dict[str, int] = {}
    if scope.sees_flags:
        codes = {i: c for c, i in org_ids.items() if scope.covers(i)}
        with db.read() as conn:
            for org, n in conn.execute(select(m.Flag.organisation_id, func.count()).where(
                    m.Flag.status == "open", m.Flag.organisation_id.in_(list(codes))).group_by(m.Flag.organisation_id)):
                by_org[codes[org]] = int(n)
    rising = list(dict.fromkeys(t for p in digest.surveys for t in p.rising))
    surveys = [SurveyGlance(p.survey_id, p.title, p.responses, list(p.rising)) for p in digest.surveys]
    loop, loop_warning = loop_lines(digest.loop)
    return Dashboard(week_label(year, number), now, digest.total, rows, surveys, rising, digest.open_flags, by_org,
                     waves.result(), list(digest.summary), loop, loop_warning)


def _waves(db: Store, scope: Scope, since: datetime) -> list[WaveProgress]:
    if not (scope.sees_flags or scope.role == "governance"):
        return []
    W = m.Wave.__table__
    with db.read() as conn:
        ids = list(conn.execute(select(W.c.id).where(W.c.status == "open", W.c.scheduled_for >= since)
                                .order_by(W.c.scheduled_for.desc()).limit(200)).scalars())
    if not scope.all_organisations and scope.role != "governance":
        orgs = wave_organisations(db, ids)
        ids = [w for w in ids if any(scope.covers(o) for o in orgs[w])]
    protect = scope.role == "governance"
    out = []
    for w in list_waves_by_id(db, ids[:WAVES_SHOWN]):
        counts = {k: (Figure.withheld() if protect and primary(v) else Figure(v)) for k, v in w.counts.items()}
        out.append(WaveProgress(w.id, w.survey_id, w.scheduled_for, w.kind, counts))
    return out
