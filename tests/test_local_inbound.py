"""The terminal chat's inbound side (local/inbound.py), on both databases: each line is a message of its
own through the real service, and the replies come back as the plain text the terminal prints."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from local.inbound import turn
from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_file

PANTRY = Path(__file__).resolve().parent / "transcripts" / "surveys" / "pantry.yaml"
ME = "+447700900555"


def _inbound(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(m.Message).where(
            m.Message.direction == "in", m.Message.channel == "local")).scalar()


def test_a_turn_goes_through_the_service_and_returns_plain_text(db, now):
    admin.load_survey(db, load_survey_file(PANTRY), now)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    replies = turn(db, ME, "JOIN pantry", now)
    assert replies and all(isinstance(r, str) and r for r in replies)
    assert admin.find_contact(db, "local", ME) is not None  # enrolled on the local channel
    assert _inbound(db) == 1


def test_the_same_line_twice_is_two_messages_not_a_duplicate(db, now):
    admin.load_survey(db, load_survey_file(PANTRY), now)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    turn(db, ME, "JOIN pantry", now)
    turn(db, ME, "HELP", now)
    turn(db, ME, "HELP", now)  # the same external id twice would be stored once, as a duplicate delivery
    assert _inbound(db) == 3
