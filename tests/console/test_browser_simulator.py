"""The survey simulator in a real browser (see test_browser.py for the set-up): organisation staff take the
service-experience survey (branching, English and Spanish) to the end on the simulated SMS screen and in the
simulated Telegram chat, with a branch, a re-prompt, SKIP and LANGUAGE, seeing each stored answer, its sentiment
and a safeguarding flag; then the simulator's answers are nowhere in the real responses, flags or digest.
axe checks every page visited; screenshots go to the screenshot folder."""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.app import create_app
from config.wiring import make_tagger
from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_file
from surveys.store import Store
from tests.console.conftest import PASSWORD
from tests.console.test_browser import browser, check_page, page, sign_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SERVICE = Path(__file__).resolve().parents[2] / "surveys" / "examples" / "service.yaml"
SMS_WORDS = "simulator-only words: the queue was far too long"
TG_WORDS = "simulator-only words: kind volunteers"


@pytest.fixture
def live(sqlite_db, people):
    """A live server on the test's database, its store with the tagger the service runs with."""
    from werkzeug.serving import make_server

    store = Store(sqlite_db.settings, sql_engine=sqlite_db.sql_engine, tagger=make_tagger(sqlite_db.settings))
    admin.load_survey(store, load_survey_file(SERVICE), datetime.now(timezone.utc))
    httpd = make_server("127.0.0.1", 0, create_app(store.settings, store), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", store
    httpd.shutdown()
    thread.join(timeout=5)


def counts(store) -> dict:
    with store.read() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in m.Base.metadata.sorted_tables if t.name not in ("console_session", "audit_entry")}


def last_service(tab) -> str:
    return tab.locator("[data-testid=service] [data-testid=text]").last.inner_text()


def send(tab, text: str, expect: str) -> None:
    """Type as the participant and send (htmx swaps the screen); wait for the reply that starts with `expect`."""
    tab.get_by_label("Message as the participant").fill(text)
    tab.get_by_role("button", name="Send", exact=True).click()
    tab.wait_for_function(
        "([said, expect]) => { const p = [...document.querySelectorAll('[data-testid=person]')].pop();"
        " const s = [...document.querySelectorAll('[data-testid=service] [data-testid=text]')].pop();"
        " return p && p.innerText.endsWith(said) && s && s.innerText.startsWith(expect); }",
        arg=[text, expect])


def press(tab, label: str, expect: str) -> None:
    # The latest message that has this button (after a re-prompt, the question's own buttons are still live).
    button = tab.get_by_role("button", name=label, exact=True)
    tab.locator("[data-testid=service]", has=button).last.get_by_role("button", name=label, exact=True).click()
    tab.wait_for_function(
        "expect => [...document.querySelectorAll('[data-testid=service] [data-testid=text]')].pop()"
        ".innerText.startsWith(expect)", arg=expect)


def test_both_channels_to_the_end_and_nothing_reaches_real_responses(page, live):  # noqa: F811
    server, store = live
    before = counts(store)
    sign_in(page, server, "staff")
    page.wait_for_url("**/console/")
    page.goto(server + "/console/surveys/service-experience/simulate")
    check_page(page, "simulator-sms")
    assert last_service(page).startswith("How likely are you to recommend Riverside Food Bank")
    assert "segment" in page.locator("[data-testid=segments]").first.inner_text()

    # SMS: a re-prompt, the low-score branch, words that raise a flag, LANGUAGE, SKIP, to the end in Spanish.
    send(page, "eleven", "Please reply with a number from 0")
    send(page, "3", "Thanks for being honest. What could we do better?")
    send(page, SMS_WORDS + ". I want to kill myself", "How did you first hear about us?\n1. Friend or family")
    step = page.locator("[data-testid=step]").last
    assert SMS_WORDS in step.inner_text() and "negative" in step.inner_text()
    assert "Flag: suicide (lexicon)" in step.inner_text()
    send(page, "LANGUAGE", "Which language would you like?")
    send(page, "2", "¿Cómo nos conociste?")
    send(page, "SKIP", "¿Te ayudamos con lo que necesitabas?")
    send(page, "sí", "Gracias por tu tiempo.")
    assert "Conversation completed." in page.get_by_test_id("sim-status").inner_text()
    check_page(page, "simulator-sms-done")

    # Telegram: buttons, the high-score branch, /language by button, SKIP, a yes/no button to the end.
    page.locator("summary").click()
    page.get_by_label("Telegram").check()
    page.get_by_role("button", name="Start again with these settings").click()
    page.wait_for_selector("text=Telegram chat")
    check_page(page, "simulator-telegram")
    send(page, "twelve", "Please reply with a number from 0")
    press(page, "9", "That's lovely to hear! What did we do well?")
    assert page.locator("[data-testid=service] [data-testid=text]").nth(1).inner_text().endswith("\n\n✓ 9")
    send(page, TG_WORDS, "How did you first hear about us?")
    send(page, "/language", "Which language would you like?")
    press(page, "Español", "De acuerdo")
    send(page, "SALTAR", "¿Te ayudamos con lo que necesitabas?")
    press(page, "Sí", "Gracias por tu tiempo.")
    assert "Conversation completed." in page.get_by_test_id("sim-status").inner_text()
    assert "kind volunteers" in page.locator("[data-testid=steps]").inner_text()
    check_page(page, "simulator-telegram-done")

    # Nothing real: no row anywhere, and neither the responses nor the digest preview shows the words.
    assert counts(store) == before
    page.goto(server + "/console/responses")
    assert "simulator-only" not in page.content()
    page.goto(server + "/console/flags")
    assert "simulator-only" not in page.content()
    page.goto(server + "/console/digests/preview")
    assert "simulator-only" not in page.content()


def test_works_without_javascript(browser, live):  # noqa: F811
    server, _ = live
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    try:
        tab.goto(server + "/console/sign-in")         # (test_browser.sign_in runs axe, which needs JavaScript)
        tab.get_by_label("Username").fill("admin")
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_url("**/console/")
        tab.goto(server + "/console/surveys/service-experience/simulate?channel=telegram&language=es")
        tab.locator("[data-testid=service]").last.get_by_role("button", name="3", exact=True).click()
        assert "Gracias por tu sinceridad" in tab.locator("[data-testid=chat]").inner_text()
        tab.get_by_label("Message as the participant").fill("HELP")
        tab.get_by_role("button", name="Send", exact=True).click()
        assert tab.locator("[data-testid=person]").last.inner_text().endswith("HELP")
    finally:
        context.close()
