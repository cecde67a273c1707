"""axe-core on every console page each persona may open: every GET row of tests/console/access_table.py
whose expected answer is 200 for that persona, in a real browser (see test_browser.py). A route added to the
table is checked here without another line. Downloads (a file, not a page) are left out by their content type. A digest's printable page is served
sandboxed (CSP `sandbox`, no script: console.security.PRINTABLE_CSP), where axe's injected script cannot run;
it is checked again in a context that bypasses the page's CSP, the only way to run axe on it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from surveys import signin
from tests.console.access_table import ACCESS, OK, PERSONAS
from tests.console.conftest import PASSWORD
from tests.console.test_access_matrix import fill
from tests.console.test_browser import browser, check_page, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SIGNED_IN = [p for p in PERSONAS if p != "signed_out"]


def pages_for(persona: str) -> list[str]:
    return sorted(rule for (method, rule), expected in ACCESS.items()
                  if method == "GET" and expected[persona] == OK)


def test_every_persona_has_pages_to_check():
    assert all(pages_for(p) for p in PERSONAS)
    assert len({rule for p in PERSONAS for rule in pages_for(p)}) >= 20


def check_sandboxed(browser, signed_in, url: str, name: str) -> None:  # noqa: F811
    open_context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    try:
        open_context.add_cookies(signed_in.cookies())
        tab = open_context.new_page()
        assert tab.goto(url, wait_until="domcontentloaded").status == 200
        check_page(tab, name)
    finally:
        open_context.close()


@pytest.mark.parametrize("persona", PERSONAS)
def test_axe_on_every_page_the_persona_may_open(browser, server, sqlite_db, people, now, persona):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        if persona != "signed_out":
            started = signin.sign_in(sqlite_db, persona, PASSWORD, datetime.now(timezone.utc), ip="127.0.0.1")
            context.add_cookies([{"name": "chorus_session", "value": started.token, "url": server}])
        tab = context.new_page()
        checked = []
        for rule in pages_for(persona):
            url = fill(rule, people["ids"])
            fetched = context.request.get(server + url, max_redirects=0)      # a download is not a page to open
            assert fetched.status == 200, f"{persona} {url}: {fetched.status}"
            if not fetched.headers.get("content-type", "").startswith("text/html"):
                continue
            response = tab.goto(server + url, wait_until="domcontentloaded")
            assert response.status == 200, f"{persona} {url}: {response.status} at {tab.url}"
            name = f"every-{persona}-{rule.strip('/').replace('/', '_').replace('<', '').replace('>', '')}"
            if "sandbox" in response.headers.get("content-security-policy", ""):
                check_sandboxed(browser, context, server + url, name)
                checked.append(url)
                continue
            check_page(tab, f"every-{persona}-{rule.strip('/').replace('/', '_').replace('<', '').replace('>', '')}")
            checked.append(url)
        assert checked, f"{persona}: no page checked"
    finally:
        context.close()
