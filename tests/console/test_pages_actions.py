"""The action register's pages through the app (SQLite; the operations have their own tests on both databases):
record an action from a theme of the responses page, errors next to their field, preview who it tells and
who is left out, publish, status changes with history; governance reads the register but never a reply."""
from __future__ import annotations

import re

from sqlalchemy import select

from surveys import models as m
from tests.console.conftest import RIVER_SECRETS, csrf_token
from tests.console.test_pages_b import client_for, text


def test_a_theme_on_the_responses_page_leads_to_a_prefilled_action(app, sqlite_db, people, clock):
    c = client_for(app, sqlite_db, "staff", clock)
    page = text(c.get("/console/responses?survey=pantry"))
    links = re.findall(r'href="(/console/actions/new\?[^"]+)"', page)
    themes = re.findall(r"Record an action on “([^”]+)”", page)
    # Only themes in 5 or more answers are listed; when there are some, each leads to a prefilled form.
    assert len(links) == len(themes)
    form = text(c.get("/console/actions/new?survey=pantry&theme=waiting+times&org=river&since=2026-11-01"))
    assert 'value="waiting times"' in form and 'value="2026-11-01"' in form
    assert re.search(r'<option selected value="pantry">|<option value="pantry" selected>', form)


def test_record_preview_publish_and_move_an_action_on(app, sqlite_db, people, clock):
    c = client_for(app, sqlite_db, "staff", clock)
    token = csrf_token(c, "/console/actions/new")
    bad = c.post("/console/actions/new", data={"csrf_token": token, "heard": "queues", "doing": " ", "owner": "Sam",
                                               "status": "planned", "org": "river", "survey": "", "audience": "raised"})
    assert bad.status_code == 200 and "Say what is being done about it." in text(bad)
    made = c.post("/console/actions/new", data={
        "csrf_token": token, "heard": "queues are long", "doing": "a second queue", "owner": "Sam",
        "status": "in_progress", "org": "river", "survey": "", "audience": "cohort", "cohort_tag": "",
        "message_en": "You said the queues were long: we opened a second one."}, follow_redirects=True)
    page = text(made)
    assert "is in the register" in page and "in progress" in page and "queues are long" in page
    action_id = int(re.search(r"<h1>Action #(\d+)", page).group(1))

    preview = text(c.get(f"/console/actions/{action_id}/publish"))
    assert "Nothing has been sent yet" in preview
    told = int(re.search(r'This tells <span class="n">(\d+)</span>', preview).group(1))
    with sqlite_db.read() as conn:
        river_people = conn.execute(select(m.Enrolment.contact_id).where(
            m.Enrolment.organisation_id == people["ids"]["river"], m.Enrolment.consent_status == "given")).all()
    assert 0 < told <= len(river_people)
    sent = c.post(f"/console/actions/{action_id}/publish", data={"csrf_token": token}, follow_redirects=True)
    assert f"on its way to {told} " in text(sent)
    with sqlite_db.read() as conn:
        queued = conn.execute(select(m.Message.text).where(m.Message.purpose == "loop")).scalars().all()
    assert queued == ["You said the queues were long: we opened a second one."] * told

    done = c.post(f"/console/actions/{action_id}/status", data={"csrf_token": token, "status": "cant_do"},
                  follow_redirects=True)
    assert "An action that can&#39;t be done says why" in text(done) or "says why" in text(done)
    done = c.post(f"/console/actions/{action_id}/status", data={"csrf_token": token, "status": "done",
                                                                "note": "second queue runs every Tuesday"},
                  follow_redirects=True)
    page = text(done)
    assert "Action #%d: done" % action_id in page and "second queue runs every Tuesday" in page
    assert f"published: {told} told" in page


def test_governance_reads_the_register_but_no_reply(app, sqlite_db, people, clock):
    action_id = people["ids"]["action_id"]
    for who in ("governance", "other_org_staff"):
        page = text(client_for(app, sqlite_db, who, clock).get(f"/console/actions/{action_id}"))
        assert "a second queue on Tuesdays" in page and "1 so far, readable by its staff" in page
        assert not any(secret in page for secret in RIVER_SECRETS)
    page = text(client_for(app, sqlite_db, "staff", clock).get(f"/console/actions/{action_id}"))
    assert "Jane Smith" in page          # the river reply, for river's staff
