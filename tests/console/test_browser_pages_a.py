"""Participants and flags in a real browser (see test_browser.py for the live server, axe and screenshots):
import a CSV with a bad row (the preview names it, nothing is written), fix it and import; and a flag raised
by a risky answer through the real service, handled from its alert link to closed."""
from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, update

from analysis.safeguarding import Safeguarding
from analysis.sentiment import SentimentTagger
from analysis.tagger import AnswerAnalysis
from surveys import flags
from surveys import models as m
from surveys.service import InboundMessage, handle_inbound
from surveys.store import Store
from tests.console.conftest import PASSWORD
from tests.console.test_browser import browser, check_page, page, server, sign_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
RISK = "honestly i dont want to be here anymore"


def _contacts(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(m.Contact)).scalar_one()


def test_import_participants_with_a_bad_row_then_fixed(page, server, sqlite_db, tmp_path):  # noqa: F811
    sign_in(page, server, "staff")
    page.wait_for_url("**/console/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Participants").click()
    check_page(page, "participants")
    page.get_by_role("link", name="Import a CSV file").click()
    check_page(page, "participants-import")
    before = _contacts(sqlite_db)
    bad = tmp_path / "people.csv"
    bad.write_text("channel,address,organisation,language,tags\n"
                   "sms,07700 900501,river,en,evening\nsms,12,river,,\nsms,07700 900502,river,,\n")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Preview the import").click()
    problems = page.get_by_role("table", name="Bad rows")
    assert problems.locator("tbody tr").count() == 1
    assert problems.locator("tbody tr").first.inner_text().split("\t")[:2] == ["3", "address"]
    assert "nothing is imported" in page.get_by_role("alert").inner_text()
    check_page(page, "participants-import-bad-row")
    assert _contacts(sqlite_db) == before                            # the preview wrote nothing

    bad.write_text("channel,address,organisation,language,tags\n"
                   "sms,07700 900501,river,en,evening\nsms,07700 900512,river,,\nsms,07700 900502,river,,\n")
    page.get_by_role("link", name="Choose the file again").click()
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Preview the import").click()
    assert "Every row is good" in page.get_by_role("status").inner_text()
    check_page(page, "participants-import-good")
    assert _contacts(sqlite_db) == before
    page.get_by_role("button", name="Import 3 rows").click()
    page.wait_for_url("**/console/participants")
    assert "Imported: 3 added" in page.content()
    table = page.get_by_role("region", name="Participants (scrolls sideways)")
    for number in ("+447700900501", "+447700900512", "+447700900502"):
        assert number in table.inner_text()
    assert _contacts(sqlite_db) == before + 3
    page.get_by_label("Tag").fill("evening")
    page.get_by_role("button", name="Search").click()
    assert "1 participant" in page.get_by_role("status").inner_text()
    check_page(page, "participants-imported")


def test_handle_a_flag_from_the_alert_link_to_closed(page, server, sqlite_db, people):  # noqa: F811
    river = people["ids"]["river"]
    with sqlite_db.write() as conn:          # river's join code starts the pantry survey (loaded by `people`)
        conn.execute(update(m.Organisation).where(m.Organisation.id == river).values(welcome_survey_id="pantry"))
    # The service as the composition root builds it (sentiment + safeguarding), on the same database, with this
    # server as the installation's public address, so the alert carries the console link.
    site = Store(dataclasses.replace(sqlite_db.settings, public_base_url=server, smtp_host="smtp.example.org"),
                 sql_engine=sqlite_db.sql_engine, tagger=AnswerAnalysis(SentimentTagger(), Safeguarding()))
    assert flags.store_safeguarding_contact(site, river, "email", "lead@river.example", datetime.now(timezone.utc))
    for i, text in enumerate(("JOIN river", "yes", "no", "5", "2", "yes", "9", RISK)):
        handle_inbound(site, InboundMessage("local", "+447700900777", f"bp{i}", text), datetime.now(timezone.utc))
    with sqlite_db.read() as conn:
        alert = conn.execute(select(m.Message.text).where(m.Message.purpose == "alert")).scalar_one()
    link = re.search(r"(http://\S+/console/flags/(\d+))", alert)
    assert link and RISK not in alert
    url, flag_id = link.group(1), link.group(2)

    page.goto(url)                                                   # signed out: sign in first
    assert "/console/sign-in" in page.url
    page.get_by_label("Username").fill("safeguarding")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/console/flags/{flag_id}")                 # ... and back on the flag
    assert page.locator("blockquote.answer-words").inner_text() == RISK
    assert "+447700900777" in page.content()
    check_page(page, "flag")
    page.get_by_label("Assign to").fill("Sam Lead")
    page.get_by_role("button", name="Assign").click()
    assert "assigned it to Sam Lead" in page.locator(".history").inner_text()
    page.get_by_label("Note", exact=True).fill("Called; left a message.")
    page.get_by_role("button", name="Add note").click()
    assert "Called; left a message." in page.locator(".history").inner_text()
    page.get_by_role("button", name="Close the flag").click()        # without a note: refused, said next to it
    assert "never closed without a note" in page.locator(".error").inner_text()
    check_page(page, "flag-close-error")
    page.get_by_label("What was done").fill("Spoke to them; support arranged.")
    page.get_by_role("button", name="Close the flag").click()
    assert "(closed)" in page.get_by_role("heading", level=1).inner_text()
    check_page(page, "flag-closed")
    page.get_by_role("link", name="All flags").click()
    page.wait_for_url("**/console/flags")
    listed = page.locator("#flag-queue tbody th a").all_inner_texts()
    assert f"#{flag_id}" not in listed and f"#{people['ids']['flag']}" in listed   # the fixture's open flags stay
    check_page(page, "flags-queue")
    page.get_by_label("Status").select_option("closed")
    page.get_by_role("button", name="Show").click()
    assert page.locator("#flag-queue tbody th a").all_inner_texts() == [f"#{flag_id}"]
