"""Replay a written conversation through the real service and check every reply and stored fact.

A transcript file is a header, a `---` line, then the exchange:

    survey: surveys/examples/weekly.yaml       (repeatable; paths from the project root)
    org: FOODBANK Food Bank                    (repeatable: join code, then the name; `welcome=ID`, `language=es`)
    as: +447700900123                          (the sender; default channel local)
    ---
    > JOIN foodbank                            a message from the current sender
    < Food Bank would like to send you...      a reply; a trailing `...` matches by prefix
    | 1. Bus                                   continues the reply above (a new line of the same message)
    < (no reply)                               the message gets no reply at all
    as: +447700900999                          switch sender
    wait: 49h                                  move the clock (m, h, d)
    import: FOODBANK                           staff enrol the sender (consent pending)
    start: weekly-checkin                      staff start a survey for the sender
    = answer feeling answered 4                the sender's latest answer to `feeling` (`-`: no question)
    = consent FOODBANK given quote=no          enrolment consent state
    = contact opted-out | active | erased      the sender's contact state
    = conversation completed                   the sender's latest conversation status
    = stored-texts 3                           inbound messages whose text we kept, for the sender
    = outbox mydata 2                          outbox rows for the sender with this purpose (all statuses)
    # comment

Replies are rendered as plain text, exactly as the terminal and SMS show them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_file
from surveys.render import render_plain
from surveys.service import InboundMessage, handle_inbound, start_conversation

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Transcript:
    path: Path
    surveys: list[str] = field(default_factory=list)
    orgs: list[tuple[str, str, dict]] = field(default_factory=list)
    sender: str = "+447700900123"
    channel: str = "local"
    body: list[tuple[int, str]] = field(default_factory=list)


def parse(path: Path) -> Transcript:
    t = Transcript(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        split = lines.index("---")
    except ValueError:
        raise AssertionError(f"{path.name}: no '---' line between header and exchange") from None
    for line in lines[:split]:
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if key == "survey":
            t.surveys.append(value)
        elif key == "org":
            code, _, rest = value.partition(" ")
            opts = dict(p.split("=", 1) for p in re.findall(r"\b\w+=\S+", rest))
            name = re.sub(r"\s*\b\w+=\S+", "", rest).strip()
            t.orgs.append((code, name, opts))
        elif key == "as":
            t.sender = value
        elif key == "channel":
            t.channel = value
        else:
            raise AssertionError(f"{path.name}: unknown header key {key!r}")
    t.body = [(i + 1, line) for i, line in enumerate(lines) if i > split]
    return t


def _duration(text: str) -> timedelta:
    n, unit = int(text[:-1]), text[-1]
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[unit]


class Runner:
    def __init__(self, db, transcript: Transcript, now):
        self.db, self.t, self.now = db, transcript, now
        self.sender = transcript.sender
        self.seq = 0
        self.log: list[str] = []

    def setup(self) -> None:
        for rel in self.t.surveys:
            admin.load_survey(self.db, load_survey_file(ROOT / rel), self.now)
        for code, name, opts in self.t.orgs:
            admin.add_organisation(self.db, name, code, self.now, language=opts.get("language", "en"),
                                   welcome_survey=opts.get("welcome"))

    def run(self) -> None:
        self.setup()
        body = self.t.body
        i = 0
        while i < len(body):
            lineno, line = body[i]
            i += 1
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith(">"):
                replies = self.send(line[1:].strip() if line[1:2] == " " or len(line) == 1 else line[1:])
                expected, i = self._expected(body, i)
                self.compare(lineno, line, expected, replies)
            elif line.startswith("="):
                self.check(lineno, line[1:].split())
            elif line.startswith("as:"):
                self.sender = line[3:].strip()
            elif line.startswith("wait:"):
                self.now += _duration(line[5:].strip())
            elif line.startswith("import:"):
                admin.add_participant(self.db, self.t.channel, self.sender, line[7:].strip(), self.now, source="import")
            elif line.startswith("start:"):
                contact = admin.find_contact(self.db, self.t.channel, self.sender)
                replies = [render_plain(r) for r in start_conversation(self.db, contact, line[6:].strip(), self.now)]
                expected, i = self._expected(body, i)
                self.compare(lineno, line, expected, replies)
            else:
                raise AssertionError(f"{self.t.path.name}:{lineno}: cannot read line {line!r}")

    def send(self, text: str) -> list[str]:
        self.seq += 1
        self.now += timedelta(minutes=1)
        msg = InboundMessage(self.t.channel, self.sender, f"t{self.seq}", text)
        self.log.append(f"> {text}")
        result = handle_inbound(self.db, msg, self.now)
        rendered = [render_plain(r) for r in result.replies]
        for r in rendered:
            self.log.append("< " + r.replace("\n", "\n| "))
        # Every message is idempotent: delivering it again must give the same replies and store nothing.
        again = handle_inbound(self.db, msg, self.now)
        assert again.duplicate and [render_plain(r) for r in again.replies] == rendered, \
            f"{self.t.path.name}: redelivery of {text!r} did not repeat the same replies"
        return rendered

    @staticmethod
    def _expected(body, i):
        expected: list[str] = []
        while i < len(body) and (body[i][1].startswith("<") or body[i][1].startswith("|")):
            line = body[i][1]
            content = line[2:] if len(line) > 1 else ""
            if line.startswith("|"):
                if not expected:
                    raise AssertionError(f"line {body[i][0]}: '|' continues no reply")
                expected[-1] += "\n" + content
            else:
                expected.append(content)
            i += 1
        return expected, i

    def compare(self, lineno: int, line: str, expected: list[str], got: list[str]) -> None:
        if expected == ["(no reply)"]:
            expected = []
        ok = len(expected) == len(got) and all(_match(e, g) for e, g in zip(expected, got))
        if not ok:
            raise AssertionError(
                f"{self.t.path.name}:{lineno}: after {line!r}\nexpected:\n"
                + "\n".join("< " + e.replace("\n", "\n| ") for e in expected) + "\ngot:\n"
                + "\n".join("< " + g.replace("\n", "\n| ") for g in got) + "\n\nconversation so far:\n"
                + "\n".join(self.log)
            )

    # ---- stored facts ------------------------------------------------------------------------------
    def _contact(self, s):
        contact_id = admin.find_contact(self.db, self.t.channel, self.sender)
        return s.get(m.Contact, contact_id) if contact_id else None

    def check(self, lineno: int, words: list[str]) -> None:
        where = f"{self.t.path.name}:{lineno}"
        with self.db.session() as s:
            contact = self._contact(s)
            what = words[0]
            if what == "contact":
                state = "erased" if contact is None else ("opted-out" if contact.opted_out_at else "active")
                assert state == words[1], f"{where}: contact is {state}, expected {words[1]}"
                return
            assert contact is not None, f"{where}: no contact for {self.sender}"
            if what == "answer":
                key, status = words[1], words[2]
                which = m.Answer.question_key.is_(None) if key == "-" else m.Answer.question_key == key
                answer = s.scalars(select(m.Answer).where(m.Answer.contact_id == contact.id, which)
                                   .order_by(m.Answer.id.desc())).first()
                assert answer is not None, f"{where}: no answer to {key!r}"
                got = answer.value_text if answer.value_text is not None else (
                    None if answer.value_num is None else f"{answer.value_num:g}")
                assert answer.status == status, f"{where}: answer {key} is {answer.status}, expected {status}"
                if len(words) > 3:
                    want = " ".join(words[3:])
                    assert got == want or answer.raw_text == want, f"{where}: answer {key} = {got!r}, expected {want!r}"
                assert answer.survey_version_id is not None or status in ("comment",), f"{where}: no survey version"
            elif what == "consent":
                org = s.scalar(select(m.Organisation).where(m.Organisation.code_key == words[1].casefold()))
                enrolment = s.scalar(select(m.Enrolment).where(m.Enrolment.contact_id == contact.id,
                                                               m.Enrolment.organisation_id == org.id))
                assert enrolment is not None, f"{where}: not enrolled with {words[1]}"
                assert enrolment.consent_status == words[2], f"{where}: consent is {enrolment.consent_status}"
                for opt in words[3:]:
                    key, _, val = opt.partition("=")
                    assert key == "quote"
                    assert enrolment.consent_quote == (val == "yes"), f"{where}: quote consent is {enrolment.consent_quote}"
                if enrolment.consent_status != "pending":
                    assert enrolment.consent_version and enrolment.consent_at and enrolment.consent_channel
            elif what == "conversation":
                conv = s.scalars(select(m.Conversation).where(m.Conversation.contact_id == contact.id)
                                 .order_by(m.Conversation.id.desc())).first()
                assert conv is not None and conv.status == words[1], \
                    f"{where}: conversation is {conv.status if conv else None}, expected {words[1]}"
            elif what == "stored-texts":
                n = s.scalar(select(func.count()).where(m.Message.contact_id == contact.id, m.Message.direction == "in",
                                                        m.Message.text.is_not(None)))
                assert n == int(words[1]), f"{where}: {n} stored inbound texts, expected {words[1]}"
            elif what == "outbox":
                n = s.scalar(select(func.count()).where(m.Message.contact_id == contact.id, m.Message.direction == "out",
                                                        m.Message.purpose == words[1]))
                assert n == int(words[2]), f"{where}: {n} outbox rows for {words[1]}, expected {words[2]}"
            elif what == "language":
                assert contact.language == words[1], f"{where}: language is {contact.language}"
            else:
                raise AssertionError(f"{where}: unknown check {what!r}")


def _match(expected: str, got: str) -> bool:
    if expected.endswith("..."):
        return got.startswith(expected[:-3])
    return expected == got
