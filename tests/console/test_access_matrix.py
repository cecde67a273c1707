"""Every console route, as every persona: the status each gets is the one tests/console/access_table.py
says. A route in app.url_map without a row fails, and so does a row for a route that is gone."""
from __future__ import annotations

import re

import pytest

from tests.console.access_table import ACCESS, ALLOWED, HOME, PERSONAS, SIGN_IN, URL_VALUES
from tests.console.conftest import csrf_token, sign_in_as

SKIP_METHODS = {"HEAD", "OPTIONS"}


def console_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "console.static":
            continue
        if rule.rule == "/" or rule.rule.startswith("/console"):
            routes |= {(method, rule.rule) for method in rule.methods - SKIP_METHODS}
    return routes


def test_every_console_route_has_a_row_and_every_row_a_route(app):
    routes = console_routes(app)
    assert routes, "no console routes found"
    missing = sorted(routes - set(ACCESS))
    stale = sorted(set(ACCESS) - routes)
    assert not missing, f"routes without a row in tests/console/access_table.py: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def fill(rule: str, ids: dict) -> str:
    def value(match):
        name = match.group(2)
        assert name in URL_VALUES, f"say in URL_VALUES which object <{name}> names"
        return str(ids[URL_VALUES[name]])
    return re.sub(r"<(?:(\w+):)?(\w+)>", value, rule)


def check(response, expected, where):
    status, location = response.status_code, response.headers.get("Location", "")
    assert status < 500, f"{where}: server error {status}"
    if expected == SIGN_IN:
        assert status in (302, 303) and location.split("?")[0].endswith("/console/sign-in"), f"{where}: {status} {location}"
    elif expected == HOME:
        assert status in (302, 303) and location.split("?")[0].endswith("/console/"), f"{where}: {status} {location}"
    elif expected == ALLOWED:
        assert status != 403, f"{where}: forbidden"
        assert not (status in (302, 303) and "/console/sign-in" in location), f"{where}: sent to sign-in"
    else:
        assert status == expected, f"{where}: {status} {location}, expected {expected}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_access_matrix(app, sqlite_db, people, clock, persona):
    rows = sorted(ACCESS.items(), key=lambda item: item[0][0] == "POST")   # GETs first, then the changes
    for (method, rule), expected in rows:
        client = app.test_client()
        if persona != "signed_out":
            sign_in_as(client, sqlite_db, persona, clock())
        url = fill(rule, people["ids"])
        if method == "GET":
            response = client.get(url)
        else:
            token = csrf_token(client, "/console/" if persona != "signed_out" else "/console/sign-in")
            response = client.post(url, data={"csrf_token": token})
        check(response, expected[persona], f"{persona} {method} {url}")
        if persona in NO_ROWS and method == "GET":
            for fragment in (False, True):       # the page, and the fragment htmx asks for
                body = (client.get(url, headers={"HX-Request": "true"}) if fragment else response).get_data(as_text=True)
                leaked = [s for s in people["secrets"] if s in body]
                assert not leaked, f"{persona} {method} {url}{' (fragment)' if fragment else ''} shows {leaked}"


# Who must never see a raw answer or a contact detail of river (the organisation the objects belong to).
NO_ROWS = ("governance", "other_org_staff", "signed_out")
