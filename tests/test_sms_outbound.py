"""Outbound SMS: the real twilio client against a local fake Twilio REST server, on both databases."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from sms.channel import SmsChannel, render_sms
from surveys import admin
from surveys import models as m
from surveys.channels import ChannelError
from surveys.delivery import Undeliverable, send_one
from surveys.engine import Choice, OutgoingMessage
from tests.fake_twilio import FakeTwilio
from tests.sms_helpers import ACCOUNT, OUR_NUMBER, TOKEN

NUMBER = "+447700900123"


@pytest.fixture
def fake():
    server = FakeTwilio(account_sid=ACCOUNT).start()
    yield server
    server.stop()


@pytest.fixture
def channel(fake):
    return SmsChannel(ACCOUNT, TOKEN, from_number=OUR_NUMBER, status_callback_url="https://chorus.example.org/sms/status",
                      api_base_url=fake.base_url)


@pytest.fixture
def contact(db, now):
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now)
    return admin.add_participant(db, "sms", NUMBER, "PANTRY", now)


def _message(db, message_id):
    with db.session() as s:
        return s.get(m.Message, message_id)


def _contact(db, contact_id):
    with db.session() as s:
        return s.get(m.Contact, contact_id)


def test_a_send_goes_through_the_real_client_and_is_recorded(db, now, fake, channel, contact):
    msg = OutgoingMessage("How did you get here?", (Choice("walk", "Walking"), Choice("bus", "Bus")), "list", "travel")
    message_id = send_one(db, channel, contact, msg, now)
    assert fake.sent == [{"To": NUMBER, "From": OUR_NUMBER, "Body": "How did you get here?\n1. Walking\n2. Bus",
                          "StatusCallback": "https://chorus.example.org/sms/status"}]
    assert fake.requests[0].auth.startswith("Basic ")
    row = _message(db, message_id)
    assert row.status == "queued" and row.external_id.startswith("SM") and row.direction == "out"


def test_messaging_service_sid_is_used_when_configured(db, now, fake, contact):
    channel = SmsChannel(ACCOUNT, TOKEN, messaging_service_sid="MG" + "1" * 32, api_base_url=fake.base_url)
    send_one(db, channel, contact, OutgoingMessage("Hi"), now)
    assert fake.sent[0]["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in fake.sent[0]


@pytest.mark.parametrize("status, code, permanent, effect, contact_state", [
    (400, 21610, True, "opted_out", "opted-out"),
    (400, 21211, True, "unreachable", "unreachable"),
    (400, 21614, True, "unreachable", "unreachable"),
    (429, 20429, False, None, "active"),
    (500, 30001, False, None, "active"),
    (503, 30001, False, None, "active"),
])
def test_provider_errors_become_typed_errors_and_mark_the_participant(db, now, fake, channel, contact, status, code,
                                                                     permanent, effect, contact_state):
    fake.errors[NUMBER] = (status, code)
    with pytest.raises(ChannelError) as caught:
        send_one(db, channel, contact, OutgoingMessage("Hello"), now)
    assert caught.value.permanent is permanent and caught.value.effect == effect and caught.value.code == str(code)
    with db.session() as s:
        row = s.scalars(select(m.Message).where(m.Message.direction == "out")).one()
        c = s.get(m.Contact, contact)
    assert row.status == ("failed" if permanent else "retry") and row.error_code == str(code)
    state = "opted-out" if c.opted_out_at else ("unreachable" if c.unreachable_at else "active")
    assert state == contact_state


def test_nothing_is_sent_to_someone_who_opted_out(db, now, fake, channel, contact):
    fake.errors[NUMBER] = (400, 21610)
    with pytest.raises(ChannelError):
        send_one(db, channel, contact, OutgoingMessage("Hello"), now)
    with pytest.raises(Undeliverable, match="opted out"):
        send_one(db, channel, contact, OutgoingMessage("Hello again"), now)
    assert len(fake.sent) == 1


def test_network_failure_is_temporary(db, now, contact):
    channel = SmsChannel(ACCOUNT, TOKEN, from_number=OUR_NUMBER, api_base_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(ChannelError) as caught:
        send_one(db, channel, contact, OutgoingMessage("Hello"), now)
    assert caught.value.permanent is False


def test_sms_text_avoids_characters_that_force_ucs2():
    text = render_sms(OutgoingMessage("We\u2019re sorry \u2013 it\u2019s \u201cclosed\u201d\u00a0today\u2026"))
    assert text == "We're sorry - it's \"closed\" today..."
