"""The console in a real browser: Playwright for Python driving Debian's chromium (no browser download), on
a live server (werkzeug in a thread, SQLite in the test's folder). axe-core checks every page visited and
fails on a serious or critical violation; screenshots go to CHORUS_SCREENSHOT_DIR (default
/tmp/chorus-screens), outside the repository.

Select these with `-m browser`. Without chromium they skip with the reason, except under CI=true, where they
fail (.ci/run and `make test` install Debian's chromium when it is missing).
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pyotp
import pytest

from config.app import create_app
from surveys import accounts, twofactor
from tests.console.conftest import OP, PASSWORD

pytestmark = pytest.mark.browser
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("CHORUS_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("CHORUS_SCREENSHOT_DIR", "/tmp/chorus-screens"))


@pytest.fixture(scope="module")
def browser():
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        reason = f"no chromium at {CHROMIUM} or on PATH (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason + ": under CI=true the browser tests must run", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def server(sqlite_db, people):
    from werkzeug.serving import make_server

    app = create_app(sqlite_db.settings, sqlite_db)          # the real clock: the browser lives in real time
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})   # a phone
    tab = context.new_page()
    errors = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def check_page(page, name: str) -> None:
    """axe-core on the page as it is; a screenshot for a person to look at."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {bad}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, server, username, password=PASSWORD):
    page.goto(server + "/")
    assert page.url.endswith("/console/sign-in")
    check_page(page, "sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_keyboard_reaches_the_sign_in_fields_and_button(page, server):
    page.goto(server + "/console/sign-in")
    def tab(key="Tab"):
        page.keyboard.press(key)
        return page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")

    page.get_by_role("heading", name="Sign in").click()   # start from the heading, not the autofocused field
    assert [tab(), tab(), tab()] == ["username", "password", "Sign in"]
    assert [tab("Shift+Tab"), tab("Shift+Tab"), tab("Shift+Tab"), tab("Shift+Tab")] == \
        ["password", "username", "Chorus console", "Skip to content"]
    page.locator("#username").focus()
    page.keyboard.type("staff")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/")


def test_sign_in_without_two_factor_then_sign_out(page, server):
    sign_in(page, server, "admin")
    page.wait_for_url("**/console/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Admin"
    check_page(page, "home-admin")
    for link, name in (("Users", "users"), ("Audit log", "audit"), ("Settings", "settings")):
        page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()
        check_page(page, name)
    page.goto(server + "/console/users/new")
    check_page(page, "user-new")
    page.get_by_role("button", name="Add user").click()
    assert page.locator(".error").count() >= 1
    check_page(page, "user-new-errors")
    page.goto(server + "/console/account/password")
    check_page(page, "change-password")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/sign-in")
    assert "You are signed out." in page.content()
    page.goto(server + "/console/users")
    assert "/console/sign-in" in page.url


def test_sign_in_with_two_factor(page, server, sqlite_db, now):
    # staff sets up an app from their account page, then signs in with a code from it
    sign_in(page, server, "staff")
    page.wait_for_url("**/console/")
    page.get_by_role("link", name="Two-factor sign-in and recovery codes").click()
    check_page(page, "two-factor-setup")
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    assert page.locator("ul.codes li").count() == 10
    check_page(page, "recovery-codes")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, server, "staff")
    page.wait_for_url("**/console/sign-in/two-factor**")
    check_page(page, "two-factor-code")
    # the code used at set-up is spent: wait for the next step if the clock has not moved on
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Sign in").click()
    if "already used" in page.content():
        assert page.locator("#code-error").is_visible()
        page.wait_for_timeout(1000 * (30 - int(time.time()) % 30) + 500)
        page.get_by_label("Code").fill(totp.now())
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")
    assert "Two-factor sign-in" in page.content() and "On" in page.locator(".facts").inner_text()


def test_required_two_factor_enrols_at_sign_in(page, server, sqlite_db, now):
    twofactor.set_require_two_factor(sqlite_db, OP, True, now)
    accounts.add_user(sqlite_db, OP, "newbie", "New <b>Person</b>", "governance", [], now)
    made = accounts.reset_password(sqlite_db, OP, "newbie", now)
    sign_in(page, server, "newbie", made.password)
    page.wait_for_url("**/console/sign-in/two-factor**")
    check_page(page, "two-factor-enrol")
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Set up and sign in").click()
    assert page.locator("ul.codes li").count() == 10
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url("**/console/account/password")       # a one-time password is changed first
    check_page(page, "must-change-password")
    page.get_by_label("Current password").fill(made.password)
    page.get_by_label("New password", exact=True).fill("a passphrase of my own")
    page.get_by_label("New password again").fill("a passphrase of my own")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url("**/console/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, New <b>Person</b>"
    check_page(page, "home-governance")
