"""Console fixtures: the app on the test database with a clock the test moves, people of every role, and
helpers to sign in as them (a real session row, as the sign-in page makes) and to read a page's CSRF token."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from config.app import create_app
from surveys import accounts, signin
from surveys.admin import add_organisation
from surveys.scope import Scope
from tests.digest_data import Data, Person

OP = Scope.operator()
PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **kw):
        self.now += timedelta(**kw)


@pytest.fixture
def clock(now):
    return Clock(now)


@pytest.fixture
def app(sqlite_db, clock):
    return create_app(sqlite_db.settings, sqlite_db, clock=clock)


@pytest.fixture
def people(sqlite_db, now):
    """One account per persona of the access matrix; ids of the objects its URLs name."""
    db = sqlite_db
    river = add_organisation(db, "Riverside Food Bank", "river", now)
    youth = add_organisation(db, "Youth Drop-in", "youth", now)
    made = {}
    for username, role, orgs in (("admin", "admin", []), ("staff", "staff", ["river"]),
                                 ("safeguarding", "safeguarding", ["river"]), ("governance", "governance", []),
                                 ("other_org_staff", "staff", ["youth"])):
        account = accounts.add_user(db, OP, username, username.title(), role, orgs, now).account
        accounts.change_password(db, account.id, accounts.reset_password(db, OP, username, now).password, PASSWORD, now)
        made[username] = account
    ids = {"user_id": made["staff"].id, "river": river, "youth": youth}
    data = Data(db, now)
    data.orgs.update({"river": river, "youth": youth})
    secrets: list[str] = []
    ids.update(_river_flag(data, db, now, river, youth, secrets))          # pages-a (first: it reads the only flag)
    ids.update(_responses_and_waves(data, db, now, made, river, youth))   # pages-b
    ids.update(_river_survey(db, now, made, river))                         # surveys (the designer)
    ids.update(_river_action(db, now, made, river))       # actions (issue 16)
    secrets += [s for s in RIVER_SECRETS if s not in secrets]
    return {"accounts": made, "ids": ids, "secrets": secrets}


# What governance and other organisations' staff must never see on any page, fragment or export: the words of
# a river answer and the address of the river person who wrote it (tests/console/test_access_matrix.py).
RIVER_WORDS = "i dont want to be here anymore, river-secret-words"


def _river_flag(data, db, now, river, youth, secrets: list[str]) -> dict:
    """A river participant whose answer raised a flag (pages-a: participants and flags pages)."""
    [contact] = data.week(now - timedelta(days=1), [Person("river", text=RIVER_WORDS, label="negative", flag=True)])
    with db.read() as conn:
        from sqlalchemy import select

        from surveys import models as m
        address = conn.execute(select(m.Contact.address).where(m.Contact.id == contact)).scalar_one()
        flag = conn.execute(select(m.Flag.id)).scalar_one()
    secrets += [RIVER_WORDS, address]
    return {"participant": contact, "flag": flag}


def _river_survey(db, now, made, river) -> dict:
    """A survey of river's, published once, with a draft of a second version (the designer's pages)."""
    from config.wiring import survey_checks
    from surveys import designer

    staff_scope = Scope("staff", frozenset({river}), made["staff"].id, "Staff")
    design = designer.new_design(db, staff_scope, "river-visit", "After your visit", now)
    designer.publish(db, staff_scope, "river-visit", now, survey_checks(db.settings))
    designer.save_draft(db, staff_scope, "river-visit", design.yaml_text.replace("How was", "How is"), now,
                        survey_checks(db.settings))
    return {"survey_id": "river-visit", "number": 1}


def _river_action(db, now, made, river) -> dict:
    """A river action about the pantry survey, with a reply: the river answer holding a name and a number, so
    the access matrix proves governance and youth staff never read a reply."""
    from sqlalchemy import select

    from analysis.actions import ActionInput, record_action
    from surveys import models as m

    staff_scope = Scope("staff", frozenset({river}), made["staff"].id, "Staff")
    action = record_action(db, staff_scope, ActionInput(
        "the waiting times are long", "a second queue on Tuesdays", "Staff", "river", "pantry",
        message={"en": "You said the waits were long: we opened a second queue."}), now)
    with db.write() as conn:
        words = conn.execute(select(m.Answer.id).where(m.Answer.raw_text.like("%Jane Smith%"))).scalar_one()
        conn.execute(m.ActionReply.__table__.insert().values(action_id=action.id, answer_id=words))
    return {"action_id": action.id}


# pages-b: answers, a wave, an archived digest and an export of river's, for the dashboard, responses, digests
# and waves pages. RIVER_SECRETS are words no governance viewer or youth staff may ever see.
RIVER_SECRETS = ("Jane Smith", "07700 900123", "i dont want to be here anymore", "the bins at the back smell")


def _responses_and_waves(data, db, now, made, river, youth):
    from analysis import responses as rs
    from analysis.digest.staff import build_digest
    from analysis.weeks import week_of

    at = now - timedelta(hours=2)
    first = len(data.answer_ids)
    data.week(at, [Person("river", visit=4, text="my name is Jane Smith, call me on 07700 900123", label="neutral"),
                   Person("river", visit=2, text="i dont want to be here anymore", label="negative", flag=True),
                   Person("river", visit=3, text="the bins at the back smell", label="negative", quote_ok=True)])
    river_answer = data.answer_ids[first]
    staff_scope = Scope("staff", frozenset({river}), made["staff"].id, "staff")
    job = rs.start_export(db, staff_scope, rs.ResponseFilter("pantry"), "csv", now)
    archived = build_digest(db, *week_of(now, db.settings.default_timezone), None, now)
    return {"wave_id": data.waves[at], "answer_id": river_answer, "job_id": job.id,
            "week": archived.digest.week, "archive_scope": "partnership"}


def sign_in_as(client, db, username, now):
    """A signed-in browser for `username` (skips the form: the form has tests of its own)."""
    started = signin.sign_in(db, username, PASSWORD, now, ip="127.0.0.1")
    client.set_cookie("chorus_session", started.token)
    return started


def csrf_token(client, path="/console/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)
