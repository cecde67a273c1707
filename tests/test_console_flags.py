"""The safeguarding queue (surveys.flags): scoped by who asks, with a kept history, on both databases."""
from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from surveys import flags as fl
from surveys.scope import Forbidden, Scope
from tests.console_data import partnership, staff

WORDS = "i dont want to be here anymore"


@pytest.fixture
def data(db, now):
    return partnership(db, now)


def _flag_id(db):
    [item] = fl.flag_queue(db, Scope.operator())
    return item.flag.id


def test_the_queue_is_the_scopes_and_never_governances(db, now, data):
    lead = staff(data, "PANTRY", "safeguarding")
    for scope in (Scope.operator(), lead, staff(data, "PANTRY")):
        [item] = fl.flag_queue(db, scope)
        assert item.flag.answer_text is None and item.flag.organisation == "Riverside Pantry"
    assert fl.flag_queue(db, staff(data, "HOUSING")) == []
    assert fl.flag_queue(db, staff(data, "HOUSING", "safeguarding")) == []
    with pytest.raises(Forbidden):
        fl.flag_queue(db, Scope("governance"))
    assert fl.flag_queue(db, Scope.operator(), fl.FlagQueueFilter("closed")) == []
    assert fl.flag_queue(db, Scope.operator(), fl.FlagQueueFilter(org="housing")) == []


def test_detail_gives_the_words_and_the_way_to_reach_the_person_only_to_the_organisations_scopes(db, now, data):
    flag_id = _flag_id(db)
    lead = staff(data, "PANTRY", "safeguarding")
    d = fl.flag_detail(db, lead, flag_id)
    assert d.flag.answer_text == WORDS
    assert d.reach is not None and d.reach.channel == "local" and d.reach.address.startswith("+4477009")
    assert d.reach.pseudonym.startswith("P-")
    for other in (staff(data, "HOUSING"), staff(data, "HOUSING", "safeguarding"), Scope("governance")):
        with pytest.raises(Forbidden) as refused:
            fl.flag_detail(db, other, flag_id)
        assert WORDS not in str(refused.value)
    with pytest.raises(fl.FlagError, match="no flag 999"):
        fl.flag_detail(db, lead, 999)


def test_a_flag_offers_the_people_who_may_read_it_to_assign_it_to(db, now, data):
    from surveys import accounts

    flag_id = _flag_id(db)
    op = Scope.operator()
    for username, name, role, orgs in (("ann", "Ann Admin", "admin", []), ("pia", "Pia Pantry", "staff", ["PANTRY"]),
                                       ("lee", "Lee Lead", "safeguarding", ["PANTRY"]),
                                       ("hal", "Hal Housing", "safeguarding", ["HOUSING"]),
                                       ("gov", "Gil Governance", "governance", []),
                                       ("old", "Olga Gone", "safeguarding", ["PANTRY"])):
        accounts.add_user(db, op, username, name, role, orgs, now)
    accounts.set_disabled(db, op, "old", True, now)
    names = fl.flag_detail(db, staff(data, "PANTRY", "safeguarding"), flag_id).handlers
    assert names == ["Ann Admin", "Lee Lead", "Pia Pantry"]     # not another organisation's, governance or disabled


def test_assign_note_and_close_keep_the_history(db, now, data):
    flag_id = _flag_id(db)
    lead = staff(data, "PANTRY", "safeguarding")
    fl.assign_flag(db, lead, flag_id, "Sam", now)
    assert [i.assignee for i in fl.flag_queue(db, lead, fl.FlagQueueFilter(assignee="sam"))] == ["Sam"]
    with pytest.raises(fl.FlagError, match="must not be empty"):
        fl.add_flag_note(db, lead, flag_id, "  ", now)
    fl.add_flag_note(db, lead, flag_id, "Tried to call, no answer", now + timedelta(minutes=5))
    with pytest.raises(Forbidden):
        fl.add_flag_note(db, staff(data, "HOUSING"), flag_id, "not mine", now)
    with pytest.raises(fl.FlagError, match="never closed without a note"):
        fl.close_flag_as(db, lead, flag_id, " ", now)
    done = fl.close_flag_as(db, lead, flag_id, "Called back; safe.", now + timedelta(minutes=30))
    assert (done.flag.status, done.flag.closed_by, done.flag.outcome) == ("closed", "safeguarding-pantry", "concern")
    assert [(e.kind, e.by, e.assignee, e.note) for e in done.history] == [
        ("assigned", "safeguarding-pantry", "Sam", None),
        ("note", "safeguarding-pantry", None, "Tried to call, no answer"),
        ("closed", "safeguarding-pantry", None, "Called back; safe.")]
    with pytest.raises(fl.FlagError, match="is closed"):
        fl.assign_flag(db, lead, flag_id, "Kim", now)
    assert fl.flag_queue(db, lead) == [] and len(fl.flag_queue(db, lead, fl.FlagQueueFilter("closed"))) == 1


def test_the_command_line_assigns_notes_and_shows_the_history(db, now, data, monkeypatch):
    import cli.flags
    from cli import main

    flag_id = _flag_id(db)
    monkeypatch.setattr(cli.flags, "_store", lambda: db)
    monkeypatch.setattr(cli.flags, "_now", lambda: now)
    run = CliRunner().invoke
    assert "assigned to Sam" in run(main, ["flags", "assign", str(flag_id), "--to", "Sam", "--by", "Kim"]).output
    for verb, extra in (("note", ["--note", "Called"]), ("assign", ["--to", "Sam"]), ("close", ["--note", "Done"])):
        nameless = run(main, ["flags", verb, str(flag_id), "--by", "  ", *extra])     # the rule is the operation's
        assert nameless.exit_code == 1 and "(--by NAME)" in nameless.output and "Traceback" not in nameless.output
    assert "2 entries" in run(main, ["flags", "note", str(flag_id), "--by", "Kim", "--note", "Called"]).output
    listed = run(main, ["flags", "list"]).output
    assert "assigned to Sam" in listed and WORDS not in listed
    shown = run(main, ["flags", "show", str(flag_id)]).output
    assert WORDS in shown and "Kim: assigned to Sam" in shown and "Kim: note: Called" in shown
