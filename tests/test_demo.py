"""`chorus demo`: the demo data is what the running service would have stored, on SQLite and PostgreSQL."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from statistics import mean
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import case, func, select

from analysis.safeguarding import Safeguarding
from analysis.sentiment import SentimentTagger, make_analyzer
from analysis.tagger import AnswerAnalysis
from cli.demo import demo
from demo.seed import CLOSED_BY, CLOSED_NOTE, DEMO_CODES, PLANTED, VISIT, WEEKLY, DemoError, seed_demo
from surveys import admin
from surveys import models as m
from surveys.store import Store
from tests.conftest import _clean

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)  # a Wednesday: the newest demo week is 2026-W47
WEEKS = ["2026-W40", "2026-W41", "2026-W42", "2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W47"]
PER_ORG = 8  # small, to keep the tests quick; the shape of the data is the same at 40


def tagged(db: Store) -> Store:
    """The test database with the real tagger, as config.wiring.make_store builds it."""
    s = db.settings
    tagger = AnswerAnalysis(SentimentTagger(make_analyzer(s.sentiment_analyzer)), Safeguarding(s.safeguarding_lexicon_dir))
    return Store(s, sql_engine=db.sql_engine, tagger=tagger)


def iso_week(at: datetime) -> str:
    year, week, _ = at.astimezone(ZoneInfo("Europe/London")).isocalendar()
    return f"{year}-W{week:02d}"


def rows(store: Store, query):
    with store.read() as conn:
        return conn.execute(query).all()


def fingerprint(store: Store) -> list[tuple]:
    """Every answer with who gave it and when, without database ids (they differ between runs)."""
    q = (select(m.Contact.address, m.Organisation.code, m.Answer.survey_id, m.Answer.question_key, m.Answer.status,
                m.Answer.raw_text, m.Answer.value_num, m.Answer.answered_at)
         .join(m.Contact, m.Contact.id == m.Answer.contact_id)
         .join(m.Organisation, m.Organisation.id == m.Answer.organisation_id))
    return sorted((a, o, s, k, st, t, v, utc(at)) for a, o, s, k, st, t, v, at in rows(store, q))


def utc(at: datetime) -> str:
    return (at if at.tzinfo is None else at.astimezone(timezone.utc).replace(tzinfo=None)).isoformat()


def table_sizes(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in m.Base.metadata.sorted_tables}


def test_demo_data_looks_like_a_partnership_after_eight_weeks(db):
    store = tagged(db)
    report = seed_demo(store, NOW, participants_per_org=PER_ORG)
    assert report.loaded and report.organisations == DEMO_CODES
    assert (report.first_week, report.last_week) == (WEEKS[0], WEEKS[-1])

    # Three organisations; made-up numbers from Ofcom's drama range on the local channel, never anything else.
    names = {code: name for code, name in rows(store, select(m.Organisation.code, m.Organisation.name))}
    assert set(names) == set(DEMO_CODES) and len(set(names.values())) == 3
    contacts = rows(store, select(m.Contact.channel, m.Contact.address))
    assert {c for c, _ in contacts} == {"local"}
    assert all(a is None or (a.startswith("+447700900") and 200 <= int(a[-3:]) <= 999) for _, a in contacts)

    # A weekly check-in and a visit survey in each of the 8 weeks, each inviting people; this week's check-in
    # was missed by the clock's catch-up (more than a day late), and nothing of the demo waits to be sent.
    waves = rows(store, select(m.Wave.survey_id, m.Wave.scheduled_for, m.Wave.status,
                               select(func.count()).where(m.Invitation.wave_id == m.Wave.id).scalar_subquery()))
    for survey_id in (WEEKLY, VISIT):
        weeks = sorted(iso_week(at) for s, at, status, n in waves if s == survey_id and status == "open" and n > 0)
        assert weeks == WEEKS, survey_id
    assert all(iso_week(at) in WEEKS or (status == "missed" and n == 0) for _, at, status, n in waves)
    waiting = rows(store, select(func.count()).select_from(m.Message)
                   .where(m.Message.status.in_(("pending", "claimed", "sending", "retry"))))
    assert waiting[0][0] == 0

    # Response rates vary by organisation and week, in a believable range.
    responded = select(m.Answer.id).where(m.Answer.conversation_id == m.Invitation.conversation_id).exists()
    per = rows(store, select(m.Organisation.code, m.Wave.scheduled_for, func.count(), func.sum(case((responded, 1), else_=0)))
               .select_from(m.Invitation).join(m.Wave, m.Wave.id == m.Invitation.wave_id)
               .join(m.Enrolment, m.Enrolment.id == m.Invitation.enrolment_id)
               .join(m.Organisation, m.Organisation.id == m.Enrolment.organisation_id)
               .where(m.Wave.survey_id == WEEKLY).group_by(m.Organisation.code, m.Wave.scheduled_for))
    rates = [int(r) / n for _, _, n, r in per]
    assert len(set(rates)) > 5 and 0.3 <= sum(int(r) for *_, r in per) / sum(n for _, _, n, _ in per) <= 0.7

    # Free text in every sentiment, and scores that go with the words: a week scored low comes with
    # negative words more often than a week scored high.
    labels = {label for (label,) in rows(store, select(m.Answer.tags["label"].as_string())
                                         .where(m.Answer.tags.is_not(None)))}
    assert {"positive", "negative", "neutral"} <= labels
    by_conv: dict = defaultdict(dict)
    for conv, key, value, tags in rows(store, select(m.Answer.conversation_id, m.Answer.question_key,
                                                     m.Answer.value_num, m.Answer.tags)):
        by_conv[conv][key] = value if tags is None else tags.get("label")
    week_of = defaultdict(list)
    for answers in by_conv.values():
        if "week" in answers and answers.get("anything_else") in ("positive", "negative"):
            week_of[answers["anything_else"]].append(answers["week"])
    assert mean(week_of["positive"]) > mean(week_of["negative"]) + 0.5
    assert all(v >= 9 for c in by_conv.values() if "did_well" in c for v in [c["recommend"]])

    # The planted answers raised flags through the real lexicon, and nothing else did; the oldest is closed.
    flags = rows(store, select(m.Flag.status, m.Flag.closed_by, m.Flag.note, m.Flag.categories, m.Answer.raw_text)
                 .join(m.Answer, m.Answer.id == m.Flag.answer_id).order_by(m.Flag.id))
    assert [text for *_, text in flags] == [p[2] for p in sorted(PLANTED, key=lambda p: -p[1])]
    assert [f[0] for f in flags] == ["closed", "open", "open"]
    assert flags[0][1:3] == (CLOSED_BY, CLOSED_NOTE)
    assert report.flags_open == 2 and report.flags_closed == 1

    # Consent: some may be quoted and some not; nobody's words are kept before they agreed.
    assert report.quote_yes > 0 and report.quote_no > 0
    assert report.participants == len(contacts) and report.answers == table_sizes(store)["answer"]
    unconsented = rows(store, select(func.count()).select_from(m.Answer)
                       .join(m.Enrolment, m.Enrolment.id == m.Answer.enrolment_id)
                       .where(m.Enrolment.consent_status != "given", m.Enrolment.consent_status != "withdrawn"))
    assert unconsented[0][0] == 0

    # A second run notices the demo and changes nothing.
    before = table_sizes(store)
    again = seed_demo(store, NOW, participants_per_org=PER_ORG)
    assert not again.loaded and table_sizes(store) == before
    assert again.answers == report.answers and again.flags_open == report.flags_open


def test_the_same_seed_gives_the_same_data(db):
    store = tagged(db)
    first = seed_demo(store, NOW, weeks=2, participants_per_org=6, seed=11)
    data = fingerprint(store)
    _clean(db.sql_engine)
    second = seed_demo(tagged(db), NOW, weeks=2, participants_per_org=6, seed=11)
    assert fingerprint(store) == data and len(data) > 50
    assert {**first.__dict__, "seconds": 0} == {**second.__dict__, "seconds": 0}
    _clean(db.sql_engine)
    other = seed_demo(tagged(db), NOW, weeks=2, participants_per_org=6, seed=12)
    assert fingerprint(store) != data and other.answers != first.answers


def test_the_demo_never_loads_where_people_are_enrolled(db):
    store = tagged(db)
    admin.add_organisation(store, "Real Pantry", "PANTRY", NOW)
    admin.add_participant(store, "sms", "+447700900001", "PANTRY", NOW)
    with pytest.raises(DemoError, match="1 participant"):
        seed_demo(store, NOW, participants_per_org=PER_ORG)
    assert table_sizes(store)["organisation"] == 1


def test_the_command_loads_once_and_if_empty_leaves_real_installations_alone(tmp_path, monkeypatch):
    from cli import main

    for name, value in {"CHORUS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
                        "CHORUS_SECRET_KEY": "demo-test-secret-0123456789"}.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    unready = runner.invoke(demo, [])
    assert unready.exit_code == 1 and "run `chorus db upgrade` first" in unready.output
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["orgs", "add", "Demo Partnership", "--code", "demo"]).exit_code == 0
    first = runner.invoke(demo, ["--if-empty", "--weeks", "2", "--participants", "4"])
    assert first.exit_code == 0, first.output
    assert "loaded demo data in" in first.output and "safeguarding flags:" in first.output
    again = runner.invoke(demo, ["--weeks", "2", "--participants", "4"])
    assert again.exit_code == 0 and "demo data already loaded" in again.output

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/real.db")
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["orgs", "add", "Riverside Pantry", "--code", "PANTRY"]).exit_code == 0
    skipped = runner.invoke(demo, ["--if-empty"])
    assert skipped.exit_code == 0 and "not loading demo data" in skipped.output and "PANTRY" in skipped.output
    assert runner.invoke(main, ["participants", "add", "+447700900001", "--org", "PANTRY"]).exit_code == 0
    refused = runner.invoke(demo, [])
    assert refused.exit_code == 1 and "only into a new installation" in refused.output
