"""The send preview (surveys.wave_preview), on SQLite and PostgreSQL: its counts are the wave's, for a
population with every reason to be left out; it writes nothing; its segments are what the worker sends;
it prices only what is configured; and it is scoped like the waves it previews."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from config.wiring import send_estimates
from sms.channel import sms_cost
from surveys import admin
from surveys import models as m
from surveys.scope import Forbidden, Scope
from surveys.wave_preview import preview_wave, send_previewed_wave
from surveys.waves import WaveError, create_wave, show_wave, wave_holds
from surveys.housekeeping import expire_stale
from surveys.loader import load_survey_text
from surveys.outbox import Worker
from tests.test_waves import PANTRY, Clock, Recorder, cli, drain, person

UTC = timezone.utc
BASE = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)   # Monday noon: daytime in London, 01:00 in Auckland
OP = Scope.operator()
PRICED = (Decimal("0.0079"), "USD")


@pytest.fixture
def world(db):
    """The organisations of tests/test_waves.py's world (PANTRY, YOUTH, LISBON), made on Monday at 08:00."""
    t0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", t0)
    admin.add_organisation(db, "Northside Youth", "YOUTH", t0)
    admin.add_organisation(db, "Lisbon Housing", "LISBON", t0, timezone="Europe/Lisbon")
    return db, t0


def load(db, sid, extra="", expire=24):
    text = PANTRY.replace("id: pantry", f"id: {sid}").replace("expire_after_hours: 24", f"expire_after_hours: {expire}\n{extra}")
    admin.load_survey(db, load_survey_text(text, f"{sid}.yaml"), BASE - timedelta(days=5))


def contact_set(db, contact_id, **values):
    with db.write() as conn:
        conn.execute(update(m.Contact.__table__).where(m.Contact.__table__.c.id == contact_id).values(**values))


def consent_in(db, contact_id, org_code, status):
    E, O = m.Enrolment.__table__, m.Organisation.__table__
    with db.write() as conn:
        org = conn.execute(select(O.c.id).where(O.c.code_key == org_code.casefold())).scalar_one()
        conn.execute(update(E).where(E.c.contact_id == contact_id, E.c.organisation_id == org).values(consent_status=status))


class Keeper(Recorder):
    """Records the messages themselves, to count their segments as the SMS channel would."""

    def __init__(self, name):
        super().__init__(name)
        self.messages = []
        self.ids = itertools.count(1000)

    def send(self, address, message):
        self.messages.append(message)
        return super().send(address, message)


@pytest.fixture
def population(world):
    """Every reason at once. The survey under test reaches PANTRY and AUCK by SMS or Telegram, with a
    two-day fatigue rule; two earlier surveys make one person fatigued and one busy."""
    db, t0 = world
    admin.add_organisation(db, "Auckland Kai", "AUCK", t0, timezone="Pacific/Auckland")
    load(db, "pantry", "audience: {organisations: [PANTRY, AUCK], channels: [sms, telegram]}\n"
                       "schedule: {rule: 'mon 10:00', fatigue_days: 2}")
    load(db, "earlier", "audience: {tags: [busy]}", expire=240)
    load(db, "recent", "audience: {tags: [tired]}", expire=1)
    p = {}
    p["a"] = person(db, t0, "+447700900001", "PANTRY")
    person(db, t0, "+447700900001", "YOUTH")                                  # a second enrolment: still one
    p["b"] = person(db, t0, "+447700900002", "PANTRY", given=False, language="es")   # imported, asked first
    p["c"] = person(db, t0, "555001", "AUCK", channel="telegram")             # held by Auckland's night
    p["d"] = person(db, t0, "+447700900004", "PANTRY")
    consent_in(db, p["d"], "PANTRY", "declined")
    p["e"] = person(db, t0, "+447700900005", "PANTRY", given=False, source="join")  # joined, never answered
    p["f"] = person(db, t0, "+447700900006", "PANTRY")
    contact_set(db, p["f"], opted_out_at=t0)
    p["g"] = person(db, t0, "+447700900007", "PANTRY")
    contact_set(db, p["g"], unreachable_at=t0, unreachable_reason="21211")
    p["h"] = person(db, t0, "+447700900008", "YOUTH")                         # organisation not in the audience
    p["i"] = person(db, t0, "local-9", "PANTRY", channel="local")             # channel not in the audience
    p["y"] = person(db, t0, "+447700900010", "YOUTH")                         # opted out, and outside anyway
    contact_set(db, p["y"], opted_out_at=t0)
    p["m"] = person(db, t0, "+447700900011", "YOUTH")
    person(db, t0, "+447700900011", "PANTRY")
    consent_in(db, p["m"], "PANTRY", "withdrawn")                             # consented only outside the audience
    p["k"] = person(db, t0, "+447700900012", "PANTRY", tags=["busy"])
    p["j"] = person(db, t0, "+447700900013", "PANTRY", tags=["tired"])
    sms = Recorder("sms")   # one recorder: provider ids stay unique
    create_wave(db, "earlier", BASE - timedelta(days=3), BASE - timedelta(days=3))
    drain(Worker(db, {"sms": sms}, clock=Clock(BASE - timedelta(days=3))))
    create_wave(db, "recent", BASE - timedelta(days=1), BASE - timedelta(days=1))
    drain(Worker(db, {"sms": sms}, clock=Clock(BASE - timedelta(days=1))))
    assert expire_stale(db, BASE) == 1                                         # j is no longer busy, k still is
    return db, p


def snapshot(db):
    with db.read() as conn:
        return {t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr) for t in m.Base.metadata.sorted_tables}


def test_the_preview_counts_are_the_waves_and_writing_nothing(population):
    db, p = population
    estimates = send_estimates(db.settings.with_overrides(sms_price_per_segment=PRICED))
    before = snapshot(db)
    preview = preview_wave(db, OP, "pantry", BASE, BASE, estimates)
    assert snapshot(db) == before, "a preview wrote something"
    assert preview.reached == 3 and preview.by_channel == {"sms": 2, "telegram": 1}
    assert preview.by_organisation == {"Auckland Kai": 1, "Riverside Pantry": 2} and preview.other_organisations == 0
    assert preview.left_out == {"audience": 3, "opted out": 1, "unreachable": 1, "not consented": 3, "fatigue": 1,
                                "busy": 1}
    assert list(preview.left_out) == ["audience", "opted out", "unreachable", "not consented", "fatigue", "busy"]
    [hold] = preview.holds
    assert (hold.count, hold.until, hold.timezone) == (1, datetime(2026, 11, 23, 20, 0, tzinfo=UTC), "Pacific/Auckland")

    made = send_previewed_wave(db, OP, "pantry", BASE, BASE, preview.fingerprint)
    detail = show_wave(db, made.wave_id, BASE)
    assert made.created and made.invited == preview.reached and made.by_channel == preview.by_channel
    assert detail.skipped == preview.left_out and detail.wave.counts["invited"] == preview.reached
    assert wave_holds(db, made.wave_id, BASE) == preview.holds
    with db.read() as conn:
        invited = set(conn.execute(select(m.Invitation.contact_id).where(m.Invitation.wave_id == made.wave_id)).scalars())
    assert invited == {p["a"], p["b"], p["c"]}

    # The segments are those of what the worker then sends by SMS (a: intro and first question; b: the
    # consent question in Spanish), and the price is the configured one times those segments.
    sms = Keeper("sms")
    drain(Worker(db, {"sms": sms, "telegram": Recorder("telegram")}, clock=Clock(BASE)))
    sent = sum(sms_cost(msg).segments for msg in sms.messages)
    assert len(sms.messages) == 3 and sent == sum(s.segments for s in preview.sms)
    assert {s.language: s.people for s in preview.sms} == {"en": 1, "es": 1}
    by = {c.channel: c for c in preview.costs}
    assert by["sms"].messages == 3 and by["sms"].units == sent and by["sms"].cost == PRICED[0] * sent
    assert by["telegram"].cost is None and "does not charge" in by["telegram"].pricing.note
    # The last message: Telegram's one person when Auckland's night ends; SMS within a second of noon.
    assert preview.last_by_channel["telegram"] == datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    assert BASE <= preview.last_by_channel["sms"] <= BASE + timedelta(seconds=1)
    assert preview.last_message_at == datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def test_without_a_price_the_preview_says_so_and_without_estimates_it_guesses_nothing(population):
    db, _ = population
    unpriced = preview_wave(db, OP, "pantry", BASE, BASE, send_estimates(db.settings))
    sms = next(c for c in unpriced.costs if c.channel == "sms")
    assert sms.cost is None and sms.pricing.price is None and "SMS_PRICE_PER_SEGMENT" in sms.pricing.note
    bare = preview_wave(db, OP, "pantry", BASE, BASE)
    assert not bare.estimated and bare.costs == [] and bare.sms == [] and bare.last_message_at is None
    assert bare.reached == unpriced.reached == 3


def test_the_last_message_waits_for_the_channels_rate(world):
    db, t0 = world
    load(db, "pantry", "audience: {channels: [sms]}")
    for n in range(30):
        person(db, t0, f"+4477009002{n:02d}", "PANTRY")
    slow = send_estimates(db.settings.with_overrides(sms_rate_per_second=1.0))
    preview = preview_wave(db, OP, "pantry", BASE, BASE, slow)
    units = next(c for c in preview.costs if c.channel == "sms").units
    each = units // 30
    assert units == 30 * each
    # 1 segment a second: the last person's first segment goes when everyone before has had theirs.
    assert preview.last_by_channel["sms"] == BASE + timedelta(seconds=29 * each)


def test_a_changed_audience_or_a_stale_preview_makes_no_wave(population):
    db, _ = population
    preview = preview_wave(db, OP, "pantry", BASE, BASE)
    person(db, BASE, "+447700900099", "PANTRY")
    with pytest.raises(WaveError, match="it now reaches 4 \\(the preview said 3\\)"):
        send_previewed_wave(db, OP, "pantry", BASE, BASE + timedelta(minutes=1), preview.fingerprint)
    with pytest.raises(WaveError, match="minutes old: preview again"):
        send_previewed_wave(db, OP, "pantry", BASE, BASE + timedelta(minutes=20), preview.fingerprint)
    with pytest.raises(WaveError, match="made by the clock"):
        send_previewed_wave(db, OP, "pantry", BASE + timedelta(days=1), BASE, preview.fingerprint)
    with db.read() as conn:
        assert conn.execute(select(m.Wave.id).where(m.Wave.survey_id == "pantry")).first() is None
    with pytest.raises(WaveError, match="in the past"):
        preview_wave(db, OP, "pantry", BASE - timedelta(hours=1), BASE)
    with pytest.raises(WaveError, match="no survey 'nope'"):
        preview_wave(db, OP, "nope", BASE, BASE)


def test_a_later_wave_is_previewed_at_its_own_time(population):
    db, _ = population
    later = preview_wave(db, OP, "pantry", BASE + timedelta(days=2), BASE)
    # Two days on, j's survey is more than two days old: no longer fatigued.
    assert later.reached == 4 and "fatigue" not in later.left_out
    assert not later.can_send and "made by the clock" in later.why_not


def test_the_preview_is_scoped_like_the_waves(population):
    db, _ = population
    ids = {}
    with db.read() as conn:
        for code, i in conn.execute(select(m.Organisation.code_key, m.Organisation.id)):
            ids[code] = i
    pantry_staff = Scope("staff", frozenset({ids["pantry"]}), 7, "pat")
    seen = preview_wave(db, pantry_staff, "pantry", BASE, BASE)
    assert seen.reached == 3 and seen.by_organisation == {"Riverside Pantry": 2} and seen.other_organisations == 1
    assert set(seen.left_out_by_organisation) == {"Riverside Pantry"}
    assert not seen.can_send and "a backbone admin sends it" in seen.why_not
    with pytest.raises(Forbidden):
        send_previewed_wave(db, pantry_staff, "pantry", BASE, BASE, seen.fingerprint)
    both = Scope("staff", frozenset({ids["pantry"], ids["auck"]}), 8, "both")
    assert preview_wave(db, both, "pantry", BASE, BASE).can_send
    with pytest.raises(Forbidden, match="does not reach your organisations"):
        preview_wave(db, Scope("staff", frozenset({ids["youth"]}), 9, "yo"), "pantry", BASE, BASE)
    for scope in (Scope("governance"), Scope("safeguarding", frozenset({ids["pantry"]}))):
        with pytest.raises(Forbidden):
            preview_wave(db, scope, "pantry", BASE, BASE)
    # A survey with no organisation in its audience reaches every organisation: youth staff may look.
    assert preview_wave(db, Scope("staff", frozenset({ids["youth"]}), 9, "yo"), "earlier", BASE, BASE).reached == 0


def test_chorus_waves_preview_prints_the_preview_and_makes_nothing(population, monkeypatch):
    db, _ = population
    monkeypatch.setenv("SMS_PRICE_PER_SEGMENT", "0.0079 USD")
    out = cli(db, monkeypatch, BASE, "waves", "preview", "pantry").stdout
    assert out.startswith("preview of pantry (Community pantry visit, version ")
    assert "at 2026-11-23 12:00 UTC: reaches 3 people\n" in out
    assert "  by channel: sms 2, telegram 1\n" in out
    assert "left out: 10\n" in out and "       3  not consented (declined, withdrawn, or joined and never answered)\n" in out
    assert "waiting: 1 held by quiet hours until 09:00 Pacific/Auckland (Tue 24 Nov)\n" in out
    assert "SMS first send, es: 1 person x " in out
    assert "cost, sms (Twilio): 2 people, 3 messages, " in out and " x 0.0079 USD = " in out
    assert "cost, telegram (Telegram Bot API): 1 person, 2 messages, 2 messages: Telegram does not charge" in out
    assert "last message goes at about 2026-11-23 20:00:00 UTC" in out
    assert out.endswith("nothing was made; `chorus waves send-now pantry` sends a wave now\n")
    with db.read() as conn:
        assert conn.execute(select(m.Wave.id).where(m.Wave.survey_id == "pantry")).first() is None
    later = cli(db, monkeypatch, BASE, "waves", "preview", "pantry", "--at", "2026-11-25T12:00").stdout
    assert "at 2026-11-25 12:00 UTC: reaches 4 people" in later and "the clock makes scheduled waves" in later


def test_send_now_says_apart_who_is_outside_the_audience(population, monkeypatch):
    db, _ = population
    out = cli(db, monkeypatch, BASE, "waves", "send-now", "pantry").stdout
    assert out.startswith("wave #3: 3 invited (left out: busy 1, fatigue 1, not consented 3, opted out 1, "
                          "unreachable 1), 3 enrolled outside its audience; 1 held by quiet hours until 09:00 "
                          "Pacific/Auckland (Tue 24 Nov); `chorus worker` sends the rest now"), out
