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
    secrets: list[str] = []
    ids.update(_river_flag(db, now, river, youth, secrets))           # pages-a
    return {"accounts": made, "ids": ids, "secrets": secrets}


# What governance and other organisations' staff must never see on any page, fragment or export: the words of
# a river answer and the address of the river person who wrote it (tests/console/test_access_matrix.py).
RIVER_WORDS = "i dont want to be here anymore, river-secret-words"


def _river_flag(db, now, river, youth, secrets: list[str]) -> dict:
    """A river participant whose answer raised a flag (pages-a: participants and flags pages)."""
    from tests.digest_data import Data, Person

    data = Data(db, now)
    data.orgs.update({"river": river, "youth": youth})
    [contact] = data.week(now - timedelta(days=1), [Person("river", text=RIVER_WORDS, label="negative", flag=True)])
    with db.read() as conn:
        from sqlalchemy import select

        from surveys import models as m
        address = conn.execute(select(m.Contact.address).where(m.Contact.id == contact)).scalar_one()
        flag = conn.execute(select(m.Flag.id)).scalar_one()
    secrets += [RIVER_WORDS, address]
    return {"participant": contact, "flag": flag}


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
