"""Erasure that provably erases (issue 16): two people who did everything a person can do (spoke before
joining, joined, consented, were invited by a wave, answered, edited, commented, were quoted in an archived
digest, raised a safeguarding flag that alerted staff, were in a background export) are erased, one by their
own DELETE and one by staff. Then every column of every table of the live database (reflected, not a list
kept by hand), every archived digest file and every export file left on disk is searched for their phone
number, chat id, keyed address hash and each of their free-text answers: nothing is found. The figures of the
digest built before the erasure are unchanged; only their quotes have gone."""
from __future__ import annotations

import dataclasses
import email
import email.policy
import html
import itertools
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from analysis.digest import archive
from analysis.digest.deliver import options, queue_digest, weekly_digest
from analysis.digest.model import digest_from_dict
from analysis.responses import ResponseFilter, correct_sentiment, run_export, start_export
from analysis.safeguarding import Safeguarding
from analysis.sentiment import SentimentTagger
from analysis.tagger import AnswerAnalysis
from surveys import flags, models as m
from surveys.participants import erase_participant, list_erasures
from surveys.scope import Scope
from surveys.service import InboundMessage, handle_inbound
from surveys.store import Store
from surveys.waves import create_wave
from surveys.outbox import Worker, start_due_invitations
from tests.digest_data import Data, Person
from tests.test_digest_build import CUTOFF, W46, W47

PHONE = "+447700900777"
CHAT = "5550001234"
ANA = {  # her answers, as she typed them
    "anything": "The volunteers were wonderful and kind, I love coming here, it is the best part of my week",
    "comment": "Also my neighbour Marta at flat 9 asked me to tell you the bread was lovely",
}
BO = {
    "why_low": "Terrible visit, the rude man at the door shouted at me and I felt awful and humiliated",
    "anything": "I want to kill myself, nobody at home listens to me anymore",
    "edit": "Sorry, I meant to say the queue outside was freezing cold for two hours",
}


_PROVIDER_IDS = itertools.count(1)


class FakeChannel:
    """The network edge: records what would be sent and answers with ids shaped like the provider's."""

    def __init__(self, name: str):
        self.name, self.buttons, self.sent = name, False, []

    def units(self, message) -> int:
        return 1

    def send(self, address, message) -> str:
        n = next(_PROVIDER_IDS)
        self.sent.append((address, message.text))
        return {"telegram": f"{address}:{9000 + n}", "sms": f"SM{n:032x}"}.get(self.name, f"<{n}@{self.name}>")


@pytest.fixture
def store(db, tmp_path) -> Store:
    settings = dataclasses.replace(db.settings, var_dir=tmp_path / "var", partnership_name="Riverside Partnership",
                                   digest_recipients=("board@riverside.example",))
    return Store(settings, sql_engine=db.sql_engine, tagger=AnswerAnalysis(SentimentTagger(), Safeguarding()))


class Person2:
    """One person talking to Chorus through handle_inbound on their own channel."""

    def __init__(self, store, channel, address):
        self.store, self.channel, self.address, self.n = store, channel, address, itertools.count(1)
        self.last_id = None

    def say(self, text, at, kind="text", ref=None):
        n = next(self.n)
        ext = f"{self.address}:{n}" if self.channel == "telegram" else f"SMin{self.address[-4:]}{n:028d}"
        if kind == "edit":
            ext = f"{ext}:e{int(at.timestamp())}"
        self.last_id = ext
        return handle_inbound(self.store, InboundMessage(self.channel, self.address, ext, text, kind=kind, ref=ref,
                                                         received_at=at), at)


def _live(store, at):
    """The outbox worker once, through the fake channels, at `at`."""
    channels = {n: FakeChannel(n) for n in ("sms", "telegram", "email", "local")}
    Worker(store, channels, clock=lambda: at, sleep=lambda s: None, senders=1).run_once()
    return channels


def _scan_database(store) -> list[tuple[str, str, str]]:
    """(table, column, value) of every value of every column of every table that holds a needle."""
    needles = _needles(store)
    found = []
    meta = MetaData()
    with store.read() as conn:
        meta.reflect(bind=conn)
        assert {"message", "answer", "erasure", "flag_event", "export_job", "digest_archive"} <= set(meta.tables)
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    if value is None:
                        continue
                    text = _plain(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                                                  default=str))
                    for needle in needles:
                        if needle in text:
                            found.append((table.name, column, needle))
    return found


def _needles(store) -> list[str]:
    return [PHONE, PHONE.lstrip("+"), "07700900777", CHAT, store.address_hash("sms", PHONE),
            store.address_hash("telegram", CHAT), *ANA.values(), *BO.values()]


def _plain(text: str) -> str:
    """Text as a reader sees it: HTML entities decoded, lines that a renderer wrapped joined again."""
    return " ".join(html.unescape(text).split())


def _file_texts(root: Path):
    """Every file under `root` as text: an email decoded part by part (quoted-printable, base64), a workbook
    unzipped."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                text = "".join(z.read(n).decode("utf-8", errors="replace") for n in z.namelist())
        elif path.suffix == ".eml":
            mail = email.message_from_bytes(data, policy=email.policy.default)
            text = "".join(part.get_content() for part in mail.walk() if part.get_content_maintype() == "text")
        else:
            text = data.decode("utf-8", errors="replace")
        yield path, _plain(text)


def _scan_files(store, root: Path) -> list[tuple[str, str]]:
    needles = _needles(store)
    return [(str(path), n) for path, text in _file_texts(root) for n in needles if n in text]


def _figures(d: dict) -> dict:
    """The digest's record without its quotes: every figure, theme and sentence."""
    d = json.loads(json.dumps(d))
    for part in d["surveys"]:
        part.pop("quotes")
    return d


def test_after_both_erasures_nothing_of_either_person_is_left_anywhere(store, tmp_path):
    data = Data(store, W46 - timedelta(days=30))
    food = data.org("food", "Riverside Food Bank")
    data.week(W47, [Person("food", completed=True, visit=3, recommend=6, text=f"the queue was long again, week {i}",
                           label="negative", polarity=-0.3, quote_ok=True) for i in range(8)])
    with store.write() as conn:
        for channel, address in (("email", "lead@food.example"), ("telegram", "-100777")):
            conn.execute(m.SafeguardingContact.__table__.insert().values(
                organisation_id=food, channel=channel, address=address, created_at=W46))

    ana, bo = Person2(store, "sms", PHONE), Person2(store, "telegram", CHAT)
    t = W47 - timedelta(hours=2)
    for p in (ana, bo):
        p.say("hello? who is this", t)                      # a stranger first: only the hash is kept
        for text in ("JOIN food", "yes", "yes"):           # join, consent, may be quoted
            t += timedelta(minutes=1)
            p.say(text, t)
    assert not (store.settings.configured_channels >= {"sms"})  # the fake channels below stand in for them
    create_wave(store, "pantry", W47 + timedelta(minutes=30), W47, kind="manual")
    start_due_invitations(store, W47 + timedelta(minutes=31), 100)
    _live(store, W47 + timedelta(minutes=32))
    t = W47 + timedelta(minutes=40)
    for text in ("5", "1", "yes", "10", ANA["anything"]):
        t += timedelta(minutes=1)
        ana.say(text, t)
    for text in ("1", BO["why_low"], "2", "no", "0", BO["anything"]):
        t += timedelta(minutes=1)
        bo.say(text, t)
    t += timedelta(minutes=5)
    bo.say(BO["edit"], t, kind="edit", ref=bo.last_id)      # an edit after the survey ended: kept as a comment
    ana.say(ANA["comment"], t + timedelta(minutes=1))
    with store.read() as conn:
        answers = {r.raw_text: r for r in conn.execute(select(m.Answer))}
    for text in (*ANA.values(), *BO.values()):
        assert text in answers, text
    assert answers[BO["anything"]].tags.get("flag"), "the safeguarding lexicon flags Bo's answer"
    channels = _live(store, t + timedelta(minutes=2))       # the staff alerts go out
    assert len(channels["email"].sent) == 1 and len(channels["telegram"].sent) == 1
    admin = Scope("admin", frozenset(), None, "alice")
    with store.read() as conn:
        flag_id = conn.execute(select(m.Flag.id)).scalar_one()
    flags.close_flag_as(store, admin, flag_id, f"Rang him back. He said: {BO['anything']}", t + timedelta(hours=1))

    # The digest of that week, archived: Ana and Bo are its most positive and most negative quotes.
    built = archive.build_and_archive(store, options(store, 2026, 47, cutoff=CUTOFF), CUTOFF)
    before = json.loads((built.path / "digest.json").read_text())
    quoted = {q["text"] for part in before["surveys"] for q in part["quotes"]}
    assert ANA["anything"] in quoted and BO["why_low"] in quoted
    assert digest_from_dict(before).to_dict() == before
    assert queue_digest(store, built, CUTOFF) == 1                  # sent to the board: the outbox row has its text
    assert any(ANA["anything"] in _plain(text) for _, text in _live(store, CUTOFF + timedelta(minutes=1))["email"].sent)
    later = CUTOFF + timedelta(days=1)
    correct_sentiment(store, admin, answers[ANA["anything"]].id, "neutral", later)

    # A background export with their words (personal details kept), and one still queued.
    f = ResponseFilter(survey="pantry", since=W46, until=CUTOFF)
    done = start_export(store, admin, f, "csv", later, keep_personal_details=True)
    run_export(store, done.id, later)
    export_dir = Path(store.settings.var_dir) / "exports"
    assert any(ANA["anything"] in text for _, text in _file_texts(export_dir))
    queued = start_export(store, admin, f, "xlsx", later, keep_personal_details=True)
    assert _scan_database(store) and _scan_files(store, built.path) and _scan_files(store, export_dir)

    # Ana: her own DELETE, confirmed. Bo: staff, on his request.
    later += timedelta(days=1)
    ana.say("DELETE", later)
    reply = ana.say("DELETE", later + timedelta(seconds=5))
    assert "deleted" in reply.replies[0].text
    with store.read() as conn:
        bo_id = conn.execute(select(m.Contact.id).where(m.Contact.channel == "telegram")).scalar_one()
    erased = erase_participant(store, admin, bo_id, later + timedelta(minutes=1), request="email of 3 Dec")
    assert erased.receipt == "queued"

    # What the processes do next: the worker sends the receipt, the clock tidies the archive, the queued export runs.
    channels = _live(store, later + timedelta(minutes=2))
    assert [a for a, _ in channels["telegram"].sent] == [CHAT]
    assert f"E-{erased.erasure_id}" in channels["telegram"].sent[0][1]
    assert weekly_digest(store, later + timedelta(minutes=3))["refreshed"] == 1
    run_export(store, queued.id, later + timedelta(minutes=4))

    assert _scan_database(store) == []
    assert _scan_files(store, Path(store.settings.var_dir)) == []
    after = json.loads((built.path / "digest.json").read_text())
    assert _figures(after) == _figures(before)
    kept = {q["text"] for part in after["surveys"] for q in part["quotes"]}
    assert kept == quoted - {ANA["anything"], BO["why_low"]}

    # The redelivery of Ana's confirming DELETE is still recognised (the provider id is kept as a keyed hash).
    again = ana.store and handle_inbound(store, InboundMessage("sms", PHONE, ana.last_id, "DELETE"), later)
    assert again.duplicate

    tombstones = list_erasures(store, Scope.operator())
    assert [(t.by, t.request, t.receipt) for t in tombstones] == [
        ("alice", "email of 3 Dec", "sent"), ("the person (DELETE)", None, "answered at once (their DELETE)")]
    assert tombstones[0].removed["answers"] >= 6 and tombstones[0].removed["flag_notes"] == 2
    assert tombstones[1].removed["digests"] == 1 and tombstones[1].removed["exports"] == 1  # Ana was first
    with store.read() as conn:
        assert conn.execute(select(m.ExportJob.status).where(m.ExportJob.id == done.id)).scalar() == "erased"
        flag = conn.execute(select(m.Flag)).first()
    assert flag.status == "closed" and flag.answer_id is None and flag.outcome == "concern"
