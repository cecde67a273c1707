"""The console over HTTP (Flask's test client, SQLite): sign-in, sessions, CSRF, headers, escaping."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pyotp

from config.app import create_app
from surveys import accounts, audit, twofactor
from tests.console.conftest import OP, PASSWORD, csrf_token, sign_in_as

ROOT = Path(__file__).resolve().parents[2]


def post_sign_in(client, username, password, **extra):
    return client.post("/console/sign-in" + extra.pop("query", ""),
                       data={"csrf_token": csrf_token(client), "username": username, "password": password, **extra})


def cookie_header(response) -> str:
    (cookie,) = [v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("chorus_session=")]
    return cookie


def test_root_leads_to_sign_in_and_sign_in_to_home(app, people):
    client = app.test_client()
    assert client.get("/").headers["Location"] == "/console/sign-in"
    assert client.get("/console/").headers["Location"].startswith("/console/sign-in?next=/console/")
    response = post_sign_in(client, "Staff", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/console/"
    cookie = cookie_header(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    home = client.get("/console/").get_data(as_text=True)
    assert "Hello, Staff" in home and "Organisation staff" in home and "river" in home
    assert "/console/users" not in home            # no link to a page the role may not open
    assert client.get("/").headers["Location"] == "/console/"


def test_the_session_is_on_the_server_not_in_flasks_cookie(app, people, sqlite_db, clock):
    client = app.test_client()
    response = post_sign_in(client, "staff", PASSWORD)
    token = cookie_header(response).split(";")[0].split("=", 1)[1]
    flask_cookie = client.get_cookie("chorus_csrf")
    assert token not in (flask_cookie.value if flask_cookie else "")
    from surveys import models as m
    with sqlite_db.session() as s:
        stored = [row.token_hash for row in s.query(m.ConsoleSession)]
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored


def test_sign_out_ends_the_session_on_the_server(app, people, sqlite_db, clock):
    client = app.test_client()
    started = sign_in_as(client, sqlite_db, "staff", clock())
    assert client.get("/console/").status_code == 200
    response = client.post("/console/sign-out", data={"csrf_token": csrf_token(client, "/console/")})
    assert response.headers["Location"] == "/console/sign-in"
    thief = app.test_client()                      # a copy of the old cookie is worth nothing now
    thief.set_cookie("chorus_session", started.token)
    assert thief.get("/console/").status_code == 302
    assert audit.list_entries(sqlite_db, OP)[0].action == "sign_out"


def test_a_form_without_its_csrf_token_is_refused(app, people, sqlite_db, clock):
    client = app.test_client()
    refused = client.post("/console/sign-in", data={"username": "staff", "password": PASSWORD})
    assert refused.status_code == 400 and "did not come from this site" in refused.get_data(as_text=True)
    sign_in_as(client, sqlite_db, "admin", clock())
    staff_id = people["accounts"]["staff"].id
    assert client.post(f"/console/users/{staff_id}/disable").status_code == 400
    assert client.post(f"/console/users/{staff_id}/disable", data={"csrf_token": "forged"}).status_code == 400
    assert accounts.get_user(sqlite_db, OP, staff_id).active
    # htmx sends the token as a header (console.js reads the meta tag)
    token = csrf_token(client, "/console/")
    sent = client.post(f"/console/users/{staff_id}/disable", headers={"X-CSRFToken": token})
    assert sent.status_code == 302 and not accounts.get_user(sqlite_db, OP, staff_id).active


def test_a_disabled_users_open_session_stops_on_its_next_request(app, people, sqlite_db, clock):
    client = app.test_client()
    sign_in_as(client, sqlite_db, "staff", clock())
    assert client.get("/console/").status_code == 200
    accounts.set_disabled(sqlite_db, OP, "staff", True, clock())
    response = client.get("/console/")
    assert response.status_code == 302 and "/console/sign-in" in response.headers["Location"]
    assert "This account is disabled." in client.get("/console/sign-in").get_data(as_text=True)


def test_idle_and_absolute_timeouts(app, people, sqlite_db, clock):
    client = app.test_client()
    sign_in_as(client, sqlite_db, "staff", clock())
    clock.advance(minutes=29)
    assert client.get("/console/").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/console/").status_code == 302
    assert "30 minutes without activity" in client.get("/console/sign-in").get_data(as_text=True)

    client = app.test_client()
    sign_in_as(client, sqlite_db, "staff", clock())
    for _ in range(25):                            # busy past 8 hours, a request every 20 minutes
        clock.advance(minutes=20)
        response = client.get("/console/")
    assert response.status_code == 302
    assert "after 8 hours" in client.get("/console/sign-in").get_data(as_text=True)


def test_sign_in_throttling_backs_off(app, people, clock):
    client = app.test_client()
    for _ in range(5):
        page = post_sign_in(client, "staff", "wrong guess")
        assert page.status_code == 200 and "Wrong username or password." in page.get_data(as_text=True)
    locked = post_sign_in(client, "staff", PASSWORD)
    assert locked.status_code == 429 and 0 < int(locked.headers["Retry-After"]) <= 30
    assert "Too many failed attempts: try again in" in locked.get_data(as_text=True)
    clock.advance(seconds=31)
    assert post_sign_in(client, "staff", "wrong again").status_code == 200
    clock.advance(seconds=31)                      # the lock doubled to a minute
    assert post_sign_in(client, "staff", PASSWORD).status_code == 429
    clock.advance(seconds=30)
    assert post_sign_in(client, "staff", PASSWORD).status_code == 302


def test_two_factor_enrolment_sign_in_and_a_replayed_code(app, people, sqlite_db, clock):
    twofactor.set_require_two_factor(sqlite_db, OP, True, clock())
    client = app.test_client()
    response = post_sign_in(client, "staff", PASSWORD)
    assert response.headers["Location"].startswith("/console/sign-in/two-factor")
    assert client.get("/console/").headers["Location"].startswith("/console/sign-in/two-factor")
    page = client.get("/console/sign-in/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    assert 'src="data:image/svg+xml' in page
    code = pyotp.TOTP(secret).at(clock())
    done = client.post("/console/sign-in/two-factor", data={"csrf_token": csrf_token(client, "/console/sign-in/two-factor"),
                                                           "code": code})
    codes = re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/console/").status_code == 200

    clock.advance(seconds=5)
    again = app.test_client()
    post_sign_in(again, "staff", PASSWORD)
    token = csrf_token(again, "/console/sign-in/two-factor")
    replay = again.post("/console/sign-in/two-factor", data={"csrf_token": token, "code": code})
    assert "That code was already used" in replay.get_data(as_text=True)
    assert again.get("/console/").status_code == 302
    clock.advance(seconds=30)
    fresh = again.post("/console/sign-in/two-factor", data={"csrf_token": token, "code": pyotp.TOTP(secret).at(clock())})
    assert fresh.status_code == 302 and again.get("/console/").status_code == 200
    recovery = app.test_client()
    post_sign_in(recovery, "staff", PASSWORD)
    token = csrf_token(recovery, "/console/sign-in/two-factor")
    assert recovery.post("/console/sign-in/two-factor", data={"csrf_token": token, "code": codes[0]}).status_code == 302
    second = app.test_client()
    post_sign_in(second, "staff", PASSWORD)
    token = csrf_token(second, "/console/sign-in/two-factor")
    used = second.post("/console/sign-in/two-factor", data={"csrf_token": token, "code": codes[0]})
    assert used.status_code == 200 and "not right" in used.get_data(as_text=True)


def test_security_headers_on_console_pages(app, people):
    client = app.test_client()
    for path in ("/console/sign-in", "/"):
        h = client.get(path).headers
        assert h["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self'; style-src 'self'")
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"] and "base-uri 'none'" in h["Content-Security-Policy"]
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
        assert h["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in h
    page = client.get("/console/sign-in").get_data(as_text=True)
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline script"


def test_over_https_cookies_are_secure_and_hsts_is_sent(sqlite_db, people, clock):
    settings = sqlite_db.settings.with_overrides(public_base_url="https://chorus.example.org")
    app = create_app(settings, sqlite_db, clock=clock)
    client = app.test_client()
    h = client.get("/console/sign-in", base_url="https://chorus.example.org").headers
    assert h["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in h["Set-Cookie"]
    response = client.post("/console/sign-in", base_url="https://chorus.example.org",
                           headers={"Referer": "https://chorus.example.org/console/sign-in"},
                           data={"csrf_token": csrf_token_https(client), "username": "staff", "password": PASSWORD})
    (cookie,) = [v for k, v in response.headers.items() if k == "Set-Cookie" and "chorus_session=" in v]
    assert cookie.startswith("__Host-chorus_session=") and "Secure" in cookie and "HttpOnly" in cookie


def csrf_token_https(client):
    page = client.get("/console/sign-in", base_url="https://chorus.example.org").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_html_in_a_name_is_shown_escaped(app, people, sqlite_db, clock):
    accounts.add_user(sqlite_db, OP, "mallory", "<script>alert(1)</script>", "governance", [], clock())
    client = app.test_client()
    sign_in_as(client, sqlite_db, "admin", clock())
    page = client.get("/console/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    mallory = accounts.find_user(sqlite_db, OP, "mallory")
    page = client.get(f"/console/users/{mallory.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_one_time_password_must_be_changed_first(app, people, sqlite_db, clock):
    made = accounts.reset_password(sqlite_db, OP, "staff", clock())
    client = app.test_client()
    post_sign_in(client, "staff", made.password)
    assert client.get("/console/").headers["Location"] == "/console/account/password"
    token = csrf_token(client, "/console/account/password")
    short = client.post("/console/account/password", data={"csrf_token": token, "current_password": made.password,
                                                           "new_password": "short", "confirm": "short"})
    page = short.get_data(as_text=True)
    assert 'id="new_password-error"' in page and "at least 12 characters" in page
    assert 'aria-describedby="new_password-hint new_password-error"' in page
    ok = client.post("/console/account/password", data={"csrf_token": token, "current_password": made.password,
                                                        "new_password": "a brand new passphrase",
                                                        "confirm": "a brand new passphrase"})
    assert ok.headers["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_next_only_leads_inside_the_console(app, people):
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/healthz"):
        response = post_sign_in(app.test_client(), "staff", PASSWORD, query=f"?next={evil}")
        assert response.headers["Location"] == "/console/", evil
    response = post_sign_in(app.test_client(), "staff", PASSWORD, query="?next=/console/account/password")
    assert response.headers["Location"] == "/console/account/password"


def test_admin_pages_add_a_user_and_audit_it(app, people, sqlite_db, clock):
    client = app.test_client()
    sign_in_as(client, sqlite_db, "admin", clock())
    token = csrf_token(client, "/console/users/new")
    bad = client.post("/console/users/new", data={"csrf_token": token, "username": "dora", "role": "staff"})
    assert "covers at least one organisation" in bad.get_data(as_text=True)
    assert 'id="organisations-error"' in bad.get_data(as_text=True)
    made = client.post("/console/users/new", data={"csrf_token": token, "username": "dora", "display_name": "Dora",
                                                  "role": "safeguarding", "organisations": ["river", "youth"]})
    password = re.search(r'<p class="secret-box"><code>([^<]+)</code>', made.get_data(as_text=True)).group(1)
    dora = accounts.find_user(sqlite_db, OP, "dora")
    assert dora.organisation_codes == ("river", "youth") and accounts.password_matches
    log = client.get("/console/audit?action=user").get_data(as_text=True)
    assert "user.add" in log and "dora as safeguarding for river, youth" in log and password not in log
    settings = client.post("/console/settings", data={"csrf_token": token, "require_two_factor": "y"})
    assert settings.status_code == 302 and twofactor.require_two_factor(sqlite_db)


def test_governance_gets_a_plain_403_on_admin_pages(app, people, sqlite_db, clock):
    client = app.test_client()
    sign_in_as(client, sqlite_db, "governance", clock())
    response = client.get("/console/users")
    assert response.status_code == 403 and "Not allowed" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"]


def test_htmx_is_the_pinned_file():
    data = (ROOT / "console" / "static" / "htmx-2.0.4.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == "e209dda5c8235479f3166defc7750e1dbcd5a5c1808b7792fc2e6733768fb447"
    assert "e209dda5c8235479f3166defc7750e1dbcd5a5c1808b7792fc2e6733768fb447" in \
        (ROOT / "console" / "static" / "README.md").read_text()


def test_behind_a_trusted_proxy_the_client_address_is_read_from_its_headers(sqlite_db, people, clock):
    """CHORUS_TRUSTED_PROXIES: behind one proxy the audit log (and throttling per address) sees the client,
    not the proxy; without it, a forwarded header anyone can send is ignored."""
    import dataclasses


    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        settings = dataclasses.replace(sqlite_db.settings, trusted_proxies=proxies)
        client = create_app(settings, sqlite_db, clock=clock).test_client()
        token = csrf_token(client)
        response = client.post("/console/sign-in", headers=forwarded,
                               data={"csrf_token": token, "username": "staff", "password": PASSWORD})
        assert response.status_code == 302
        newest = audit.list_entries(sqlite_db, OP, limit=1)[0]
        assert newest.source == expected, (proxies, newest)
