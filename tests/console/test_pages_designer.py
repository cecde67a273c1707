"""The Surveys pages (the designer) over the real operations (SQLite, the app's test client): check as you type
(nothing saved), save an invalid draft (kept), publish (refused with the problems, then a new version), compare
versions, download a version that loads back, import a file, duplicate, and who may do what. Access for every
route and role is in test_access_matrix.py; HTML in a survey's texts shows escaped."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from surveys import models as m
from surveys.loader import load_survey_text
from tests.console.conftest import csrf_token, sign_in_as

URL = "/console/surveys/river-visit"


def _as(app, db, who, clock):
    client = app.test_client()
    sign_in_as(client, db, who, clock())
    return client


def _versions(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(m.SurveyVersion)
                            .where(m.SurveyVersion.survey_id == "river-visit")).scalar_one()


def _draft(db) -> str | None:
    with db.read() as conn:
        return conn.execute(select(m.SurveyDraft.yaml_text).where(m.SurveyDraft.survey_id == "river-visit")).scalar()


def _editor_text(page: str) -> str:
    import html

    return html.unescape(re.search(r'<textarea id="yaml"[^>]*>(.*?)</textarea>', page, re.S).group(1))


def test_check_as_you_type_saves_nothing_and_says_what_validate_says(app, sqlite_db, people, clock):
    staff = _as(app, sqlite_db, "staff", clock)
    token = csrf_token(staff, URL)
    before = _draft(sqlite_db)
    broken = before.replace("type: scale", "type: scael")
    fragment = staff.post(f"{URL}/check", data={"yaml": broken}, headers={"X-CSRFToken": token})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body                       # a fragment for htmx
    assert "river-visit.yaml: questions[0].type: " in body and "did you mean &#39;scale&#39;?" in body
    assert _draft(sqlite_db) == before
    assert staff.post(f"{URL}/check", data={"yaml": broken}).status_code == 400      # no CSRF token: refused


def test_an_invalid_draft_is_kept_and_publishing_it_is_refused_with_its_problems(app, sqlite_db, people, clock):
    staff = _as(app, sqlite_db, "staff", clock)
    token = csrf_token(staff, URL)
    text = _draft(sqlite_db).replace("type: text", "type: txet").replace("After your visit", "<script>alert(1)</script>")
    saved = staff.post(f"{URL}/draft", data={"yaml": text, "csrf_token": token}, follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert "Draft saved. It has 1 problem(s)" in page
    assert _draft(sqlite_db) == text and _editor_text(page) == text                 # kept exactly as written
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page      # escaped
    published = staff.post(f"{URL}/publish", data={"csrf_token": token}, follow_redirects=True)
    assert "The draft cannot be published" in published.get_data(as_text=True) and _versions(sqlite_db) == 1


def test_save_and_publish_makes_version_two_and_the_versions_compare(app, sqlite_db, people, clock):
    staff = _as(app, sqlite_db, "staff", clock)
    token = csrf_token(staff, URL)
    text = _draft(sqlite_db).replace("What is one thing", "Tell us one thing")
    done = staff.post(f"{URL}/publish", data={"yaml": text, "csrf_token": token}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Published river-visit as version 2" in page and _versions(sqlite_db) == 2 and _draft(sqlite_db) is None
    assert "Staff" in page                                                            # who published it
    diff = staff.get(f"{URL}/diff?from=1&to=2").get_data(as_text=True)
    assert "How was your visit" in diff and "How is your visit" in diff and "Tell us one thing" in diff
    assert "They are the same" in staff.get(f"{URL}/diff?from=2&to=2").get_data(as_text=True)
    assert staff.get(f"{URL}/diff?from=x&to=2").status_code == 400
    download = staff.get(f"{URL}/versions/2.yaml")
    assert download.headers["Content-Disposition"] == 'attachment; filename="river-visit-v2.yaml"'
    assert load_survey_text(download.get_data(as_text=True), "x.yaml").questions[1].prompt["en"].startswith("Tell us")
    assert staff.get(f"{URL}/versions/9.yaml").status_code == 404


def test_import_and_duplicate_make_drafts_that_reach_nobody(app, sqlite_db, people, clock):
    admin = _as(app, sqlite_db, "admin", clock)
    token = csrf_token(admin, "/console/surveys")
    from io import BytesIO

    from tests.digest_data import PANTRY
    text = PANTRY.read_text().replace("id: pantry", "id: pantry-two")
    made = admin.post("/console/surveys/import", data={"csrf_token": token, "organisation": "",
                                                       "file": (BytesIO(text.encode()), "p.yaml")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert "Imported as the draft of pantry-two." in made.get_data(as_text=True)
    bad = admin.post("/console/surveys/import", data={"csrf_token": token, "file": (BytesIO(b"\xff\xfe"), "p.yaml")},
                     content_type="multipart/form-data")
    assert bad.status_code == 400 and "not UTF-8" in bad.get_data(as_text=True)
    staff = _as(app, sqlite_db, "staff", clock)
    token = csrf_token(staff, "/console/surveys")
    assert staff.get("/console/surveys/pantry-two").status_code == 200              # the partnership's: read ...
    refused = staff.post("/console/surveys/pantry-two/draft", data={"yaml": text, "csrf_token": token})
    assert refused.status_code == 403                                                 # ... not edit
    copy = staff.post("/console/surveys/pantry-two/duplicate", data={"new_id": "river-pantry", "organisation": "river",
                                                                      "csrf_token": token}, follow_redirects=True)
    assert "Draft river-pantry made from pantry-two" in copy.get_data(as_text=True)
    with sqlite_db.read() as conn:
        assert conn.execute(select(func.count()).select_from(m.Survey)
                            .where(m.Survey.id.in_(("pantry-two", "river-pantry")))).scalar_one() == 0
    listed = _as(app, sqlite_db, "other_org_staff", clock).get("/console/surveys").get_data(as_text=True)
    assert "river-visit" not in listed and "river-pantry" not in listed and "pantry-two" in listed


def test_a_new_survey_with_a_bad_id_says_so_and_keeps_what_was_typed(app, sqlite_db, people, clock):
    staff = _as(app, sqlite_db, "staff", clock)
    token = csrf_token(staff, "/console/surveys")
    page = staff.post("/console/surveys/new", data={"id": "Bad Id", "title": "My survey", "organisation": "river",
                                                   "csrf_token": token})
    body = page.get_data(as_text=True)
    assert page.status_code == 400 and "Survey id &#39;Bad Id&#39;: use lower-case letters" in body
    assert 'value="My survey"' in body
    taken = staff.post("/console/surveys/new", data={"id": "river-visit", "title": "x", "organisation": "river",
                                                    "csrf_token": token})
    assert "already a survey" in taken.get_data(as_text=True)


def test_the_saved_draft_is_tried_in_the_simulator_before_publishing(app, sqlite_db, people, clock):
    staff = _as(app, sqlite_db, "staff", clock)
    page = staff.get(URL).get_data(as_text=True)
    assert f"{URL}/simulate?draft=1" in page                                     # the designer links to it
    tried = staff.get(f"{URL}/simulate?draft=1").get_data(as_text=True)
    assert "the draft, not yet published" in tried and "How is your visit" in tried   # the draft's words, not v1's
    token = csrf_token(staff, URL)
    step = staff.post(f"{URL}/simulate", data={"csrf_token": token, "draft": "1", "channel": "sms",
                                                "organisation": "river", "language": "en", "inputs": "[]", "text": "4"})
    assert step.status_code == 200 and "How is your visit" in step.get_data(as_text=True)
    staff.post(f"{URL}/draft", data={"yaml": "id: river-visit\ntitle: [", "csrf_token": token})
    broken = staff.get(f"{URL}/simulate?draft=1", follow_redirects=True).get_data(as_text=True)
    assert "The draft has problems: fix them in the designer" in broken
    assert _versions(sqlite_db) == 1                                              # nothing was published
