"""A person's own data (surveys.mydata): what it covers, who may have it, its text form, and MYDATA by message,
on both databases."""
from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveys import admin, messages, mydata, outbox
from surveys import models as m
from surveys import participants as p
from surveys.engine import OutgoingMessage
from surveys.loader import load_survey_file
from surveys.scope import Forbidden, Scope
from surveys.service import InboundMessage, handle_inbound
from surveys.store import Store

ROOT = Path(__file__).resolve().parent.parent
PANTRY = ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml"
_ids = itertools.count()
ADDRESS = "+447700900123"
WORDS = "the queue in the rain was awful"


def _send(db, now, text, address=ADDRESS, channel="local"):
    return handle_inbound(db, InboundMessage(channel, address, f"md{next(_ids)}", text), now)


class Tagger:
    """A trivial answer tagger (the real one is analysis's): a sentiment label, and a flag for 'unsafe'."""

    def tag(self, text, language, context):
        tags = {"label": "negative" if "awful" in text or "unsafe" in text else "neutral", "themes": ["queue"]}
        if "unsafe" in text:
            tags["flag"] = {"categories": ["risk"], "rules": ["r1"], "layer": "lexicon", "score": None}
        return tags


class Recorder:
    name = "local"

    def __init__(self):
        self.sent = []

    def send(self, address, message):
        self.sent.append((address, message.text))
        return None


@pytest.fixture
def tagged(db) -> Store:
    return Store(db.settings, sql_engine=db.sql_engine, tagger=Tagger())


@pytest.fixture
def person(tagged, now):
    """A person who wrote before joining, joined PANTRY, agreed (quotes too), answered, raised a flag, was
    invited by a wave, had a label and a digest quote put on an answer. Returns (store, contact id, org ids)."""
    db = tagged
    admin.load_survey(db, load_survey_file(PANTRY), now)
    pantry = admin.add_organisation(db, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    housing = admin.add_organisation(db, "Housing Help", "HOUSING", now)
    _send(db, now, "hello?")                       # a stranger yet: only the time and the hash are kept
    _send(db, now, "JOIN pantry")
    _send(db, now, "yes")
    _send(db, now, "yes")
    _send(db, now, "1")                            # visit 1 -> why_low
    _send(db, now, WORDS)
    _send(db, now, "I feel unsafe at home")        # not a way of getting here: asked again,
    _send(db, now, "I feel unsafe at home")        # then kept as unparsed free text, which raises a flag
    contact_id = admin.find_contact(db, "local", ADDRESS)
    with db.session() as s:
        answer = s.scalars(select(m.Answer).where(m.Answer.raw_text == WORDS)).one()
        s.add(m.AnswerLabel(answer_id=answer.id, label="mixed", by="alice", created_at=now))
        archive = m.DigestArchive(week="2026-W47", scope="partnership", cutoff=now, path="x", built_at=now)
        s.add(archive)
        s.flush()
        s.add(m.DigestQuote(archive_id=archive.id, answer_id=answer.id))
        version = s.scalar(select(m.Survey.current_version_id).where(m.Survey.id == "pantry"))
        wave = m.Wave(survey_id="pantry", survey_version_id=version, scheduled_for=now, kind="manual", created_at=now)
        s.add(wave)
        s.flush()
        enrolment = s.scalars(select(m.Enrolment).where(m.Enrolment.contact_id == contact_id)).one()
        s.add(m.Invitation(wave_id=wave.id, contact_id=contact_id, enrolment_id=enrolment.id, channel="local",
                           language="en", status="skipped", reason="busy", not_before=now, created_at=now))
        flag = s.scalars(select(m.Flag)).one()
        s.add(m.FlagEvent(flag_id=flag.id, kind="note", by="alice", note="called them, all fine", at=now))
    return db, contact_id, pantry, housing


# ---- coverage: every table about a person ---------------------------------------------------------------
def test_every_table_that_refers_to_a_person_is_covered_or_explained():
    """A new table with a contact_id, or one that refers to a row about a person (an enrolment, an answer, a
    message, ...), must be covered by the export (mydata.TABLES) or explained (mydata.NOT_ABOUT_THEM)."""
    tables = m.Base.metadata.tables
    about = {"contact"}
    changed = True
    while changed:                                  # the closure of "refers to a row about the person"
        changed = False
        for name, table in tables.items():
            refers = any(fk.column.table.name in about for fk in table.foreign_keys)
            if name not in about and (refers or "contact_id" in table.c):
                about.add(name)
                changed = True
    known = set(mydata.TABLES) | set(mydata.NOT_ABOUT_THEM)
    assert about - known == set(), f"tables about a person not covered by surveys/mydata.py: {sorted(about - known)}"
    assert known - about == set(), f"surveys/mydata.py names tables that are not about a person: {sorted(known - about)}"
    assert {n for n, t in tables.items() if "contact_id" in t.c} <= set(mydata.TABLES)


# ---- what it gathers ----------------------------------------------------------------------------------
def test_collect_gathers_everything_held_about_the_person(person, now):
    db, contact_id, pantry, _ = person
    with db.read() as conn:
        data = mydata.collect(db, conn, contact_id, now)
    assert data["format"] == "chorus.mydata/1" and data["reference"] == db.pseudonym(contact_id)
    assert data["person"]["address"] == ADDRESS and data["person"]["channel"] == "local"
    [e] = data["enrolments"]
    assert e["organisation"] == "Riverside Pantry" and e["consent_status"] == "given"
    assert e["allowed"] == {"take_part": True, "quoted_anonymously": True}
    assert e["consent_version"] and e["consent_channel"] == "local" and e["source"] == "join"
    assert [h["status"] for h in e["consent_history"]] == ["given", "given"]
    assert [c["survey_id"] for c in data["conversations"]] == ["pantry"]
    words = {a["your_words"]: a for a in data["answers"]}
    assert words[WORDS]["question"] == "Sorry to hear that. What went wrong?"
    assert words[WORDS]["sentiment"] == "negative" and words[WORDS]["staff_label"] == "mixed"
    assert words[WORDS]["quoted_in_digests"] == ["2026-W47"] and words[WORDS]["themes"] == ["queue"]
    assert words["1"]["value"] == 1 and words["1"]["question_key"] == "visit"
    directions = [x["direction"] for x in data["messages"]]
    assert directions.count("in") == 8 and "out" in directions
    assert data["messages"][0]["text"] is None                 # before they joined: not kept
    assert any(x["text"] == WORDS for x in data["messages"])
    [inv] = data["invitations"]
    assert inv["status"] == "skipped" and inv["reason"] == "busy" and inv["survey_id"] == "pantry"
    [flag] = data["flags"]
    assert flag["categories"] == ["risk"] and flag["status"] == "open" and flag["history"][0]["what"] == "note"
    assert "called them" not in json.dumps(data) and "alice" not in json.dumps(data)   # staff's words stay out
    json.dumps(data)                                           # every value is JSON


def test_a_copy_by_message_is_not_repeated_in_the_next_copy(person, now):
    db, contact_id, *_ = person
    _send(db, now + timedelta(minutes=5), "MYDATA")
    with db.read() as conn:
        data = mydata.collect(db, conn, contact_id, now + timedelta(minutes=6))
    copies = [x for x in data["messages"] if x["purpose"] == "mydata"]
    assert copies and all(x["text"].startswith("(a copy of your data, ") for x in copies)


# ---- staff: who may have it ---------------------------------------------------------------------------
def test_staff_export_is_scoped_like_erasure_and_audited(person, now):
    db, contact_id, pantry, housing = person
    staff = Scope("staff", frozenset({pantry}), None, "alice")
    export = mydata.export_participant(db, staff, contact_id, now, "json", source="127.0.0.1")
    assert json.loads(export.body)["person"]["address"] == ADDRESS
    assert export.filename == f"{db.pseudonym(contact_id)}.json"
    with pytest.raises(Forbidden):
        mydata.export_participant(db, Scope("staff", frozenset({housing}), None, "bob"), contact_id, now)
    for role in ("governance", "safeguarding"):
        with pytest.raises(Forbidden):
            mydata.export_participant(db, Scope(role, frozenset({pantry}), None, "carol"), contact_id, now)
    with pytest.raises(p.ParticipantError, match="no participant 99999"):
        mydata.export_participant(db, Scope.operator(), 99999, now)
    with pytest.raises(p.ParticipantError, match="format"):
        mydata.export_participant(db, Scope.operator(), contact_id, now, "xml")
    # Enrolled in HOUSING too: PANTRY's staff may no longer have the whole copy; the admin may.
    admin.add_participant(db, "local", ADDRESS, "HOUSING", now)
    with pytest.raises(Forbidden, match="other organisations too"):
        mydata.export_participant(db, staff, contact_id, now)
    text = mydata.export_participant(db, Scope.operator(), contact_id, now, "text").body
    assert "Housing Help" in text and "Riverside Pantry" in text
    with db.session() as s:
        entries = s.scalars(select(m.AuditEntry).where(m.AuditEntry.action == "participant.export")).all()
    assert [(e.actor, e.object_id) for e in entries] == [("alice", str(contact_id)), ("operator", str(contact_id))]
    for e in entries:
        assert ADDRESS not in (e.detail or "") and WORDS not in (e.detail or "")
        assert e.detail.startswith(db.pseudonym(contact_id))


def test_text_is_in_their_language_with_english_for_others(person, now):
    db, contact_id, *_ = person
    with db.read() as conn:
        data = mydata.collect(db, conn, contact_id, now)
    english = mydata.render_text(data)
    assert english.startswith(f"Everything we hold about you ({db.pseudonym(contact_id)})")
    assert "Sorry to hear that. What went wrong?: " + WORDS in english
    assert "consent given; you allowed: taking part, being quoted without your name" in english
    assert "Flags" in english and "risk" in english
    spanish = mydata.render_text(data, "es")
    assert spanish.startswith("Todo lo que guardamos sobre ti") and "Tus respuestas:" in spanish
    assert "No incluido:\n- las notas del personal" in spanish and "staff notes" not in spanish
    assert mydata.render_text(data, "pl") == english          # no Polish words for it: English


def test_split_messages_keeps_every_message_under_the_bound():
    text = "\n".join(f"- line {i}: " + "word " * (i % 50) for i in range(300)) + "\n" + "x" * 1500
    parts = mydata.split_messages(text, limit=200, most=1000)
    assert all(0 < len(part) <= 200 for part in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    capped = mydata.split_messages(text, limit=200, most=3, truncated="(cut)")
    assert len(capped) == 3 and capped[-1].endswith("\n(cut)") and len(capped[-1]) <= 200


# ---- the person: MYDATA ---------------------------------------------------------------------------------
def _outbox(db, contact_id):
    with db.read() as conn:
        return conn.execute(select(m.Message.status, m.Message.text).where(
            m.Message.contact_id == contact_id, m.Message.purpose == "mydata").order_by(m.Message.id)).all()


def test_mydata_queues_the_copy_and_it_is_sent_after_stop_too(person, now):
    db, contact_id, *_ = person
    later = now + timedelta(minutes=10)
    assert _send(db, later, "STOP").replies
    handled = _send(db, later, "my data")
    rows = _outbox(db, contact_id)
    assert len(rows) >= 2 and all(status == "pending" for status, _ in rows)
    assert handled.replies[0].text == (f"We're sending you a copy of everything we hold about you, in {len(rows)} "
                                       "messages after this one.")
    assert all(len(text) <= mydata.MESSAGE_CHARS for _, text in rows)
    assert WORDS in "".join(text for _, text in rows)
    channel = Recorder()
    outbox.Worker(db, {"local": channel}, clock=lambda: later).run_once()
    assert [t for _, t in channel.sent] == [t for _, t in rows] and {a for a, _ in channel.sent} == {ADDRESS}
    assert {status for status, _ in _outbox(db, contact_id)} == {"sent"}
    with db.read() as conn:
        kept = conn.execute(select(func.count()).where(m.Message.contact_id == contact_id,
                                                       m.Message.text == "my data")).scalar()
        audit_rows = conn.execute(select(m.AuditEntry.actor, m.AuditEntry.source, m.AuditEntry.detail)).all()
    assert kept == 0                                  # opted out: the request is acted on, its text not kept
    [(actor, source, detail)] = audit_rows
    assert actor == "participant" and source == "keyword" and ADDRESS not in detail and WORDS not in detail
    # An ordinary message to an opted-out person is still not sent.
    outbox.queue(db, "local", OutgoingMessage("a reminder"), later, contact_id=contact_id, purpose="reminder")
    outbox.Worker(db, {"local": channel}, clock=lambda: later).run_once()
    assert "a reminder" not in [t for _, t in channel.sent]


def test_mydata_once_a_day_and_erasure_removes_the_copies(person, now):
    db, contact_id, *_ = person
    first = _send(db, now + timedelta(minutes=10), "MYDATA")
    assert first.replies[0].text.startswith("We're sending you a copy")
    again = _send(db, now + timedelta(hours=23), "mydata")
    assert again.replies[0].text.startswith("We sent you a copy of your data less than a day ago")
    count = len(_outbox(db, contact_id))
    assert _send(db, now + timedelta(hours=25), "MYDATA").replies[0].text.startswith("We're sending you a copy")
    assert len(_outbox(db, contact_id)) > count
    _send(db, now + timedelta(hours=26), "DELETE")
    _send(db, now + timedelta(hours=26), "DELETE")
    with db.read() as conn:
        left = conn.execute(select(func.count()).where(m.Message.purpose == "mydata",
                                                       m.Message.text.is_not(None))).scalar()
    assert left == 0


def test_mydata_in_spanish_and_for_someone_who_declined(tagged, now):
    db = tagged
    admin.add_organisation(db, "Despensa", "DESPENSA", now, language="es")
    _send(db, now, "JOIN despensa", "+447700900200")
    _send(db, now, "no", "+447700900200")              # declined: the number is dropped
    handled = _send(db, now, "MIS DATOS", "+447700900200")
    first, *parts = [r.text for r in handled.replies]
    assert first.startswith("Aquí tienes una copia de todo lo que guardamos sobre ti (mensajes: ")
    assert parts and parts[0].startswith("Todo lo que guardamos sobre ti") and "rechazado" in "".join(parts)
    contact_id = admin.find_contact(db, "local", "+447700900200")
    with db.read() as conn:
        address = conn.execute(select(m.Contact.address).where(m.Contact.id == contact_id)).scalar()
    assert address is None and _outbox(db, contact_id) == []
    # A stranger: the usual explanation, nothing gathered.
    stranger = _send(db, now, "MYDATA", "+447700900201")
    assert [r.text for r in stranger.replies] == [messages.text("en", "join_help")]


# ---- the command line -----------------------------------------------------------------------------------
def test_cli_export_prints_or_writes_and_refuses_an_unknown_id_in_one_line(tmp_path, monkeypatch, now):
    from click.testing import CliRunner

    from cli import main

    for k, v in {"CHORUS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
                 "CHORUS_SECRET_KEY": "cli-test-secret-0123456789"}.items():
        monkeypatch.setenv(k, v)

    def run(*args):
        return CliRunner().invoke(main, list(args), obj={"now": now}, catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    assert run("orgs", "add", "Riverside Pantry", "--code", "pantry").exit_code == 0
    assert run("participants", "add", "07700 900123", "--org", "pantry", "--tag", "youth").exit_code == 0
    printed = run("participants", "export", "1")
    data = json.loads(printed.output)
    assert printed.exit_code == 0 and data["person"]["address"] == "+447700900123"
    assert data["enrolments"][0]["tags"] == ["youth"] and data["enrolments"][0]["consent_status"] == "pending"
    out = tmp_path / "copy.txt"
    written = run("participants", "export", "1", "--format", "text", "--output", str(out))
    assert written.exit_code == 0 and "written to" in written.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("Everything we hold about you (P-") and "Riverside Pantry: consent not yet asked" in text
    assert out.stat().st_mode & 0o077 == 0
    unknown = run("participants", "export", "99")
    assert unknown.exit_code != 0 and unknown.output.strip() == "Error: no participant 99"
    bad = run("participants", "export", "1", "--format", "xml")
    assert bad.exit_code != 0 and "Traceback" not in bad.output
