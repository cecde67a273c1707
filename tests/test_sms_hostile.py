"""The SMS webhook and status callback under hostile input, signed as Twilio signs, on both databases.

Each field Chorus reads (and one it does not) arrives with a NUL, with control characters, 10,000 characters
long, and with percent-encoded bytes that are not UTF-8. Whatever arrives: never a 500; a refusal (400)
stores nothing; an answer (200) stores the message once, with nothing in it PostgreSQL or XML cannot hold,
and its TwiML is well-formed XML. Then a bounded, deterministic fuzz run of both routes.
"""
from __future__ import annotations

import logging
import unicodedata
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sms.inbound import twiml
from surveys import admin
from surveys import models as m
from sms.status import read_status
from surveys.delivery import record_status
from surveys.loader import load_survey_file
from tests.sms_helpers import ACCOUNT, OUR_NUMBER, ROOT, TWILIO_DATA, Clock, Twilio, sms_app

PANTRY = ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml"
PERSON = "+447700900123"
FORM = "application/x-www-form-urlencoded"
NOT_UTF8 = "%FF%FE%ED%A0%80%C0%AF"  # a stray byte, a BOM's half, an encoded surrogate, an overlong "/"


@pytest.fixture
def sms(db, now):
    clock = Clock(now)
    app, store = sms_app(db, clock)
    admin.load_survey(store, load_survey_file(PANTRY), now)
    admin.add_organisation(store, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    twilio = Twilio(app.test_client())
    twilio.store, twilio.clock = store, clock
    for text in ("JOIN pantry", "yes", "no"):  # someone taking part: what they send is stored
        assert twilio.inbound(text, PERSON).status_code == 200
    return twilio


# ---- what is stored, and what is said ------------------------------------------------------------------
def stray(text: str | None) -> list[str]:
    """Characters no stored text or reply may carry: controls (but tab, newline, carriage return), lone
    surrogates, and the non-characters XML forbids."""
    return [c for c in text or "" if (unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n\r")
            or c in "\ufffe\uffff"]


def snapshot(store) -> dict:
    with store.read() as conn:
        count = {t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar()
                 for t in (m.Message, m.Answer, m.Contact, m.Conversation)}
        texts = conn.execute(select(m.Message.text, m.Message.external_id, m.Message.status, m.Message.error_code)).all()
        answers = conn.execute(select(m.Answer.raw_text, m.Answer.value_text)).all()
        addresses = conn.execute(select(m.Contact.address, m.Contact.language)).all()
    return {"count": count, "strings": [s for row in [*texts, *answers, *addresses] for s in row if s is not None]}


def well_formed(response) -> list[str]:
    """The reply's messages; fails when the TwiML is not XML Twilio could read."""
    root = ET.fromstring(response.data)  # raises ParseError on anything XML 1.0 forbids
    assert root.tag == "Response"
    texts = [msg.text or "" for msg in root.findall("Message")]
    assert not [c for t in texts for c in stray(t)], texts
    return texts


def check(sms, path: str, items: list, raw: bytes | None = None) -> int:
    """Post a signed request; assert the contract; return the status."""
    before = snapshot(sms.store)
    response = sms.post(path, items, raw=raw)
    assert response.status_code in (200, 400), (path, response.status_code)
    after = snapshot(sms.store)
    if response.status_code == 400:
        assert after["count"] == before["count"], "a refused request stored something"
        assert response.data.decode().strip() in {
            "MessageSid and From are required", "MessageSid is not a Twilio message id",
            "From or To is longer than any phone number or sender id", "MessageSid and MessageStatus are required",
            "MessageStatus is not a status word", "ErrorCode is not a number"}, response.data
    elif path == "/sms/inbound":
        well_formed(response)
        form = dict(items)
        sid = form.get("MessageSid") or form.get("SmsSid")
        with sms.store.read() as conn:  # stored once, whole: the message and the replies it was given
            stored = conn.execute(select(m.Message.id).where(m.Message.external_id == sid,
                                                             m.Message.direction == "in")).scalars().all()
            assert len(stored) == 1, "an answered message was not stored exactly once"
            replies = conn.execute(select(func.count()).select_from(m.Message)
                                   .where(m.Message.in_reply_to_id == stored[0])).scalar()
        assert replies == len(well_formed(response)) or after["count"] == before["count"]  # or a redelivery
    assert not [c for s in after["strings"] for c in stray(s)], "a control character was stored"
    return response.status_code


def app_reading(raw: bytes) -> list[tuple[str, str]]:
    """The form as the app reads these bytes: what a signature must cover to get past the check."""
    request = Request(EnvironBuilder(method="POST", data=raw, content_type=FORM).get_environ())
    return list(request.form.items(multi=True))


def inbound_params(sms, **override) -> dict:
    sms.seq += 1
    return {"MessageSid": f"SM{sms.seq:032x}", "AccountSid": ACCOUNT, "From": PERSON, "To": OUR_NUMBER,
            "Body": "4", "NumMedia": "0", "NumSegments": "1", "FromCity": "LEEDS", **override}


def _outbound(store, sid: str) -> None:
    from datetime import datetime, timezone

    contact_id = admin.find_contact(store, "sms", PERSON)
    with store.write() as conn:
        conn.execute(m.Message.__table__.insert().values(
            channel="sms", direction="out", external_id=sid, contact_id=contact_id, kind="text", text="hi",
            status="queued", created_at=datetime(2026, 11, 23, tzinfo=timezone.utc)))


def status_params(sms, **override) -> dict:
    sms.seq += 1
    sid = f"SM{sms.seq:032x}"
    _outbound(sms.store, sid)
    return {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30001", "To": PERSON,
            "AccountSid": ACCOUNT, **override}


# ---- every field, four ways ----------------------------------------------------------------------------
HOSTILE = {
    "NUL": lambda v: f"{v}\x00{v}",
    "control characters": lambda v: f"\x01\x08\x0b\x0c\x1b[31m{v}\x7f\x85",
    "10,000 characters": lambda v: ((v or "9") * 10_000)[:10_000],
}
INBOUND_FIELDS = ["MessageSid", "SmsSid", "From", "To", "Body", "NumMedia", "NumSegments", "OptOutType",
                  "AccountSid", "FromCity"]
STATUS_FIELDS = ["MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode", "To", "AccountSid"]


def _cases(sms, path: str, field: str):
    """(name, items, raw) for each hostile form of `field`. SmsSid and SmsStatus are read only when their
    Message* twin is absent, so it is taken out."""
    base = inbound_params(sms) if path == "/sms/inbound" else status_params(sms)
    twin = {"SmsSid": "MessageSid", "SmsStatus": "MessageStatus"}.get(field)
    if twin:
        base[field] = base.pop(twin)
    value = base.get(field, "STOP" if field == "OptOutType" else "x")
    for kind, make in HOSTILE.items():
        yield kind, list({**base, field: make(value)}.items()), None
    # Bytes that are not UTF-8, percent-encoded as a form would carry them, signed as the app reads them.
    raw = "&".join(f"{quote(k)}={quote(v) + NOT_UTF8 if k == field else quote(v)}"
                   for k, v in {**base, field: value}.items()).encode()
    yield "invalid UTF-8", app_reading(raw), raw


@pytest.mark.parametrize("path, fields", [("/sms/inbound", INBOUND_FIELDS), ("/sms/status", STATUS_FIELDS)])
def test_every_field_with_nul_controls_10000_characters_and_invalid_utf8(sms, path, fields):
    outcomes = {}
    for field in fields:
        for kind, items, raw in _cases(sms, path, field):
            outcomes[field, kind] = check(sms, path, items, raw)
    # Ids that are not Twilio's shape are refused, the free text is cleaned and answered.
    if path == "/sms/inbound":
        assert outcomes["MessageSid", "NUL"] == outcomes["MessageSid", "10,000 characters"] == 400
        assert all(outcomes["Body", kind] == 200 for kind in (*HOSTILE, "invalid UTF-8"))
    else:
        assert outcomes["MessageSid", "NUL"] == outcomes["MessageStatus", "10,000 characters"] == 400
        assert outcomes["ErrorCode", "control characters"] == 400


def test_the_body_is_stored_without_control_characters_and_with_its_emoji(sms):
    sms.inbound("1", PERSON)  # a low score: next comes the free-text "why"
    body = "Cold\x00 food\x01\x1b[0m 🥶👎🏽\nqueue\tlong\x7f"
    assert sms.inbound(body, PERSON).status_code == 200
    with sms.store.read() as conn:
        raw = conn.execute(select(m.Answer.raw_text).where(m.Answer.question_key == "why_low")).scalar_one()
    assert raw == "Cold food[0m 🥶👎🏽\nqueue\tlong"


@pytest.mark.parametrize("text", ["JOIN \x01", "JOIN AB\x01\x1bCD", "JOIN 💥\x0b", "join \x7f\x85#"])
def test_an_echoed_join_code_never_carries_a_control_character(db, now, text):
    clock = Clock(now)
    app, store = sms_app(db, clock)
    twilio = Twilio(app.test_client())
    response = twilio.inbound(text, "+447700900555")
    assert response.status_code == 200
    [reply] = well_formed(response)
    assert reply.startswith("Sorry, we don't recognise the code") or reply.startswith("Hi! This number")


def test_the_twiml_writer_drops_what_xml_forbids_and_keeps_the_rest():
    text = "a\x00b\x01c\x1b\ud800d\ufffe\uffff e\t\n\r 😀 <&>"
    root = ET.fromstring(twiml([text, "ok"]))
    assert [msg.text for msg in root.findall("Message")] == ["abcd e\t\n\n 😀 <&>", "ok"]  # XML reads \r as \n


# ---- status callbacks of unexpected shapes ---------------------------------------------------------------
def test_an_unknown_status_word_leaves_the_message_as_it_was(sms, caplog):
    params = status_params(sms, MessageStatus="exploded", ErrorCode="")
    with caplog.at_level(logging.INFO):
        assert sms.post("/sms/status", params).status_code == 200
    with sms.store.read() as conn:
        assert conn.execute(select(m.Message.status).where(m.Message.external_id == params["MessageSid"])
                            ).scalar_one() == "queued"
    assert "status not understood" in caplog.text and PERSON not in caplog.text


@pytest.mark.parametrize("provider_id, status, code", [
    ("SM1\x00", "delivered", None), ("S" * 10_000, "sent", None), ("SMx", "s" * 10_000, None),
    ("SMx", "failed", "9" * 10_000), ("SMx", "failed", "21610\x00"), ("SMx", None, None), (None, "sent", "1"),
    ("SMx", "x\x00", None), ("SMx", "\ud800", "\udfff"), ("SMx", "failed", "\udfff"), ("SMx", "FAILED", "\x1b"),
])
def test_record_status_never_raises(db, now, provider_id, status, code):
    with db.write() as conn:
        conn.execute(m.Message.__table__.insert().values(channel="sms", direction="out", external_id="SMx",
                                                         kind="text", text="hi", status="queued", created_at=now))
    found = record_status(db, "sms", provider_id, status, code, now, read_status)
    assert found is (provider_id == "SMx")
    with db.read() as conn:
        status_now, code_now = conn.execute(select(m.Message.status, m.Message.error_code)).one()
    assert (status_now, code_now) == (("failed", None) if status in ("failed", "FAILED") else ("queued", None))


# ---- a bounded fuzz run: a few hundred signed requests on each database ----------------------------------
def _real_forms(prefix: str) -> list[dict]:
    forms = [dict(parse_qsl(p.read_text().strip(), keep_blank_values=True))
             for p in sorted(TWILIO_DATA.glob(f"{prefix}*.form"))] if TWILIO_DATA.exists() else []
    return forms or [{"MessageSid": "SM" + "e" * 32, "From": PERSON, "To": OUR_NUMBER, "Body": "Msg",
                      "MessageStatus": "delivered", "NumMedia": "0"}]


INBOUND_FORMS, STATUS_FORMS = _real_forms("inbound"), _real_forms("status")
# Anything a form can carry (not lone surrogates: they cannot be percent-encoded), weighted to the nasty.
FORM_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.text(st.characters(max_codepoint=0x9F), max_size=20),
    st.sampled_from(["", "\x00", "1\x00", "JOIN \x01", "JOIN pantry", "STOP", "yes", "4", "-1", "99999999999",
                     "+447700900123\x00", "SM" + "f" * 32, "delivered", "failed", "😀" * 500, "x" * 10_000]),
)


@st.composite
def fuzzed(draw, forms: list[dict], keep: tuple[str, ...]):
    """A real payload with some fields replaced, dropped or added, and maybe bytes that are not UTF-8."""
    params = dict(draw(st.sampled_from(forms)))
    params["From"] = PERSON if draw(st.booleans()) else params.get("From", PERSON)
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from(sorted({*params, *keep})))
        if draw(st.integers(0, 5)) == 0:
            params.pop(field, None)
        else:
            params[field] = draw(FORM_TEXT)
    raw = None
    if draw(st.integers(0, 4)) == 0 and params:
        field = draw(st.sampled_from(sorted(params)))
        raw = "&".join(f"{quote(k)}={quote(v) + NOT_UTF8 if k == field else quote(v)}"
                       for k, v in params.items()).encode()
    return params, raw, draw(st.booleans())


_FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                        HealthCheck.data_too_large])


@_FUZZ
@given(case=fuzzed(INBOUND_FORMS, ("MessageSid", "From", "To", "Body", "NumMedia", "OptOutType")))
def test_fuzzed_inbound_requests(sms, case):
    params, raw, _ = case
    items = app_reading(raw) if raw is not None else list(params.items())
    body = raw if raw is not None else urlencode(items).encode()
    check(sms, "/sms/inbound", items, body)


@_FUZZ
@given(case=fuzzed(STATUS_FORMS, ("MessageSid", "MessageStatus", "ErrorCode")))
def test_fuzzed_status_callbacks(sms, case):
    params, raw, ours = case
    sid = params.get("MessageSid")
    if ours and sid and sid.isprintable() and len(sid) <= 128:
        with sms.store.read() as conn:
            known = conn.execute(select(func.count()).select_from(m.Message)
                                 .where(m.Message.external_id == sid)).scalar()
        if not known:
            _outbound(sms.store, sid)  # about half the time a message we sent, so the update path runs too
    items = app_reading(raw) if raw is not None else list(params.items())
    body = raw if raw is not None else urlencode(items).encode()
    check(sms, "/sms/status", items, body)
