"""A person's own data in the console: the consent they gave shown completely, and "Download their data" (JSON
and text attachments, never cached, audited), scoped like erasure (SQLite, the app's test client)."""
from __future__ import annotations

import json

from sqlalchemy import select

from surveys import messages
from surveys import models as m
from tests.console.conftest import RIVER_WORDS, sign_in_as


def _as(app, db, who, clock):
    client = app.test_client()
    sign_in_as(client, db, who, clock())
    return client


def test_the_page_shows_what_they_agreed_to_and_offers_their_data(app, sqlite_db, people, clock):
    contact_id = people["ids"]["participant"]
    with sqlite_db.session() as s:
        e = s.scalars(select(m.Enrolment).where(m.Enrolment.contact_id == contact_id)).one()
        org = s.get(m.Organisation, e.organisation_id)
        e.consent_version, e.consent_channel, e.consent_participate = messages.CONSENT_VERSION, "sms", True
        s.add(m.ConsentEvent(enrolment_id=e.id, status="given", participate=True, quote=False, version="2025-01.0",
                             channel="sms", at=e.created_at))
    staff = _as(app, sqlite_db, "staff", clock)
    body = staff.get(f"/console/participants/{contact_id}").get_data(as_text=True)
    assert "Organisations and consent" in body and "Wording version" in body and "Quoted without name" in body
    assert messages.CONSENT_VERSION in body and "sms" in body
    wording = messages.text("en", "consent_ask", org=org.name)
    assert wording.replace("'", "&#39;") in body or wording in body
    assert "The wording of version 2025-01.0 is not kept." in body
    assert f"/console/participants/{contact_id}/data.json" in body and f"/console/participants/{contact_id}/data.txt" in body


def test_download_their_data_as_json_and_text(app, sqlite_db, people, clock):
    contact_id = people["ids"]["participant"]
    address = people["secrets"][1]
    staff = _as(app, sqlite_db, "staff", clock)
    got = staff.get(f"/console/participants/{contact_id}/data.json")
    pseudonym = sqlite_db.pseudonym(contact_id)
    assert got.status_code == 200 and got.headers["Cache-Control"] == "no-store"
    assert got.headers["Content-Disposition"] == f'attachment; filename="{pseudonym}.json"'
    data = json.loads(got.get_data(as_text=True))
    assert data["person"]["address"] == address and any(a["your_words"] == RIVER_WORDS for a in data["answers"])
    text = staff.get(f"/console/participants/{contact_id}/data.txt")
    assert text.status_code == 200 and text.mimetype == "text/plain"
    assert text.headers["Content-Disposition"] == f'attachment; filename="{pseudonym}.txt"'
    assert RIVER_WORDS in text.get_data(as_text=True)
    with sqlite_db.session() as s:
        entries = s.scalars(select(m.AuditEntry).where(m.AuditEntry.action == "participant.export")).all()
    assert len(entries) == 2 and all(e.object_id == str(contact_id) for e in entries)
    assert all(address not in e.detail and RIVER_WORDS not in e.detail for e in entries)
    for who in ("other_org_staff", "governance", "safeguarding"):
        refused = _as(app, sqlite_db, who, clock).get(f"/console/participants/{contact_id}/data.json")
        assert refused.status_code == 403 and RIVER_WORDS not in refused.get_data(as_text=True)
    assert staff.get("/console/participants/999999/data.json").status_code == 404


def test_someone_enrolled_elsewhere_too_gets_their_copy_from_an_admin(app, sqlite_db, people, clock):
    contact_id = people["ids"]["participant"]
    with sqlite_db.session() as s:
        e = s.scalars(select(m.Enrolment).where(m.Enrolment.contact_id == contact_id)).one()
        other = s.scalars(select(m.Organisation.id).where(m.Organisation.id != e.organisation_id)).first()
        s.add(m.Enrolment(contact_id=contact_id, organisation_id=other, consent_status="pending", source="staff",
                          tags=[], created_at=e.created_at))
    staff = _as(app, sqlite_db, "staff", clock)
    page = staff.get(f"/console/participants/{contact_id}").get_data(as_text=True)
    assert "enrolled in other organisations too" in page and "data.json" not in page
    refused = staff.get(f"/console/participants/{contact_id}/data.txt")
    assert refused.status_code == 403 and "ask a backbone admin" in refused.get_data(as_text=True)
    assert _as(app, sqlite_db, "admin", clock).get(f"/console/participants/{contact_id}/data.txt").status_code == 200
