"""The send preview in a real browser (see test_browser.py for the set-up): from the waves page, preview a
send, check it with axe, send it with the preview's button, and find on the wave page exactly the counts the
preview gave: invited, every reason someone was left out, and what quiet hours hold."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from surveys import admin
from surveys import models as m
from tests.console.test_browser import browser, check_page, page, server, sign_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_preview_a_send_then_the_wave_has_its_counts(page, server, sqlite_db):  # noqa: F811
    now = datetime.now(timezone.utc)
    admin.add_participant(sqlite_db, "sms", "+447700900881", "youth", now, source="join")     # not consented
    stopped = admin.add_participant(sqlite_db, "sms", "+447700900882", "river", now)
    with sqlite_db.write() as conn:
        conn.execute(m.Contact.__table__.update().where(m.Contact.__table__.c.id == stopped).values(opted_out_at=now))
    sign_in(page, server, "admin")
    page.wait_for_url("**/console/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Waves").click()
    page.get_by_label("Survey").select_option("pantry")
    page.get_by_role("button", name="Preview the send").click()
    page.wait_for_selector("#reach")
    check_page(page, "wave-preview")
    reached = int(page.locator("#reach .n").inner_text())
    left_out = page.locator("ul.left-out li").all_inner_texts()
    holds = page.locator("ul.holds li").all_inner_texts()
    assert reached > 0 and len(left_out) == 2, left_out
    assert any(t.startswith("opted out (STOP): 1") for t in left_out) and any("not consented" in t for t in left_out)

    page.get_by_role("button", name=f"Send now to {reached} people").click()
    page.wait_for_selector("text=people invited")
    check_page(page, "wave-from-preview")
    invited = page.locator("tr", has=page.locator("th", has_text="Invited")).locator("td").inner_text()
    assert int(invited) == reached
    assert page.locator("ul.left-out li").all_inner_texts() == left_out
    wave_holds = [t for t in page.locator("main li").all_inner_texts() if "quiet hours of" in t]
    assert wave_holds == holds
