"""The console's retention page (admins): the periods in force and the last runs with their counts."""
from __future__ import annotations

from datetime import timedelta

from config.app import create_app
from surveys import accounts, retention
from surveys.store import Store
from tests.console.conftest import OP, PASSWORD, sign_in_as


def _account(db, username, role, now, orgs=()):
    account = accounts.add_user(db, OP, username, username.title(), role, list(orgs), now).account
    accounts.change_password(db, account.id, accounts.reset_password(db, OP, username, now).password, PASSWORD, now)


def test_admins_see_the_periods_and_the_last_runs(sqlite_db, clock):
    settings = sqlite_db.settings.with_overrides(retention_free_text_days=365, retention_audit_days=730)
    db = Store(settings, sql_engine=sqlite_db.sql_engine)
    app = create_app(settings, db, clock=clock)
    _account(db, "admin", "admin", clock())
    client = app.test_client()
    sign_in_as(client, db, "admin", clock())

    empty = client.get("/console/retention").get_data(as_text=True)
    assert "No runs yet." in empty and "(due now)" in empty
    assert 'href="/console/retention"' in empty                       # in the admin's navigation

    retention.run(db, clock() - timedelta(hours=1), source=retention.COMMAND_LINE)
    page = client.get("/console/retention").get_data(as_text=True)
    for text in ("365 days", "730 days", "RETENTION_FREE_TEXT_DAYS", "RETENTION_CONTACT_DAYS", "kept", "7 days",
                 "command line", "Audit entries", "03:00 Europe/London"):
        assert text in page, text
    assert "No runs yet." not in page and "(due now)" not in page


def test_other_roles_may_not_see_it(sqlite_db, clock):
    app = create_app(sqlite_db.settings, sqlite_db, clock=clock)
    _account(sqlite_db, "gov", "governance", clock())
    client = app.test_client()
    sign_in_as(client, sqlite_db, "gov", clock())
    assert client.get("/console/retention").status_code == 403
    assert 'href="/console/retention"' not in client.get("/console/").get_data(as_text=True)
