"""The service on both databases: idempotency, hostile input, consent before data, erasure."""
from __future__ import annotations

import itertools
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import func, select

from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_file
from surveys.service import InboundMessage, handle_inbound, start_conversation

ROOT = Path(__file__).resolve().parent.parent
PANTRY = ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml"
_ids = itertools.count()


def _setup(db, now):
    admin.load_survey(db, load_survey_file(PANTRY), now)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")


def _send(db, now, text, address="+447700900123", ext=None, kind="text", channel="local"):
    return handle_inbound(db, InboundMessage(channel, address, ext or f"x{next(_ids)}", text, kind=kind), now)


def _count(db, *where):
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(m.Message).where(*where)).scalar()


def _enrol(db, now, address="+447700900123"):
    _send(db, now, "JOIN pantry", address)
    _send(db, now, "yes", address)
    _send(db, now, "no", address)


# Messages people (and broken phones) really send: anything, including NUL and other control characters.
hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(["", " ", "\x00", "7\x00", "\x00STOP", "STOP\x00", "\u202e7", "\r\n", "\t\tyes\x0b",
                     "x" * 10_000, "7️⃣" * 2000, "JOIN " + "a" * 70, "JOIN \x00", "/start", "🤷"]),
)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(hostile_text, min_size=1, max_size=4), who=st.sampled_from(["stranger", "pending", "in-survey"]))
def test_hostile_input_never_escapes_and_each_id_is_recorded_once(db, now, texts, who):
    if _count(db) == 0:
        _setup(db, now)
    address = f"+4477009{next(_ids):05d}"
    if who != "stranger":
        _send(db, now, "JOIN pantry", address)
    if who == "in-survey":
        _send(db, now, "yes", address)
        _send(db, now, "yes", address)
    for text in texts:
        ext = f"h{next(_ids)}"
        first = _send(db, now, text, address, ext)
        again = _send(db, now, text, address, ext)
        assert again.duplicate and again.replies == first.replies
        assert _count(db, m.Message.channel == "local", m.Message.external_id == ext) == 1
    with db.read() as conn:
        stored = conn.execute(select(m.Message.text).where(m.Message.text.is_not(None))).scalars().all()
    stray = [c for t in stored for c in t if unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n\r"]
    assert not stray, "a control character was stored"


def test_ten_thousand_characters_are_kept_whole(db, now):
    _setup(db, now)
    _enrol(db, now)
    _send(db, now, "1")  # low score: the free-text follow-up
    long = ("The queue was long. " * 500)[:10_000]
    _send(db, now, long)
    with db.read() as conn:
        raw = conn.execute(select(m.Answer.raw_text).where(m.Answer.question_key == "why_low")).scalar_one()
    assert raw == long


def test_nul_and_control_characters_are_stripped_on_both_databases(db, now):
    _setup(db, now)
    _enrol(db, now)
    _send(db, now, "1")
    _send(db, now, "bad\x00 service\x01\x1b\ud800 👎\nreally")
    with db.read() as conn:
        raw = conn.execute(select(m.Answer.raw_text).where(m.Answer.question_key == "why_low")).scalar_one()
    assert raw == "bad service 👎\nreally"


def test_same_external_id_on_two_channels_are_two_messages(db, now):
    _setup(db, now)
    _send(db, now, "hello", "+447700900123", ext="same", channel="sms")
    second = _send(db, now, "hello", "+447700900123", ext="same", channel="local")
    assert not second.duplicate
    assert _count(db, m.Message.external_id == "same", m.Message.direction == "in") == 2


def test_concurrent_duplicate_deliveries_store_once(db, now):
    """Providers retry: the same message may arrive on two workers at once. One stores it, both answer alike."""
    _setup(db, now)
    _enrol(db, now)
    msg = InboundMessage("local", "+447700900123", "race-1", "4")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: handle_inbound(db, msg, now), range(4)))
    assert sum(not r.duplicate for r in results) == 1
    assert len({tuple(r.replies) for r in results}) == 1
    with db.read() as conn:
        answers = conn.execute(select(func.count()).select_from(m.Answer).where(m.Answer.question_key == "visit")).scalar()
    assert answers == 1
    assert _count(db, m.Message.external_id == "race-1") == 1


def test_strangers_leave_only_id_time_and_hash(db, now):
    _setup(db, now)
    _send(db, now, "my name is Sam and my number is 07700 900999", "+447700900555", ext="s1")
    with db.read() as conn:
        row = conn.execute(select(m.Message).where(m.Message.external_id == "s1")).one()
        contacts = conn.execute(select(func.count()).select_from(m.Contact)).scalar()
    assert row.text is None and row.contact_id is None and row.address_hash and row.created_at
    assert "+447700900555" not in row.address_hash
    assert contacts == 0


def test_every_answer_records_its_survey_version(db, now):
    _setup(db, now)
    _enrol(db, now)
    _send(db, now, "4")
    changed = load_survey_file(PANTRY)
    from dataclasses import replace

    from surveys.definition import Text  # noqa: F401 - documents that prompts are per-language dicts

    q0 = changed.questions[0]
    new = replace(changed, questions=(replace(q0, prompt={**q0.prompt, "en": "How did your visit go?"}),
                                      *changed.questions[1:]))
    result = admin.load_survey(db, new, now)
    assert result.created and result.number == 2
    assert not admin.load_survey(db, new, now).created  # unchanged content: no new version
    _send(db, now, "bus")  # the open conversation stays on the version it started with
    with db.read() as conn:
        versions = conn.execute(
            select(m.SurveyVersion.number).join(m.Answer, m.Answer.survey_version_id == m.SurveyVersion.id)
            .order_by(m.Answer.id)
        ).scalars().all()
    assert versions == [1, 1]


def test_erasure_removes_answers_and_texts(db, now):
    _setup(db, now)
    _enrol(db, now)
    _send(db, now, "1")
    _send(db, now, "I live at 12 Acacia Road")
    _send(db, now, "DELETE")
    _send(db, now, "DELETE")
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(m.Answer)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(m.Contact)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(m.Enrolment)).scalar() == 0
        texts = conn.execute(select(m.Message.text).where(m.Message.direction == "in")).scalars().all()
        assert all(t is None for t in texts)
        assert conn.execute(select(func.count()).select_from(m.Erasure)).scalar() == 1


def test_start_refuses_opted_out_and_busy_contacts(db, now):
    from surveys.service import ServiceError

    _setup(db, now)
    _enrol(db, now)
    contact = admin.find_contact(db, "local", "+447700900123")
    with pytest.raises(ServiceError, match="already has a conversation open"):
        start_conversation(db, contact, "pantry", now)
    _send(db, now, "STOP")
    with pytest.raises(ServiceError, match="opted out"):
        start_conversation(db, contact, "pantry", now + timedelta(minutes=5))


def test_one_open_conversation_per_contact_is_enforced_by_the_database(db, now):
    from sqlalchemy.exc import IntegrityError

    _setup(db, now)
    _enrol(db, now)
    with db.read() as conn:
        conv = conn.execute(select(m.Conversation).where(m.Conversation.status == "open")).one()
    with pytest.raises(IntegrityError):
        with db.write() as conn:
            conn.execute(m.Conversation.__table__.insert().values(
                contact_id=conv.contact_id, enrolment_id=conv.enrolment_id, survey_version_id=conv.survey_version_id,
                status="open", attempts=0, language="en", started_at=now, last_activity_at=now))


def test_media_only_message_is_acknowledged(db, now):
    _setup(db, now)
    _enrol(db, now)
    result = _send(db, now, "", kind="media")
    assert result.replies[0].text.startswith("Sorry, we can only read text replies")


def test_an_edit_corrects_the_latest_answer_and_later_edits_become_comments(db, now):
    _setup(db, now)
    _enrol(db, now)
    _send(db, now, "4", ext="m-visit")
    result = handle_inbound(db, InboundMessage("local", "+447700900123", "m-visit:e1", "5", kind="edit",
                                               ref="m-visit"), now)
    assert result.replies[0].text == "Thanks, I've updated that answer."
    _send(db, now, "bus", ext="m-travel")
    late = handle_inbound(db, InboundMessage("local", "+447700900123", "m-visit:e2", "2", kind="edit",
                                             ref="m-visit"), now)
    assert late.replies == []
    with db.read() as conn:
        rows = conn.execute(select(m.Answer.question_key, m.Answer.status, m.Answer.value_num, m.Answer.raw_text)
                            .order_by(m.Answer.id)).all()
    assert rows == [("visit", "answered", 5.0, "5"), ("travel", "answered", None, "bus"), (None, "comment", None, "2")]


def test_an_edit_of_an_unread_answer_is_a_fresh_try(db, now):
    _setup(db, now)
    _enrol(db, now)
    assert _send(db, now, "dunno", ext="m1").replies[0].text.startswith("Please reply with a number")
    fixed = handle_inbound(db, InboundMessage("local", "+447700900123", "m1:e", "4", kind="edit", ref="m1"), now)
    assert fixed.replies[0].text == "How did you get here?"


def test_bare_join_from_a_member_is_start_and_from_a_stranger_explains(db, now):
    _setup(db, now)
    assert _send(db, now, "JOIN", "+447700900999").replies[0].text.startswith("Hi! This number sends")
    _enrol(db, now)
    assert _send(db, now, "JOIN").replies[0].text == "You're already subscribed. Reply HELP for options."
    _send(db, now, "STOP")
    assert _send(db, now, "JOIN").replies[0].text.startswith("Welcome back!")


def test_reachability_is_restored_when_they_write_again(db, now):
    from surveys.service import set_reachable

    _setup(db, now)
    _enrol(db, now)
    assert set_reachable(db, "local", "+447700900123", False, "bot blocked", now)
    assert not set_reachable(db, "local", "+447700900999", False, "bot blocked", now)
    with db.read() as conn:
        assert conn.execute(select(m.Contact.unreachable_reason)).scalar() == "bot blocked"
    _send(db, now, "4")
    with db.read() as conn:
        assert conn.execute(select(m.Contact.unreachable_at)).scalar() is None


def test_an_ignored_message_says_why(db, now):
    _setup(db, now)
    _enrol(db, now)
    stale = handle_inbound(db, InboundMessage("local", "+447700900123", "b1", "2", kind="button", ref="travel"), now)
    assert stale.ignored == "stale button" and stale.replies == []
    pressed = handle_inbound(db, InboundMessage("local", "+447700900123", "b2", "4", kind="button", ref="visit"), now)
    assert pressed.ignored is None and pressed.replies[0].ref == "travel"
