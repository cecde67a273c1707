"""Retention on both databases, with a frozen clock: each kind is purged exactly at its boundary (a row exactly
N days old goes, one a second younger stays), only its words or details go, twice changes nothing; the clock
runs it once a day under its lease; bad periods stop Chorus in one line; the CLI shows and runs it."""
from __future__ import annotations

import itertools
import logging
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select, update

from config.settings import SettingsError, load_settings
from surveys import admin, retention
from surveys import models as m
from surveys.engine import OutgoingMessage
from surveys.loader import load_survey_file
from surveys.outgoing import outbound_row
from surveys.scope import Forbidden, Scope
from surveys.service import InboundMessage, handle_inbound, start_conversation
from surveys.store import Store

ROOT = Path(__file__).resolve().parent.parent
DAYS = 30
OLD = datetime(2026, 10, 20, 10, 0, tzinfo=timezone.utc)      # exactly DAYS days before NOW: purged
YOUNG = OLD + timedelta(seconds=1)                              # a second younger: kept
NOW = OLD + timedelta(days=DAYS)
A, M, C, J, AU = (m.Answer.__table__, m.Message.__table__, m.Contact.__table__, m.ExportJob.__table__,
                  m.AuditEntry.__table__)
HARD = "The bus to the food bank was cancelled and my neighbour Sarah had to drive me"
MORE = "Please tell the volunteers thank you"
NOTHING = {key: 0 for key, _ in retention.COUNTS}
_ids = itertools.count(1)


def only(**days) -> dict:
    return {k.key: days.get(k.key) for k in retention.KINDS}


def say(db, address, text, at):
    return handle_inbound(db, InboundMessage("local", address, f"rt-{next(_ids)}", text), at)


@pytest.fixture
def store(db):
    admin.load_survey(db, load_survey_file(ROOT / "surveys" / "examples" / "weekly.yaml"), OLD - timedelta(days=90))
    admin.add_organisation(db, "Demo Partnership", "demo", OLD - timedelta(days=90))
    return db


def answers_weekly(db, address, at) -> int:
    """A person who joins, consents and answers the weekly check-in, everything at `at`."""
    for text in ("JOIN demo", "yes", "no"):
        say(db, address, text, at)
    contact = admin.find_contact(db, "local", address)
    start_conversation(db, contact, "weekly-checkin", at)
    for text in ("2", HARD, "yes", MORE):
        say(db, address, text, at)
    return contact


def rows(db, table, *where):
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).where(*where).order_by(table.c.id))]


# ---- free text --------------------------------------------------------------------------------------------
def test_free_text_goes_exactly_at_the_boundary_and_numbers_choices_and_tags_stay(store):
    db = store
    alice, bob = answers_weekly(db, "alice", OLD), answers_weekly(db, "bob", YOUNG)
    with db.write() as conn:
        conn.execute(update(A).where(A.c.contact_id == alice, A.c.question_key == "what_was_hard")
                     .values(tags={"label": "negative", "polarity": -0.4, "analyzer": "feedback"}))
    alice_before, bob_before = rows(db, A, A.c.contact_id == alice), rows(db, A, A.c.contact_id == bob)
    bob_messages = rows(db, M, M.c.contact_id == bob)
    alice_out = rows(db, M, M.c.contact_id == alice, M.c.direction == "out")
    alice_said = [r for r in rows(db, M, M.c.contact_id == alice, M.c.direction == "in") if r["text"] is not None]

    counts = retention.purge(db, NOW, only(free_text=DAYS))

    after = {r["question_key"]: r for r in rows(db, A, A.c.contact_id == alice)}
    assert set(after) == {"week", "what_was_hard", "support", "anything_else"}
    assert all(r["raw_text"] is None for r in after.values())
    assert after["what_was_hard"]["value_text"] is None and after["anything_else"]["value_text"] is None
    assert after["what_was_hard"]["tags"] == {"label": "negative", "polarity": -0.4, "analyzer": "feedback"}
    before = {r["question_key"]: r for r in alice_before}
    assert after["week"]["value_num"] == 2.0
    for key in ("week", "support"):
        assert (after[key]["value_num"], after[key]["value_text"], after[key]["status"]) == \
               (before[key]["value_num"], before[key]["value_text"], before[key]["status"])
    assert all(r["text"] is None for r in rows(db, M, M.c.contact_id == alice, M.c.direction == "in"))
    assert rows(db, M, M.c.contact_id == alice, M.c.direction == "out") == alice_out   # the log is another kind
    assert rows(db, A, A.c.contact_id == bob) == bob_before                            # a second younger
    assert rows(db, M, M.c.contact_id == bob) == bob_messages
    assert counts["free_text_answers"] == 4
    assert len(alice_said) >= 4 and counts["free_text_messages"] == len(alice_said)
    assert retention.purge(db, NOW, only(free_text=DAYS)) == NOTHING                  # twice: nothing more
    assert not any(HARD in str(v) or MORE in str(v) for t in (A, M) for r in rows(db, t, t.c.contact_id == alice)
                   for v in r.values())


def test_an_answer_behind_an_open_flag_keeps_its_words_until_the_flag_is_closed(store):
    db = store
    alice = answers_weekly(db, "alice", OLD)
    hard = rows(db, A, A.c.contact_id == alice, A.c.question_key == "what_was_hard")[0]
    with db.write() as conn:
        flag_id = conn.execute(insert(m.Flag.__table__).values(
            answer_id=hard["id"], categories=["risk"], rules=["risk.x"], status="open", created_at=OLD)
            .returning(m.Flag.__table__.c.id)).scalar_one()
    assert retention.purge(db, NOW, only(free_text=DAYS))["free_text_answers"] == 3
    assert rows(db, A, A.c.id == hard["id"])[0]["raw_text"] == HARD
    with db.write() as conn:
        conn.execute(update(m.Flag.__table__).where(m.Flag.__table__.c.id == flag_id).values(status="closed"))
    assert retention.purge(db, NOW, only(free_text=DAYS))["free_text_answers"] == 1
    assert rows(db, A, A.c.id == hard["id"])[0]["raw_text"] is None


# ---- contact details --------------------------------------------------------------------------------------
def test_contact_details_go_after_the_last_activity_and_the_refusal_is_remembered(store):
    db = store
    alice, bob = answers_weekly(db, "alice", OLD - timedelta(days=5)), answers_weekly(db, "bob", OLD)
    say(db, "alice", "STOP", OLD)                    # her last activity, exactly at the boundary
    carol = answers_weekly(db, "carol", OLD - timedelta(days=5))
    say(db, "carol", "thanks", YOUNG)                # her last activity: a second younger
    dave = answers_weekly(db, "dave", OLD - timedelta(days=5))
    with db.write() as conn:                          # something still waiting in the outbox for dave
        conn.execute(insert(M).values(outbound_row(OutgoingMessage("reminder"), channel="local", contact_id=dave,
                                                   status="retry", created_at=OLD - timedelta(days=5))))
    hashes = {r["id"]: r["address_hash"] for r in rows(db, C)}

    counts = retention.purge(db, NOW, only(contacts=DAYS))

    by_id = {r["id"]: r for r in rows(db, C)}
    assert counts["contacts"] == 2
    for gone in (alice, bob):
        assert by_id[gone]["address"] is None and by_id[gone]["address_hash"] == hashes[gone]
        assert by_id[gone]["unreachable_at"] == NOW and "retention" in by_id[gone]["unreachable_reason"]
    assert by_id[alice]["opted_out_at"] == OLD                 # her STOP is still remembered
    assert by_id[carol]["address"] == "carol" and by_id[carol]["unreachable_at"] is None
    assert by_id[dave]["address"] == "dave"
    assert retention.purge(db, NOW, only(contacts=DAYS)) == NOTHING
    assert retention.purge(db, NOW + timedelta(seconds=1), only(contacts=DAYS))["contacts"] == 1     # now carol

    say(db, "bob", "hello again", NOW + timedelta(days=1))     # he writes again: found by the hash, reachable
    bob_now = rows(db, C, C.c.id == bob)[0]
    assert (bob_now["address"], bob_now["unreachable_at"]) == ("bob", None)
    say(db, "alice", "hello", NOW + timedelta(days=1))         # still opted out: found, and not restarted
    assert rows(db, C, C.c.id == alice)[0]["opted_out_at"] == OLD


def test_a_contact_who_declined_is_not_given_their_address_back(store):
    db = store
    for text in ("JOIN demo", "no"):                           # declines: the address is dropped at once
        say(db, "erin", text, OLD)
    erin = admin.find_contact(db, "local", "erin")
    assert rows(db, C, C.c.id == erin)[0]["address"] is None
    say(db, "erin", "hello", NOW)
    assert rows(db, C, C.c.id == erin)[0]["address"] is None


# ---- message logs -----------------------------------------------------------------------------------------
def test_message_log_text_goes_at_the_boundary_but_never_what_the_outbox_still_needs(store):
    db = store
    alice, bob = answers_weekly(db, "alice", OLD), answers_weekly(db, "bob", YOUNG)
    with db.write() as conn:
        for status in retention.OUTBOX_NEEDS:
            conn.execute(insert(M).values(outbound_row(OutgoingMessage(f"still {status}"), channel="local",
                                                       contact_id=alice, status=status, created_at=OLD)))
        conn.execute(insert(M).values(outbound_row(OutgoingMessage("the digest"), channel="email", status="sent",
                                                   to_address="board@example.org", created_at=OLD)))
    bob_messages = rows(db, M, M.c.contact_id == bob)
    before = rows(db, M, M.c.contact_id == alice) + rows(db, M, M.c.channel == "email")
    holding = [r for r in before if r["status"] not in retention.OUTBOX_NEEDS
               and (r["text"], r["payload"], r["to_address"]) != (None, None, None)]

    counts = retention.purge(db, NOW, only(messages=DAYS))

    old = rows(db, M, M.c.contact_id == alice) + rows(db, M, M.c.channel == "email")
    waiting = [r for r in old if r["status"] in retention.OUTBOX_NEEDS]
    assert sorted(r["text"] for r in waiting) == sorted(f"still {s}" for s in retention.OUTBOX_NEEDS)
    done = [r for r in old if r["status"] not in retention.OUTBOX_NEEDS]
    assert done and all(r["text"] is None and r["payload"] is None and r["to_address"] is None for r in done)
    assert all(r["external_id"] is not None for r in done if r["direction"] == "in")  # redeliveries still known
    assert len(holding) > 10 and counts["messages"] == len(holding)
    assert rows(db, M, M.c.contact_id == bob) == bob_messages
    assert retention.purge(db, NOW, only(messages=DAYS)) == NOTHING


def test_large_tables_are_purged_in_batches(store, monkeypatch):
    db = store
    monkeypatch.setattr(retention, "BATCH", 3)
    with db.write() as conn:
        conn.execute(insert(AU), [dict(at=OLD - timedelta(minutes=i), actor="admin", action="user.add")
                                  for i in range(10)])
    assert retention.purge(db, NOW, only(audit=DAYS))["audit_entries"] == 10
    assert rows(db, AU) == []


# ---- exports ------------------------------------------------------------------------------------------------
def test_exports_and_their_files_go_at_the_boundary(db, tmp_path):
    db = Store(db.settings.with_overrides(var_dir=tmp_path), sql_engine=db.sql_engine)
    folder = retention.export_dir(db.settings)
    folder.mkdir()
    with db.write() as conn:
        ids = [conn.execute(insert(J).values(role="admin", organisation_ids=[], actor="admin", filter={},
                                             format="csv", keep_personal_details=False, status="done",
                                             created_at=at, finished_at=at).returning(J.c.id)).scalar_one()
               for at in (OLD, YOUNG)]
        for job_id in ids:
            path = folder / f"export-{job_id}.csv"
            path.write_text("pseudonym,answer\n")
            conn.execute(update(J).where(J.c.id == job_id).values(path=str(path)))
    for name, at in (("export-900.part", OLD), ("export-901.part", YOUNG), ("notes.txt", OLD)):
        (folder / name).write_text("x")
        os.utime(folder / name, (at.timestamp(), at.timestamp()))
    os.utime(folder / f"export-{ids[1]}.csv", (OLD.timestamp(), OLD.timestamp()))   # its job decides, not its age

    counts = retention.purge(db, NOW, only(exports=DAYS))

    assert (counts["export_jobs"], counts["export_files"]) == (1, 2)
    assert [r["id"] for r in rows(db, J)] == [ids[1]]
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"export-{ids[1]}.csv", "export-901.part", "notes.txt"])
    assert retention.purge(db, NOW, only(exports=DAYS)) == NOTHING


def test_the_export_folder_is_the_one_exports_are_written_to(db):
    from analysis.responses import export_dir

    assert retention.export_dir(db.settings) == export_dir(db)


# ---- audit -------------------------------------------------------------------------------------------------
def test_audit_entries_go_at_the_boundary(db):
    with db.write() as conn:
        conn.execute(insert(AU), [dict(at=at, actor="admin", action="user.add") for at in (OLD, YOUNG)])
    assert retention.purge(db, NOW, only(audit=DAYS))["audit_entries"] == 1
    assert [r["at"] for r in rows(db, AU)] == [YOUNG]
    assert retention.purge(db, NOW, only(audit=DAYS)) == NOTHING


def test_kinds_without_a_period_are_kept(store):
    db = store
    answers_weekly(db, "alice", OLD - timedelta(days=3650))
    with db.write() as conn:
        conn.execute(insert(AU).values(at=OLD - timedelta(days=3650), actor="admin", action="user.add"))
    assert retention.purge(db, NOW, only()) == NOTHING
    assert retention.periods(db.settings) == only(exports=7)       # the defaults: everything kept but exports


# ---- runs and the clock -----------------------------------------------------------------------------------
def test_the_clock_purges_once_a_day_after_3am_local_under_its_lease(db, caplog):
    from config import clock

    monday_2am = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)      # Europe/London: UTC in November
    db = Store(db.settings.with_overrides(retention_audit_days=DAYS), sql_engine=db.sql_engine)
    with db.write() as conn:
        conn.execute(insert(AU).values(at=monday_2am - timedelta(days=DAYS), actor="admin", action="user.add"))
    with caplog.at_level(logging.INFO, logger="surveys.retention"):
        assert clock.retention_job(db, monday_2am, holder="a")["audit_entries"] == 1     # never run: due at once
    assert "audit_entries=1" in caplog.text
    assert clock.retention_job(db, monday_2am + timedelta(minutes=15), holder="a") is None   # done today
    three = monday_2am + timedelta(hours=1)
    assert clock.retention_job(db, three - timedelta(seconds=1), holder="a") is None  # before 03:00
    assert clock.retention_job(db, three, holder="b") is None                         # "a" holds the lease
    assert clock.retention_job(db, three, holder="a") == NOTHING                       # 03:00: the day's run
    assert clock.retention_job(db, three + timedelta(hours=5), holder="a") is None
    runs = retention.last_runs(db, Scope.operator())
    assert [(r.at, r.source, r.total) for r in runs] == [(three, "clock", 0), (monday_2am, "clock", 1)]
    assert runs[0].periods["audit"] == DAYS and runs[0].finished_at == three


def test_the_clock_registers_the_retention_job(sqlite_db):
    from config.clock import RETENTION_CHECK, retention_job, scheduler

    job = scheduler(sqlite_db, blocking=False).get_job("chorus-retention")
    assert job is not None and job.func is retention_job and job.args == (sqlite_db,)
    assert job.trigger.interval == timedelta(seconds=RETENTION_CHECK)


def test_a_run_logs_counts_and_never_what_it_purged(store, caplog):
    db = Store(store.settings.with_overrides(retention_free_text_days=DAYS), sql_engine=store.sql_engine)
    answers_weekly(db, "+447700900123", OLD)
    with caplog.at_level(logging.INFO, logger="surveys.retention"):
        done = retention.run(db, NOW, source=retention.COMMAND_LINE)
    assert done.counts["free_text_answers"] == 4
    assert "free_text_answers=4" in caplog.text
    assert HARD not in caplog.text and "900123" not in caplog.text


def test_only_admins_see_the_runs(db):
    with pytest.raises(Forbidden):
        retention.last_runs(db, Scope("staff", frozenset({1})))
    assert retention.overview(db, Scope.operator(), NOW).runs == []


# ---- settings ---------------------------------------------------------------------------------------------
def _env(tmp_path, **extra):
    return {"CHORUS_VAR_DIR": str(tmp_path), "CHORUS_SECRET_KEY": "x" * 32, **extra}


@pytest.mark.parametrize("name", [k.setting for k in retention.KINDS])
@pytest.mark.parametrize("value", ["0", "-3", "30d", "1.5", "forever"])
def test_a_bad_period_stops_chorus_with_the_variables_name(tmp_path, name, value):
    with pytest.raises(SettingsError) as err:
        load_settings(env=_env(tmp_path, **{name: value}), dotenv=False)
    assert str(err.value) == f"{name}: expected a whole number of days (at least 1) or 'never', got {value!r}"


def test_periods_are_read_from_the_environment(tmp_path):
    settings = load_settings(env=_env(tmp_path, RETENTION_FREE_TEXT_DAYS="365", RETENTION_CONTACT_DAYS=" 730 ",
                                      RETENTION_MESSAGES_DAYS="90", RETENTION_EXPORTS_DAYS="never",
                                      RETENTION_AUDIT_DAYS="1"), dotenv=False)
    assert retention.periods(settings) == {"free_text": 365, "contacts": 730, "messages": 90, "exports": None,
                                           "audit": 1}


def test_a_bad_period_is_one_line_at_the_command_line(tmp_path, monkeypatch):
    for k, v in {**_env(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
                 "RETENTION_AUDIT_DAYS": "0"}.items():
        monkeypatch.setenv(k, v)
    from cli import main

    result = CliRunner().invoke(main, ["retention", "show"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: configuration: RETENTION_AUDIT_DAYS: expected a whole number of days (at least 1) or 'never', got '0'"]


# ---- the command line -------------------------------------------------------------------------------------
def test_chorus_retention_run_and_show(tmp_path, monkeypatch):
    from cli import main

    for k, v in {**_env(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
                 "RETENTION_AUDIT_DAYS": str(DAYS)}.items():
        monkeypatch.setenv(k, v)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    db = Store(load_settings(env=dict(os.environ), dotenv=False))
    try:
        with db.write() as conn:
            conn.execute(insert(AU), [dict(at=at, actor="admin", action="user.add") for at in (OLD, YOUNG)])
        first = runner.invoke(main, ["retention", "run"], obj={"now": NOW})
        assert first.exit_code == 0, first.output
        assert "audit entries 1" in first.output and "export files 0" in first.output
        shown = runner.invoke(main, ["retention", "show"], obj={"now": NOW + timedelta(minutes=1)})
        assert shown.exit_code == 0, shown.output
        assert f"Audit log        {DAYS} days" in shown.output and "RETENTION_AUDIT_DAYS" in shown.output
        assert "Free text        kept" in shown.output and "Exports          7 days" in shown.output
        assert f"{NOW:%Y-%m-%d %H:%M:%S} UTC  command line  " in shown.output
        assert "next run: 2026-11-20 03:00 UTC" in shown.output     # the run counts for the day
    finally:
        db.dispose()
