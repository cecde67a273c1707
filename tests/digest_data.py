"""Known digest data, inserted straight into the store (real tables, both databases): organisations,
people with their consent, waves, invitations, conversations and answers at chosen times."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_file

ROOT = Path(__file__).resolve().parent.parent
PANTRY = ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml"
_n = itertools.count(1)


@dataclass
class Person:
    """One invitation in one week, and what the person did with it."""
    org: str
    responded: bool = True
    completed: bool = False
    visit: int | None = None        # pantry's 1-5 scale
    recommend: int | None = None    # NPS 0-10
    text: str | None = None         # free text ('anything')
    label: str | None = None        # the sentiment tag's label for `text`
    polarity: float = 0.0
    quote_ok: bool = False
    flag: bool = False
    language: str = "en"
    # What became of the invitation's message: "sent" (handed to the provider), or "pending" (never sent:
    # quiet hours, a channel not configured), "failed", "cancelled".
    message: str = "sent"
    extra: list = field(default_factory=list)


class Data:
    def __init__(self, db, now: datetime):
        self.db, self.now = db, now
        admin.load_survey(db, load_survey_file(PANTRY), now)
        with db.read() as conn:
            self.version = conn.execute(select(m.Survey.current_version_id).where(m.Survey.id == "pantry")).scalar()
        self.orgs: dict[str, int] = {}
        self.waves: dict[datetime, int] = {}
        self.answer_ids: list[int] = []

    def org(self, code: str, name: str) -> int:
        self.orgs[code] = admin.add_organisation(self.db, name, code, self.now)
        return self.orgs[code]

    def week(self, at: datetime, people: list[Person]) -> list[int]:
        """Invite every person at `at` (a wave of that instant) and play what they did, minutes later."""
        ids = []
        with self.db.write() as conn:
            wave = self.waves.get(at)
            if wave is None:
                wave = self.waves[at] = conn.execute(insert(m.Wave).values(
                    survey_id="pantry", survey_version_id=self.version, scheduled_for=at, kind="scheduled",
                    status="open", created_at=at)).inserted_primary_key[0]
            for p in people:
                ids.append(self._person(conn, wave, at, p))
        return ids

    def again(self, at: datetime, invited: list[tuple[int, Person]]) -> None:
        """Invite people already made (contact id, what they do this time) once more, in another wave at `at`:
        one person, several invitations in a week."""
        with self.db.write() as conn:
            wave = conn.execute(insert(m.Wave).values(
                survey_id="pantry", survey_version_id=self.version, scheduled_for=at, kind="manual",
                status="open", created_at=at)).inserted_primary_key[0]
            for contact, p in invited:
                enrolment = conn.execute(select(m.Enrolment.id).where(
                    m.Enrolment.contact_id == contact, m.Enrolment.organisation_id == self.orgs[p.org])).scalar_one()
                self._invite(conn, wave, at, contact, enrolment, p)

    def _person(self, conn, wave, at, p: Person) -> int:
        n = next(_n)
        contact = conn.execute(insert(m.Contact).values(
            channel="local", address=f"+4477009{n:05d}", address_hash=self.db.address_hash("local", f"+4477009{n:05d}"),
            language=p.language, state={},
            created_at=at)).inserted_primary_key[0]
        enrolment = conn.execute(insert(m.Enrolment).values(
            contact_id=contact, organisation_id=self.orgs[p.org], consent_status="given", consent_participate=True,
            consent_quote=p.quote_ok, source="staff", tags=[], created_at=at)).inserted_primary_key[0]
        return self._invite(conn, wave, at, contact, enrolment, p)

    def _invite(self, conn, wave, at, contact, enrolment, p: Person) -> int:
        t = at + timedelta(minutes=5)
        conv = conn.execute(insert(m.Conversation).values(
            contact_id=contact, enrolment_id=enrolment, survey_version_id=self.version,
            status="completed" if p.completed else "expired", language=p.language, started_at=at,
            last_activity_at=t, ended_at=t + timedelta(minutes=1))).inserted_primary_key[0]
        invitation = conn.execute(insert(m.Invitation).values(
            wave_id=wave, contact_id=contact, enrolment_id=enrolment, channel="local", language=p.language,
            status="started", not_before=at, conversation_id=conv, created_at=at, started_at=at)).inserted_primary_key[0]
        conn.execute(insert(m.Message).values(
            channel="local", direction="out", contact_id=contact, conversation_id=conv, kind="text",
            text="How was your visit?", status=p.message, purpose="invitation", invitation_id=invitation,
            not_before=at, created_at=at, sent_at=at + timedelta(seconds=1) if p.message == "sent" else None))
        if not p.responded:
            return contact

        def answer(key, qtype, num=None, text=None, tags=None):
            aid = conn.execute(insert(m.Answer).values(
                conversation_id=conv, contact_id=contact, enrolment_id=enrolment, organisation_id=self.orgs[p.org],
                survey_id="pantry", survey_version_id=self.version, question_key=key, question_type=qtype,
                status="answered", raw_text=text if text is not None else (None if num is None else str(num)),
                value_num=num, language=p.language, answered_at=t, tags=tags)).inserted_primary_key[0]
            self.answer_ids.append(aid)
            return aid

        if p.visit is not None:
            answer("visit", "scale", p.visit)
        if p.recommend is not None:
            answer("recommend", "nps", p.recommend)
        if p.text is not None:
            tags = {"polarity": p.polarity, "subjectivity": 0.5, "label": p.label, "analyzer": "test"}
            if p.flag:
                tags["flag"] = {"categories": ["suicide"], "rules": ["suicide.test"]}
            aid = answer("anything", "text", text=p.text, tags=tags)
            if p.flag:
                conn.execute(insert(m.Flag).values(answer_id=aid, organisation_id=self.orgs[p.org], survey_id="pantry",
                                                   categories=["suicide"], rules=["suicide.test"], status="open",
                                                   created_at=t))
        if not (p.visit or p.recommend or p.text):
            answer("travel", "choice", 1)
        return contact
