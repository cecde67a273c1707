"""ISO weeks in the partnership's timezone: '2026-W47' -> the UTC instants where that week starts and ends.

A week runs from Monday 00:00 to the next Monday 00:00 local time, so across the clock change a week is
167 or 169 hours long, and an answer belongs to the week its local time falls in.

The default week (`default_week`), for every command and page that takes a week and is given none (`themes
list`, `digest build`, `digest send`) and for the digest the clock sends (`analysis.digest.deliver.due_week`):
the last complete week before now, Monday to Sunday in the partnership's timezone. Its numbers are final
(nothing more can arrive in it), so a list of themes and the digest of the same week agree.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

_WEEK_RE = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


class WeekError(ValueError):
    pass


def parse_week(text: str) -> tuple[int, int]:
    m = _WEEK_RE.match(text or "")
    if not m:
        raise WeekError(f"{text!r} is not an ISO week: write it like 2026-W47")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise WeekError(f"{text!r}: {year} has no week {week}") from None
    return year, week


def week_label(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"


def week_bounds(year: int, week: int, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of the ISO week in UTC."""
    zone = ZoneInfo(tz)
    monday = date.fromisocalendar(year, week, 1)
    start = datetime.combine(monday, time(0), zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def week_of(instant: datetime, tz: str) -> tuple[int, int]:
    iso = instant.astimezone(ZoneInfo(tz)).isocalendar()
    return iso[0], iso[1]


def previous_week(year: int, week: int, n: int = 1) -> tuple[int, int]:
    iso = (date.fromisocalendar(year, week, 1) - timedelta(weeks=n)).isocalendar()
    return iso[0], iso[1]


def default_week(now: datetime, tz: str) -> tuple[int, int]:
    """The week meant when none is given: the last complete ISO week before `now` in `tz` (see above)."""
    return previous_week(*week_of(now, tz))
