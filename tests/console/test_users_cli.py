"""`chorus users ...` as people run it (SQLite in a temporary folder): one line per mistake, no traceback."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from cli import main


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("CHORUS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("CHORUS_SECRET_KEY", "cli-test-secret-0123456789")
    assert run("db", "upgrade").exit_code == 0
    assert run("orgs", "add", "Riverside", "--code", "river").exit_code == 0


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_users_add_list_reset_disable_enable_role():
    added = run("users", "add", "Alice", "--role", "staff", "--org", "river", "--name", "Alice A")
    assert added.exit_code == 0, added.output
    assert "added alice (Organisation staff)" in added.output
    assert re.search(r"one-time password: [a-z2-9]{5}(-[a-z2-9]{5}){3}", added.output)
    assert run("users", "add", "root", "--role", "admin").exit_code == 0
    listed = run("users", "list").output
    assert re.search(r"alice\s+staff\s+active\s+river\s+\(must change password\)\s+Alice A", listed), listed
    assert re.search(r"root\s+admin\s+active\s+every organisation", listed), listed
    reset = run("users", "reset", "alice")
    assert "alice: new one-time password:" in reset.output and "sessions ended" in reset.output
    assert "alice: disabled (sessions ended)" in run("users", "disable", "alice").output
    assert "disabled" in run("users", "list").output
    assert "alice: enabled" in run("users", "enable", "alice").output
    role = run("users", "role", "alice", "--role", "governance")
    assert role.exit_code == 0 and re.search(r"alice\s+governance", role.output), role.output


@pytest.mark.parametrize("args, words", [
    (("users", "add", "bob", "--role", "staff"), "covers at least one organisation: give its join code (--org CODE)"),
    (("users", "add", "bob", "--role", "chief"), "role 'chief': one of admin, staff, safeguarding, governance"),
    (("users", "add", "bob", "--role", "staff", "--org", "rivr"), "did you mean: river"),
    (("users", "reset", "nobody"), "no user 'nobody'"),
    (("users", "disable", "nobody"), "no user 'nobody'"),
])
def test_mistakes_are_one_line(args, words):
    result = run(*args)
    assert result.exit_code == 1
    assert words in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_demo_admin_prints_a_login_once_then_how_to_reset():
    first = run("users", "demo-admin")
    assert first.exit_code == 0
    assert re.search(r"console: http://127\.0\.0\.1:8000/  sign in as admin with the one-time password \S+", first.output)
    second = run("users", "demo-admin")
    assert "admin account: admin; a new password: .venv/bin/chorus users reset admin" in second.output
    assert "one-time password" not in second.output
