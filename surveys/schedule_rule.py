"""Schedule rules: the short, human-written "when to send" strings in a survey's `schedule.rule`.

Grammar (case-insensitive, extra spaces ignored; an optional "at" may precede the time):

    mon 10:00                       weekly on Monday
    mon,thu 10:00 / mon and thu 10:00 / every monday 10:00
    daily 09:30 / every day 09:30   weekly on every day
    weekdays 12:00                  Monday to Friday
    every 2 weeks on thu 18:30      fortnightly (counted from the schedule's start date);
                                    also "every week on thu", "every other week on thu"
    first tue of month 12:00        also "of the month"; first/second/third/fourth/last (or 1st..4th)

Day names are three-letter (mon) or full (monday). Times are 24-hour H:MM or HH:MM.
This module only parses; working out the next send time belongs to the scheduler.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS = {name: i for i, name in enumerate(DAY_NAMES)} | {name: i for i, name in enumerate(_FULL_DAY_NAMES)}
_NTH = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": -1}
MAX_EVERY_WEEKS = 52

_TIME = re.compile(r"^(?P<head>.*?)\s*(?:\bat\s+)?(?P<h>\d{1,2}):(?P<m>\d{2})$")
_EVERY_N_WEEKS = re.compile(r"^every\s+(?:(?P<n>\d+)\s+weeks?|(?P<other>other\s+)?week)\s+on\s+(?P<days>.+)$")
_MONTHLY = re.compile(r"^(?P<nth>\S+)\s+(?P<days>.+?)\s+of\s+(?:the\s+)?month$")


@dataclass(frozen=True)
class ScheduleRule:
    """A parsed rule. `days` are sorted weekday numbers (0 = Monday, as `date.weekday()`).

    weekly: send on each of `days` in every `every_weeks`-th week.
    monthly: send on the `nth` (1..4, or -1 for the last) occurrence of each of `days` in the month.
    """

    kind: str  # 'weekly' | 'monthly'
    days: tuple[int, ...]
    at: time
    every_weeks: int = 1  # weekly only
    nth: int | None = None  # monthly only


def parse_schedule_rule(text: str) -> ScheduleRule:
    """Parse a rule string; raise ValueError whose message says what is wrong and how to write it."""
    if not isinstance(text, str):
        raise ValueError(f"a schedule rule is text like 'mon 10:00', got {type(text).__name__}")
    norm = " ".join(text.lower().split())
    if not norm:
        raise ValueError("empty schedule rule; write something like 'mon 10:00' or 'daily 09:30'")
    m = _TIME.match(norm)
    if m is None:
        raise ValueError(f"'{text.strip()}' should end with a 24-hour time like 10:00 or 18:30 (e.g. 'mon 10:00')")
    at = _time(m["h"], m["m"])
    head = m["head"].strip()
    if not head:
        raise ValueError("missing the day(s) before the time, e.g. 'mon 10:00', 'daily 10:00', 'weekdays 10:00'")

    if head in ("daily", "every day"):
        return ScheduleRule("weekly", tuple(range(7)), at)
    if head in ("weekdays", "every weekday"):
        return ScheduleRule("weekly", tuple(range(5)), at)
    if head.startswith("every ") and (em := _EVERY_N_WEEKS.match(head)):
        weeks = int(em["n"]) if em["n"] else 2 if em["other"] else 1
        if not 1 <= weeks <= MAX_EVERY_WEEKS:
            raise ValueError(f"every {weeks} weeks: the number of weeks must be 1 to {MAX_EVERY_WEEKS}")
        return ScheduleRule("weekly", _days(em["days"]), at, every_weeks=weeks)
    if (mm := _MONTHLY.match(head)) is not None:
        if mm["nth"] not in _NTH:
            raise ValueError(f"unknown position '{mm['nth']}'; use first, second, third, fourth or last (e.g. 'first tue of month 12:00')")
        return ScheduleRule("monthly", _days(mm["days"]), at, nth=_NTH[mm["nth"]])
    if head.startswith("every ") and "week" in head:
        raise ValueError("rules every few weeks look like 'every 2 weeks on thu 18:30'")
    if "month" in head:
        raise ValueError("monthly rules look like 'first tue of month 12:00' (first/second/third/fourth/last)")
    if head.startswith("every "):
        # "every monday 10:00" reads naturally and means the same as "monday 10:00".
        head = head[len("every "):]
    return ScheduleRule("weekly", _days(head), at)


def _time(hours: str, minutes: str) -> time:
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        raise ValueError(f"'{hours}:{minutes}' is not a time; use 24-hour HH:MM from 00:00 to 23:59")
    return time(h, m)


def _days(text: str) -> tuple[int, ...]:
    """'mon', 'mon,thu', 'mon and thu', 'mon, wed and fri' -> sorted weekday numbers."""
    tokens = [t for t in text.replace(",", " ").split() if t != "and"]
    if not tokens:
        raise ValueError("missing the day(s), e.g. 'mon' or 'mon,thu'")
    days: list[int] = []
    for token in tokens:
        if token not in _DAYS:
            raise ValueError(f"unknown day '{token}'; use {', '.join(DAY_NAMES)} (or full names like monday)")
        if _DAYS[token] in days:
            raise ValueError(f"day '{token}' is given twice")
        days.append(_DAYS[token])
    return tuple(sorted(days))
