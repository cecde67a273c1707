"""The dashboard, responses and digests pages in a real browser (see test_browser.py for the set-up): an
answer sent through the local channel appears on the dashboard after its refresh and in responses; a label
is corrected in place; the filtered rows are exported; a digest is previewed and sent to its recipients.
axe checks every page visited; screenshots go to the screenshot folder."""
from __future__ import annotations

import csv
import dataclasses
import io
import threading
from datetime import datetime, timezone

import pytest

from analysis import responses as rs
from config.app import create_app
from local.inbound import turn
from surveys import admin
from surveys.scope import Scope
from surveys.store import Store
from tests.console.test_browser import browser, check_page, page, sign_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
ME = "+447700900777"
WORDS = "the lift was broken again"
RECIPIENTS = ("board@example.org", "chair@example.org")


@pytest.fixture
def live(sqlite_db, people):
    """A live server whose settings name digest recipients, on the test's database."""
    from werkzeug.serving import make_server

    settings = dataclasses.replace(sqlite_db.settings, digest_recipients=RECIPIENTS)
    store = Store(settings, sql_engine=sqlite_db.sql_engine)
    admin.add_organisation(store, "Lakeside Pantry", "lake", datetime.now(timezone.utc), welcome_survey="pantry")
    httpd = make_server("127.0.0.1", 0, create_app(settings, store), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", store
    httpd.shutdown()
    thread.join(timeout=5)


def answer_through_the_local_channel(store) -> list[str]:
    said = []
    for text in ("JOIN lake", "YES", "YES", "2", WORDS):
        said += [f"> {text}"] + turn(store, ME, text, datetime.now(timezone.utc))
    return said


def test_an_answer_appears_on_the_dashboard_and_in_responses_then_label_and_export(page, live):  # noqa: F811
    server, store = live
    sign_in(page, server, "admin")
    page.wait_for_url("**/console/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    check_page(page, "dashboard")
    before = page.locator("#glance").inner_text()
    said = answer_through_the_local_channel(store)
    page.evaluate("htmx.trigger('#glance', 'refresh')")         # what the 30-second timer does
    page.wait_for_function("before => document.querySelector('#glance').innerText !== before", arg=before)
    lake = page.locator("#glance tr", has_text="Lakeside Pantry").inner_text()
    assert "withheld: fewer than 5 people" in lake, "\n".join(said)      # its 2 answers: a small number
    check_page(page, "dashboard-refreshed")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Responses").click()
    page.get_by_label("Organisation").select_option("lake")
    page.get_by_role("button", name="Show").click()
    row = page.locator("tr", has_text=WORDS)
    assert row.count() == 1, said
    check_page(page, "responses")
    # correct its label in place (htmx swaps the row)
    row.get_by_label("Sentiment of answer").select_option("positive")
    row.get_by_role("button", name="Correct").click()
    page.wait_for_selector("text=sentiment set to positive")
    assert page.locator("tr", has_text=WORDS).locator(".sentiment").inner_text() == "positive"
    check_page(page, "responses-corrected")
    # export exactly the filtered rows
    with page.expect_download() as got:
        page.get_by_role("button", name="Export").click()
    rows = list(csv.reader(io.StringIO(open(got.value.path(), encoding="utf-8").read())))
    f = rs.ResponseFilter("pantry", org="lake")
    assert len(rows) - 1 == len(rs.export_ids(store, Scope.operator(), f, datetime.now(timezone.utc))) >= 2
    assert any(WORDS in cell for r in rows for cell in r)


def test_preview_and_send_a_digest(page, live):  # noqa: F811
    server, store = live
    sign_in(page, server, "admin")
    page.wait_for_url("**/console/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Digests").click()
    frame = page.frame_locator("iframe.digest-preview")
    frame.locator("body").wait_for()
    assert frame.locator("body").inner_text().strip()
    check_page(page, "digests")
    assert "Goes to: board@example.org, chair@example.org" in page.content()
    page.get_by_role("link", name="Send the digest of").click()
    assert page.locator("ul.recipients li").all_inner_texts() == list(RECIPIENTS)
    check_page(page, "digest-send")
    page.get_by_role("button", name="Send now").click()
    page.wait_for_selector("text=Queued")
    assert page.locator("ul.recipients li").all_inner_texts() == list(RECIPIENTS)
    check_page(page, "digest-sent")
