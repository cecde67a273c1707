"""The console by keyboard alone, in a real browser (see test_browser.py for the set-up): the skip link,
handling a flag (open it from the queue, add a note, close it) and filtering responses, with Tab, typing,
the arrow keys and Enter only: no clicks. Each control is reached by Tab from the top of its page, so a
control that cannot take focus, or a focus trap, fails the test."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from surveys import signin
from tests.console.conftest import PASSWORD
from tests.console.test_browser import browser, check_page, page, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

# What a person hears for the focused control: its label for a field, its text for a link or a button.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return '';
  if (e.labels && e.labels.length) return e.labels[0].textContent.trim();
  return (e.getAttribute('aria-label') || e.textContent || '').trim();
}"""


def signed_in(page, server, sqlite_db, username: str) -> None:  # noqa: F811
    started = signin.sign_in(sqlite_db, username, PASSWORD, datetime.now(timezone.utc), ip="127.0.0.1")
    page.context.add_cookies([{"name": "chorus_session", "value": started.token, "url": server}])


def tab_to(page, name: str, limit: int = 80) -> int:  # noqa: F811
    """Press Tab until the focused control is called `name`; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED) == name:
            return presses
    raise AssertionError(f"{name!r} is not reachable with Tab within {limit} presses on {page.url}")


def test_the_skip_link_is_first_and_moves_focus_to_the_content(page, server, sqlite_db):  # noqa: F811
    signed_in(page, server, sqlite_db, "staff")
    page.goto(server + "/console/participants")
    assert tab_to(page, "Skip to content") == 1
    page.keyboard.press("Enter")
    # following an in-page link updates the address a moment later: wait for it, do not race it
    page.wait_for_function("() => location.hash === '#main'")
    page.keyboard.press("Tab")          # the next stop is inside the content, past the navigation
    inside = page.evaluate("() => document.getElementById('main').contains(document.activeElement)")
    assert inside, page.evaluate(FOCUSED)


def test_handle_a_flag_by_keyboard_alone(page, server, sqlite_db, people):  # noqa: F811
    flag_id = people["ids"]["flag"]
    signed_in(page, server, sqlite_db, "safeguarding")
    page.goto(server + "/console/flags")
    tab_to(page, f"#{flag_id}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/console/flags/{flag_id}")

    tab_to(page, "Note")
    page.keyboard.type("Rang them; no answer yet.")
    tab_to(page, "Add note", limit=3)
    with page.expect_navigation():      # the form posts, then the flag's page comes back
        page.keyboard.press("Enter")
    assert "Rang them; no answer yet." in page.locator(".history").inner_text()

    tab_to(page, "What was done")
    page.keyboard.type("Spoke to them; support arranged.")
    tab_to(page, "Not a concern (a false alarm)", limit=3)
    page.keyboard.press("Space")        # a checkbox is ticked with the space bar
    assert page.locator("input[type=checkbox]:checked").count() == 1
    tab_to(page, "Close the flag", limit=3)
    with page.expect_navigation():      # the form posts, then the flag's page comes back
        page.keyboard.press("Enter")
    assert "(closed)" in page.get_by_role("heading", level=1).inner_text()
    assert "not a concern" in page.locator(".facts").first.inner_text()
    check_page(page, "keyboard-flag-closed")


def test_filter_responses_by_keyboard_alone(page, server, sqlite_db, people):  # noqa: F811
    signed_in(page, server, sqlite_db, "staff")
    page.goto(server + "/console/responses")
    tab_to(page, "Sentiment")
    chosen = page.evaluate("() => document.activeElement.value")
    page.keyboard.press("ArrowDown")    # a closed select changes its choice with the arrow keys
    now = page.evaluate("() => document.activeElement.value")
    assert now != chosen and now, "the arrow key did not change the sentiment filter"
    tab_to(page, "Show", limit=10)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**sentiment={now}**")
    assert page.locator("#sentiment").input_value() == now
    check_page(page, "keyboard-responses-filtered")
