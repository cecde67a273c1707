"""Email is an outbox channel: a queued alert reaches a real local SMTP server (aiosmtpd), once."""
from __future__ import annotations

import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from mail.channel import EmailChannel
from surveys.channels import ChannelError
from surveys.engine import OutgoingMessage
from surveys.outbox import Worker, queue


class Inbox:
    def __init__(self):
        self.messages = []
        self.refuse = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_a_queued_alert_is_emailed_once(db, now, smtp):
    inbox, port = smtp
    channel = EmailChannel("127.0.0.1", port, "chorus@pantry.example", starttls=False)
    row = queue(db, "email", OutgoingMessage("A safeguarding flag needs a person: https://chorus.example/flags/7",
                                             subject="Chorus: a flag needs a person"), now,
                to_address="safeguarding@pantry.example")
    worker = Worker(db, {"email": channel}, clock=lambda: now)
    while worker.run_once():
        pass
    assert len(inbox.messages) == 1
    recipients, mail = inbox.messages[0]
    assert recipients == ["safeguarding@pantry.example"] and mail["Subject"] == "Chorus: a flag needs a person"
    assert mail["From"] == "chorus@pantry.example" and "flags/7" in mail.get_payload()
    from sqlalchemy import select

    from surveys import models as m

    with db.read() as conn:
        status, provider_id = conn.execute(select(m.Message.status, m.Message.external_id).where(m.Message.id == row)).one()
    assert status == "queued" and provider_id.startswith("<")


def test_alerts_to_several_people_go_out_together_once_each(db, now, smtp):
    """The worker's lanes call the channel from several threads at once: each alert still arrives once."""
    inbox, port = smtp
    inbox.refuse.add("gone@pantry.example")
    channel = EmailChannel("127.0.0.1", port, "chorus@pantry.example", starttls=False)
    to = [f"staff{i}@pantry.example" for i in range(12)] + ["gone@pantry.example"]
    for address in to:
        queue(db, "email", OutgoingMessage(f"digest for {address}", subject="Chorus digest"), now, to_address=address)
    worker = Worker(db, {"email": channel}, clock=lambda: now, senders=4)
    while worker.run_once():
        pass
    received = sorted(r for recipients, _ in inbox.messages for r in recipients)
    assert received == sorted(to[:-1])
    from sqlalchemy import func, select

    from surveys import models as m

    with db.read() as conn:
        statuses = dict(conn.execute(select(m.Message.status, func.count()).group_by(m.Message.status)).all())
    assert statuses == {"queued": 12, "failed": 1}


def test_a_refused_recipient_is_a_permanent_failure(db, now, smtp):
    inbox, port = smtp
    inbox.refuse.add("nobody@pantry.example")
    channel = EmailChannel("127.0.0.1", port, starttls=False)
    with pytest.raises(ChannelError) as caught:
        channel.send("nobody@pantry.example", OutgoingMessage("hi"))
    assert caught.value.permanent


def test_a_server_that_is_down_is_a_temporary_failure():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ChannelError) as caught:
        EmailChannel("127.0.0.1", port, starttls=False, timeout=2).send("a@b.example", OutgoingMessage("hi"))
    assert not caught.value.permanent


def test_queue_needs_exactly_one_recipient(db, now):
    with pytest.raises(ValueError):
        queue(db, "email", OutgoingMessage("x"), now)
