"""surveys.schedule: when rules fire and when quiet hours end, across DST, with fixed dates only."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.schedule import in_quiet_hours, next_occurrence, occurrences, quiet_until
from surveys.schedule_rule import ScheduleRule, parse_schedule_rule

UTC = timezone.utc
LONDON = "Europe/London"
NIGHT = (time(21, 0), time(9, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires(rule: str, after: datetime, until: datetime, tz: str = LONDON, **bounds) -> list[datetime]:
    return occurrences(parse_schedule_rule(rule), tz, after, until, **bounds)


# ---- weekly rules (January 2026: GMT = UTC; 2026-01-05 is a Monday) ------------------------------------

def test_weekly_rule_fires_every_week_at_local_time():
    assert fires("mon 10:00", utc(2026, 1, 1), utc(2026, 1, 31)) == [
        utc(2026, 1, 5, 10), utc(2026, 1, 12, 10), utc(2026, 1, 19, 10), utc(2026, 1, 26, 10)]


def test_several_days_are_merged_in_order():
    assert fires("mon,thu 10:00", utc(2026, 1, 5), utc(2026, 1, 16)) == [
        utc(2026, 1, 5, 10), utc(2026, 1, 8, 10), utc(2026, 1, 12, 10), utc(2026, 1, 15, 10)]


def test_daily_and_weekdays():
    assert fires("daily 09:30", utc(2026, 1, 9), utc(2026, 1, 12, 12)) == [
        utc(2026, 1, 9, 9, 30), utc(2026, 1, 10, 9, 30), utc(2026, 1, 11, 9, 30), utc(2026, 1, 12, 9, 30)]
    assert fires("weekdays 12:00", utc(2026, 1, 9), utc(2026, 1, 14)) == [
        utc(2026, 1, 9, 12), utc(2026, 1, 12, 12), utc(2026, 1, 13, 12)]


def test_after_is_excluded_and_until_included():
    at = utc(2026, 1, 12, 10)
    assert fires("mon 10:00", at, at + timedelta(days=7)) == [at + timedelta(days=7)]
    assert fires("mon 10:00", at - timedelta(seconds=1), at) == [at]
    assert fires("mon 10:00", at, at) == []
    assert fires("mon 10:00", at + timedelta(hours=1), at) == []  # an empty (backwards) window


def test_window_in_another_zone_means_the_same_instants():
    paris = ZoneInfo("Europe/Paris")
    after, until = datetime(2026, 1, 5, 11, tzinfo=paris), datetime(2026, 1, 12, 11, tzinfo=paris)  # 10:00 UTC
    assert fires("mon 10:00", after, until) == [utc(2026, 1, 12, 10)]
    assert all(at.tzinfo is UTC for at in fires("daily 10:00", after, until))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        fires("mon 10:00", datetime(2026, 1, 1), utc(2026, 2, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        quiet_until(datetime(2026, 1, 1, 22), LONDON, NIGHT)


def test_start_and_end_are_inclusive_local_dates():
    got = fires("daily 10:00", utc(2026, 1, 1), utc(2026, 2, 1), start=date(2026, 1, 10), end=date(2026, 1, 12))
    assert got == [utc(2026, 1, 10, 10), utc(2026, 1, 11, 10), utc(2026, 1, 12, 10)]


def test_start_and_end_compare_local_dates_not_utc_dates():
    # 00:30 in Kolkata is 19:00 UTC the day before: the local date decides.
    got = fires("daily 00:30", utc(2026, 1, 1), utc(2026, 2, 1), tz="Asia/Kolkata",
                start=date(2026, 1, 10), end=date(2026, 1, 11))
    assert got == [utc(2026, 1, 9, 19), utc(2026, 1, 10, 19)]


# ---- every N weeks ------------------------------------------------------------------------------------

def test_every_two_weeks_counts_from_the_week_of_start():
    rule = "every 2 weeks on thu 18:30"
    # start on Wednesday 7 January: its week (Mon 5th) is week 0 and fires on Thursday 8th.
    assert fires(rule, utc(2026, 1, 1), utc(2026, 2, 28), start=date(2026, 1, 7)) == [
        utc(2026, 1, 8, 18, 30), utc(2026, 1, 22, 18, 30), utc(2026, 2, 5, 18, 30), utc(2026, 2, 19, 18, 30)]
    # start on Friday 9th: still week 0, but Thursday 8th is before the start.
    assert fires(rule, utc(2026, 1, 1), utc(2026, 2, 10), start=date(2026, 1, 9)) == [
        utc(2026, 1, 22, 18, 30), utc(2026, 2, 5, 18, 30)]
    # start a week later: the other fortnight.
    assert fires(rule, utc(2026, 1, 1), utc(2026, 2, 10), start=date(2026, 1, 12)) == [
        utc(2026, 1, 15, 18, 30), utc(2026, 1, 29, 18, 30)]


def test_every_two_weeks_without_start_counts_from_1970_01_05():
    # 2026-01-05 is 2922 weeks after 1970-01-05: an even week, so it fires.
    assert (date(2026, 1, 5) - date(1970, 1, 5)).days // 7 == 2922
    assert fires("every 2 weeks on thu 18:30", utc(2026, 1, 1), utc(2026, 2, 10)) == [
        utc(2026, 1, 8, 18, 30), utc(2026, 1, 22, 18, 30), utc(2026, 2, 5, 18, 30)]
    # Stable: a later window gives the same fortnights.
    assert fires("every 2 weeks on thu 18:30", utc(2026, 1, 20), utc(2026, 1, 30)) == [utc(2026, 1, 22, 18, 30)]


def test_every_three_weeks_on_two_days():
    rule = ScheduleRule("weekly", (0, 4), time(8, 0), every_weeks=3)
    got = occurrences(rule, "UTC", utc(2026, 1, 1), utc(2026, 2, 28), start=date(2026, 1, 5))
    assert got == [utc(2026, 1, 5, 8), utc(2026, 1, 9, 8), utc(2026, 1, 26, 8), utc(2026, 1, 30, 8),
                   utc(2026, 2, 16, 8), utc(2026, 2, 20, 8)]


# ---- monthly rules ------------------------------------------------------------------------------------

def test_first_tuesday_of_month():
    assert fires("first tue of month 12:00", utc(2026, 1, 1), utc(2026, 3, 1)) == [
        utc(2026, 1, 6, 12), utc(2026, 2, 3, 12)]


def test_second_and_fourth():
    assert fires("second mon of month 09:00", utc(2026, 1, 1), utc(2026, 3, 1)) == [
        utc(2026, 1, 12, 9), utc(2026, 2, 9, 9)]
    # March 2026 has five Tuesdays (3..31): the fourth is the 24th, not the last.
    assert fires("fourth tue of month 09:00", utc(2026, 3, 1), utc(2026, 4, 1)) == [utc(2026, 3, 24, 9)]  # still GMT


def test_last_weekday_of_month_with_four_or_five_of_them():
    # Fridays: January 2026 has five (30th is last), February four (27th), March four (27th).
    assert fires("last fri of the month 17:00", utc(2026, 1, 1), utc(2026, 4, 1)) == [
        utc(2026, 1, 30, 17), utc(2026, 2, 27, 17), utc(2026, 3, 27, 17)]
    # Tuesdays in March 2026: five, the last on the 31st (BST by then).
    assert fires("last tue of month 12:00", utc(2026, 3, 1), utc(2026, 4, 1)) == [utc(2026, 3, 31, 11)]


def test_monthly_rule_on_two_days():
    rule = ScheduleRule("monthly", (0, 3), time(12, 0), nth=1)  # first Monday and first Thursday
    assert occurrences(rule, "UTC", utc(2026, 1, 1), utc(2026, 2, 28)) == [
        utc(2026, 1, 1, 12), utc(2026, 1, 5, 12), utc(2026, 2, 2, 12), utc(2026, 2, 5, 12)]


# ---- Europe/London summer time: forward 2026-03-29 01:00 UTC, back 2026-10-25 01:00 UTC ----------------

def test_sunday_10am_follows_summer_time():
    assert fires("sun 10:00", utc(2026, 3, 21), utc(2026, 4, 6)) == [
        utc(2026, 3, 22, 10), utc(2026, 3, 29, 9), utc(2026, 4, 5, 9)]
    assert fires("sun 10:00", utc(2026, 10, 17), utc(2026, 11, 2)) == [
        utc(2026, 10, 18, 9), utc(2026, 10, 25, 10), utc(2026, 11, 1, 10)]


def test_a_time_in_the_spring_gap_fires_when_the_clocks_jump():
    # 01:30 does not exist on 29 March: it fires at 02:00 BST = 01:00 UTC.
    assert fires("sun 01:30", utc(2026, 3, 21), utc(2026, 4, 6)) == [
        utc(2026, 3, 22, 1, 30), utc(2026, 3, 29, 1), utc(2026, 4, 5, 0, 30)]


def test_a_time_in_the_autumn_fold_fires_once_at_the_first_reading():
    assert fires("sun 01:30", utc(2026, 10, 24, 12), utc(2026, 10, 25, 12)) == [utc(2026, 10, 25, 0, 30)]
    # The second 01:30 (01:30 GMT = 01:30 UTC) is not a firing.
    assert fires("sun 01:30", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 12)) == []


def test_daily_9am_across_both_changes():
    assert fires("daily 09:00", utc(2026, 3, 28), utc(2026, 3, 30, 23)) == [
        utc(2026, 3, 28, 9), utc(2026, 3, 29, 8), utc(2026, 3, 30, 8)]
    assert fires("daily 09:00", utc(2026, 10, 24), utc(2026, 10, 26, 23)) == [
        utc(2026, 10, 24, 8), utc(2026, 10, 25, 9), utc(2026, 10, 26, 9)]


# ---- other zones ---------------------------------------------------------------------------------------

def test_new_york_dst():
    ny = "America/New_York"  # forward 2026-03-08 02:00 EST, back 2026-11-01 02:00 EDT
    assert fires("daily 09:00", utc(2026, 3, 7), utc(2026, 3, 9, 23), tz=ny) == [
        utc(2026, 3, 7, 14), utc(2026, 3, 8, 13), utc(2026, 3, 9, 13)]
    assert fires("sun 02:30", utc(2026, 3, 7), utc(2026, 3, 9), tz=ny) == [utc(2026, 3, 8, 7)]  # 03:00 EDT
    assert fires("sun 01:30", utc(2026, 10, 31), utc(2026, 11, 2), tz=ny) == [utc(2026, 11, 1, 5, 30)]  # EDT
    assert fires("daily 09:00", utc(2026, 10, 31), utc(2026, 11, 2, 23), tz=ny) == [
        utc(2026, 10, 31, 13), utc(2026, 11, 1, 14), utc(2026, 11, 2, 14)]


def test_kolkata_has_no_dst():
    got = fires("mon 10:00", utc(2026, 1, 1), utc(2026, 12, 31), tz="Asia/Kolkata")
    assert len(got) == 52
    assert {(at.hour, at.minute) for at in got} == {(4, 30)}


# ---- next_occurrence ----------------------------------------------------------------------------------

def test_next_occurrence():
    rule = parse_schedule_rule("mon 10:00")
    assert next_occurrence(rule, LONDON, utc(2026, 1, 6)) == utc(2026, 1, 12, 10)
    assert next_occurrence(rule, LONDON, utc(2026, 1, 12, 10)) == utc(2026, 1, 19, 10)  # strictly after
    assert next_occurrence(rule, LONDON, utc(2026, 1, 12, 9, 59)) == utc(2026, 1, 12, 10)
    assert next_occurrence(rule, LONDON, utc(2026, 1, 6), start=date(2026, 2, 1)) == utc(2026, 2, 2, 10)
    assert next_occurrence(rule, LONDON, utc(2026, 1, 6), end=date(2026, 1, 12)) == utc(2026, 1, 12, 10)
    assert next_occurrence(rule, LONDON, utc(2026, 1, 13), end=date(2026, 1, 12)) is None


def test_next_occurrence_reaches_a_year_ahead():
    # every 52 weeks, started a week ago: the next firing is 51 weeks away.
    rule = ScheduleRule("weekly", (0,), time(10, 0), every_weeks=52)
    assert next_occurrence(rule, "UTC", utc(2026, 1, 13), start=date(2026, 1, 5)) == utc(2027, 1, 4, 10)
    assert next_occurrence(parse_schedule_rule("last fri of month 17:00"), LONDON, utc(2026, 1, 31)) == \
        utc(2026, 2, 27, 17)


def test_bad_rules_are_refused():
    with pytest.raises(ValueError, match="kind"):
        occurrences(ScheduleRule("yearly", (0,), time(10)), "UTC", utc(2026, 1, 1), utc(2026, 2, 1))
    with pytest.raises(ValueError, match="nth"):
        occurrences(ScheduleRule("monthly", (0,), time(10), nth=5), "UTC", utc(2026, 1, 1), utc(2026, 2, 1))


# ---- quiet hours --------------------------------------------------------------------------------------

@pytest.mark.parametrize("at, expected", [
    (utc(2026, 1, 15, 12), utc(2026, 1, 15, 12)),          # daytime: unchanged
    (utc(2026, 1, 15, 23, 30), utc(2026, 1, 16, 9)),       # late evening: tomorrow morning
    (utc(2026, 1, 15, 6), utc(2026, 1, 15, 9)),            # early morning: this morning
    (utc(2026, 1, 15, 21), utc(2026, 1, 16, 9)),           # exactly the start: quiet
    (utc(2026, 1, 15, 20, 59, 59), utc(2026, 1, 15, 20, 59, 59)),
    (utc(2026, 1, 15, 9), utc(2026, 1, 15, 9)),            # exactly the end: not quiet
    (utc(2026, 1, 15, 8, 59, 59), utc(2026, 1, 15, 9)),
    (utc(2026, 1, 15, 0, 0), utc(2026, 1, 15, 9)),         # midnight
    (utc(2026, 7, 1, 22, 30), utc(2026, 7, 2, 8)),         # 23:30 BST -> 09:00 BST
])
def test_quiet_until_night_window_in_london(at, expected):
    assert quiet_until(at, LONDON, NIGHT) == expected
    assert in_quiet_hours(at, LONDON, NIGHT) is (expected != at)


def test_quiet_until_answers_in_utc():
    at = datetime(2026, 7, 1, 23, 30, tzinfo=ZoneInfo(LONDON))
    got = quiet_until(at, LONDON, NIGHT)
    assert got == utc(2026, 7, 2, 8) and got.tzinfo is UTC
    noon = datetime(2026, 7, 1, 12, tzinfo=ZoneInfo(LONDON))
    assert quiet_until(noon, LONDON, NIGHT).tzinfo is UTC


def test_quiet_window_not_crossing_midnight():
    lunch = (time(13, 0), time(14, 0))
    assert quiet_until(utc(2026, 1, 15, 13, 30), LONDON, lunch) == utc(2026, 1, 15, 14)
    assert quiet_until(utc(2026, 1, 15, 13), LONDON, lunch) == utc(2026, 1, 15, 14)
    assert quiet_until(utc(2026, 1, 15, 14), LONDON, lunch) == utc(2026, 1, 15, 14)
    assert quiet_until(utc(2026, 1, 15, 12, 59), LONDON, lunch) == utc(2026, 1, 15, 12, 59)
    assert quiet_until(utc(2026, 1, 15, 23), LONDON, lunch) == utc(2026, 1, 15, 23)


def test_equal_start_and_end_means_no_quiet_hours():
    none = (time(9, 0), time(9, 0))
    for hour in range(24):
        at = utc(2026, 1, 15, hour)
        assert not in_quiet_hours(at, LONDON, none)
        assert quiet_until(at, LONDON, none) == at


def test_quiet_end_in_the_spring_gap():
    # 00:30-01:30 on 2026-03-29: 01:30 does not exist, so quiet ends when the clocks jump (02:00 BST).
    window = (time(0, 30), time(1, 30))
    assert quiet_until(utc(2026, 3, 29, 0, 45), LONDON, window) == utc(2026, 3, 29, 1)
    assert not in_quiet_hours(utc(2026, 3, 29, 1), LONDON, window)
    # The night window across the change: 22:00 GMT Saturday -> 09:00 BST Sunday.
    assert quiet_until(utc(2026, 3, 28, 22), LONDON, NIGHT) == utc(2026, 3, 29, 8)


def test_quiet_end_in_the_autumn_fold():
    window = (time(0, 30), time(1, 30))
    # Entered before or during the first 01:xx: ends at the first 01:30 (BST, 00:30 UTC).
    assert quiet_until(utc(2026, 10, 24, 23, 45), LONDON, window) == utc(2026, 10, 25, 0, 30)
    assert quiet_until(utc(2026, 10, 25, 0, 10), LONDON, window) == utc(2026, 10, 25, 0, 30)
    # 00:45 UTC is 01:45 BST: not quiet.
    assert quiet_until(utc(2026, 10, 25, 0, 45), LONDON, window) == utc(2026, 10, 25, 0, 45)
    # 01:10 UTC is 01:10 GMT, the repeated hour: quiet again, and the first 01:30 has passed.
    assert quiet_until(utc(2026, 10, 25, 1, 10), LONDON, window) == utc(2026, 10, 25, 1, 30)
    assert quiet_until(utc(2026, 10, 24, 21), LONDON, NIGHT) == utc(2026, 10, 25, 9)  # 22:00 BST -> 09:00 GMT


def test_gap_that_swallows_the_whole_allowed_window_waits_a_day():
    # Quiet 01:45-01:30 leaves 01:30-01:45 allowed, which does not exist on 2026-03-29.
    window = (time(1, 45), time(1, 30))
    got = quiet_until(utc(2026, 3, 29, 0, 50), LONDON, window)
    assert got == utc(2026, 3, 30, 0, 30)  # 01:30 BST on Monday
    assert not in_quiet_hours(got, LONDON, window)


def test_quiet_hours_in_the_contacts_own_zone():
    ny = "America/New_York"
    # 03:00 UTC on the 15th is 22:00 EST on the 14th: quiet until 09:00 EST on the 15th (14:00 UTC).
    assert quiet_until(utc(2026, 1, 15, 3), ny, NIGHT) == utc(2026, 1, 15, 14)
    # 12:00 UTC is 07:00 EST: quiet; 15:00 UTC is 10:00 EST: fine.
    assert quiet_until(utc(2026, 1, 15, 12), ny, NIGHT) == utc(2026, 1, 15, 14)
    assert quiet_until(utc(2026, 1, 15, 15), ny, NIGHT) == utc(2026, 1, 15, 15)
    # Kolkata (+05:30): 16:00 UTC is 21:30 IST -> 09:00 IST next day = 03:30 UTC.
    assert quiet_until(utc(2026, 1, 15, 16), "Asia/Kolkata", NIGHT) == utc(2026, 1, 16, 3, 30)
    assert quiet_until(utc(2026, 1, 15, 23), "Asia/Kolkata", NIGHT) == utc(2026, 1, 16, 3, 30)
    assert quiet_until(utc(2026, 1, 15, 5), "Asia/Kolkata", NIGHT) == utc(2026, 1, 15, 5)


# ---- properties ---------------------------------------------------------------------------------------

# Zones with DST of an hour (both hemispheres), half an hour (Lord Howe), at 02:45 (Chatham), at midnight
# (Santiago), and none.
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham",
         "America/Santiago", "Asia/Kolkata", "UTC"]
# Times near the transitions turn up often; any minute of the day can.
TIMES = st.one_of(st.sampled_from([time(0, 0), time(0, 30), time(1, 0), time(1, 30), time(2, 0), time(2, 15),
                                   time(2, 30), time(2, 45), time(3, 0), time(23, 59)]),
                  st.builds(time, st.integers(0, 23), st.integers(0, 59)))
# Instants anywhere in 2025-2027, or within a day or so of a transition in one of ZONES.
TRANSITION_DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 8), date(2026, 11, 1), date(2026, 4, 5),
                   date(2026, 10, 4), date(2026, 9, 27), date(2026, 9, 6), date(2026, 4, 4)]
INSTANTS = st.one_of(
    st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    st.builds(lambda d, m: datetime.combine(d, time(), UTC) + timedelta(minutes=m),
              st.sampled_from(TRANSITION_DAYS), st.integers(-36 * 60, 36 * 60)))
DAYS = st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True).map(lambda d: tuple(sorted(d)))
RULES = st.one_of(
    st.builds(lambda days, at, n: ScheduleRule("weekly", days, at, every_weeks=n), DAYS, TIMES, st.integers(1, 4)),
    st.builds(lambda days, at, nth: ScheduleRule("monthly", days, at, nth=nth), DAYS, TIMES,
              st.sampled_from([1, 2, 3, 4, -1])))
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fires_on(rule: ScheduleRule, day: date, start: date | None) -> bool:
    """The test's own reading of the rule for one local date."""
    if day.weekday() not in rule.days:
        return False
    if rule.kind == "monthly":
        same_weekday_in_month = [d for d in range(1, 32) if _valid(day.year, day.month, d)
                                 and date(day.year, day.month, d).weekday() == day.weekday()]
        return same_weekday_in_month[rule.nth if rule.nth == -1 else rule.nth - 1] == day.day
    monday = (start or date(1970, 1, 5)) - timedelta(days=(start or date(1970, 1, 5)).weekday())
    return ((day - monday).days // 7) % rule.every_weeks == 0


def _valid(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


@FAST
@given(rule=RULES, tz=st.sampled_from(ZONES), after=INSTANTS, hours=st.integers(0, 24 * 40),
       start=st.none() | st.dates(date(2024, 12, 1), date(2027, 12, 31)),
       length=st.none() | st.integers(0, 60))
def test_occurrences_properties(rule, tz, after, hours, start, length):
    until = after + timedelta(hours=hours)
    end = None if length is None else (start or date(2026, 1, 1)) + timedelta(days=length)
    got = occurrences(rule, tz, after, until, start, end)
    zone = ZoneInfo(tz)
    assert got == sorted(set(got))
    for at in got:
        assert after < at <= until and at.tzinfo is UTC
        local = at.astimezone(zone)
        wanted = datetime.combine(local.date(), rule.at)
        if local.replace(tzinfo=None) != wanted:
            # Only a time lost in a gap moves, and then to the first instant after the gap: a second
            # earlier the clock read less than the rule's time.
            before = (at - timedelta(seconds=1)).astimezone(zone).replace(tzinfo=None)
            assert before < wanted < local.replace(tzinfo=None)
        assert local.weekday() in rule.days and _fires_on(rule, local.date(), start)
        assert start is None or local.date() >= start
        assert end is None or local.date() <= end
    # Nothing missed: each allowed local date in the window whose rule time is safely inside it is there.
    day = after.astimezone(zone).date()
    while day <= until.astimezone(zone).date():
        in_bounds = (start is None or day >= start) and (end is None or day <= end)
        instant = datetime.combine(day, rule.at, zone).astimezone(UTC)
        if in_bounds and _fires_on(rule, day, start) and after + timedelta(hours=4) < instant < until - timedelta(hours=4):
            assert any(at.astimezone(zone).date() == day for at in got), day
        day += timedelta(days=1)


@FAST
@given(rule=RULES, tz=st.sampled_from(ZONES), after=INSTANTS, h1=st.integers(0, 24 * 20),
       h2=st.integers(0, 24 * 20), start=st.none() | st.dates(date(2024, 12, 1), date(2027, 12, 31)))
def test_occurrences_split_and_next_occurrence_agree(rule, tz, after, h1, h2, start):
    middle, until = after + timedelta(hours=h1), after + timedelta(hours=h1 + h2)
    whole = occurrences(rule, tz, after, until, start)
    assert whole == occurrences(rule, tz, after, middle, start) + occurrences(rule, tz, middle, until, start)
    following = next_occurrence(rule, tz, after, start)
    if following is None:  # every rule fires within 13 months of its start
        assert start is not None and start > after.date() + timedelta(days=350)
    else:
        assert whole[:1] == ([following] if following <= until else [])
        assert following == occurrences(rule, tz, after, following, start)[-1]


QUIET = st.tuples(TIMES, TIMES)


@FAST
@given(at=INSTANTS, tz=st.sampled_from(ZONES), quiet=QUIET)
def test_quiet_until_properties(at, tz, quiet):
    got = quiet_until(at, tz, quiet)
    assert got >= at and got.tzinfo is UTC
    assert not in_quiet_hours(got, tz, quiet)
    if not in_quiet_hours(at, tz, quiet):
        assert got == at
    else:
        assert got - at <= timedelta(days=2)
        local = got.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        wanted = datetime.combine(local.date(), quiet[1])
        if local != wanted:  # only a gap moves the end, to the first instant after it
            before = (got - timedelta(seconds=1)).astimezone(ZoneInfo(tz)).replace(tzinfo=None)
            assert before < wanted < local


@FAST
@given(at=INSTANTS, tz=st.sampled_from(["Asia/Kolkata", "UTC"]), quiet=QUIET, step=st.integers(1, 59))
def test_quiet_until_is_the_first_allowed_minute_without_dst(at, tz, quiet, step):
    # With a fixed offset, every instant between `at` and the answer is quiet.
    got = quiet_until(at, tz, quiet)
    probe = at
    while probe < got:
        assert in_quiet_hours(probe, tz, quiet)
        probe += timedelta(minutes=step)
