"""The erasure's receipt and tombstone: a staff erasure sends the person a receipt in their language through the
outbox, and that row forgets their address and text once the worker is done with it (sent or failed for good),
not before; nobody who said STOP is sent one; the request reference never holds their number; the command line
erases the same way."""
from __future__ import annotations

import itertools

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli import main
from surveys import admin, contacts
from surveys import models as m
from surveys.channels import ChannelError
from surveys.outbox import MAX_ATTEMPTS, Worker
from surveys.participants import RequestProblem, erase_participant, list_erasures
from surveys.scope import Scope

_IDS = itertools.count(1)


class Edge:
    """The provider: answers with an id shaped like Telegram's, or fails as told."""

    def __init__(self, name, fail=None):
        self.name, self.buttons, self.fail, self.sent = name, False, fail, []

    def send(self, address, message):
        if self.fail is not None:
            raise self.fail
        self.sent.append((address, message.text))
        return f"{address}:{next(_IDS)}"


def _person(db, now, channel="telegram", address="777000111", language="es"):
    admin.add_organisation(db, "Despensa del Río", "rio", now)
    return admin.add_participant(db, channel, address, "rio", now, language=language)


def _receipt(db):
    with db.read() as conn:
        return conn.execute(select(m.Message).where(m.Message.purpose == "receipt")).one()


def _work(db, now, channel):
    Worker(db, {channel.name: channel}, clock=lambda: now, sleep=lambda s: None, senders=1).run_once()


def test_the_receipt_goes_in_their_language_then_the_row_forgets_the_address(db, now):
    contact = _person(db, now)
    erased = erase_participant(db, Scope("admin", actor="alice"), contact, now, request="llamada del 3 dic")
    row = _receipt(db)
    assert (row.to_address, row.status, row.contact_id) == ("777000111", "pending", None)   # until it is sent
    edge = Edge("telegram")
    _work(db, now, edge)
    [(address, text)] = edge.sent
    assert address == "777000111" and "hemos borrado" in text and f"E-{erased.erasure_id}" in text
    row = _receipt(db)
    assert (row.to_address, row.text, row.payload, row.status) == (None, None, None, "queued")
    assert row.external_id.startswith("erased:") and "777000111" not in row.external_id
    [tomb] = list_erasures(db, Scope.operator())
    assert (tomb.by, tomb.request, tomb.receipt, tomb.channel) == ("alice", "llamada del 3 dic", "sent", "telegram")


def test_a_failing_receipt_keeps_its_address_while_it_may_be_retried_and_forgets_it_when_it_fails_for_good(db, now):
    contact = _person(db, now, "sms", "+447700900555", "en")
    erase_participant(db, Scope.operator(), contact, now)
    _work(db, now, Edge("sms", ChannelError("timeout", permanent=False)))
    row = _receipt(db)
    assert (row.status, row.to_address) == ("retry", "+447700900555") and "erased" in row.text
    with db.write() as conn:   # the last try
        conn.execute(m.Message.__table__.update().values(attempts=MAX_ATTEMPTS - 1, not_before=now))
    _work(db, now, Edge("sms", ChannelError("unknown number", permanent=True, code="21211")))
    row = _receipt(db)
    assert (row.status, row.to_address, row.text, row.external_id) == ("failed", None, None, None)
    assert list_erasures(db, Scope.operator())[0].receipt == "could not be sent"


def test_nobody_who_said_stop_is_sent_a_receipt(db, now):
    contact = _person(db, now)
    with db.write() as conn:
        contacts.record_opt_out(conn, contact, now, renew=True)
    erased = erase_participant(db, Scope.operator(), contact, now)
    assert erased.receipt == "not sent: they had said STOP"
    with db.read() as conn:
        assert conn.execute(select(m.Message).where(m.Message.purpose == "receipt")).first() is None


@pytest.mark.parametrize("request_text", ["text from +44 7700 900555", "call from 07700900555", "+447700900555"])
def test_the_request_reference_never_holds_their_number(db, now, request_text):
    contact = _person(db, now, "sms", "+447700900555", "en")
    with pytest.raises(RequestProblem, match="not the person's number"):
        erase_participant(db, Scope.operator(), contact, now, request=request_text)
    with db.read() as conn:
        assert conn.execute(select(m.Contact.id)).scalar() == contact      # nothing was erased


def test_the_command_erases_with_the_request_and_says_so_in_one_line(sqlite_db, now, monkeypatch):
    # SQLite only: the command line reads DATABASE_URL, which cannot name a PostgreSQL run's own schema (the
    # operation it calls is tested on both databases above).
    db = sqlite_db
    contact = _person(db, now, "sms", "+447700900555", "en")
    monkeypatch.setenv("DATABASE_URL", str(db.sql_engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("CHORUS_SECRET_KEY", db.settings.secret_key)
    run = CliRunner().invoke(main, ["participants", "erase", str(contact), "--request", "email of 3 Dec",
                                    "--by", "sam"], obj={"now": now})
    assert run.exit_code == 0, run.output
    assert run.output.startswith("erased P-") and "receipt queued" in run.output
    again = CliRunner().invoke(main, ["participants", "erase", str(contact)], obj={"now": now})
    assert again.exit_code == 1 and again.output.strip() == f"Error: no participant {contact}"
    [tomb] = list_erasures(db, Scope.operator())
    assert (tomb.by, tomb.request) == ("sam", "email of 3 Dec")
