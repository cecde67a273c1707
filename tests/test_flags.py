"""Safeguarding flags through the real service on both databases: raised with the answer, alerts queued to
the right people with no words of the answer, once per answer, closed only by a person with a note, kept
(without the answer) after an erasure; and the conversation's scores reaching the sentiment tagger."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import func, select

from analysis.safeguarding import Safeguarding
from analysis.sentiment import SentimentTagger
from analysis.tagger import AnswerAnalysis
from surveys import admin, flags
from surveys import models as m
from surveys.loader import load_survey_file
from surveys.service import InboundMessage, handle_inbound
from surveys.store import Store

ROOT = Path(__file__).resolve().parent.parent
PANTRY = ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml"
RISK = "honestly i dont want to be here anymore"
_ids = itertools.count()


@pytest.fixture
def store(db) -> Store:
    """The test database with the tagger the composition root builds (sentiment + safeguarding), and both
    alert channels configured (an alert to a contact on a channel that is not alerts nobody)."""
    import dataclasses

    settings = dataclasses.replace(db.settings, smtp_host="smtp.example.org", telegram_bot_token="1:test")
    return Store(settings, sql_engine=db.sql_engine, tagger=AnswerAnalysis(SentimentTagger(), Safeguarding()))


def _send(db, now, text, address="+447700900123", ext=None):
    return handle_inbound(db, InboundMessage("local", address, ext or f"f{next(_ids)}", text), now)


def _to_last_question(db, now, address="+447700900123", visit="5"):
    """JOIN, consent, the whole pantry survey up to its last (free-text) question."""
    for text in ("JOIN pantry", "yes", "no", visit, "2", "yes", "9"):
        _send(db, now, text, address)


def _setup(db, now, contacts=True):
    admin.load_survey(db, load_survey_file(PANTRY), now)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    admin.add_organisation(db, "Other Org", "OTHER", now)
    if contacts:
        pantry = admin.find_organisation(db, "pantry").id
        other = admin.find_organisation(db, "other").id
        assert flags.store_safeguarding_contact(db, pantry, "email", "safeguarding@pantry.example", now)
        assert flags.store_safeguarding_contact(db, None, "telegram", "-100123", now)        # the backbone hears every flag
        assert flags.store_safeguarding_contact(db, other, "email", "lead@other.example", now)   # not this organisation's
        assert not flags.store_safeguarding_contact(db, pantry, "email", "safeguarding@pantry.example", now)


def _alerts(db):
    with db.read() as conn:
        return conn.execute(select(m.Message.channel, m.Message.to_address, m.Message.text, m.Message.payload,
                                   m.Message.status).where(m.Message.purpose == "alert")
                            .order_by(m.Message.channel)).all()


def test_a_risk_answer_raises_one_flag_and_alerts_the_right_people_without_its_words(store, now):
    _setup(store, now)
    _to_last_question(store, now)
    _send(store, now, RISK, ext="risk-1")
    _send(store, now, RISK, ext="risk-1")    # the provider delivers it again: still one answer, one flag
    open_flags = flags.list_flags(store)
    assert len(open_flags) == 1
    f = open_flags[0]
    assert f.organisation == "Riverside Pantry" and f.survey_id == "pantry" and f.status == "open"
    assert "suicide" in f.categories and f.answer_text is None
    alerts = _alerts(store)
    assert [(a.channel, a.to_address) for a in alerts] == [("email", "safeguarding@pantry.example"),
                                                           ("telegram", "-100123")]
    for a in alerts:
        assert a.status == "pending"
        assert f"#{f.id}" in a.text and "chorus flags show" in a.text   # no PUBLIC_BASE_URL in tests: the command
        for word in ("want to be here", "anymore", "honestly", "7700900123", "+44"):
            assert word not in a.text and word not in str(a.payload)
    assert "Riverside Pantry" in alerts[0].payload["subject"]
    shown = flags.show_flag(store, f.id)
    assert shown.answer_text == RISK      # the person handling it reads the words from the store


def test_a_flagged_answer_is_never_tagged_positive_nor_retagged_positive(store, now):
    """"I feel like ending it all" scores positive on "like": the flag makes it negative, at store time and
    after `chorus analysis retag` (which re-tags sentiment only), whatever tagger the re-tag is given."""
    from analysis.retag import retag

    _setup(store, now, contacts=False)
    _to_last_question(store, now)           # visit 5, recommend 9: a signal-free answer would lean positive
    _send(store, now, "I feel like ending it all")
    (f,) = flags.list_flags(store)

    def tags():
        with store.read() as conn:
            return conn.execute(select(m.Answer.tags).join(m.Flag, m.Flag.answer_id == m.Answer.id)
                                .where(m.Flag.id == f.id)).scalar_one()

    stored = tags()
    assert stored["flag"]["categories"] == ["suicide"] and stored["label"] == "negative"
    assert SentimentTagger().tag("I feel like ending it all", "en", {})["label"] == "positive"   # without the flag
    for tagger in (AnswerAnalysis(SentimentTagger(), Safeguarding()), SentimentTagger()):
        assert retag(store, tagger, now, fresh=True).done >= 1
        again = tags()
        assert again["label"] == "negative" and again["flag"] == stored["flag"], tagger


def test_ordinary_answers_raise_no_flag(store, now):
    _setup(store, now)
    _to_last_question(store, now)
    _send(store, now, "the wait killed me but staff were lovely")
    assert flags.list_flags(store, include_closed=True) == [] and _alerts(store) == []


def test_flag_without_contacts_is_still_raised(store, now):
    _setup(store, now, contacts=False)
    _to_last_question(store, now)
    _send(store, now, "my partner hits me")
    (f,) = flags.list_flags(store)
    assert "abuse" in f.categories
    assert _alerts(store) == []


def test_a_flag_is_closed_only_by_a_person_with_a_note(store, now):
    _setup(store, now)
    _to_last_question(store, now)
    _send(store, now, RISK)
    (f,) = flags.list_flags(store)
    with pytest.raises(flags.FlagError, match="--note"):
        flags.close_flag(store, f.id, "Sam", "  ", now)
    with pytest.raises(flags.FlagError, match="--by"):
        flags.close_flag(store, f.id, "", "called back", now)
    closed = flags.close_flag(store, f.id, "Sam", "Called back the same day; referred to GP.", now)
    assert closed.status == "closed" and closed.closed_by == "Sam" and closed.note.startswith("Called back")
    with pytest.raises(flags.FlagError, match="already closed by Sam"):
        flags.close_flag(store, f.id, "Alex", "again", now)
    assert flags.list_flags(store) == []
    assert [x.id for x in flags.list_flags(store, include_closed=True)] == [f.id]
    with pytest.raises(flags.FlagError, match="no flag 999"):
        flags.close_flag(store, 999, "Sam", "x", now)


def test_the_flag_survives_an_erasure_without_the_answer(store, now):
    _setup(store, now)
    _to_last_question(store, now)
    _send(store, now, RISK)
    _send(store, now, "DELETE")
    _send(store, now, "DELETE")
    (f,) = flags.list_flags(store)
    assert f.answer_id is None and flags.show_flag(store, f.id).answer_text is None
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(m.Answer)).scalar() == 0


def test_unconsented_text_is_never_stored_so_never_flagged(store, now):
    _setup(store, now)
    _send(store, now, "JOIN pantry")
    _send(store, now, RISK)            # an answer to the consent question, not stored
    assert flags.list_flags(store) == []


def test_contact_validation(store, now):
    _setup(store, now, contacts=False)
    with pytest.raises(flags.FlagError, match="not an email"):
        flags.store_safeguarding_contact(store, None, "email", "not-an-address", now)
    with pytest.raises(flags.FlagError, match="chat id"):
        flags.store_safeguarding_contact(store, None, "telegram", "@someone", now)
    with pytest.raises(flags.FlagError, match="email or telegram"):
        flags.store_safeguarding_contact(store, None, "sms", "+447700900123", now)
    assert flags.store_safeguarding_contact(store, None, "email", "a@b.example", now)
    assert flags.list_contacts(store) == [(None, "email", "a@b.example")]
    assert flags.remove_contact(store, None, "email", "a@b.example")
    assert not flags.remove_contact(store, None, "email", "a@b.example")


# ---- the conversation's context reaches the tagger ---------------------------------------------------------
def _last_tags(db):
    with db.read() as conn:
        return conn.execute(select(m.Answer.tags).where(m.Answer.raw_text.is_not(None))
                            .order_by(m.Answer.id.desc()).limit(1)).scalar()


@pytest.mark.parametrize("visit, nps, expected", [("5", "9", "positive"), ("1", "1", "negative")])
def test_a_signal_free_answer_takes_its_label_from_the_conversation_scores(store, now, visit, nps, expected):
    _setup(store, now, contacts=False)
    steps = ["JOIN pantry", "yes", "no", visit] + (["it was the bus"] if visit == "1" else []) + ["2", "no" if visit == "1" else "yes", nps]
    for text in steps:
        _send(store, now, text)
    _send(store, now, "the bus")      # no sentiment words: the scores of the same conversation decide
    assert _last_tags(store)["label"] == expected


def test_numeric_answers_are_checked_for_risk_but_not_sentiment_tagged(store, now):
    _setup(store, now, contacts=False)
    for text in ("JOIN pantry", "yes", "no"):
        _send(store, now, text)
    _send(store, now, "4")
    with store.read() as conn:
        tags = conn.execute(select(m.Answer.tags).where(m.Answer.question_key == "visit")).scalar()
    assert tags is None    # a number has no sentiment of its own, and no risk


def test_an_alert_goes_ahead_of_a_backlog_on_its_channel(store, now):
    from datetime import timedelta

    from sqlalchemy import insert

    from surveys.outbox import claim

    _setup(store, now)
    with store.write() as conn:     # a wave of Telegram invitations due an hour ago, not yet sent
        conn.execute(insert(m.Message), [dict(channel="telegram", direction="out", to_address=f"{1000 + i}",
                                              kind="text", text="invitation", status="pending", purpose="invitation",
                                              not_before=now - timedelta(hours=1), created_at=now)
                                         for i in range(30)])
    _to_last_question(store, now)
    _send(store, now, RISK)
    first = claim(store, "w1", now, 5, ("telegram",))          # the first batch the worker takes holds it
    (alert,) = [r for r in first if r.address == "-100123"]
    assert "safeguarding" in alert.text


def test_the_person_hears_at_once_that_a_person_will_read_it_and_where_help_is(store, now):
    import dataclasses

    _setup(store, now)
    _to_last_question(store, now)
    handled = _send(store, now, RISK)
    assert "A person from Riverside Pantry will read your message" in handled.replies[0].text
    assert "116 123" in handled.replies[0].text and len(handled.replies) >= 2      # then the survey goes on
    ordinary = _send(store, now, "the staff were lovely", address="+447700900999")
    assert all("116 123" not in r.text for r in ordinary.replies)
    off = Store(dataclasses.replace(store.settings, safeguarding_reply="off"), sql_engine=store.sql_engine, tagger=store.tagger)
    _to_last_question(off, now, address="+447700900555")
    assert all("116 123" not in r.text for r in _send(off, now, RISK, address="+447700900555").replies)
    own = Store(dataclasses.replace(store.settings, safeguarding_reply="Call our line on 0800 000 000. {org} cares."),
                sql_engine=store.sql_engine, tagger=store.tagger)
    _to_last_question(own, now, address="+447700900556")
    assert _send(own, now, RISK, address="+447700900556").replies[0].text == \
        "Call our line on 0800 000 000. Riverside Pantry cares."


# ---- say what is true: the console's page when there is a public address, the command always --------------
def test_an_alert_points_at_the_console_page_when_there_is_a_public_address_and_the_command_always(store, now):
    import dataclasses

    site = Store(dataclasses.replace(store.settings, public_base_url="https://chorus.example"), sql_engine=store.sql_engine,
                 tagger=store.tagger)
    _setup(site, now)
    _to_last_question(site, now)
    _send(site, now, RISK)
    (f,) = flags.list_flags(site)
    alerts = _alerts(site)
    assert alerts
    for a in alerts:
        assert f"https://chorus.example/console/flags/{f.id}" in a.text      # asks for sign-in, then shows it
        assert f"chorus flags show {f.id}" in a.text and f"chorus flags close {f.id}" in a.text
        assert RISK not in a.text
    assert flags.flag_link(store, f.id) == f"chorus flags show {f.id}"        # no public address: the command only


def test_a_flag_that_alerts_nobody_says_so_loudly(store, now, caplog):
    _setup(store, now, contacts=False)
    assert "alerts NOBODY" in flags.contact_warning(store)
    _to_last_question(store, now)
    with caplog.at_level("WARNING", logger="surveys.flags"):
        _send(store, now, "my partner hits me")
    (f,) = flags.list_flags(store)
    (record,) = [r for r in caplog.records if r.name == "surveys.flags"]
    assert record.levelname == "WARNING" and "NOBODY IS ALERTED" in record.getMessage()
    assert f"chorus flags show {f.id}" in record.getMessage()
    assert "hits" not in record.getMessage() and "7700900123" not in record.getMessage()   # no personal data

    pantry = admin.find_organisation(store, "pantry").id
    flags.store_safeguarding_contact(store, pantry, "email", "safeguarding@pantry.example", now)
    warning = flags.contact_warning(store)
    assert "OTHER" in warning and "PANTRY" not in warning                 # only the organisation left uncovered
    flags.store_safeguarding_contact(store, None, "telegram", "-100123", now)
    assert flags.contact_warning(store) is None
    caplog.clear()
    with caplog.at_level("WARNING", logger="surveys.flags"):
        _send(store, now, RISK, address="+447700900777")
    assert not [r for r in caplog.records if r.name == "surveys.flags"]


def test_the_person_is_not_promised_a_reader_when_nobody_is_alerted(store, now):
    _setup(store, now, contacts=False)
    _to_last_question(store, now)
    support = _send(store, now, RISK).replies[0].text
    assert "will read" not in support and "not read straight away" in support and "999" in support
    pantry = admin.find_organisation(store, "pantry").id
    flags.store_safeguarding_contact(store, pantry, "email", "safeguarding@pantry.example", now)
    _to_last_question(store, now, address="+447700900778")
    watched = _send(store, now, RISK, address="+447700900778").replies[0].text
    assert "A person from Riverside Pantry will read your message" in watched


def test_chorus_run_and_the_flags_commands_warn_when_no_contact_is_set(tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import threading
    import time

    from click.testing import CliRunner

    from cli import main

    env = {**os.environ, "CHORUS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
           "CHORUS_SECRET_KEY": "cli-test-secret-0123456789"}
    for k in ("TELEGRAM_BOT_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(k, None)
    result = CliRunner(env=env).invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0
    listed = CliRunner(env=env).invoke(main, ["flags", "list"], catch_exceptions=False)
    assert listed.exit_code == 0 and "warning: no safeguarding contact is set" in listed.stderr
    assert "no open flags" in listed.stdout

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chorus = str(Path(sys.executable).parent / "chorus")
    proc = subprocess.Popen([chorus, "run", "--no-chat", "--port", str(port)], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stopper = threading.Timer(120, proc.terminate)        # a readline that never returns ends here
    stopper.start()
    try:
        lines, deadline = [], time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "WARNING: no safeguarding contact is set" in line:
                break
        assert any("WARNING: no safeguarding contact is set: a safeguarding flag alerts NOBODY" in x for x in lines), lines
    finally:
        stopper.cancel()
        proc.terminate()
        proc.wait(timeout=30)


# --- which layer raised a flag, and what people judged it (issue 12) ------------------------------------------
PARAPHRASE = "you wont hear from me again after tonight"     # no lexicon phrase: the similarity layer flags it


def test_a_flag_records_the_layer_and_rule_that_raised_it(store, now):
    _setup(store, now, contacts=False)
    _to_last_question(store, now)
    _send(store, now, "my partner hits me")
    _to_last_question(store, now, address="+447700900999")
    _send(store, now, PARAPHRASE, address="+447700900999")
    lexicon_flag, similar_flag = flags.list_flags(store)
    shown = flags.show_flag(store, lexicon_flag.id)
    assert (shown.layer, shown.rules, shown.score) == ("lexicon", ["abuse.hits_me"], None)
    assert shown.why == "lexicon layer: abuse.hits_me"
    shown = flags.show_flag(store, similar_flag.id)
    assert shown.layer == "similarity" and shown.rules == ["suicide.goodbye"] and 0 < shown.score <= 1
    assert shown.why.startswith("similarity layer: reads like the examples of suicide.goodbye, similarity 0.")
    assert shown.answer_text == PARAPHRASE


def test_not_a_concern_feeds_precision_per_layer_and_rule(store, now):
    _setup(store, now, contacts=False)
    for i, text in enumerate(["my partner hits me", "he hits me", PARAPHRASE, RISK]):
        address = f"+4477009005{i:02d}"
        _to_last_question(store, now, address=address)
        _send(store, now, text, address=address)
    hits_a, hits_b, similar, open_one = flags.list_flags(store)
    assert flags.flag_review(store).total.reviewed == 0
    assert flags.close_flag(store, hits_a.id, "Sam", "Called; safe plan made.", now).outcome == "concern"
    closed = flags.close_flag(store, hits_b.id, "Sam", "About a film plot.", now, not_a_concern=True)
    assert closed.status == "closed" and closed.outcome == "not_a_concern"
    flags.close_flag(store, similar.id, "Alex", "Rang at once; crisis team informed.", now)
    review = flags.flag_review(store)
    assert (review.total.concern, review.total.not_a_concern, review.open, review.unjudged) == (2, 1, 1, 0)
    assert review.total.precision == pytest.approx(2 / 3)
    assert {k: (v.concern, v.reviewed) for k, v in review.by_layer.items()} == {"lexicon": (1, 2), "similarity": (1, 1)}
    assert review.by_rule[("lexicon", "abuse.hits_me")].precision == 0.5
    assert review.by_rule[("similarity", "suicide.goodbye")].precision == 1.0
    assert ("lexicon", "suicide.want_to_die") not in review.by_rule          # still open: not reviewed
    with pytest.raises(flags.FlagError, match="--note"):                     # not a concern still needs a note
        flags.close_flag(store, open_one.id, "Sam", "", now, not_a_concern=True)


def test_a_flag_without_a_layer_reads_as_the_lexicon(store, now):
    """Flags raised before layers were recorded (migration 0007 marks them 'lexicon'); a tag without one too."""
    _setup(store, now, contacts=False)
    with store.session() as s:
        conn = s.connection()
        flag_id, _ = flags.raise_flag(store, conn, None, None, "pantry", {"categories": ["suicide"],
                                                                       "rules": ["suicide.kill_myself"]}, now)
    assert flags.show_flag(store, flag_id).layer == "lexicon"


@pytest.mark.parametrize("redacted", [True, False])
def test_the_export_never_quotes_a_flagged_answer(store, now, redacted):
    """Digest quotes and themes skip flagged answers (tests/test_digest_build.py); the answers export, redacted
    or not, withholds their words and names the flag instead."""
    from analysis.redact import redact

    _setup(store, now, contacts=False)
    _to_last_question(store, now)
    _send(store, now, RISK)
    _to_last_question(store, now, address="+447700900555")
    _send(store, now, "the waiting times were long", address="+447700900555")
    (f,) = flags.list_flags(store)
    rows = list(admin.export_answers(store, "pantry", redact=redact if redacted else admin.keep_words))
    text = rows[0].index("text")
    exported = "\n".join(",".join(r) for r in rows)
    assert "want to be here" not in exported and "honestly" not in exported
    assert [r[text] for r in rows if r[0] == str(f.answer_id)] == [f"[withheld: safeguarding flag #{f.id}]"]
    assert any(r[text] == "the waiting times were long" for r in rows)


# ---- a contact whose channel this installation cannot send through alerts nobody --------------------------
def test_a_contact_on_a_channel_that_is_not_configured_is_no_reader(store, now, caplog):
    """An email contact without SMTP_HOST (or a Telegram one without the bot token): the worker fails the alert
    at once (channel not configured), so the person must not be told that someone will read it, the log must
    say that nobody is alerted, and `chorus run` / `flags` must warn."""
    import dataclasses

    _setup(store, now, contacts=False)
    pantry = admin.find_organisation(store, "pantry").id
    flags.store_safeguarding_contact(store, None, "email", "lead@backbone.example", now)
    bare = Store(dataclasses.replace(store.settings, smtp_host=None, telegram_bot_token=None), sql_engine=store.sql_engine,
                 tagger=store.tagger)
    assert "alerts NOBODY" in flags.contact_warning(bare) and "SMTP_HOST" in flags.contact_warning(bare)
    _to_last_question(bare, now)
    with caplog.at_level("WARNING", logger="surveys.flags"):
        support = _send(bare, now, RISK).replies[0].text
    assert "will read" not in support and "not read straight away" in support
    assert any("NOBODY IS ALERTED" in r.getMessage() for r in caplog.records if r.name == "surveys.flags")

    mail = Store(dataclasses.replace(store.settings, smtp_host="smtp.example.org"), sql_engine=store.sql_engine,
                 tagger=store.tagger)
    assert flags.contact_warning(mail) is None
    _to_last_question(mail, now, address="+447700900778")
    assert "A person from Riverside Pantry will read your message" in _send(mail, now, RISK,
                                                                            address="+447700900778").replies[0].text
    telegram = Store(dataclasses.replace(store.settings, smtp_host=None, telegram_bot_token="1:x"),
                     sql_engine=store.sql_engine, tagger=store.tagger)
    assert flags.store_safeguarding_contact(store, pantry, "telegram", "-100123", now)
    warning = flags.contact_warning(telegram)              # PANTRY reached by Telegram, OTHER by nothing
    assert "OTHER" in warning and "PANTRY" not in warning
