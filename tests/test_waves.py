"""Scheduled waves, the outbox worker, reminders, expiry and the clock's lease, with a frozen clock, on
SQLite and PostgreSQL."""
from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from surveys import admin
from surveys import models as m
from surveys import ratelimit
from surveys.channels import ChannelError
from surveys.housekeeping import expire_stale, hold_lease, send_reminders
from surveys.loader import load_survey_text
from surveys.outbox import MARK_AHEAD, Worker, claim, recover
from surveys.service import InboundMessage, handle_inbound
from surveys.waves import cancel_wave, create_wave, due_waves, wave_counts

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc
PANTRY = (ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml").read_text()


def survey_text(extra: str = "", sid: str = "pantry") -> str:
    return PANTRY.replace("id: pantry", f"id: {sid}").replace("expire_after_hours: 24", "expire_after_hours: 24\n" + extra)


class Recorder:
    """A channel that records what it sends; can be told to fail."""

    def __init__(self, name="local"):
        self.name = name
        self.sent: list[tuple[str, str]] = []
        self.fail: ChannelError | None = None
        self.ids = itertools.count(1)

    def send(self, address, message):
        if self.fail is not None:
            raise self.fail
        self.sent.append((address, message.text))
        return f"{self.name}-{next(self.ids)}"


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def world(db):
    """Three organisations, people on two channels, a survey loaded at T0 (a Monday, 10:00 UTC = 10:00 GMT)."""
    t0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", t0)
    admin.add_organisation(db, "Northside Youth", "YOUTH", t0)
    admin.add_organisation(db, "Lisbon Housing", "LISBON", t0, timezone="Europe/Lisbon")
    return db, t0


def load(db, now, extra="", sid="pantry"):
    admin.load_survey(db, load_survey_text(survey_text(extra, sid), f"{sid}.yaml"), now)


def consent(db, contact_id):
    with db.write() as conn:
        conn.execute(update(m.Enrolment.__table__).where(m.Enrolment.__table__.c.contact_id == contact_id)
                     .values(consent_status="given", consent_participate=True))


def person(db, now, number, org="PANTRY", channel="sms", given=True, **kw):
    contact_id = admin.add_participant(db, channel, number, org, now, **kw)
    if given:
        consent(db, contact_id)
    return contact_id


def invitations(db, wave_id):
    with db.read() as conn:
        return conn.execute(select(m.Invitation.contact_id, m.Invitation.language, m.Invitation.not_before,
                                   m.Invitation.status).where(m.Invitation.wave_id == wave_id)
                            .order_by(m.Invitation.contact_id)).all()


def drain(worker) -> None:
    while worker.run_once():
        pass


# ---- the snapshot ----------------------------------------------------------------------------------
def test_a_wave_invites_each_eligible_person_once(world):
    db, t0 = world
    load(db, t0, "audience: {organisations: [PANTRY, YOUTH], channels: [sms]}")
    a = person(db, t0, "+447700900001", "PANTRY")
    person(db, t0, "+447700900001", "YOUTH")  # same number, second organisation: still one invitation
    b = person(db, t0, "+447700900002", "YOUTH", given=False)  # imported, consent pending: asked first
    person(db, t0, "+447700900003", "LISBON")  # organisation not in the audience
    person(db, t0, "123456", "PANTRY", channel="telegram")  # channel not in the audience
    stopped = person(db, t0, "+447700900004", "PANTRY")
    with db.write() as conn:
        conn.execute(update(m.Contact.__table__).where(m.Contact.__table__.c.id == stopped).values(opted_out_at=t0))
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    result = create_wave(db, "pantry", at, t0)
    assert result.created and result.invited == 2
    assert [r.contact_id for r in invitations(db, result.wave_id)] == [a, b]
    again = create_wave(db, "pantry", at, t0)
    assert not again.created and again.wave_id == result.wave_id and again.invited == 2


def test_tags_and_languages_filter_the_audience(world):
    db, t0 = world
    load(db, t0, "audience: {tags: [youth], languages: [es]}")
    a = person(db, t0, "+447700900001", tags=["youth"], language="es")
    person(db, t0, "+447700900002", tags=["youth"], language="en")
    person(db, t0, "+447700900003", tags=["adults"], language="es")
    wave = create_wave(db, "pantry", t0 + timedelta(hours=2), t0)
    assert [(r.contact_id, r.language) for r in invitations(db, wave.wave_id)] == [(a, "es")]


def test_fatigue_counts_any_survey_by_any_organisation(world):
    db, t0 = world
    load(db, t0, sid="pantry")
    load(db, t0, "schedule: {rule: 'mon 10:00', fatigue_days: 7}", sid="youth-check")
    a = person(db, t0, "+447700900001", "PANTRY")
    b = person(db, t0, "+447700900002", "YOUTH")
    create_wave(db, "pantry", t0 + timedelta(hours=2), t0)  # no audience filter: asks both
    drain(Worker(db, {"sms": Recorder("sms")}, clock=Clock(t0 + timedelta(hours=2))))
    later = t0 + timedelta(days=3)
    assert expire_stale(db, later) == 2  # what the clock does: neither is busy any more
    wave = create_wave(db, "youth-check", later, later)
    assert invitations(db, wave.wave_id) == [] and wave.skipped == {"fatigue": 2}
    much_later = t0 + timedelta(days=8)
    assert {r.contact_id for r in invitations(db, create_wave(db, "youth-check", much_later, much_later).wave_id)} == {a, b}


@pytest.mark.parametrize("at, tz, expected", [
    # 10:00 London: not quiet, goes at once
    (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "Europe/London", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
    # 22:30 London: waits until 09:00 the next morning
    (datetime(2026, 11, 23, 22, 30, tzinfo=UTC), "Europe/London", datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),
    # 06:00 UTC in summer = 07:00 BST: waits until 09:00 BST = 08:00 UTC
    (datetime(2026, 7, 6, 6, 0, tzinfo=UTC), "Europe/London", datetime(2026, 7, 6, 8, 0, tzinfo=UTC)),
])
def test_quiet_hours_hold_invitations_in_the_contacts_timezone(world, at, tz, expected):
    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001")
    wave = create_wave(db, "pantry", at, min(at, t0))
    assert invitations(db, wave.wave_id)[0].not_before == expected


def test_busy_people_are_not_invited_again(world):
    db, t0 = world
    load(db, t0)
    a = person(db, t0, "+447700900001")
    worker = Worker(db, {"sms": Recorder("sms")}, clock=Clock(t0 + timedelta(hours=2)))
    create_wave(db, "pantry", t0 + timedelta(hours=2), t0)
    worker.run_once()
    second = create_wave(db, "pantry", t0 + timedelta(hours=3), t0 + timedelta(hours=3))
    assert second.skipped == {"busy": 1} and invitations(db, second.wave_id) == [] and a


# ---- the worker ------------------------------------------------------------------------------------
def test_worker_sends_each_invitation_once_and_the_conversation_continues(world):
    db, t0 = world
    load(db, t0)
    a = person(db, t0, "+447700900001")
    b = person(db, t0, "+447700900002", given=False)
    sms = Recorder("sms")
    clock = Clock(t0 + timedelta(hours=2))
    worker = Worker(db, {"sms": sms}, clock=clock)
    wave = create_wave(db, "pantry", clock.now, t0)
    while worker.run_once():
        pass
    assert sorted(sms.sent) == sorted([
        ("+447700900001", "Hi from Riverside Pantry! 5 quick questions about your pantry visit."),
        ("+447700900001", "How was your visit?"),
        ("+447700900002", "Riverside Pantry would like to send you a few short questions now and then, to hear what "
                          "you think of their services. Answers are kept securely and used only to improve services. "
                          "Do you agree to take part?"),
    ])
    assert worker.run_once() == 0 and len(sms.sent) == 3
    reply = handle_inbound(db, InboundMessage("sms", "+447700900001", "in-1", "4"), clock.now)
    assert reply.replies[0].text == "How did you get here?"
    counts = wave_counts(db, wave.wave_id)
    assert counts["invited"] == 2 and counts["sent"] == 2 and counts["started"] == 1 and counts["failed"] == 0
    assert a and b


def test_temporary_errors_back_off_and_permanent_errors_mark_the_person(world):
    db, t0 = world
    load(db, t0)
    a = person(db, t0, "+447700900001")
    sms = Recorder("sms")
    clock = Clock(t0 + timedelta(hours=2))
    worker = Worker(db, {"sms": sms}, clock=clock)
    create_wave(db, "pantry", clock.now, t0)
    sms.fail = ChannelError("twilio 503", permanent=False, code="503")
    worker.run_once()
    with db.read() as conn:
        rows = conn.execute(select(m.Message.status, m.Message.attempts, m.Message.not_before)
                            .where(m.Message.purpose == "invitation").order_by(m.Message.id)).all()
    assert rows[0].status == "retry" and rows[0].attempts == 1 and rows[0].not_before > clock.now
    assert worker.run_once() == 0  # not yet due
    clock.now += timedelta(minutes=5)
    sms.fail = ChannelError("twilio 400", permanent=True, code="21610", effect="opted_out")
    worker.run_once()
    with db.session() as s:
        assert s.get(m.Contact, a).opted_out_at is not None
        statuses = s.scalars(select(m.Message.status).where(m.Message.purpose == "invitation")).all()
    assert "failed" in statuses and "cancelled" in statuses  # the rest of the invitation is not sent


def test_a_dead_workers_rows_are_requeued_or_marked_unknown_never_resent_blindly(world):
    db, t0 = world
    load(db, t0)
    for i in range(3):
        person(db, t0, f"+44770090000{i}")
    clock = Clock(t0 + timedelta(hours=2))
    create_wave(db, "pantry", clock.now, t0)
    from surveys.outbox import start_due_invitations

    start_due_invitations(db, clock.now, 100)
    rows = claim(db, "dead-worker", clock.now, 100, ("sms",))
    assert len(rows) == 6
    with db.write() as conn:  # it had started one send when it died
        conn.execute(update(m.Message.__table__).where(m.Message.__table__.c.id == rows[0].id).values(status="sending"))
    assert recover(db, {"sms": Recorder("sms")}, clock.now) == {"requeued": 0, "reconciled": 0, "unknown": 0}
    clock.now += timedelta(minutes=3)
    assert recover(db, {"sms": Recorder("sms")}, clock.now) == {"requeued": 5, "reconciled": 0, "unknown": 1}
    sms = Recorder("sms")
    worker = Worker(db, {"sms": sms}, clock=clock)
    while worker.run_once():
        pass
    assert len(sms.sent) == 5


def test_reconcile_asks_the_provider_instead_of_guessing(world):
    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001")
    clock = Clock(t0 + timedelta(hours=2))
    create_wave(db, "pantry", clock.now, t0)
    from surveys.outbox import start_due_invitations

    start_due_invitations(db, clock.now, 100)
    rows = claim(db, "dead", clock.now, 100, ("sms",))
    with db.write() as conn:
        conn.execute(update(m.Message.__table__).where(m.Message.__table__.c.id.in_([r.id for r in rows]))
                     .values(status="sending"))

    class Reconciling(Recorder):
        def reconcile(self, address, since, message):
            return "SMfound" if not hasattr(self, "asked") and not setattr(self, "asked", True) else None

    clock.now += timedelta(minutes=3)
    assert recover(db, {"sms": Reconciling("sms")}, clock.now) == {"requeued": 1, "reconciled": 1, "unknown": 0}


def test_cancelling_a_wave_stops_what_has_not_gone(world):
    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001")
    person(db, t0, "+447700900002")
    night = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    wave = create_wave(db, "pantry", night, t0)
    assert cancel_wave(db, wave.wave_id, t0) == 2
    sms = Recorder("sms")
    Worker(db, {"sms": sms}, clock=Clock(night + timedelta(hours=12))).run_once()
    assert sms.sent == []


# ---- the clock -------------------------------------------------------------------------------------
def test_only_one_clock_leads_and_a_silent_leader_is_replaced(world):
    db, t0 = world
    ttl = timedelta(seconds=90)
    assert hold_lease(db, "clock", "a", t0, ttl)
    assert not hold_lease(db, "clock", "b", t0 + timedelta(seconds=30), ttl)
    assert hold_lease(db, "clock", "a", t0 + timedelta(seconds=30), ttl)
    assert hold_lease(db, "clock", "b", t0 + timedelta(seconds=121), ttl)
    assert not hold_lease(db, "clock", "a", t0 + timedelta(seconds=130), ttl)


def test_due_waves_are_made_once_and_downtime_is_caught_up(world):
    db, t0 = world
    load(db, t0, "schedule: {rule: 'daily 10:00', timezone: Europe/London}")
    person(db, t0, "+447700900001")
    first = due_waves(db, datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC))
    assert [(w.created, w.invited) for w in first] == [(True, 1)]
    assert due_waves(db, datetime(2026, 11, 23, 10, 1, tzinfo=UTC)) == []  # a second tick: nothing new
    # Down from Monday 10:01 to Thursday 11:00: Tuesday and Wednesday were missed (older than a day), Thursday is due.
    waves = due_waves(db, datetime(2026, 11, 26, 11, 0, tzinfo=UTC))
    with db.read() as conn:
        statuses = conn.execute(select(m.Wave.scheduled_for, m.Wave.status).order_by(m.Wave.scheduled_for)).all()
    assert [(w.hour, s) for w, s in statuses] == [(10, "open"), (10, "missed"), (10, "missed"), (10, "open")]
    assert len(waves) == 3


def test_reminders_go_once_to_the_right_people(world):
    db, t0 = world
    load(db, t0, "reminders: {not_started_after_hours: 6, not_finished_after_hours: 3}")
    person(db, t0, "+447700900001")  # will not answer
    person(db, t0, "+447700900002")  # will start, then stop answering
    person(db, t0, "+447700900003")  # will finish
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    sms = Recorder("sms")
    worker = Worker(db, {"sms": sms}, clock=clock)
    create_wave(db, "pantry", clock.now, clock.now)
    while worker.run_once():
        pass
    for text in ("4", "walk", "yes", "9", "no thanks"):
        handle_inbound(db, InboundMessage("sms", "+447700900003", f"c-{text}", text), clock.now)
    handle_inbound(db, InboundMessage("sms", "+447700900002", "b-1", "5"), clock.now)
    sms.sent.clear()
    clock.now += timedelta(hours=4)
    assert send_reminders(db, clock.now) == 1  # the one who started: after 3 hours
    clock.now += timedelta(hours=3)
    assert send_reminders(db, clock.now) == 1  # the one who never answered: after 6 hours
    assert send_reminders(db, clock.now + timedelta(hours=1)) == 0  # never twice
    while worker.run_once():
        pass
    to = sorted({a for a, _ in sms.sent})
    assert to == ["+447700900001", "+447700900002"]
    assert any(t.startswith("A quick reminder from Riverside Pantry") for _, t in sms.sent)


def test_stale_conversations_expire(world):
    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001")
    clock = Clock(t0 + timedelta(hours=2))
    create_wave(db, "pantry", clock.now, t0)
    Worker(db, {"sms": Recorder("sms")}, clock=clock).run_once()
    assert expire_stale(db, clock.now + timedelta(hours=23)) == 0
    assert expire_stale(db, clock.now + timedelta(hours=25)) == 1
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(m.Conversation).where(m.Conversation.status == "expired")).scalar() == 1


def test_stop_between_claim_and_send_stops_the_rest(world):
    """STOP always works: a batch already claimed is not sent to someone who has since opted out."""
    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001")
    clock = Clock(t0 + timedelta(hours=2))
    create_wave(db, "pantry", clock.now, t0)
    from surveys.outbox import start_due_invitations

    start_due_invitations(db, clock.now, 100)
    rows = claim(db, "w1", clock.now, 100, ("sms",))
    handle_inbound(db, InboundMessage("sms", "+447700900001", "stop-1", "STOP"), clock.now)
    sms = Recorder("sms")
    Worker(db, {"sms": sms}, clock=clock, worker_id="w1").send_batch(rows)
    assert sms.sent == []
    with db.read() as conn:
        assert set(conn.execute(select(m.Message.status).where(m.Message.purpose == "invitation")).scalars()) == {"cancelled"}


# ---- lanes and the shared rate limit -----------------------------------------------------------------
INTRO = "Hi from Riverside Pantry! 5 quick questions about your pantry visit."


class Timed(Recorder):
    """Records when each send happened, for the rate checks."""

    def __init__(self, name="sms"):
        super().__init__(name)
        self.times: list[float] = []
        self.lock = threading.Lock()

    def send(self, address, message):
        with self.lock:
            self.times.append(time.monotonic())
            self.sent.append((address, message.text))
        return f"{self.name}-{next(self.ids)}"


def most_in_one_second(times: list[float]) -> int:
    times, best, j = sorted(times), 0, 0
    for i in range(len(times)):
        while times[i] - times[j] >= 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_lanes_send_each_row_once_and_each_persons_messages_in_order(world):
    """Four lanes at once, batches that split people's messages: still once each, and the invitation's
    question never overtakes its introduction."""
    db, t0 = world
    load(db, t0)
    numbers = [f"+4477009{i:05d}" for i in range(40)]
    for number in numbers:
        person(db, t0, number)
    sms = Recorder("sms")
    clock = Clock(t0 + timedelta(hours=2))
    worker = Worker(db, {"sms": sms}, clock=clock, senders=4, batch=7)
    create_wave(db, "pantry", clock.now, t0)
    while worker.run_once():
        pass
    assert len(sms.sent) == 2 * len(numbers)
    for number in numbers:
        assert [text for to, text in sms.sent if to == number] == [INTRO, "How was your visit?"]
    with db.read() as conn:
        assert set(conn.execute(select(m.Message.status).where(m.Message.direction == "out")).scalars()) == {"queued"}


def test_two_workers_sharing_a_limit_never_exceed_it_in_any_second(world):
    db, t0 = world
    load(db, t0)
    for i in range(30):
        person(db, t0, f"+4477009{i:05d}")
    clock = Clock(t0 + timedelta(hours=2))
    create_wave(db, "pantry", clock.now, t0)
    sms = Timed("sms")
    workers = [Worker(db, {"sms": sms}, {"sms": 40}, clock=clock, worker_id=f"w{i}", batch=10) for i in range(2)]
    threads = [threading.Thread(target=lambda w=w: [None for _ in iter(w.run_once, 0)]) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sms.sent) == 60 and len(set(sms.sent)) == 60
    assert most_in_one_second(sms.times) <= 40


def test_a_rate_limited_row_waits_unmarked_and_a_late_wake_gives_up_its_slot(world):
    """While a lane waits for its slot the row is still only 'claimed' (a crash then hides nothing); a lane
    that wakes too late books a new slot rather than crowd the sends booked after its own."""
    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001")
    clock = Clock(t0 + timedelta(hours=2))
    create_wave(db, "pantry", clock.now, t0)
    sms = Timed("sms")
    seen: list[set[str]] = []

    def sleep(seconds):
        with db.read() as conn:
            statuses = set(conn.execute(select(m.Message.status).where(m.Message.direction == "out")).scalars())
        # The second message's first wait (the first sent and recorded, the second still only claimed)
        # ends well past the moment it should have been marked and sent.
        late = MARK_AHEAD + ratelimit.LATE + 0.05 if statuses == {"queued", "claimed"} and {"queued", "claimed"} not in seen else 0
        seen.append(statuses)
        time.sleep(seconds + late)

    worker = Worker(db, {"sms": sms}, {"sms": 10}, clock=clock, sleep=sleep)
    while worker.run_once():
        pass
    assert [text for _, text in sms.sent] == [INTRO, "How was your visit?"]
    assert {"queued", "claimed"} in seen  # waiting for its slot, the second was not yet marked 'sending'
    assert worker.rebooked >= 1
    step = 1 / (10 * ratelimit.SAFETY)
    assert sms.times[1] - sms.times[0] >= 1.5 * step  # the second went a slot later than first booked


def test_two_clocks_running_together_make_each_wave_once(world):
    """Two clock processes tick at the same moments: the lease lets one act; the unique (survey, time)
    constraint would catch a wave made twice even without it."""
    import threading

    from config.clock import tick

    db, t0 = world
    load(db, t0, "schedule: {rule: 'daily 10:00', timezone: Europe/London}")
    person(db, t0, "+447700900001")
    results = {"a": [], "b": []}
    moments = [datetime(2026, 11, 23 + d, 10, 0, 5, tzinfo=UTC) for d in range(3)]
    together = threading.Barrier(2)  # real clocks share one timeline: both tick each moment together

    def clock(name):
        for at in moments:
            together.wait()
            results[name].append(tick(db, at, holder=name))

    threads = [threading.Thread(target=clock, args=(n,)) for n in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as conn:
        waves = conn.execute(select(m.Wave.scheduled_for).order_by(m.Wave.scheduled_for)).scalars().all()
        invited = conn.execute(select(func.count()).select_from(m.Invitation)).scalar()
    assert [w.day for w in waves] == [23, 24, 25]
    assert invited == 3 and not any(r.get("waves", 0) > 1 for rs in results.values() for r in rs)
    leaders = [n for n, rs in results.items() if any(r["leader"] for r in rs)]
    assert leaders  # someone led; the other waited while the lease was held


def test_chorus_run_starts_everything_and_the_local_channel_prints_sends(tmp_path, monkeypatch):
    """`chorus run` in one process: web answers, the clock makes a due wave, the worker prints the sends."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    env = {**os.environ, "CHORUS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
           "CHORUS_SECRET_KEY": "run-test-secret-0123456789", "LOG_LEVEL": "WARNING"}
    chorus = str(Path(sys.executable).parent / "chorus")
    for args in (["db", "upgrade"], ["surveys", "load", str(ROOT / "surveys/examples/weekly.yaml")],
                 ["orgs", "add", "Demo", "--code", "demo"],
                 ["participants", "add", "+447700900321", "--org", "demo", "--channel", "local"]):
        subprocess.run([chorus, *args], env=env, check=True, capture_output=True, timeout=60)
    subprocess.run([chorus, "waves", "send-now", "weekly-checkin"], env=env, check=True, capture_output=True, timeout=60)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([chorus, "run", "--no-chat", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        health = None
        while time.time() < deadline and health is None:
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            except OSError:
                time.sleep(0.2)
        assert health and b'"ok":true' in health.replace(b" ", b"")
        time.sleep(3)  # the worker's first rounds
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    # It says what it can send through, and what not (no provider is configured here).
    assert "; sending through local; not configured: sms (set TWILIO_ACCOUNT_SID" in err, err
    # Quiet hours may hold the invitation (the test can run at night): then nothing is printed yet.
    from surveys.schedule import in_quiet_hours
    from datetime import time as dtime

    if not in_quiet_hours(datetime.now(UTC), "Europe/London", (dtime(21), dtime(9))):
        assert "[to +447700900321] Demo would like to send you a few short questions" in out, out + err


# ---- channels a worker has not got, quiet hours said, fatigue from what was sent (issue 11) -------------
def statuses_by_channel(db, wave_id):
    with db.read() as conn:
        return sorted(conn.execute(select(m.Invitation.channel, m.Invitation.status, m.Invitation.reason)
                                   .where(m.Invitation.wave_id == wave_id)).all())


def test_a_channel_the_worker_has_not_got_fails_at_once_and_can_be_sent_later(world):
    """Two people by SMS with no SMS channel in the worker: their invitations fail at once with the reason,
    even while quiet hours hold them, count as failed (not waiting), are not tried again, and go out once a
    worker has the channel and the wave is resent."""
    from surveys.engine import OutgoingMessage
    from surveys.outbox import queue

    db, t0 = world
    load(db, t0)
    for i in range(2):
        person(db, t0, f"+44770090000{i}", channel="local")
        person(db, t0, f"+44770090001{i}", channel="sms")
    night = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # quiet: everything waits until 09:00
    wave = create_wave(db, "pantry", night, night)
    alert = queue(db, "sms", OutgoingMessage("hello"), night, contact_id=person(db, t0, "+447700900020"))
    local = Recorder("local")
    clock = Clock(night)
    drain(Worker(db, {"local": local}, clock=clock))
    assert statuses_by_channel(db, wave.wave_id) == [
        ("local", "pending", None), ("local", "pending", None),
        ("sms", "failed", "no sms channel is configured"), ("sms", "failed", "no sms channel is configured")]
    from surveys.outbox import NOT_CONFIGURED
    from surveys.waves import resend_unconfigured, wave_failures

    with db.read() as conn:
        assert conn.execute(select(m.Message.status, m.Message.error_code).where(m.Message.id == alert)).one() \
            == ("failed", NOT_CONFIGURED)
    counts = wave_counts(db, wave.wave_id)
    assert (counts["invited"], counts["sent"], counts["failed"], counts["waiting"]) == (4, 0, 2, 2)
    assert wave_failures(db, wave.wave_id) == {"no sms channel is configured": 2}

    clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # morning, and hours later: nothing is tried again
    worker = Worker(db, {"local": local}, clock=clock)
    drain(worker)
    assert sorted({to for to, _ in local.sent}) == ["+447700900000", "+447700900001"]
    counts = wave_counts(db, wave.wave_id)
    assert (counts["invited"], counts["sent"], counts["failed"], counts["waiting"]) == (4, 2, 2, 0)

    # SMS configured: the wave's failed invitations go back (held by quiet hours at night), then out.
    clock.now = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
    assert resend_unconfigured(db, wave.wave_id, clock.now) == 2
    assert {r.not_before for r in invitations(db, wave.wave_id) if r.status == "pending"} \
        == {datetime(2026, 11, 25, 9, 0, tzinfo=UTC)}
    sms = Recorder("sms")
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    drain(Worker(db, {"local": local, "sms": sms}, clock=clock))
    assert sorted({to for to, _ in sms.sent}) == ["+447700900010", "+447700900011"]
    counts = wave_counts(db, wave.wave_id)
    assert (counts["invited"], counts["sent"], counts["failed"], counts["waiting"]) == (4, 4, 0, 0)
    assert wave_failures(db, wave.wave_id) == {}


def test_the_worker_says_what_it_sends_through_and_what_it_failed(db, caplog):
    """The process that sends names its channels at start and warns, with how to configure it, when it
    fails rows for a channel it has not got."""
    import logging

    from config.worker import describe_channels, make_worker

    t0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", t0)
    load(db, t0)
    person(db, t0, "+447700900001", channel="sms")
    create_wave(db, "pantry", t0 + timedelta(hours=2), t0)
    worker = make_worker(db, "w1")  # the test settings configure no provider
    assert describe_channels(worker.channels) == (
        "sending through local; not configured: sms (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
        "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID); telegram (set TELEGRAM_BOT_TOKEN); email (set SMTP_HOST)")
    with caplog.at_level(logging.WARNING, logger="surveys.outbox"):
        worker.run_once()
    assert [r.getMessage() for r in caplog.records if r.name == "surveys.outbox"] == [
        "no sms channel is configured in this worker (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
        "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID): 1 invitation(s) and 0 message(s) for it failed"]


def test_a_cancelled_or_failed_wave_is_no_contact_for_fatigue(world):
    """Fatigue counts messages that reached someone: a wave cancelled while quiet hours held it, or one
    whose sends failed, asked nobody anything."""
    db, t0 = world
    load(db, t0, "schedule: {rule: 'mon 10:00', fatigue_days: 7}")
    person(db, t0, "+447700900001")
    person(db, t0, "+447700900002")
    night = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    cancelled = create_wave(db, "pantry", night, night)
    assert cancelled.invited == 2 and cancel_wave(db, cancelled.wave_id, night) == 1 + 1
    clock = Clock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    sms = Recorder("sms")
    sms.fail = ChannelError("carrier rejected", permanent=True, code="30007")
    worker = Worker(db, {"sms": sms}, clock=clock)
    drain(worker)
    failed = create_wave(db, "pantry", clock.now, clock.now)
    assert failed.invited == 2 and failed.skipped == {}
    drain(worker)
    assert wave_counts(db, failed.wave_id)["failed"] == 2
    expire_stale(db, clock.now + timedelta(hours=25))
    clock.now += timedelta(hours=26)
    sms.fail = None
    sent = create_wave(db, "pantry", clock.now, clock.now)
    assert sent.invited == 2 and sent.skipped == {}
    drain(worker)
    assert wave_counts(db, sent.wave_id)["sent"] == 2
    expire_stale(db, clock.now + timedelta(hours=25))
    clock.now += timedelta(hours=26)
    assert create_wave(db, "pantry", clock.now, clock.now).skipped == {"fatigue": 2}


def test_cancelling_a_started_wave_before_anything_went_leaves_nobody_busy(world):
    """The worker had started the invitations (conversations open, messages waiting for their rate-limit
    slot) when the wave was cancelled: nobody was asked anything, so the next wave asks them."""
    from surveys.outbox import start_due_invitations
    from surveys.waves import send_now

    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001")
    person(db, t0, "+447700900002")
    at = t0 + timedelta(hours=2)
    wave = create_wave(db, "pantry", at, at)
    start_due_invitations(db, at, 100)
    assert cancel_wave(db, wave.wave_id, at) == 2
    again = send_now(db, "pantry", at + timedelta(minutes=1))
    assert again.invited == 2 and again.skipped == {}
    sms = Recorder("sms")
    drain(Worker(db, {"sms": sms}, clock=Clock(at + timedelta(minutes=1))))
    assert len(sms.sent) == 4 and wave_counts(db, wave.wave_id)["sent"] == 0


def cli(db, monkeypatch, now, *args):
    """Run `chorus ARGS` in this process against the test database, with the CLI's clock at `now`."""
    from click.testing import CliRunner

    import cli.waves
    from cli import main

    monkeypatch.setenv("DATABASE_URL", db.sql_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CHORUS_VAR_DIR", str(db.settings.var_dir))
    monkeypatch.setenv("CHORUS_SECRET_KEY", "test-secret-key-0123456789")
    monkeypatch.setattr(cli.waves, "_now", lambda: now)
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result


def test_send_now_in_quiet_hours_says_when_they_will_go(world, monkeypatch):
    """Held invitations are reported from their own not-before times, per timezone; outside quiet hours
    nothing is said to be held."""
    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001", "PANTRY")
    person(db, t0, "+447700900002", "PANTRY")
    person(db, t0, "+351912345678", "LISBON")
    night = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
    out = cli(db, monkeypatch, night, "waves", "send-now", "pantry").stdout
    assert out == ("wave #1: 3 invited (left out: nobody); 2 held by quiet hours until 09:00 Europe/London "
                   "(Tue 24 Nov), 1 held by quiet hours until 09:00 Europe/Lisbon (Tue 24 Nov); "
                   "`chorus worker` sends them then\n")
    shown = cli(db, monkeypatch, night, "waves", "show", "1").stdout
    assert "waiting: 2 held by quiet hours until 09:00 Europe/London (Tue 24 Nov)" in shown
    day = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    cancel_wave(db, 1, day)
    out = cli(db, monkeypatch, day, "waves", "send-now", "pantry").stdout
    assert out == "wave #2: 3 invited (left out: nobody); `chorus worker` sends them\n"


def test_waves_show_lists_failures_with_their_reason_and_the_remedy(world, monkeypatch):
    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001", channel="sms")
    person(db, t0, "+447700900002", channel="local")
    at = t0 + timedelta(hours=2)
    result = cli(db, monkeypatch, at, "waves", "send-now", "pantry")
    assert "warning: 1 invited by sms, and no sms channel is configured here" in result.stderr
    drain(Worker(db, {"local": Recorder("local")}, clock=Clock(at)))
    shown = cli(db, monkeypatch, at, "waves", "show", "1").stdout
    assert "  failed     1\n" in shown and "  sent       1\n" in shown and "  waiting    0\n" in shown
    assert ("failed, by reason (invitations):\n      1  no sms channel is configured in the worker (set "
            "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID, "
            "restart it, then `chorus waves resend 1`)\n") in shown
    assert "1 invitation(s) put back" in cli(db, monkeypatch, at, "waves", "resend", "1").stdout


# ---- the staff operations behind `chorus waves list` and `show` --------------------------------------
def statements(db, operation):
    """How many SQL statements `operation` runs (counted at the engine, nothing faked)."""
    from sqlalchemy import event

    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.sql_engine, "before_cursor_execute", count)
    try:
        result = operation()
    finally:
        event.remove(db.sql_engine, "before_cursor_execute", count)
    return result, len(seen)


def test_listing_waves_counts_them_all_in_the_same_few_queries(world):
    """No query per wave: listing six waves runs as many statements as listing two, and every count is what
    wave_counts says for that wave alone."""
    from surveys.waves import list_waves

    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001", "PANTRY")
    person(db, t0, "+447700900002", "YOUTH")
    waves = [create_wave(db, "pantry", t0 + timedelta(hours=i), t0, kind="manual").wave_id for i in range(6)]
    cancel_wave(db, waves[0], t0)
    drain(Worker(db, {"sms": Recorder("sms")}, clock=Clock(t0 + timedelta(hours=6))))
    two, few = statements(db, lambda: list_waves(db, "pantry", limit=2))
    six, many = statements(db, lambda: list_waves(db, "pantry", limit=6))
    assert [w.id for w in two] == waves[:-3:-1] and [w.id for w in six] == waves[::-1]
    assert few == many
    assert {w.id: w.counts for w in six} == {w: wave_counts(db, w) for w in waves}
    assert six[-1].status == "cancelled" and six[0].counts["invited"] == 2


def test_showing_a_wave_gives_everything_in_one_result_and_an_unknown_one_is_an_error(world):
    from surveys.waves import WaveError, show_wave

    db, t0 = world
    load(db, t0)
    person(db, t0, "+447700900001", "PANTRY")
    wave = create_wave(db, "pantry", t0, t0, kind="manual").wave_id
    detail = show_wave(db, wave, t0)
    assert (detail.wave.id, detail.wave.survey_id, detail.wave.kind) == (wave, "pantry", "manual")
    assert detail.wave.counts == wave_counts(db, wave) and detail.created_at == t0
    assert detail.failures == {}
    assert [(h.count, h.until, h.timezone) for h in detail.holds] == [(1, t0 + timedelta(hours=1), "Europe/London")]
    with pytest.raises(WaveError, match="no wave 99"):
        show_wave(db, 99, t0)
