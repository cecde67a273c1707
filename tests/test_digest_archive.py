"""Archived digests on both databases: byte-identical rebuilds from the same cut-off, a rebuild after an
erasure that removes the person's words from the archived files, the weekly job (due once, catch-up after
downtime), and delivery by email to a real local SMTP server (aiosmtpd): MIME structure, inline images, the
plain-text part, recipients."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from analysis.digest import archive
from analysis.digest.deliver import due_week, options, queue_digest, weekly_digest
from bot.render import render
from mail.channel import EmailChannel
from surveys import models as m
from surveys.engine import OutgoingMessage
from surveys.outbox import Worker
from surveys.service import InboundMessage, handle_inbound
from surveys.store import Store
from tests.digest_data import Data, Person
from tests.test_digest_build import CUTOFF, W46, W47
from tests.test_email_outbox import smtp  # noqa: F401  (the fixture)

QUOTED = "Honestly the volunteers were brilliant with my son"


@pytest.fixture
def store(db, tmp_path) -> Store:
    settings = dataclasses.replace(db.settings, var_dir=tmp_path / "var", partnership_name="Riverside Partnership",
                                   digest_recipients=("board@riverside.example", "chair@riverside.example"))
    return Store(settings, sql_engine=db.sql_engine)


@pytest.fixture
def data(store):
    d = Data(store, W46 - timedelta(days=30))
    d.org("food", "Riverside Food Bank")
    people = [Person("food", completed=True, visit=4, recommend=9, text=QUOTED, label="positive", polarity=0.9,
                     quote_ok=True)]
    people += [Person("food", completed=i % 2 == 0, visit=3 + i % 3, recommend=5 + i % 6,
                      text=f"the queue was long again, week {i}", label="negative", polarity=-0.3, quote_ok=True)
               for i in range(9)]
    d.week(W47, people)
    return d


def _files(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_a_rebuild_from_the_same_cutoff_is_byte_identical(store, data, tmp_path):
    first = archive.build_and_archive(store, options(store, 2026, 47, cutoff=CUTOFF), CUTOFF, tmp_path / "out")
    files = _files(first.path)
    assert {"digest.json", "email.html", "email.txt", "digest.md", "print.html"} <= set(files)
    assert any(name.endswith(".png") for name in files)
    assert _files(tmp_path / "out") == files
    later = CUTOFF + timedelta(days=9)
    # no cut-off given: the archived one is used, so building again a week later changes nothing
    again = archive.build_and_archive(store, options(store, 2026, 47), later)
    assert again.rebuilt and again.archive_id == first.archive_id and _files(again.path) == files
    assert QUOTED.encode() in files["digest.json"]


def test_an_erasure_removes_the_persons_words_from_archived_copies(store, data):
    first = archive.build_and_archive(store, options(store, 2026, 47, cutoff=CUTOFF), CUTOFF)
    assert any(QUOTED.encode() in b for b in _files(first.path).values())
    assert archive.stale_archives(store) == []
    address = "+447700900001"
    with store.read() as conn:
        quoted_contact = conn.execute(select(m.Answer.contact_id).where(m.Answer.raw_text == QUOTED)).scalar()
        address = conn.execute(select(m.Contact.address).where(m.Contact.id == quoted_contact)).scalar()
    later = CUTOFF + timedelta(days=3)
    for text in ("DELETE", "DELETE"):
        handle_inbound(store, InboundMessage("local", address, f"erase-{text}-{later.timestamp()}-{text is None}", text),
                       later)
        later += timedelta(seconds=1)
    assert [r.id for r in archive.stale_archives(store)] == [first.archive_id]
    result = weekly_digest(store, later)
    assert result["refreshed"] == 1
    files = _files(first.path)
    assert not any(QUOTED.encode() in b for b in files.values())
    assert archive.stale_archives(store) == []
    rebuilt = archive.existing(store, "2026-W47", None)
    assert rebuilt.cutoff == CUTOFF                        # from its own cut-off, only the erased person left out


def test_a_withdrawn_consent_to_quote_counts_like_an_erasure_for_quotes(store, data):
    first = archive.build_and_archive(store, options(store, 2026, 47, cutoff=CUTOFF), CUTOFF)
    with store.write() as conn:
        conn.execute(m.Enrolment.__table__.update().where(m.Enrolment.__table__.c.id.in_(
            select(m.Answer.enrolment_id).where(m.Answer.raw_text == QUOTED))).values(consent_quote=False))
    assert [r.id for r in archive.stale_archives(store)] == [first.archive_id]
    weekly_digest(store, CUTOFF + timedelta(days=1))
    assert not any(QUOTED.encode() in b for b in _files(first.path).values())


def test_the_weekly_job_sends_once_when_due_and_catches_up_after_downtime(store, data):
    monday_0759 = datetime(2026, 11, 23, 7, 59, tzinfo=timezone.utc)
    assert due_week(store, monday_0759) == (2026, 46)
    assert due_week(store, monday_0759 + timedelta(minutes=1)) == (2026, 47)
    wednesday = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)     # the clock was down on Monday
    first = weekly_digest(store, wednesday)
    assert first["week"] == "2026-W47" and first["sent"] == 2
    assert weekly_digest(store, wednesday + timedelta(seconds=30))["sent"] == 0
    with store.read() as conn:
        rows = conn.execute(select(m.Message.channel, m.Message.to_address, m.Message.purpose, m.Message.payload)
                            .where(m.Message.purpose == "digest").order_by(m.Message.to_address)).all()
    assert [(r.channel, r.to_address) for r in rows] == [("email", "board@riverside.example"),
                                                         ("email", "chair@riverside.example")]
    assert rows[0].payload["document"].endswith("2026-W47/partnership/email.eml")
    assert "Riverside Partnership" in rows[0].payload["subject"]


def test_the_digest_email_reaches_an_smtp_server_with_inline_charts(store, data, smtp):  # noqa: F811
    inbox, port = smtp
    archived = archive.build_and_archive(store, options(store, 2026, 47, cutoff=CUTOFF), CUTOFF)
    assert queue_digest(store, archived, CUTOFF) == 2
    assert queue_digest(store, archived, CUTOFF) == 0        # sent before: not again
    worker = Worker(store, {"email": EmailChannel("127.0.0.1", port, "digest@riverside.example", starttls=False)},
                    clock=lambda: CUTOFF)
    while worker.run_once():
        pass
    assert sorted(r for rcpts, _ in inbox.messages for r in rcpts) == ["board@riverside.example",
                                                                       "chair@riverside.example"]
    _, mail = inbox.messages[0]
    assert mail.get_content_type() == "multipart/alternative"
    plain, related = mail.get_payload()
    assert plain.get_content_type() == "text/plain" and "2026-W47" in plain.get_payload(decode=True).decode()
    assert related.get_content_type() == "multipart/related"
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html" and images
    body = html.get_payload(decode=True).decode()
    for image in images:
        assert image.get_content_type() == "image/png"
        cid = image["Content-ID"].strip("<>")
        assert f"cid:{cid}" in body
        assert image.get_payload(decode=True).startswith(b"\x89PNG")
    assert mail["Subject"] == "User voice this week: Riverside Partnership, 2026-W47"
    assert "07700" not in mail.as_string()


def test_the_printable_digest_is_served_only_with_its_link(store, data):
    from analysis.digest.archive import share_path
    from config.app import create_app

    archive.build_and_archive(store, options(store, 2026, 47, cutoff=CUTOFF), CUTOFF)
    client = create_app(store.settings, store).test_client()
    good = share_path(store.settings.secret_key, "2026-W47", "partnership")
    page = client.get(good)
    assert page.status_code == 200 and b"Riverside Partnership" in page.data
    assert page.headers["Cache-Control"] == "private, no-store"
    for bad in (good[:-1] + ("0" if good[-1] != "0" else "1"), good.replace("W47", "W46"),
                good.replace("partnership", "food"), "/digests/2026-W47/partnership/", "/digests/x/y/z",
                "/digests/2026-W47/../../etc/" + good.rsplit("/", 1)[1]):
        assert client.get(bad).status_code == 404, bad


def test_the_telegram_summary_carries_the_link(store, data):
    settings = dataclasses.replace(store.settings, digest_recipients=(), digest_telegram_chat="-1001234",
                                   public_base_url="https://chorus.example")
    s2 = Store(settings, sql_engine=store.sql_engine)
    archived = archive.build_and_archive(s2, options(s2, 2026, 47, cutoff=CUTOFF), CUTOFF)
    assert queue_digest(s2, archived, CUTOFF) == 1
    with s2.read() as conn:
        (row,) = conn.execute(select(m.Message.channel, m.Message.to_address, m.Message.text, m.Message.payload)
                              .where(m.Message.purpose == "digest")).all()
    assert row.channel == "telegram" and row.to_address == "-1001234"
    # The digest queues a neutral summary (no Telegram in analysis/); the Telegram channel lays it out.
    summary = OutgoingMessage.from_row(row.text, row.payload)
    assert summary.link.startswith("https://chorus.example/digests/2026-W47/partnership/") and QUOTED not in row.text
    text, markup = render(summary)
    lines = text.split("\n")
    assert lines[0] == "User voice this week: Riverside Partnership, 2026-W47" and markup is None
    assert 1 <= len(lines[1:-1]) <= 3 and all(line.startswith("• ") for line in lines[1:-1])
    assert lines[-1] == f"The full digest: {summary.link}"
    assert render(dataclasses.replace(summary, link=None))[0].endswith("\nThe full digest went to the governance email list.")


def test_weeks_missed_during_an_outage_are_sent_oldest_first_and_a_new_install_starts_with_one(store, data):
    first = weekly_digest(store, datetime(2026, 11, 9, 9, 0, tzinfo=timezone.utc))     # new install: one week
    assert first["weeks"] == ["2026-W45"]
    back = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)                          # down for two Mondays
    result = weekly_digest(store, back)
    assert result["weeks"] == ["2026-W46", "2026-W47"] and result["sent"] == 4
    assert weekly_digest(store, back + timedelta(minutes=1))["sent"] == 0


def test_digest_list_says_what_really_happened_to_each_sending(store, data, smtp):  # noqa: F811
    """Nobody to send to: recorded as not sent, with the reason (it used to read "sent"). Recipients set later:
    `digest send` queues it without --again, and the list follows each message: waiting, then sent or failed."""
    wednesday = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
    nobody = Store(dataclasses.replace(store.settings, digest_recipients=(), digest_telegram_chat=None),
                   sql_engine=store.sql_engine)
    assert weekly_digest(nobody, wednesday)["sent"] == 0
    (status,) = archive.list_archives(nobody)
    assert status.delivery() == "not sent: no recipients (DIGEST_RECIPIENTS and DIGEST_TELEGRAM_CHAT are not set)"
    assert weekly_digest(nobody, wednesday + timedelta(minutes=1))["sent"] == 0     # decided once, not every tick

    later = wednesday + timedelta(hours=1)
    archived = archive.build_and_archive(store, options(store, 2026, 47), later)
    assert queue_digest(store, archived, later) == 2
    (status,) = archive.list_archives(store)
    assert status.delivery() == "queued to 2 recipients 2026-11-25 16:00 UTC: 2 waiting"

    inbox, port = smtp
    inbox.refuse.add("chair@riverside.example")
    worker = Worker(store, {"email": EmailChannel("127.0.0.1", port, "digest@riverside.example", starttls=False)},
                    clock=lambda: later)
    while worker.run_once():
        pass
    (status,) = archive.list_archives(store)
    assert status.delivery() == "queued to 2 recipients 2026-11-25 16:00 UTC: 1 sent, 1 failed"
    assert queue_digest(store, archived, later) == 0                                 # queued before: not again


def test_the_digest_list_command_never_says_sent_when_nothing_went(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import main

    for k, v in {"CHORUS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
                 "CHORUS_SECRET_KEY": "cli-test-secret-0123456789"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("DIGEST_RECIPIENTS", raising=False)
    monkeypatch.delenv("DIGEST_TELEGRAM_CHAT", raising=False)

    def run(*args):
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("db", "upgrade")
    run("digest", "build", "--week", "2026-W47")
    assert "not sent yet" in run("digest", "list")
    monkeypatch.setenv("DIGEST_RECIPIENTS", "board@riverside.example")
    assert "queued to 1 recipient(s)" in run("digest", "send", "--week", "2026-W47")
    listed = run("digest", "list")
    assert "queued to 1 recipient " in listed and ": 1 waiting" in listed and " sent " not in listed


def test_digest_send_without_smtp_says_what_the_worker_does_with_it(tmp_path, monkeypatch):
    """Without SMTP_HOST, `digest send` said the email "waits in the outbox until it is" set; the worker fails
    it at once (channel not configured). The warning says that, and `digest list` shows it."""
    from click.testing import CliRunner

    from cli import main
    from config.worker import build
    from tests.process_env import close

    for k, v in {"CHORUS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
                 "CHORUS_SECRET_KEY": "cli-test-secret-0123456789", "DIGEST_RECIPIENTS": "board@riverside.example",
                 "SMTP_HOST": ""}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("DIGEST_TELEGRAM_CHAT", raising=False)

    def run(*args):
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("db", "upgrade")
    sent = run("digest", "send", "--week", "2026-W47")
    assert "waits in the outbox" not in sent
    assert "SMTP_HOST is not set" in sent and "fails it at once" in sent and "--again" in sent
    worker = build()                                   # what `chorus worker` runs, from the same settings
    try:
        worker.run_once()
    finally:
        close(worker.db)
    assert ": 1 failed" in run("digest", "list")


def test_sending_to_nobody_is_an_error_before_anything_is_built_and_a_send_says_what_it_queued(store, data):
    from analysis.digest.staff import NOBODY, DigestError, send_digest

    nobody = Store(dataclasses.replace(store.settings, digest_recipients=(), digest_telegram_chat=None),
                   sql_engine=store.sql_engine)
    with pytest.raises(DigestError) as caught:
        send_digest(nobody, 2026, 47, None, CUTOFF)
    assert str(caught.value) == NOBODY and archive.list_archives(store) == []
    sent = send_digest(store, 2026, 47, None, CUTOFF)
    assert (sent.archived.digest.week, sent.queued) == ("2026-W47", 2)
    assert sent.warning.startswith("SMTP_HOST is not set: a worker without it fails it at once")
    assert send_digest(store, 2026, 47, None, CUTOFF).queued == 0
    assert send_digest(store, 2026, 47, None, CUTOFF, again=True).queued == 2
    configured = Store(dataclasses.replace(store.settings, smtp_host="smtp.example"), sql_engine=store.sql_engine)
    assert send_digest(configured, 2026, 47, None, CUTOFF, again=True).warning is None


def test_the_printable_digest_is_found_only_by_its_exact_week_scope_and_token(store, data):
    from analysis.digest.staff import printable_digest

    built = archive.build_and_archive(store, options(store, 2026, 47, cutoff=CUTOFF), CUTOFF)
    token = archive.share_token(store.settings.secret_key, "2026-W47", "partnership")
    assert printable_digest(store, "2026-W47", "partnership", token) == (built.path / "print.html").read_bytes()
    assert printable_digest(store, "2026-w47", "partnership", token) is not None  # the week as people type it
    for week, scope, tok in (("2026-W46", "partnership", token), ("2026-W47", "food", token),
                             ("2026-W47", "partnership", token[:-1]), ("nonsense", "partnership", token),
                             ("2026-W47", "../partnership", token)):
        assert printable_digest(store, week, scope, tok) is None, (week, scope)
