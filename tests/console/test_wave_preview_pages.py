"""The console's send preview (GET /console/waves/preview) and its button (POST): the page shows what
surveys.wave_preview computes, scoped like the waves; the button makes exactly the wave previewed, or
nothing when the audience changed; errors sit beside their field; a GET writes nothing."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_text
from surveys.scope import Scope
from surveys.wave_preview import preview_wave
from surveys.waves import show_wave
from tests.console.conftest import csrf_token
from tests.console.test_pages_b import client_for, text

PANTRY = (Path(__file__).resolve().parents[1] / "transcripts" / "surveys" / "pantry.yaml").read_text()
OP = Scope.operator()


def river_only(db, now):
    """A survey whose audience is river's people alone: river's staff may send it."""
    survey = PANTRY.replace("id: pantry", "id: river-check").replace(
        "expire_after_hours: 24", "expire_after_hours: 24\naudience: {organisations: [river]}")
    admin.load_survey(db, load_survey_text(survey, "river-check.yaml"), now)


def form_fields(page: str) -> dict:
    """The button's own fields (survey, at, expect), without its CSRF token."""
    found = dict(re.findall(r'<input id="(\w+)" name="\w+" type="hidden" value="([^"]*)"', page))
    return {k: v for k, v in found.items() if k in ("survey", "at", "expect")}


def waves(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(m.Wave)).scalar()


def test_the_page_shows_the_preview_and_its_button_makes_that_wave(app, sqlite_db, people, clock):
    c = client_for(app, sqlite_db, "admin", clock)
    empty = text(c.get("/console/waves/preview"))
    assert "Preview a send" in empty and 'value="pantry"' in empty and "This reaches" not in empty
    assert "/console/waves/preview" in text(c.get("/console/waves"))       # reachable from the waves page
    admin.add_participant(sqlite_db, "sms", "+447700900981", "youth", clock(), source="join")   # not consented
    stopped = admin.add_participant(sqlite_db, "sms", "+447700900982", "river", clock())
    with sqlite_db.write() as conn:
        conn.execute(m.Contact.__table__.update().where(m.Contact.__table__.c.id == stopped).values(opted_out_at=clock()))
    before = waves(sqlite_db)
    page = text(c.get("/console/waves/preview?survey=pantry"))
    assert waves(sqlite_db) == before, "a preview made a wave"
    expected = preview_wave(sqlite_db, OP, "pantry", clock(), clock())
    assert expected.reached > 0 and expected.left_out == {"opted out": 1, "not consented": 1}
    assert f'This reaches <span class="n">{expected.reached}</span> people' in page
    for reason, n in expected.left_out.items():
        assert f'<li data-reason="{reason}">' in page and f'<span class="n">{n}</span>' in page
    assert re.search(r'<th scope="row">Youth Drop-in</th><td>not consented \([^)]*\): 1</td>', page)
    assert re.search(r'<th scope="row">Riverside Food Bank</th><td>opted out \(STOP\): 1</td>', page)
    assert "Cost by provider" in page and "When the last message goes" in page
    assert f"Send now to {expected.reached} people" in page
    fields = form_fields(page)
    assert fields["survey"] == "pantry" and fields["expect"] == expected.fingerprint
    clock.advance(minutes=2)
    made = c.post("/console/waves/preview", data={**fields, "csrf_token": csrf_token(c, "/console/")})
    assert made.status_code == 302 and "/console/waves/" in made.headers["Location"]
    wave_id = int(made.headers["Location"].rsplit("/", 1)[1])
    detail = show_wave(sqlite_db, wave_id, clock())
    assert detail.wave.counts["invited"] == expected.reached and detail.skipped == expected.left_out
    shown = text(c.get(f"/console/waves/{wave_id}"))
    for reason, n in expected.left_out.items():
        assert f'<li data-reason="{reason}">' in shown
    # The same button again: the wave for that instant exists already, nothing new is made.
    again = c.post("/console/waves/preview", data={**fields, "csrf_token": csrf_token(c, "/console/")},
                   follow_redirects=True)
    assert "was already made for this instant" in text(again) and waves(sqlite_db) == before + 1


def test_a_changed_audience_sends_nothing_and_shows_the_new_preview(app, sqlite_db, people, clock):
    c = client_for(app, sqlite_db, "admin", clock)
    fields = form_fields(text(c.get("/console/waves/preview?survey=pantry")))
    admin.add_participant(sqlite_db, "sms", "+447700900991", "river", clock())
    before = waves(sqlite_db)
    refused = c.post("/console/waves/preview", data={**fields, "csrf_token": csrf_token(c, "/console/")},
                     follow_redirects=True)
    assert "The audience changed since the preview" in text(refused) and "This reaches" in text(refused)
    assert waves(sqlite_db) == before
    assert c.post("/console/waves/preview", data=fields).status_code == 400      # no CSRF token
    clock.advance(minutes=30)
    stale = c.post("/console/waves/preview", data={**fields, "csrf_token": csrf_token(c, "/console/")},
                   follow_redirects=True)
    assert "minutes old: preview again" in text(stale) and waves(sqlite_db) == before


def test_mistakes_are_said_beside_their_field(app, sqlite_db, people, clock):
    c = client_for(app, sqlite_db, "admin", clock)
    bad_time = text(c.get("/console/waves/preview?survey=pantry&at=tomorrow"))
    assert 'id="at-error">Type a time like 2026-11-30 10:00 (UTC)' in bad_time and "This reaches" not in bad_time
    past = text(c.get("/console/waves/preview?survey=pantry&at=2020-01-01T10:00"))
    assert 'id="at-error">2020-01-01 10:00 UTC is in the past' in past
    unknown = text(c.get("/console/waves/preview?survey=nope"))
    assert 'id="survey-error">' in unknown and "This reaches" not in unknown
    assert 'id="survey-error">Choose a survey.' in text(c.get("/console/waves/preview?survey="))
    later = text(c.get("/console/waves/preview?survey=pantry&at=2026-11-30T10:00"))
    assert "This reaches" in later and "made by the clock" in later and "Send now to" not in later


def test_staff_see_their_organisations_and_send_only_what_is_all_theirs(app, sqlite_db, people, clock):
    river_only(sqlite_db, clock())
    staff = client_for(app, sqlite_db, "staff", clock)
    partnership = text(staff.get("/console/waves/preview?survey=pantry"))
    assert "This reaches" in partnership and "a backbone admin sends it" in partnership
    assert "Send now to" not in partnership and "Youth Drop-in" not in partnership
    own = text(staff.get("/console/waves/preview?survey=river-check"))
    reached = preview_wave(sqlite_db, OP, "river-check", clock(), clock()).reached
    assert f"Send now to {reached} " in own
    made = staff.post("/console/waves/preview", data={**form_fields(own), "csrf_token": csrf_token(staff, "/console/")})
    assert made.status_code == 302 and "/console/waves/" in made.headers["Location"]
    youth = client_for(app, sqlite_db, "other_org_staff", clock)
    refused = youth.get("/console/waves/preview?survey=river-check")
    assert refused.status_code == 403 and "does not reach your organisations" in text(refused)
    posted = youth.post("/console/waves/preview", data={**form_fields(own), "csrf_token": csrf_token(youth, "/console/")})
    assert posted.status_code == 403
    for who in ("governance", "safeguarding"):
        assert client_for(app, sqlite_db, who, clock).get("/console/waves/preview?survey=pantry").status_code == 403
