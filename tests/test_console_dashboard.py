"""The dashboard (analysis.dashboard) and the digest's console operations, scoped, on both databases."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from analysis.dashboard import dashboard
from analysis.digest import staff as ds
from surveys.scope import Forbidden, Scope
from tests.console_data import partnership, staff

W47 = (2026, 47)


@pytest.fixture
def data(db, now):
    return partnership(db, now)


def test_the_dashboard_and_the_digest_give_the_same_numbers_for_the_same_week_and_cutoff(db, now, data):
    archived = ds.build_digest(db, *W47, None, now, cutoff=now)
    digest = archived.digest
    board = dashboard(db, Scope.operator(), W47, now)
    assert board.week == digest.week == "2026-W47"
    assert board.partnership == digest.total
    assert board.organisations == digest.organisations
    assert board.open_flags == digest.open_flags
    assert board.summary == digest.summary
    assert [s.responses for s in board.surveys] == [p.responses for p in digest.surveys]
    assert board.themes_rising == list(dict.fromkeys(t for p in digest.surveys for t in p.rising))
    pantry = next(r for r in board.organisations if r.code == "PANTRY")
    assert board.partnership.people_invited.value == 9
    # HOUSING's 3 are withheld as small, so PANTRY's 6 are withheld too (else 9 - 6 gives 3 away)
    assert (pantry.people_invited.suppressed, pantry.people_invited.reason) == (True, "difference")
    housing = next(r for r in board.organisations if r.code == "HOUSING")
    assert housing.people_invited.suppressed and housing.people_invited.reason == "small"   # 3 people
    # The same for staff: their row of the same protected table, and the same partnership total.
    mine = dashboard(db, staff(data, "PANTRY"), W47, now)
    assert mine.organisations == [pantry] and mine.partnership == digest.total


def test_what_each_scope_sees_of_flags_and_waves(db, now, data):
    admin = dashboard(db, Scope.operator(), W47, now)
    assert admin.open_flags_by_org == {"PANTRY": 1}
    assert admin.open_flags.suppressed                   # one open flag: the digest withholds it
    gov = dashboard(db, Scope("governance"), W47, now)
    assert gov.open_flags_by_org == {} and gov.open_flags == admin.open_flags
    assert [r.code for r in gov.organisations] == [r.code for r in admin.organisations]
    housing = dashboard(db, staff(data, "HOUSING"), W47, now)
    assert housing.open_flags_by_org == {} and [r.code for r in housing.organisations] == ["HOUSING"]
    # waves of the week: last week's wave (9 people) is in W47
    [wave] = admin.waves
    assert wave.counts["invited"].value == 9
    [gwave] = gov.waves
    assert gwave.counts["invited"].value == 9
    assert all(f.value is None or not 0 < f.value < 5 for f in gwave.counts.values())   # 1..4 withheld
    assert dashboard(db, staff(data, "PANTRY", "safeguarding"), W47, now).waves == admin.waves
    assert dashboard(db, Scope.operator(), (2026, 48), now + timedelta(hours=1)).waves == []


def test_digest_operations_are_read_by_every_role_and_sent_only_by_an_admin(db, now, data):
    ds.build_digest(db, *W47, None, now)
    ds.build_digest(db, *W47, "PANTRY", now)
    assert [a.scope for a in ds.digest_archive(db, Scope("governance"))] == ["pantry", "partnership"]
    assert [a.scope for a in ds.digest_archive(db, staff(data, "HOUSING"))] == ["partnership"]
    assert [a.scope for a in ds.digest_archive(db, staff(data, "PANTRY"))] == ["pantry", "partnership"]
    preview = ds.preview_digest(db, Scope("governance"), *W47, None, now)
    assert preview.digest.week == "2026-W47" and "<html" in preview.printable_html.lower()
    assert "Jane Smith" not in preview.printable_html and "07700 900123" not in preview.printable_html
    with pytest.raises(Forbidden):
        ds.preview_digest(db, staff(data, "HOUSING"), *W47, "PANTRY", now)
    assert ds.printable_page(db, Scope("governance"), "2026-W47", "pantry").startswith(b"<!")
    assert ds.printable_page(db, Scope("governance"), "2026-W30", "partnership") is None
    with pytest.raises(Forbidden):
        ds.printable_page(db, staff(data, "HOUSING"), "2026-W47", "pantry")
    for scope in (Scope("governance"), staff(data, "PANTRY")):
        with pytest.raises(Forbidden):
            ds.send_digest_now(db, scope, *W47, None, now)
    with pytest.raises(ds.DigestError, match="nobody to send it to"):
        ds.send_digest_now(db, Scope.operator(), *W47, None, now)
    configured = type(db)(dataclasses.replace(db.settings, digest_recipients=("board@example.org",)), sql_engine=db.sql_engine)
    sent = ds.send_digest_now(db=configured, scope=Scope.operator(), year=2026, week=47, org_code=None, now=now)
    assert (sent.week, sent.scope, sent.queued, sent.recipients) == ("2026-W47", "partnership", 1, ["board@example.org"])


def test_the_theme_cache_gives_exactly_what_counting_afresh_gives():
    from analysis.digest.build import ThemeCache
    from analysis.themes import ThemeCounter

    def fresh(answers):
        c = ThemeCounter("en")
        for _, text in answers:
            c.add(text)
        return c

    week = [(1, "the queue was far too long"), (2, "the staff were so kind"), (3, "queue was awful again")]
    cache = ThemeCache(size=2)
    made = []

    def make():
        made.append(1)
        return ThemeCounter("en")

    first = cache.counter(("w",), list(week), make)
    assert first.counts() == fresh(week).counts() and len(made) == 1
    assert cache.counter(("w",), list(week), make) is first          # the same answers: reused as it is
    grown = week + [(7, "the long queue again")]
    extended = cache.counter(("w",), grown, make)
    assert extended is not first and len(made) == 1                  # a copy counted the new answer only
    assert extended.counts() == fresh(grown).counts() and first.counts() == fresh(week).counts()
    assert extended.label("queu") == fresh(grown).label("queu")
    edited = [(1, "the heating was freezing"), *grown[1:]]           # an answer edited: counted afresh
    assert cache.counter(("w",), edited, make).counts() == fresh(edited).counts() and len(made) == 2
    flagged = grown[1:]                                               # an answer gone (flagged, erased)
    assert cache.counter(("w",), flagged, make).counts() == fresh(flagged).counts() and len(made) == 3
    cache.counter(("x",), week, make)
    cache.counter(("y",), week, make)                                 # the oldest key is dropped (size 2)
    cache.counter(("w",), flagged, make)
    assert len(made) == 6
