"""Participants as the console sees them (surveys.participants), scoped by who asks, on both databases."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveys import admin, audit
from surveys import models as m
from surveys import participants as p
from surveys.loader import load_survey_file
from surveys.scope import Forbidden, Scope
from surveys.service import InboundMessage, handle_inbound

ROOT = Path(__file__).resolve().parent.parent
PANTRY = ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml"
_ids = itertools.count()
HEADER = "channel,address,organisation,language,tags\n"


def _send(db, now, text, address):
    return handle_inbound(db, InboundMessage("local", address, f"cp{next(_ids)}", text), now)


@pytest.fixture
def two_orgs(db, now):
    """PANTRY (with one person who joined and consented, and two added by staff) and HOUSING (one person)."""
    admin.load_survey(db, load_survey_file(PANTRY), now)
    pantry = admin.add_organisation(db, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    housing = admin.add_organisation(db, "Housing Help", "HOUSING", now)
    _send(db, now, "JOIN pantry", "+447700900123")
    _send(db, now, "yes", "+447700900123")
    _send(db, now, "yes", "+447700900123")
    admin.add_participant(db, "sms", "07700 900001", "PANTRY", now, tags=["youth"])
    admin.add_participant(db, "telegram", "555001", "PANTRY", now, language="es")
    admin.add_participant(db, "sms", "07700 900009", "HOUSING", now, tags=["youth"])
    return pantry, housing


def _staff(org_id, role="staff"):
    # No account behind these scopes (user_id None): operations that audit write the entry under "alice".
    return Scope(role, frozenset({org_id}), None, "alice")


def test_staff_search_their_own_organisation_and_see_its_contact_details(db, now, two_orgs):
    pantry, housing = two_orgs
    page = p.search_participants(db, _staff(pantry), p.ParticipantFilter())
    assert page.total == 3
    assert {r.channel for r in page.rows} == {"local", "sms", "telegram"}
    assert all(r.organisations == ("PANTRY",) for r in page.rows)
    assert {r.address for r in page.rows} == {"+447700900123", "+447700900001", "555001"}
    assert all(r.pseudonym == db.pseudonym(r.id) and r.pseudonym.startswith("P-") for r in page.rows)
    # Another organisation's staff get nothing of PANTRY: not its people, not its code as a filter.
    other = p.search_participants(db, _staff(housing), p.ParticipantFilter())
    assert [r.address for r in other.rows] == ["+447700900009"] and other.total == 1
    with pytest.raises(Forbidden):
        p.search_participants(db, _staff(housing), p.ParticipantFilter(org="pantry"))
    everyone = p.search_participants(db, Scope.operator(), p.ParticipantFilter())
    assert everyone.total == 4


def test_governance_and_safeguarding_see_no_participant(db, now, two_orgs):
    pantry, _ = two_orgs
    for scope in (Scope("governance"), _staff(pantry, "safeguarding")):
        with pytest.raises(Forbidden):
            p.search_participants(db, scope, p.ParticipantFilter())
        with pytest.raises(Forbidden):
            p.participant_detail(db, scope, 1)
        with pytest.raises(Forbidden):
            p.preview_import(db, scope, HEADER, now)


def test_filters_narrow_the_rows_and_the_total(db, now, two_orgs):
    pantry, _ = two_orgs
    op = Scope.operator()

    def total(**kw):
        return p.search_participants(db, op, p.ParticipantFilter(**kw)).total

    assert total(org="pantry") == 3
    assert total(channel="sms") == 2
    assert total(consent="given") == 1 and total(consent="pending") == 3
    assert total(tag="youth") == 2 and total(tag="youth", org="housing") == 1
    assert total(language="es") == 1
    assert total(opted_out=True) == 0 and total(unreachable=False) == 4
    one = p.search_participants(db, op, p.ParticipantFilter(channel="sms", org="PANTRY")).rows[0]
    assert total(query=one.pseudonym.lower()) == 1
    assert total(query="900009") == 1                # part of a number
    paged = p.search_participants(db, op, p.ParticipantFilter(page=2, page_size=3))
    assert (paged.total, len(paged.rows), paged.pages) == (4, 1, 2)
    with pytest.raises(p.ParticipantError):
        p.search_participants(db, op, p.ParticipantFilter(consent="maybe"))


def test_detail_has_the_consent_history_and_is_refused_to_other_organisations(db, now, two_orgs):
    pantry, housing = two_orgs
    joined = p.search_participants(db, Scope.operator(), p.ParticipantFilter(channel="local")).rows[0]
    detail = p.participant_detail(db, _staff(pantry), joined.id)
    assert [h.what for h in detail.consent_history] == ["enrolled (join)", "consent given",
                                                        "consent given, may be quoted"]
    assert detail.consent_history[-1].quote and detail.consent_history[-1].channel == "local"
    assert detail.participant.address == "+447700900123"
    with pytest.raises(Forbidden):
        p.participant_detail(db, _staff(housing), joined.id)
    with pytest.raises(p.ParticipantError, match="no participant 999"):
        p.participant_detail(db, Scope.operator(), 999)


def test_the_preview_explains_every_bad_row_writes_nothing_and_agrees_with_the_import(db, now, two_orgs):
    pantry, _ = two_orgs
    text = HEADER + ("sms,07700 900101,PANTRY,en,\n"
                     "fax,123,PANTRY,,\n"
                     "sms,12345,PANTRY,,\n"
                     "sms,07700 900102,HOUSING,,\n"
                     "sms,07700 900103,NOWHERE,,\n"
                     "sms,07700 900104,PANTRY,xx,\n"
                     "sms,07700 900101,PANTRY,,\n")
    before = p.search_participants(db, Scope.operator(), p.ParticipantFilter()).total
    preview = p.preview_import(db, _staff(pantry), text, now)
    assert [(x.line, x.column) for x in preview.problems] == [
        (3, "channel"), (4, "address"), (5, "organisation"), (6, "organisation"), (7, "language"), (8, "address")]
    assert "not one of yours" in preview.problems[2].reason
    assert preview.problems[5].reason == "same number as line 2"
    assert (preview.created, preview.written) == (1, False)
    imported = p.import_participants(db, _staff(pantry), text, now)
    assert imported.problems == preview.problems and not imported.written
    assert p.search_participants(db, Scope.operator(), p.ParticipantFilter()).total == before
    good = HEADER + "sms,07700 900101,PANTRY,en,new\nsms,07700 900001,PANTRY,,youth\n"
    preview = p.preview_import(db, _staff(pantry), good, now)
    assert (preview.created, preview.unchanged, preview.problems, preview.written) == (1, 1, [], False)
    assert p.search_participants(db, Scope.operator(), p.ParticipantFilter()).total == before
    done = p.import_participants(db, _staff(pantry), good, now)
    assert (done.created, done.unchanged, done.written) == (1, 1, True)
    assert p.search_participants(db, Scope.operator(), p.ParticipantFilter()).total == before + 1
    # one audit entry, for the written import only (not the previews or the refused one), with no row of the file
    entries = audit.list_entries(db, Scope.operator(), action="participants")
    assert [(e.action, e.actor, e.detail) for e in entries] == [
        ("participants.import", "alice", "created 1, updated 0, unchanged 1")]


def test_erasing_is_the_persons_own_delete_and_needs_every_organisation(db, now, two_orgs):
    pantry, housing = two_orgs
    joined = p.search_participants(db, Scope.operator(), p.ParticipantFilter(channel="local")).rows[0]
    _send(db, now, "1", "+447700900123")       # an answer to the welcome survey
    admin.add_participant(db, "local", "+447700900123", "HOUSING", now)
    with pytest.raises(Forbidden, match="other organisations"):
        p.erase_participant(db, _staff(pantry), joined.id, now)
    with pytest.raises(Forbidden):
        p.erase_participant(db, Scope("governance"), joined.id, now)
    both = Scope("staff", frozenset({pantry, housing}), None, "bob")
    erased = p.erase_participant(db, both, joined.id, now, source="192.0.2.1")
    assert erased.pseudonym == joined.pseudonym
    [entry] = audit.list_entries(db, Scope.operator(), action="participant")
    assert (entry.action, entry.actor, entry.object_id, entry.source) == ("participant.erase", "bob",
                                                                          str(erased.erasure_id), "192.0.2.1")
    assert joined.pseudonym not in (entry.detail or "")
    assert "+447700900123" not in (entry.detail or "")
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(m.Answer)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(m.ConsentEvent)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(m.Erasure)).scalar() == 1
    with pytest.raises(p.ParticipantError):
        p.erase_participant(db, Scope.operator(), joined.id, now)


def test_staff_add_only_to_their_own_organisation(db, now, two_orgs):
    pantry, housing = two_orgs
    row = p.add_participant(db, _staff(pantry), "sms", "07700 900200", "pantry", now, tags=("new",))
    assert (row.organisations, row.tags, row.address) == (("PANTRY",), ("new",), "+447700900200")
    with pytest.raises(Forbidden):
        p.add_participant(db, _staff(pantry), "sms", "07700 900201", "HOUSING", now)
