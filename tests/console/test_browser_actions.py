"""Closing the loop in a real browser (see test_browser.py for the set-up): from a theme on the responses page
record an action, preview who hears back and send it, see the messages go out through the local channel (the
outbox worker, with the terminal's channel), move the action to done, and find the loop on the dashboard and in
the digest's preview; axe on every page on the way."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from local.channel import LocalChannel
from surveys.outbox import Worker
from tests.console.test_browser import browser, check_page, page, server, sign_in  # noqa: F401 (fixtures)
from tests.digest_data import Data, Person

pytestmark = pytest.mark.browser
MESSAGE = "You said the waits were too long: we now open a second queue on Tuesdays."


def test_from_a_theme_to_you_said_we_did_on_the_dashboard_and_in_the_digest(page, server, sqlite_db, people):  # noqa: F811
    now = datetime.now(timezone.utc)
    data = Data(sqlite_db, now)
    data.orgs["river"] = people["ids"]["river"]
    data.week(now - timedelta(hours=3), [Person("river", text="the waiting times were far too long", label="negative")
                                         for _ in range(6)])
    sign_in(page, server, "staff")
    page.wait_for_url("**/console/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Responses").click()
    page.get_by_role("link", name="Record an action on “waiting times”").click()
    page.wait_for_url("**/console/actions/new**")
    assert page.get_by_label("Theme (as the responses page names it, optional)").input_value() == "waiting times"
    page.get_by_label("We did (what you are doing about it)").fill("A second queue on Tuesdays")
    page.get_by_label("You said (what people told you)").fill("The waits are too long")
    page.get_by_label("Status", exact=True).select_option("in_progress")
    page.get_by_label("Message in English").fill(MESSAGE)
    check_page(page, "action-new")
    page.get_by_role("button", name="Record the action").click()
    page.wait_for_selector("text=is in the register")
    check_page(page, "action")

    page.get_by_role("link", name="Preview and tell people").click()
    page.wait_for_selector("#reach")
    check_page(page, "action-publish")
    reached = int(page.locator("#reach .n").inner_text())
    assert reached == 6
    page.get_by_role("button", name=f"Send to {reached} people").click()
    page.wait_for_selector("text=is on its way to 6 people")

    out = io.StringIO()   # the worker, a day on (quiet hours may hold some where the test runs at night)
    Worker(sqlite_db, {"local": LocalChannel(out=out)}, clock=lambda: now + timedelta(days=1)).run_once()
    assert out.getvalue().count(MESSAGE) == 6

    page.get_by_label("New status").select_option("done")
    page.get_by_label("Note (optional)").fill("runs every Tuesday from now on")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("h1:has-text(': done')")
    assert "published: 6 told" in page.locator(".history").inner_text()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    loop = page.locator("ul.loop").inner_text()
    assert "Done this week: 1 action" in loop and "A second queue on Tuesdays" in loop
    assert "that got a “you said, we did” message: 1 of" in loop
    check_page(page, "dashboard-loop")
    page.goto(server + "/console/digests/preview")
    body = page.locator("body").inner_text()
    assert "You said, we did" in body and "A second queue on Tuesdays" in body
