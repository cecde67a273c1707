"""Themes per survey and week from the store, with staff decisions (merge, rename) applied.

`themes_for_week` counts the free-text answers of one survey in one ISO week (in the partnership's
timezone) and compares them with the weeks before. Staff decisions live in `theme_alias` (see
`surveys.models.ThemeAlias`): one for every survey (survey_id '') or for one survey, the survey's own winning.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, delete, select

from analysis.language import primary_language
from analysis.themes import ThemeCounter, ThemeTrend, compare, top_themes
from analysis.weeks import previous_week, week_bounds
from surveys import models as m
from surveys.store import Store

A = m.Answer.__table__


class ThemeError(ValueError):
    pass


def aliases_for(conn: Connection, survey_id: str | None, cutoff: datetime | None = None) -> dict[str, str]:
    """key -> theme name for `survey_id`: decisions for every survey, overridden by the survey's own ('' sorts
    first). With `cutoff`, only decisions made before it (a digest rebuilt from its cut-off is unchanged)."""
    TA = m.ThemeAlias
    q = select(TA.key, TA.name).where(TA.survey_id.in_(("", survey_id or ""))).order_by(TA.survey_id, TA.id)
    if cutoff is not None:
        q = q.where(TA.created_at < cutoff)
    return dict(conn.execute(q).all())


def set_alias(db: Store, keys: Iterable[str], name: str, survey_id: str | None, by: str | None,
              now: datetime) -> list[str]:
    """Count every key in `keys` under `name` (merge when several, rename when one). Returns the keys."""
    keys = sorted({" ".join(k.lower().split()) for k in keys if k and k.strip()})
    name = " ".join((name or "").split())
    if not keys:
        raise ThemeError("name at least one theme key (as `chorus themes list` shows it)")
    if not name:
        raise ThemeError("give the theme a name")
    if len(name) > 120 or any(len(k) > 120 for k in keys):
        raise ThemeError("theme keys and names are at most 120 characters")
    sid = survey_id or ""
    TA = m.ThemeAlias
    with db.session() as s:
        s.execute(delete(TA).where(TA.survey_id == sid, TA.key.in_(keys)))
        for key in keys:
            s.add(TA(survey_id=sid, key=key, name=name, by=by, created_at=now))
    return keys


def remove_alias(db: Store, key: str, survey_id: str | None) -> bool:
    TA = m.ThemeAlias
    with db.session() as s:
        return s.execute(delete(TA).where(TA.survey_id == (survey_id or ""),
                                          TA.key == " ".join(key.lower().split()))).rowcount > 0


class ThemeAliasView(NamedTuple):
    survey_id: str  # "": every survey
    key: str
    name: str
    by: str | None


def list_aliases(db: Store) -> list[ThemeAliasView]:
    TA = m.ThemeAlias
    with db.read() as conn:
        return [ThemeAliasView(*r) for r in conn.execute(select(TA.survey_id, TA.key, TA.name, TA.by)
                                               .order_by(TA.survey_id, TA.name, TA.key)).all()]


def _texts(db: Store, survey_id: str, start: datetime, end: datetime, language: str) -> list[tuple[datetime, str]]:
    lang = primary_language(language)
    q = (select(A.c.answered_at, A.c.raw_text, A.c.language)
         .where(A.c.survey_id == survey_id, A.c.raw_text.is_not(None), A.c.answered_at >= start,
                A.c.answered_at < end, m.free_text_answers()))
    with db.read() as conn:
        return [(at, text) for at, text, lg in conn.execute(q) if primary_language(lg) == lang]


def themes_for_week(db: Store, survey_id: str, year: int, week: int, *, tz: str, weeks_back: int = 4,
                    limit: int = 15, min_count: int = 2, language: str = "en") -> list[ThemeTrend]:
    """Top themes of the week with their change against the `weeks_back` weeks before (latest first)."""
    weeks = [previous_week(year, week, n) for n in range(weeks_back + 1)]   # this week first
    bounds = [week_bounds(y, w, tz) for y, w in weeks]
    with db.read() as conn:
        aliases = aliases_for(conn, survey_id)
    counters = [ThemeCounter(language, aliases=aliases) for _ in weeks]
    for at, text in _texts(db, survey_id, bounds[-1][0], bounds[0][1], language):
        for i, (start, end) in enumerate(bounds):
            if start <= at < end:
                counters[i].add(text)
                break
    current = top_themes(counters[0], limit=limit, min_count=min_count)
    return compare(current, [c.counts() for c in counters[1:]])
