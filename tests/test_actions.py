"""The action register and "you said, we did" (analysis.actions), on both databases: who a publication
reaches and who it leaves out and why, each person at most once, in their language, never inside quiet hours;
the history; replies stored on the action; roles."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from analysis import actions as ac
from local.channel import LocalChannel
from surveys import models as m
from surveys.outbox import Worker
from surveys.schedule import in_quiet_hours
from surveys.scope import Forbidden, Scope
from surveys.service import InboundMessage, erase_contact, handle_inbound
from tests.digest_data import Data, Person

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)      # a Monday, 10:00 in London
WAIT = "the waiting times were far too long"
OP = Scope.operator()


def _heard(**kw) -> ac.ActionInput:
    base = dict(heard="the waiting times are too long", doing="we have opened a second queue on Tuesdays",
                owner="Ana (pantry manager)", org="PANTRY", survey="pantry", theme="waiting times",
                message={"en": "You said the waits were too long: we opened a second queue on Tuesdays.",
                         "es": "Dijiste que las esperas eran largas: abrimos una segunda fila los martes."})
    return ac.ActionInput(**(base | kw))


def _address(db, contact_id):
    with db.read() as conn:
        return conn.execute(select(m.Contact.address).where(m.Contact.id == contact_id)).scalar_one()


@pytest.fixture
def town(db):
    """PANTRY: seven people said the waits were too long (one in Spanish, one opted out, one who withdrew
    consent, one unreachable, one told about another action two days ago, one erased), one said something
    else; HOUSING: one said the same about its office, two tenants (a cohort)."""
    data = Data(db, NOW)
    data.org("PANTRY", "Riverside Pantry")
    data.org("HOUSING", "Housing Help")
    last = NOW - timedelta(days=7)
    names = ["english", "spanish", "opted_out", "withdrew", "unreachable", "told_lately", "erased"]
    people = [Person("PANTRY", text=WAIT, label="negative", language="es" if n == "spanish" else "en")
              for n in names]
    ids = dict(zip(names, data.week(last, people)))
    ids["veg"], ids["housing"], ids["tenant1"], ids["tenant2"] = data.week(last, [
        Person("PANTRY", text="fresh veg was brilliant this week", label="positive"),
        Person("HOUSING", text="the waiting times at the office", label="negative"),
        Person("HOUSING", visit=3), Person("HOUSING", visit=4)])
    with db.write() as conn:
        C, E = m.Contact.__table__, m.Enrolment.__table__
        conn.execute(update(C).where(C.c.id == ids["opted_out"]).values(opted_out_at=NOW - timedelta(days=1)))
        conn.execute(update(C).where(C.c.id == ids["unreachable"]).values(unreachable_at=NOW - timedelta(days=1),
                                                                          unreachable_reason="number not in service"))
        conn.execute(update(E).where(E.c.contact_id == ids["withdrew"]).values(consent_status="withdrawn"))
        conn.execute(update(E).where(E.c.contact_id.in_([ids["tenant1"], ids["tenant2"]])).values(tags=["tenants"]))
    erase_contact(db, ids["erased"], NOW - timedelta(hours=1), by="test")
    # Told about an earlier action two days ago: the one-a-week rule holds them back.
    earlier = ac.record_action(db, OP, _heard(heard="parking is hard", doing="we marked bays", theme=None, survey=None,
                                              audience="cohort", cohort_tag=None), NOW - timedelta(days=3))
    with db.write() as conn:
        conn.execute(m.LoopMessage.__table__.insert().values(
            action_id=earlier.id, contact_id=ids["told_lately"], language="en", not_before=NOW - timedelta(days=2),
            created_at=NOW - timedelta(days=2)))
    return data, ids


def _loop_rows(db):
    M = m.Message.__table__
    with db.read() as conn:
        return conn.execute(select(M.c.contact_id, M.c.text, M.c.not_before, M.c.status, M.c.invitation_id)
                            .where(M.c.purpose == "loop").order_by(M.c.contact_id)).all()


def test_publishing_tells_exactly_the_people_who_raised_it_once_each_in_their_language(db, town):
    _, ids = town
    action = ac.record_action(db, OP, _heard(), NOW)
    preview = ac.preview_publication(db, OP, action.id, NOW)
    assert sorted(r.contact_id for r in preview.reached) == sorted([ids["english"], ids["spanish"]])
    assert dict(preview.left_out) == {"opted out": 1, "not consented": 1, "unreachable": 1, "this week": 1}

    published = ac.publish_action(db, OP, action.id, NOW)
    assert [r.contact_id for r in published.reached] == [r.contact_id for r in preview.reached]
    rows = _loop_rows(db)
    by_contact = {r.contact_id: r for r in rows}
    assert set(by_contact) == {ids["english"], ids["spanish"]}      # not HOUSING's, not the veg person, nobody else
    assert by_contact[ids["english"]].text.startswith("You said the waits")
    assert by_contact[ids["spanish"]].text.startswith("Dijiste")
    assert all(r.invitation_id is None and r.status == "pending" for r in rows)   # not an invitation: no fatigue

    # Publishing again at once tells nobody new: refused, saying why, and not recorded as a publication.
    with pytest.raises(ac.ActionError, match=r"nobody to tell now \(left out: 2 already told about this action, 1 opted out"):
        ac.publish_action(db, OP, action.id, NOW + timedelta(hours=1))
    # A week on, publishing again tells only the person the one-a-week rule held back, never anyone twice.
    again = ac.publish_action(db, OP, action.id, NOW + timedelta(days=8))
    assert [r.contact_id for r in again.reached] == [ids["told_lately"]] and again.left_out["already told"] == 2
    assert sorted(r.contact_id for r in _loop_rows(db)) == sorted([ids["english"], ids["spanish"], ids["told_lately"]])
    shown = ac.get_action(db, OP, action.id)
    assert shown.action.told == 3 and shown.action.published_at == NOW
    assert [h.note for h in shown.history if h.note and "published" in h.note] == [
        "published: 2 told, 4 left out", "published again: 1 told, 5 left out"]


def test_a_message_published_at_night_waits_for_the_morning_where_they_live(db, town):
    _, ids = town
    night = datetime(2026, 11, 30, 22, 30, tzinfo=timezone.utc)        # 22:30 in London: quiet hours
    action = ac.record_action(db, OP, _heard(), night)
    pub = ac.publish_action(db, OP, action.id, night)
    assert pub.held == 2
    for r in _loop_rows(db):
        assert r.not_before == datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
        assert not in_quiet_hours(r.not_before, "Europe/London", db.settings.quiet_hours)


def test_a_cohort_and_a_partnership_action_reach_their_own_people(db, town):
    _, ids = town
    cohort = ac.record_action(db, OP, _heard(org="HOUSING", survey=None, theme=None, audience="cohort",
                                             cohort_tag="tenants"), NOW)
    assert sorted(r.contact_id for r in ac.publish_action(db, OP, cohort.id, NOW).reached) == \
        sorted([ids["tenant1"], ids["tenant2"]])
    # The partnership's action about the same theme reaches both organisations' people who raised it.
    both = ac.record_action(db, OP, _heard(org=None), NOW)
    reached = {r.contact_id for r in ac.preview_publication(db, OP, both.id, NOW).reached}
    assert reached == {ids["english"], ids["spanish"], ids["housing"]}


def test_a_message_falls_back_to_a_written_language_and_says_so(db, town):
    _, ids = town
    action = ac.record_action(db, OP, _heard(message={"en": "You said the waits were long: fixed."}), NOW)
    pub = ac.preview_publication(db, OP, action.id, NOW)
    assert pub.by_language() == {"en": 2} and dict(pub.fallback) == {"es": 1}


def test_staff_act_only_on_their_organisations_actions(db, town):
    data, _ = town
    pantry = Scope("staff", frozenset({data.orgs["PANTRY"]}), None, "pantry staff")
    housing = Scope("staff", frozenset({data.orgs["HOUSING"]}), None, "housing staff")
    mine = ac.record_action(db, pantry, _heard(), NOW)
    with pytest.raises(Forbidden):
        ac.record_action(db, housing, _heard(), NOW)
    with pytest.raises(Forbidden):
        ac.publish_action(db, housing, mine.id, NOW)
    with pytest.raises(Forbidden):
        ac.set_status(db, housing, mine.id, "done", NOW)
    with pytest.raises(Forbidden):
        ac.record_action(db, Scope("governance", frozenset(), None, "gov"), _heard(), NOW)
    partnership = ac.record_action(db, OP, _heard(org=None), NOW)
    with pytest.raises(Forbidden):
        ac.set_status(db, pantry, partnership.id, "done", NOW)
    # Everyone reads the register; replies only for a scope that covers the organisation.
    assert ac.get_action(db, housing, mine.id).replies is None
    assert ac.get_action(db, pantry, mine.id).replies == []
    assert [a.id for a in ac.list_actions(db, housing)][:2] == [partnership.id, mine.id]   # (then the earlier one)


def test_status_history_and_the_rules_of_a_status(db, town):
    action = ac.record_action(db, OP, _heard(), NOW)
    with pytest.raises(ac.ActionError, match="why not"):
        ac.set_status(db, OP, action.id, "cant_do", NOW)
    with pytest.raises(ac.ActionError, match="status 'finished'"):
        ac.set_status(db, OP, action.id, "finished", NOW)
    ac.set_status(db, OP, action.id, "in_progress", NOW + timedelta(days=1), note="quote from the builder")
    done = ac.set_status(db, OP, action.id, "done", NOW + timedelta(days=2))
    assert done.done_at == NOW + timedelta(days=2)
    history = ac.get_action(db, OP, action.id).history
    assert [(h.status, h.note) for h in history] == [("planned", None), ("in_progress", "quote from the builder"),
                                                     ("done", None)]


@pytest.mark.parametrize("change, message", [
    (dict(heard=" "), "heard: say what people said"),
    (dict(survey=None), "survey: an action about what people raised names the survey"),
    (dict(survey="pantri"), "did you mean: pantry"),
    (dict(org="PANTRI"), "did you mean: PANTRY"),
    (dict(audience="cohort", org=None, survey=None), "cohort: name the organisation"),
    (dict(message={"en": "x" * 481}), "keep it to 480"),
])
def test_a_bad_action_says_what_is_wrong(db, town, change, message):
    with pytest.raises(ac.ActionError, match=message):
        ac.record_action(db, OP, _heard(**change), NOW)


def test_publishing_without_a_message_says_so(db, town):
    action = ac.record_action(db, OP, _heard(message=None), NOW)
    with pytest.raises(ac.ActionError, match="write the .you said, we did. text"):
        ac.publish_action(db, OP, action.id, NOW)


def test_a_reply_to_the_message_is_stored_on_the_action(db, town):
    _, ids = town
    action = ac.record_action(db, OP, _heard(), NOW)
    ac.publish_action(db, OP, action.id, NOW)
    out = io.StringIO()
    Worker(db, {"local": LocalChannel(out=out)}, clock=lambda: NOW).run_once()   # (the erasure receipt goes too)
    assert [r.status for r in _loop_rows(db)] == ["queued", "queued"]     # handed to the channel
    assert "second queue" in out.getvalue()
    handle_inbound(db, InboundMessage("local", _address(db, ids["english"]), "reply-1", "thank you, much better"),
                   NOW + timedelta(hours=2))
    # Someone who was not told: their comment stays a comment, on no action.
    handle_inbound(db, InboundMessage("local", _address(db, ids["veg"]), "reply-2", "the veg was great"),
                   NOW + timedelta(hours=2))
    detail = ac.get_action(db, OP, action.id)
    assert [r.text for r in detail.replies] == ["thank you, much better"] and detail.action.replies == 1
    # Erasing the person takes their reply with them.
    erase_contact(db, ids["english"], NOW + timedelta(hours=3), by="test")
    assert ac.get_action(db, OP, action.id).replies == []


def test_the_loop_in_the_digest_and_its_warning(db, town):
    """Actions done and in progress in the week, the theme an action answers, and the waves that heard back:
    as the register stood at the cut-off (a later change does not alter a rebuilt week)."""
    from analysis.digest.build import build
    from analysis.digest.loop import loop_lines
    from analysis.digest.staff import options
    from analysis.weeks import week_of

    data, ids = town
    week = week_of(NOW, db.settings.default_timezone)
    action = ac.record_action(db, OP, _heard(theme="waiting times", status="in_progress"), NOW - timedelta(hours=2))
    cutoff = NOW + timedelta(hours=1)
    before = build(db, options(db, *week, None, cutoff), cutoff).loop
    assert [a["id"] for a in before["in_progress"]] == [action.id] and before["done"] == []
    # The wave of a week ago (the town's people) has no message yet: not 4 weeks old, so no warning.
    assert before["waves"] == {"count": 1, "with_message": 0, "share": 0.0, "median_days": None, "overdue": []}

    ac.publish_action(db, OP, action.id, NOW)
    ac.set_status(db, OP, action.id, "done", NOW + timedelta(minutes=30))
    after = build(db, options(db, *week, None, cutoff), cutoff).loop
    assert [a["id"] for a in after["done"]] == [action.id] and after["in_progress"] == []
    assert after["waves"]["with_message"] == 1 and after["waves"]["median_days"] == 7.0   # the wave was 7 days before
    # The same week rebuilt as of the first cut-off still says in progress: the history, not today's status.
    again = build(db, options(db, *week, None, NOW - timedelta(minutes=30)), NOW - timedelta(minutes=30)).loop
    assert [a["id"] for a in again["in_progress"]] == [action.id]

    # Five weeks later, a wave nobody heard back about is a warning.
    later = NOW + timedelta(weeks=5)
    data.week(NOW + timedelta(days=1), [Person("HOUSING", text="the office is cold", label="negative")])
    lines, warning = loop_lines(build(db, options(db, *week_of(later, db.settings.default_timezone), None, later),
                                      later).loop)
    assert "4 weeks old or more" in warning and "pantry" in warning
    assert any(line.startswith("Waves of the last 12 weeks that got") and "1 of 2 (50%)" in line for line in lines)
