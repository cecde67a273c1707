"""When a schedule fires, and when quiet hours end: pure functions of a rule, a timezone and instants.

Rules and quiet hours are wall-clock times in an IANA timezone, so they follow summer time. Every
function takes and returns aware datetimes; results are in UTC. Two DST rules apply everywhere:

- a local time that does not exist (the spring-forward gap, 01:30 on 2026-03-29 in Europe/London)
  happens at the first instant after the gap (02:00 BST = 01:00 UTC);
- an ambiguous local time (the autumn fold, 01:30 on 2026-10-25) happens once, at its first occurrence
  (fold=0, 01:30 BST = 00:30 UTC). The one exception is `quiet_until`, which never answers with an
  instant before the one it was asked about (see there).
"""
from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from surveys.schedule_rule import ScheduleRule

UTC = timezone.utc
ANCHOR = date(1970, 1, 5)  # a Monday: 'every N weeks' without a start date counts weeks from here
HORIZON = timedelta(days=400)  # how far next_occurrence looks: > 12 months, so every rule fires within it
ONE_DAY = timedelta(days=1)
ONE_SECOND = timedelta(seconds=1)


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the wall clock in `tz` reads `at` on `day`: in a gap, the first instant
    after it; in a fold, the first of the two."""
    instants = _readings(day, at, tz)
    return instants[0] if instants else _gap_end(datetime.combine(day, at), tz)


def _readings(day: date, at: time, tz: ZoneInfo) -> list[datetime]:
    """Every UTC instant at which the wall clock in `tz` reads exactly `at` on `day`, earliest first:
    one on an ordinary day, two in a fold, none in a gap."""
    naive = datetime.combine(day, at)
    found: list[datetime] = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        # zoneinfo accepts any wall time, so check the round trip: in a gap neither reading comes back
        # (naive comparison ignores `fold`, which is what we want here).
        if instant.astimezone(tz).replace(tzinfo=None) == naive and instant not in found:
            found.append(instant)
    return sorted(found)


def _gap_end(naive: datetime, tz: ZoneInfo) -> datetime:
    """The first instant at which the wall clock in `tz` reads `naive` or later, for a `naive` inside a
    spring-forward gap: the moment the clocks jump."""
    # PEP 495: inside a gap, fold=1 applies the offset from after the change, which lands before the jump
    # (the clock there still reads earlier than `naive`); fold=0 applies the offset from before it, which
    # lands after the jump. zoneinfo does not expose the transition itself, so bisect between the two,
    # to the second (transitions are on whole seconds). A gap is at most a few hours: ~15 steps.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    while high - low > ONE_SECOND:
        mid = low + ONE_SECOND * ((high - low) // ONE_SECOND // 2)  # whole seconds, so `high` lands on T
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return high


def _require_aware(**values: datetime) -> None:
    for name, value in values.items():
        # A naive datetime's astimezone() would silently mean the server's own timezone.
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")


def _fires_on(rule: ScheduleRule, day: date, start: date | None) -> bool:
    """Whether `rule` fires on local date `day` (bounds on start/end are the caller's business)."""
    if day.weekday() not in rule.days:
        return False
    if rule.kind == "monthly":
        if rule.nth == -1:
            return day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        return (day.day - 1) // 7 + 1 == rule.nth
    if rule.every_weeks > 1:
        anchor = start or ANCHOR
        weeks = (day - (anchor - timedelta(days=anchor.weekday()))).days // 7
        return weeks >= 0 and weeks % rule.every_weeks == 0
    return True


def _check_rule(rule: ScheduleRule) -> None:
    if rule.kind == "monthly":
        if rule.nth not in (1, 2, 3, 4, -1):
            raise ValueError(f"a monthly rule needs nth of 1..4 or -1 (last), got {rule.nth!r}")
    elif rule.kind == "weekly":
        if rule.every_weeks < 1:
            raise ValueError(f"every_weeks must be at least 1, got {rule.every_weeks}")
    else:
        raise ValueError(f"unknown rule kind {rule.kind!r}; expected 'weekly' or 'monthly'")


def _firings(rule: ScheduleRule, zone: ZoneInfo, first_day: date, last_day: date,
             start: date | None) -> Iterator[datetime]:
    """The rule's instants for local dates first_day..last_day, in order. The order holds across DST:
    wall-clock -> instant never goes backwards, and a gap moves a firing forward by less than a day."""
    day = first_day
    while day <= last_day:
        if _fires_on(rule, day, start):
            yield local_to_utc(day, rule.at, zone)
        day += ONE_DAY


def _day_range(zone: ZoneInfo, after: datetime, until: datetime, start: date | None,
               end: date | None) -> tuple[date, date]:
    # A firing's instant reads its own local date, or the next one when a gap pushes it past midnight,
    # and a fold can move the local date back across midnight: one spare day each side covers both.
    first_day = after.astimezone(zone).date() - ONE_DAY
    last_day = until.astimezone(zone).date() + ONE_DAY
    if start is not None:
        first_day = max(first_day, start)
    if end is not None:
        last_day = min(last_day, end)
    return first_day, last_day


def occurrences(rule: ScheduleRule, tz: str, after: datetime, until: datetime,
                start: date | None = None, end: date | None = None) -> list[datetime]:
    """Every time `rule` fires in (after, until], as aware UTC datetimes, sorted and unique.

    `after` and `until` are aware datetimes in any zone (naive ones raise ValueError). The rule's time is
    wall-clock time in `tz` (an IANA name). Only firings whose local date lies in [start, end] (inclusive)
    count. 'every N weeks' counts weeks from the Monday-based week containing `start` (that week fires),
    or from 1970-01-05 without a start. A firing in a DST gap moves to the first instant after the gap;
    one in a fold fires once, at the first of the two instants.
    """
    _require_aware(after=after, until=until)
    _check_rule(rule)
    if until <= after:
        return []
    zone = ZoneInfo(tz)
    first_day, last_day = _day_range(zone, after, until, start, end)
    return [at for at in _firings(rule, zone, first_day, last_day, start) if after < at <= until]


def next_occurrence(rule: ScheduleRule, tz: str, after: datetime, start: date | None = None,
                    end: date | None = None) -> datetime | None:
    """The first firing strictly after `after` (aware UTC), as `occurrences` defines firings; None when
    `end` has passed or nothing fires within the next ~13 months (HORIZON, which every valid rule beats)."""
    _require_aware(after=after)
    _check_rule(rule)
    zone = ZoneInfo(tz)
    first_day, last_day = _day_range(zone, after, after + HORIZON, start, end)
    for at in _firings(rule, zone, first_day, last_day, start):
        if after < at <= after + HORIZON:
            return at
    return None


def in_quiet_hours(at: datetime, tz: str, quiet: tuple[time, time]) -> bool:
    """Whether the wall clock in `tz` at instant `at` (aware) reads inside quiet hours [quiet[0], quiet[1]):
    the start is quiet, the end is not. The window may cross midnight (21:00-09:00); start == end means
    no quiet hours at all."""
    _require_aware(at=at)
    begin, finish = quiet
    if begin == finish:
        return False
    local = at.astimezone(ZoneInfo(tz)).time()
    if begin < finish:
        return begin <= local < finish
    return local >= begin or local < finish  # the window crosses midnight


def quiet_until(at: datetime, tz: str, quiet: tuple[time, time]) -> datetime:
    """When a message we start may go out: `at` itself (as aware UTC) if it is outside quiet hours in `tz`,
    else the UTC instant the quiet period ends, i.e. when the wall clock next reads quiet[1] (on the same
    local date, or the next one when a window crossing midnight is in its evening part).

    The end time follows the DST rules above, with one guard: the answer is never before `at`. So in an
    autumn fold, a quiet period entered during the repeated hour ends at the second reading of quiet[1]
    (quiet 00:30-01:30 in London, at 01:10 GMT on 2026-10-25: 01:30 GMT, not 01:30 BST which has
    passed). The answer is always >= `at` and never inside quiet hours.
    """
    _require_aware(at=at)
    if not in_quiet_hours(at, tz, quiet):
        return at.astimezone(UTC)
    zone = ZoneInfo(tz)
    begin, finish = quiet
    local = at.astimezone(zone)
    day = local.date()
    if begin > finish and local.time() >= begin:
        day += ONE_DAY  # 23:30 in a 21:00-09:00 window: quiet ends tomorrow morning
    candidate = at.astimezone(UTC)
    # Normally the first candidate answers. A later day is needed only when DST swallows the end: a gap
    # can jump the clock from quiet[1] straight back into quiet hours (a window like 01:45-01:30 on a
    # 01:00->02:00 day), and then the quiet period really does last until the next day's quiet[1].
    for _ in range(4):
        readings = _readings(day, finish, zone) or [_gap_end(datetime.combine(day, finish), zone)]
        later = [r for r in readings if r >= at]
        if later:
            candidate = later[0]
            if not in_quiet_hours(candidate, tz, quiet):
                return candidate
        day += ONE_DAY
    return candidate  # not reached with any real timezone: transitions are months apart
