"""Twilio's inbound webhook and status callback, through the real Flask app with real signatures, on both
databases. Forged requests first."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_file
from tests.sms_helpers import ROOT, TWILIO_DATA, Clock, Twilio, sign, sms_app, twiml_messages

PANTRY = ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml"


@pytest.fixture
def sms(db, now):
    clock = Clock(now)
    app, store = sms_app(db, clock)
    admin.load_survey(store, load_survey_file(PANTRY), now)
    admin.add_organisation(store, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    twilio = Twilio(app.test_client())
    twilio.store, twilio.clock = store, clock
    return twilio


def rows(store, *where) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(m.Message).where(*where)).scalar()


def contact_state(store, number="+447700900123"):
    contact_id = admin.find_contact(store, "sms", number)
    if contact_id is None:
        return None
    with store.session() as s:
        c = s.get(m.Contact, contact_id)
        return "opted-out" if c.opted_out_at else ("unreachable" if c.unreachable_at else "active")


def enrol(sms, number="+447700900123"):
    for text in ("JOIN pantry", "yes", "no"):
        assert sms.inbound(text, number).status_code == 200


# ---- who may talk to us ----------------------------------------------------------------------------
def test_forged_signature_is_refused_and_nothing_is_stored(sms, caplog):
    params = {"MessageSid": "SMforged", "From": "+447700900123", "To": "+447700900000", "Body": "JOIN pantry"}
    response = sms.post("/sms/inbound", params, signature=sign("http://localhost/sms/inbound", params, token="wrong"))
    assert response.status_code == 403
    assert rows(sms.store) == 0
    assert "JOIN pantry" not in caplog.text and "7700900123" not in caplog.text


@pytest.mark.parametrize("case", ["missing", "tampered body", "wrong url", "garbage", "status forged"])
def test_every_unsigned_or_altered_request_is_refused(sms, case):
    params = {"MessageSid": "SMx", "From": "+447700900123", "To": "+447700900000", "Body": "JOIN pantry"}
    path, kwargs = "/sms/inbound", {}
    if case == "missing":
        kwargs["signature"] = ""
    elif case == "tampered body":
        kwargs["signature"] = sign("http://localhost/sms/inbound", params)
        params = {**params, "Body": "STOP"}
    elif case == "wrong url":
        kwargs["url"] = "https://chorus.example.org/sms/inbound"
    elif case == "garbage":
        kwargs["signature"] = "not base64 at all \x00"
    else:
        path, params = "/sms/status", {"MessageSid": "SMx", "MessageStatus": "delivered"}
        kwargs["signature"] = sign("http://localhost/sms/status", params, token="wrong")
    assert sms.post(path, params, **kwargs).status_code == 403
    assert rows(sms.store) == 0


def test_public_base_url_is_what_signatures_are_checked_against(db, now):
    """Behind a TLS proxy the app sees http://internal/...; Twilio signed the public https URL."""
    app, store = sms_app(db, Clock(now), public_base_url="https://chorus.example.org")
    twilio = Twilio(app.test_client(), base="https://chorus.example.org")
    assert twilio.inbound("hello").status_code == 200
    internal = Twilio(app.test_client())  # signed for the URL the app sees: not what Twilio signs
    assert internal.inbound("hello").status_code == 403


def test_signature_check_agrees_with_twilio_vectors():
    path = TWILIO_DATA / "signature_test_vectors.json"
    if not path.exists():
        pytest.skip(f"{path} is absent (a fresh clone has no ../shared)")
    from twilio.request_validator import RequestValidator

    vectors = json.loads(path.read_text())["vectors"]
    assert len(vectors) >= 6
    for v in vectors:
        validator = RequestValidator(v["auth_token"])
        if "body" in v:
            assert validator.validate(v["url"], v["body"], v["expected"]), v["case"]
            assert not validator.validate(v["url"], v["body"] + " ", v["expected"]), v["case"]
            continue
        params = MultiDict([(k, x) for k, val in v["params"].items() for x in (val if isinstance(val, list) else [val])])
        assert validator.validate(v["url"], params, v["expected"]), v["case"]
        tampered = MultiDict(params)
        tampered.add("Extra", "1")
        assert not validator.validate(v["url"], tampered, v["expected"]), v["case"]


# ---- the table: payload, expected status, expected effect -------------------------------------------
def test_valid_message_from_a_stranger_gets_the_join_explanation(sms):
    response = sms.inbound("Hello, is this the food bank?")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert twiml_messages(response)[0].startswith("Hi! This number sends short feedback surveys")
    with sms.store.read() as conn:
        row = conn.execute(select(m.Message).where(m.Message.direction == "in")).one()
    assert row.text is None and row.external_id == "SM" + "1".zfill(32)


def test_duplicate_message_sid_is_stored_once_with_the_same_reply(sms):
    first = sms.inbound("JOIN pantry", sid="SMdup")
    again = sms.inbound("JOIN pantry", sid="SMdup")
    assert again.status_code == 200 and again.data == first.data
    assert rows(sms.store, m.Message.external_id == "SMdup") == 1


@pytest.mark.parametrize("code, expected", [
    ("pantry", "Riverside Pantry would like to send you"),
    ("PANTRY!", "Riverside Pantry would like to send you"),
    ("nosuchcode", "Sorry, we don't recognise the code NOSUCHCODE."),
    ("", "Hi! This number sends short feedback surveys"),
])
def test_join_with_a_good_a_bad_and_no_code(sms, code, expected):
    reply = twiml_messages(sms.inbound(f"JOIN {code}".strip()))
    assert reply[0].startswith(expected)
    assert (admin.find_contact(sms.store, "sms", "+447700900123") is not None) == ("would like" in expected)


def test_numbers_are_stored_in_e164(sms):
    sms.inbound("JOIN pantry", sender="07700 900456")
    with sms.store.read() as conn:
        assert conn.execute(select(m.Contact.address)).scalar_one() == "+447700900456"


def test_a_sender_whose_number_cannot_be_read_is_told_and_not_registered(sms):
    reply = twiml_messages(sms.inbound("JOIN pantry", sender="NotANumber"))
    assert reply == ["Sorry, we can't sign up this number: it doesn't look like a phone number we can text back."]
    with sms.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(m.Contact)).scalar() == 0
    assert rows(sms.store, m.Message.direction == "in", m.Message.text.is_(None)) == 1


@pytest.mark.parametrize("stop", ["STOP", "stop", "Stop.", "UNSUBSCRIBE", "cancel", "stop all", "Opt-out"])
@pytest.mark.parametrize("start", ["START", "start", "Unstop"])
def test_stop_and_start_in_several_spellings(sms, stop, start):
    enrol(sms)
    assert twiml_messages(sms.inbound(stop))[0].startswith("You're unsubscribed")
    assert contact_state(sms.store) == "opted-out"
    assert twiml_messages(sms.inbound("4")) == []
    assert twiml_messages(sms.inbound(start))[0].startswith("Welcome back!")
    assert contact_state(sms.store) == "active"


@pytest.mark.parametrize("word", ["HELP", "help", "Info", "help!"])
def test_help_in_several_spellings(sms, word):
    enrol(sms)
    replies = twiml_messages(sms.inbound(word))
    assert replies[0].startswith("Short feedback surveys for Riverside Pantry")
    assert replies[1].startswith("How was your visit?")


@pytest.mark.parametrize("opt_out, body, state", [("STOP", "STOP", "opted-out"), ("STOP", "Arret", "opted-out"),
                                                  ("HELP", "help", "active")])
def test_twilio_handled_opt_out_is_recorded_without_a_reply(sms, opt_out, body, state):
    enrol(sms)
    response = sms.inbound(body, OptOutType=opt_out)
    assert response.status_code == 200 and twiml_messages(response) == []
    assert contact_state(sms.store) == state
    with sms.store.read() as conn:
        statuses = conn.execute(select(m.Message.status).where(m.Message.direction == "out")
                                .order_by(m.Message.id.desc()).limit(1)).scalars().all()
    assert statuses == ["suppressed"]


def test_twilio_handled_start_opts_back_in_silently(sms):
    enrol(sms)
    sms.inbound("STOP", OptOutType="STOP")
    assert twiml_messages(sms.inbound("START", OptOutType="START")) == []
    assert contact_state(sms.store) == "active"


def test_media_only_is_acknowledged_and_stored_as_such(sms):
    enrol(sms)
    reply = twiml_messages(sms.inbound("", NumMedia="1", MediaUrl0="https://api.twilio.com/x.jpg",
                                       MediaContentType0="image/jpeg"))
    assert reply == ["Sorry, we can only read text replies. Please type your answer."]
    with sms.store.read() as conn:
        kind = conn.execute(select(m.Message.kind).where(m.Message.direction == "in").order_by(m.Message.id.desc())).first()
    assert kind == ("media",)


def test_empty_body_gets_a_helpful_reprompt(sms):
    enrol(sms)
    reply = twiml_messages(sms.inbound(""))
    assert reply[0] == "Please reply with a number from 1 (Very bad) to 5 (Very good)."


def test_garbled_answer_gets_a_helpful_reprompt(sms):
    enrol(sms)
    assert twiml_messages(sms.inbound("asdfgh"))[0] == "Please reply with a number from 1 (Very bad) to 5 (Very good)."


def test_a_1600_character_body_is_kept_whole(sms):
    enrol(sms)
    sms.inbound("1")
    body = ("They ran out of fresh food again and the queue went round the block. " * 30)[:1600]
    assert sms.inbound(body).status_code == 200
    with sms.store.read() as conn:
        assert conn.execute(select(m.Answer.raw_text).where(m.Answer.question_key == "why_low")).scalar_one() == body


def test_invalid_percent_encoding_never_crashes(sms):
    raw = b"MessageSid=SMbad&From=%2B447700900123&To=%2B447700900000&Body=50%ZZ+off%"
    # Signed over what Twilio would have sent if it had sent these bytes (the lenient reading).
    from urllib.parse import parse_qsl

    params = parse_qsl(raw.decode(), keep_blank_values=True)
    response = sms.post("/sms/inbound", params, raw=raw)
    assert response.status_code in (200, 403)
    assert rows(sms.store, m.Message.external_id == "SMbad") == (1 if response.status_code == 200 else 0)


def test_missing_message_sid_is_a_bad_request_not_a_crash(sms):
    assert sms.post("/sms/inbound", {"From": "+447700900123", "Body": "hi"}).status_code == 400


# ---- status callbacks ------------------------------------------------------------------------------
def _outbound(store, sid, contact_number="+447700900123"):
    from datetime import datetime, timezone

    contact_id = admin.find_contact(store, "sms", contact_number)
    with store.write() as conn:
        conn.execute(m.Message.__table__.insert().values(
            channel="sms", direction="out", external_id=sid, contact_id=contact_id, kind="text", text="hi",
            status="queued", created_at=datetime(2026, 11, 23, tzinfo=timezone.utc)))


@pytest.mark.parametrize("sequence, final", [
    (["sent", "delivered"], "delivered"),
    (["delivered", "sent"], "delivered"),  # out of order: never backwards
    (["sent", "undelivered"], "undelivered"),
    (["failed"], "failed"),
])
def test_status_callbacks_update_the_stored_message(sms, sequence, final):
    enrol(sms)
    _outbound(sms.store, "SMout1")
    for status in sequence:
        assert sms.post("/sms/status", {"MessageSid": "SMout1", "MessageStatus": status}).status_code == 200
    with sms.store.read() as conn:
        assert conn.execute(select(m.Message.status).where(m.Message.external_id == "SMout1")).scalar_one() == final


@pytest.mark.parametrize("code, state", [("21610", "opted-out"), ("21211", "unreachable"), ("21614", "unreachable"),
                                         ("30001", "active")])
def test_failed_status_with_error_code_marks_the_participant(sms, code, state):
    enrol(sms)
    _outbound(sms.store, "SMout2")
    sms.post("/sms/status", {"MessageSid": "SMout2", "MessageStatus": "failed", "ErrorCode": code})
    with sms.store.read() as conn:
        assert conn.execute(select(m.Message.error_code).where(m.Message.external_id == "SMout2")).scalar_one() == code
    assert contact_state(sms.store) == state


def test_unknown_message_status_gets_200_and_a_log_line(sms, caplog):
    import logging

    with caplog.at_level(logging.INFO):
        assert sms.post("/sms/status", {"MessageSid": "SMnobody", "MessageStatus": "delivered"}).status_code == 200
    assert "unknown message SMnobody" in caplog.text


# ---- Twilio's own payloads ---------------------------------------------------------------------------
def _payloads(prefix: str) -> list[Path]:
    return sorted(TWILIO_DATA.glob(f"{prefix}*.form")) if TWILIO_DATA.exists() else []


@pytest.mark.parametrize("name", [p.name for p in _payloads("inbound")] or ["absent"])
def test_real_inbound_payloads(sms, name):
    if name == "absent":
        pytest.skip(f"{TWILIO_DATA} is absent (a fresh clone has no ../shared)")
    from urllib.parse import parse_qsl

    raw = (TWILIO_DATA / name).read_bytes().strip()
    params = parse_qsl(raw.decode(), keep_blank_values=True)
    response = sms.post("/sms/inbound", params, raw=raw)
    assert response.status_code == 200, name
    assert len(twiml_messages(response)) == 1  # a stranger: the join explanation
    sid = dict(params).get("MessageSid")
    assert rows(sms.store, m.Message.external_id == sid, m.Message.direction == "in") == 1
    again = sms.post("/sms/inbound", params, raw=raw)
    assert again.data == response.data and rows(sms.store, m.Message.external_id == sid) == 1
    forged = sms.post("/sms/inbound", params, raw=raw, signature=sign("http://localhost/sms/inbound", params, "x"))
    assert forged.status_code == 403


@pytest.mark.parametrize("name", [p.name for p in _payloads("status")] or ["absent"])
def test_real_status_payloads(sms, name):
    if name == "absent":
        pytest.skip(f"{TWILIO_DATA} is absent (a fresh clone has no ../shared)")
    from urllib.parse import parse_qsl

    raw = (TWILIO_DATA / name).read_bytes().strip()
    params = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    # unknown first (200, nothing stored), then known
    assert sms.post("/sms/status", list(params.items()), raw=raw).status_code == 200
    enrol(sms, params.get("To") or "+447700900123")
    _outbound(sms.store, params["MessageSid"], params.get("To") or "+447700900123")
    assert sms.post("/sms/status", list(params.items()), raw=raw).status_code == 200
    with sms.store.read() as conn:
        status, code = conn.execute(select(m.Message.status, m.Message.error_code)
                                    .where(m.Message.external_id == params["MessageSid"])).one()
    assert status == params.get("MessageStatus", params.get("SmsStatus")) and code == (params.get("ErrorCode") or None)
    if params.get("ErrorCode") == "21610":
        assert contact_state(sms.store, params["To"]) == "opted-out"


@pytest.mark.parametrize("texts", [[], ["Hi"], ["a < b & c > d", "Line one\nLine two", "“quotes” é 😀"]])
def test_our_twiml_is_what_twilios_library_writes(texts):
    from twilio.twiml.messaging_response import MessagingResponse

    from sms.inbound import twiml

    expected = MessagingResponse()
    for t in texts:
        expected.message(t)
    assert twiml(texts) == str(expected)
