"""The participants and flags pages over the real operations (SQLite, the app's test client)."""
from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from analysis.digest.deliver import options
from surveys import audit
from surveys import models as m
from surveys.scope import Scope
from surveys.store import Store
from tests.console.conftest import RIVER_WORDS, csrf_token, sign_in_as

OP = Scope.operator()
HEADER = "channel,address,organisation,language,tags\n"


def _as(app, db, who, clock):
    client = app.test_client()
    sign_in_as(client, db, who, clock())
    return client


def _count(db, model) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_staff_find_their_people_with_contact_details_and_consent_history(app, sqlite_db, people, clock):
    ids = people["ids"]
    address = people["secrets"][1]
    staff = _as(app, sqlite_db, "staff", clock)
    pseudonym = sqlite_db.pseudonym(ids["participant"])
    page = staff.get(f"/console/participants?channel=local&consent=given&q={pseudonym}").get_data(as_text=True)
    assert "1 participant" in page and address in page and pseudonym in page
    assert "Nobody matches" in staff.get("/console/participants?opted_out=yes").get_data(as_text=True)
    one = staff.get(f"/console/participants/{ids['participant']}")
    assert one.status_code == 200 and one.headers["Cache-Control"] == "no-store"
    body = one.get_data(as_text=True)
    assert "Consent history" in body and "enrolled (staff)" in body and address in body
    other = _as(app, sqlite_db, "other_org_staff", clock)
    assert address not in other.get("/console/participants").get_data(as_text=True)
    refused = other.get("/console/participants?org=river")
    assert refused.status_code == 403 and "not one of yours" in refused.get_data(as_text=True)


def test_import_previews_every_bad_row_writes_nothing_then_imports_on_confirm(app, sqlite_db, people, clock):
    staff = _as(app, sqlite_db, "staff", clock)
    before = _count(sqlite_db, m.Contact)
    bad = HEADER + "sms,07700 900301,river,en,a\nsms,12,river,,\nsms,07700 900302,youth,,\n"
    page = staff.post("/console/participants/import", data={"csrf_token": csrf_token(staff, "/console/participants/import"),
                                                            "text": bad})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "2 bad rows: nothing is imported" in body
    assert "<th scope=\"row\">3</th><td>address</td>" in body and "<th scope=\"row\">4</th><td>organisation</td>" in body
    assert "not one of yours" in body and "Import 1 rows" not in body
    assert _count(sqlite_db, m.Contact) == before
    good = HEADER + "sms,07700 900301,river,en,a\nsms,07700 900303,river,,\n"
    token = csrf_token(staff, "/console/participants/import")
    body = staff.post("/console/participants/import", data={"csrf_token": token, "text": good}).get_data(as_text=True)
    assert "Every row is good" in body and "Import 2 rows" in body
    assert _count(sqlite_db, m.Contact) == before                   # a preview writes nothing
    done = staff.post("/console/participants/import/confirm", data={"csrf_token": token, "text": good})
    assert done.status_code == 302 and _count(sqlite_db, m.Contact) == before + 2
    listed = staff.get(done.headers["Location"]).get_data(as_text=True)
    assert "Imported: 2 added" in listed and "+447700900301" in listed
    [entry] = audit.list_entries(sqlite_db, OP, action="participants")
    assert (entry.action, entry.actor, entry.source) == ("participants.import", "staff", "127.0.0.1")
    assert "900301" not in (entry.detail or "")


def test_a_bad_address_in_the_add_form_is_one_line_next_to_its_field(app, sqlite_db, people, clock):
    staff = _as(app, sqlite_db, "staff", clock)
    token = csrf_token(staff, "/console/participants/new")
    bad = staff.post("/console/participants/new", data={"csrf_token": token, "channel": "sms", "address": "12",
                                                        "organisation": "river"})
    assert bad.status_code == 200 and 'id="address-error"' in bad.get_data(as_text=True)
    ok = staff.post("/console/participants/new", data={"csrf_token": token, "channel": "sms", "address": "07700 900444",
                                                       "organisation": "river", "tags": "new; evening"})
    assert ok.status_code == 302
    page = staff.get(ok.headers["Location"]).get_data(as_text=True)
    assert "+447700900444" in page and "evening, new" in page


def test_erase_asks_first_then_erases_with_an_audit_entry(app, sqlite_db, people, clock):
    contact = people["ids"]["participant"]
    staff = _as(app, sqlite_db, "staff", clock)
    confirm = staff.get(f"/console/participants/{contact}/erase").get_data(as_text=True)
    people_before, answers_before = _count(sqlite_db, m.Contact), _count(sqlite_db, m.Answer)
    with sqlite_db.read() as conn:
        theirs = conn.execute(select(func.count()).select_from(m.Answer).where(m.Answer.contact_id == contact)).scalar_one()
    assert "cannot be undone" in confirm and theirs > 0
    token = csrf_token(staff, f"/console/participants/{contact}/erase")
    refused = staff.post(f"/console/participants/{contact}/erase",
                         data={"csrf_token": token, "request": "x" * 201})
    assert refused.status_code == 400 and "At most 200 characters." in refused.get_data(as_text=True)
    assert _count(sqlite_db, m.Contact) == people_before
    done = staff.post(f"/console/participants/{contact}/erase", data={"csrf_token": token, "request": "email of 3 Dec"})
    assert done.status_code == 302 and _count(sqlite_db, m.Contact) == people_before - 1
    assert _count(sqlite_db, m.Answer) == answers_before - theirs     # theirs, and nobody else's
    [entry] = audit.list_entries(sqlite_db, OP, action="participant")
    with sqlite_db.read() as conn:
        tombstone = conn.execute(select(m.Erasure)).one()
    assert (entry.action, entry.object_type, entry.object_id, entry.actor) == (
        "participant.erase", "erasure", str(tombstone.id), "staff")
    assert (tombstone.by, tombstone.request) == ("staff", "email of 3 Dec")
    assert staff.get(f"/console/participants/{contact}").status_code == 404
    page = _as(app, sqlite_db, "admin", clock).get("/console/erasures").get_data(as_text=True)
    assert f"E-{tombstone.id}" in page and "email of 3 Dec" in page and f"{theirs} answers" in page


def test_a_flag_page_shows_the_words_records_the_view_and_is_handled_to_closed(app, sqlite_db, people, clock):
    flag = people["ids"]["flag"]
    lead = _as(app, sqlite_db, "safeguarding", clock)
    queue = lead.get("/console/flags").get_data(as_text=True)
    assert f"#{flag}" in queue and RIVER_WORDS not in queue and 'hx-trigger="every 30s"' in queue
    fragment = lead.get("/console/flags", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f"#{flag}" in fragment and "<html" not in fragment
    page = lead.get(f"/console/flags/{flag}").get_data(as_text=True)
    assert RIVER_WORDS in page and people["secrets"][1] in page
    [view] = audit.list_entries(sqlite_db, OP, action="flag")
    assert (view.action, view.object_id, view.actor, view.detail) == ("flag.view", str(flag), "safeguarding", None)
    token = csrf_token(lead, f"/console/flags/{flag}")
    empty = lead.post(f"/console/flags/{flag}/close", data={"csrf_token": token, "close-csrf_token": token, "close-note": " "})
    assert empty.status_code == 400 and "never closed without a note" in empty.get_data(as_text=True)
    for action, data in (("assign", {"assign-assignee": "Sam"}), ("note", {"note-note": "Called, no answer"}),
                         ("close", {"close-note": "Spoke to them; safe.", "close-not_a_concern": "y"})):
        clock.advance(minutes=5)
        done = lead.post(f"/console/flags/{flag}/{action}", data={f"{action}-csrf_token": token, **data})
        assert done.status_code == 302, (action, done.get_data(as_text=True)[:2000])
    page = lead.get(f"/console/flags/{flag}").get_data(as_text=True)
    assert "assigned it to Sam" in page and "Called, no answer" in page and "not a concern" in page
    assert f"#{flag}" not in lead.get("/console/flags").get_data(as_text=True)
    assert f"#{flag}" in lead.get("/console/flags?status=closed").get_data(as_text=True)


def test_script_in_an_answer_and_a_tag_shows_escaped(app, sqlite_db, people, clock):
    evil = "<script>alert(1)</script>"
    with sqlite_db.write() as conn:
        conn.execute(m.Answer.__table__.update().values(raw_text=evil + " i dont want to be here"))
        conn.execute(m.Enrolment.__table__.update().values(tags=[evil]))
    staff = _as(app, sqlite_db, "staff", clock)
    ids = people["ids"]
    for url in (f"/console/flags/{ids['flag']}", f"/console/participants/{ids['participant']}",
                "/console/participants", "/console/flags", f"/console/participants?tag={evil}"):
        body = staff.get(url).get_data(as_text=True)
        assert evil not in body, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in staff.get(f"/console/flags/{ids['flag']}").get_data(as_text=True)
    assert "&lt;script&gt;" in staff.get(f"/console/participants/{ids['participant']}").get_data(as_text=True)


def test_the_digest_links_to_the_flag_queue_only_with_a_public_address(sqlite_db, people):
    assert options(sqlite_db, 2026, 47).flags_link is None
    site = Store(dataclasses.replace(sqlite_db.settings, public_base_url="https://chorus.example"),
                 sql_engine=sqlite_db.sql_engine)
    assert options(site, 2026, 47).flags_link == "https://chorus.example/console/flags"
