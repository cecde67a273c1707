"""When a schedule fires, and when quiet hours end: pure functions of a rule, a timezone and instants.

Rules are wall-clock times in the survey's timezone, so they follow summer time. A local time that does
not exist (the spring-forward gap, 01:30 on 2026-03-29 in London) fires at the first instant after the
gap; an ambiguous one (the autumn fold, 01:30 on 2026-10-25) fires once, at its first occurrence.
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from surveys.schedule_rule import ScheduleRule

UTC = timezone.utc
ANCHOR = date(1970, 1, 5)  # a Monday: 'every N weeks' without a start date counts weeks from here
HORIZON = timedelta(days=400)


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `tz` (in a gap: the first instant after it; in a
    fold: the first of the two)."""
    naive = datetime.combine(day, at)
    early = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if early.astimezone(tz).replace(tzinfo=None) == naive:
        return early
    # A gap: fold=0 read it with the offset from before the change (too late), fold=1 with the one after
    # (too early). The clocks jump somewhere between: find that instant to the second.
    low, high = naive.replace(tzinfo=tz, fold=1).astimezone(UTC), early
    if low > high:
        low, high = high, low
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    whole = high.replace(microsecond=0)
    return whole if whole.astimezone(tz).replace(tzinfo=None) >= naive else whole + timedelta(seconds=1)


def _fires_on(rule: ScheduleRule, day: date, start: date | None) -> bool:
    if rule.kind == "monthly":
        if day.weekday() not in rule.days:
            return False
        if rule.nth == -1:
            return day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        return (day.day - 1) // 7 + 1 == rule.nth
    if day.weekday() not in rule.days:
        return False
    if rule.every_weeks > 1:
        anchor = start or ANCHOR
        anchor_monday = anchor - timedelta(days=anchor.weekday())
        weeks = (day - anchor_monday).days // 7
        return weeks >= 0 and weeks % rule.every_weeks == 0
    return True


def occurrences(rule: ScheduleRule, tz: str, after: datetime, until: datetime,
                start: date | None = None, end: date | None = None) -> list[datetime]:
    """Every firing in (after, until] as aware UTC datetimes, sorted; only local dates in [start, end]."""
    zone = ZoneInfo(tz)
    if until <= after:
        return []
    first_day = (after.astimezone(zone).date() - timedelta(days=1))
    last_day = until.astimezone(zone).date() + timedelta(days=1)
    if start is not None:
        first_day = max(first_day, start)
    if end is not None:
        last_day = min(last_day, end)
    out = []
    day = first_day
    while day <= last_day:
        if _fires_on(rule, day, start):
            instant = local_to_utc(day, rule.at, zone)
            if after < instant <= until:
                out.append(instant)
        day += timedelta(days=1)
    return out


def next_occurrence(rule: ScheduleRule, tz: str, after: datetime, start: date | None = None,
                    end: date | None = None) -> datetime | None:
    found = occurrences(rule, tz, after, after + HORIZON, start, end)
    return found[0] if found else None


def in_quiet_hours(at: datetime, tz: str, quiet: tuple[time, time]) -> bool:
    begin, finish = quiet
    if begin == finish:
        return False
    local = at.astimezone(ZoneInfo(tz)).time()
    if begin < finish:
        return begin <= local < finish
    return local >= begin or local < finish  # the window crosses midnight


def quiet_until(at: datetime, tz: str, quiet: tuple[time, time]) -> datetime:
    """`at` when it is outside quiet hours in `tz`, else the UTC instant they end."""
    if not in_quiet_hours(at, tz, quiet):
        return at.astimezone(UTC)
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    begin, finish = quiet
    day = local.date()
    if begin > finish and local.time() >= begin:
        day += timedelta(days=1)  # 23:30 -> tomorrow morning
    return local_to_utc(day, finish, zone)
