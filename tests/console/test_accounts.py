"""Staff accounts, sign-in, sessions, throttling, two-factor and the audit log: the core operations the
console and `chorus users` stand on, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from surveys import accounts, audit, signin, twofactor
from surveys.accounts import AccountError
from surveys.admin import add_organisation
from surveys.scope import Forbidden, Scope
from surveys.signin import SignInError

OP = Scope.operator()


@pytest.fixture
def orgs(db, now):
    add_organisation(db, "Riverside Food Bank", "river", now)
    add_organisation(db, "Youth Drop-in", "youth", now)
    return db


def new_password(db, username, now, password="a long enough passphrase"):
    """Give the account a password of its own (as its owner would at first sign-in)."""
    made = accounts.reset_password(db, OP, username, now)
    accounts.change_password(db, made.account.id, made.password, password, now)
    return password


def test_add_user_hashes_with_argon2id_and_shows_the_password_once(orgs, now):
    made = accounts.add_user(orgs, OP, "Alice", "Alice <b>A</b>", "staff", ["river"], now, email="a@example.org")
    assert made.account.username == "alice" and made.account.organisation_codes == ("river",)
    assert made.account.must_change_password and len(made.password) == 23
    from sqlalchemy import select

    from surveys import models as m
    with orgs.session() as s:
        stored = s.scalar(select(m.StaffUser.password_hash))
    assert stored.startswith("$argon2id$") and made.password not in stored
    assert accounts.password_matches(stored, made.password)
    entry = audit.list_entries(orgs, OP)[0]
    assert (entry.action, entry.object_id, entry.source) == ("user.add", str(made.account.id), "command line")


@pytest.mark.parametrize("args, field, words", [
    (("bob smith", "staff", ["river"]), "username", "use 1-64 of"),
    (("bob", "boss", ["river"]), "role", "one of admin, staff, safeguarding, governance"),
    (("bob", "staff", []), "organisations", "covers at least one organisation"),
    (("bob", "admin", ["river"]), "organisations", "an admin covers every organisation"),
    (("bob", "staff", ["rivr"]), "organisations", "did you mean: river"),
])
def test_add_user_mistakes_say_what_to_do(orgs, now, args, field, words):
    username, role, codes = args
    with pytest.raises(AccountError) as err:
        accounts.add_user(orgs, OP, username, "Bob", role, codes, now)
    assert err.value.field == field and words in str(err.value)


def test_usernames_are_unique_whatever_their_case(orgs, now):
    accounts.add_user(orgs, OP, "carol", "Carol", "governance", [], now)
    with pytest.raises(AccountError, match="already a user 'carol'.*chorus users reset carol"):
        accounts.add_user(orgs, OP, "CAROL", "Carol again", "governance", [], now)


def test_only_an_admin_manages_users(orgs, now):
    staff = Scope("staff", frozenset({1}), 5, "sam")
    with pytest.raises(Forbidden):
        accounts.add_user(orgs, staff, "eve", "Eve", "admin", [], now)
    with pytest.raises(Forbidden):
        accounts.list_users(orgs, staff)
    with pytest.raises(Forbidden):
        audit.list_entries(orgs, staff)


def test_sign_in_starts_a_session_and_sign_out_ends_it(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password = new_password(orgs, "alice", now)
    started = signin.sign_in(orgs, "ALICE", password, now, ip="10.0.0.1", user_agent="test")
    assert started.stage == "full" and started.token and started.scope.role == "staff"
    check = signin.load_session(orgs, started.token, now + timedelta(minutes=1))
    assert check.signed_in.account.username == "alice"
    assert signin.sign_out(orgs, started.token, now + timedelta(minutes=2))
    check = signin.load_session(orgs, started.token, now + timedelta(minutes=3))
    assert check.signed_in is None and check.ended == "You were signed out."
    actions = [e.action for e in audit.list_entries(orgs, OP)]
    assert actions[:2] == ["sign_out", "sign_in"]


def test_wrong_password_and_unknown_account_get_the_same_answer(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    answers = []
    for name in ("alice", "nobody"):
        with pytest.raises(SignInError) as err:
            signin.sign_in(orgs, name, "not the password", now, ip="10.0.0.1")
        answers.append(str(err.value))
    assert answers == [signin.WRONG, signin.WRONG]
    failed = [e for e in audit.list_entries(orgs, OP) if e.action == "sign_in.failed"]
    assert {e.actor for e in failed} == {"alice", "(unknown account)"}
    assert all("not the password" not in (e.detail or "") for e in failed)


def test_idle_and_absolute_timeouts(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password = new_password(orgs, "alice", now)
    idle = signin.sign_in(orgs, "alice", password, now)
    assert signin.load_session(orgs, idle.token, now + timedelta(minutes=29)).signed_in
    ended = signin.load_session(orgs, idle.token, now + timedelta(minutes=29 + 31))
    assert ended.signed_in is None and "30 minutes without activity" in ended.ended

    busy = signin.sign_in(orgs, "alice", password, now)
    t = now
    while t < now + timedelta(hours=7, minutes=50):          # active all day, never idle
        t += timedelta(minutes=20)
        assert signin.load_session(orgs, busy.token, t).signed_in, t
    ended = signin.load_session(orgs, busy.token, now + timedelta(hours=8, minutes=1))
    assert ended.signed_in is None and "after 8 hours" in ended.ended


def test_disabling_ends_open_sessions_at_once_and_enabling_does_not_revive_them(orgs, now):
    accounts.add_user(orgs, OP, "admin", "Admin", "admin", [], now)
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password = new_password(orgs, "alice", now)
    started = signin.sign_in(orgs, "alice", password, now)
    accounts.set_disabled(orgs, OP, "alice", True, now)
    assert signin.load_session(orgs, started.token, now).signed_in is None
    with pytest.raises(SignInError):
        signin.sign_in(orgs, "alice", password, now)
    accounts.set_disabled(orgs, OP, "alice", False, now)
    assert signin.load_session(orgs, started.token, now).signed_in is None
    assert signin.sign_in(orgs, "alice", password, now).token


def test_the_last_admin_and_yourself_cannot_be_disabled(orgs, now):
    made = accounts.add_user(orgs, OP, "root", "Root", "admin", [], now)
    with pytest.raises(AccountError, match="last active admin"):
        accounts.set_disabled(orgs, OP, "root", True, now)
    with pytest.raises(AccountError, match="last active admin"):
        accounts.set_role(orgs, OP, "root", "staff", ["river"], now)
    accounts.add_user(orgs, OP, "second", "Second", "admin", [], now)
    with pytest.raises(AccountError, match="your own account"):
        accounts.set_disabled(orgs, made.account.scope(), "root", True, now)


def test_reset_password_ends_sessions_and_must_be_changed(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password = new_password(orgs, "alice", now)
    started = signin.sign_in(orgs, "alice", password, now)
    reset = accounts.reset_password(orgs, OP, "alice", now)
    assert signin.load_session(orgs, started.token, now).signed_in is None
    again = signin.sign_in(orgs, "alice", reset.password, now)
    assert again.account.must_change_password
    with pytest.raises(AccountError, match="at least 12 characters") as err:
        accounts.change_password(orgs, again.account.id, reset.password, "short", now)
    assert err.value.field == "new_password"
    with pytest.raises(AccountError, match="current password is not right"):
        accounts.change_password(orgs, again.account.id, "wrong", "another long passphrase", now)
    changed = accounts.change_password(orgs, again.account.id, reset.password, "another long passphrase", now,
                                       keep_session_id=again.session_id)
    assert not changed.must_change_password
    assert signin.load_session(orgs, again.token, now).signed_in        # the session that changed it stays


def test_set_role_changes_the_scope_on_the_next_request_and_is_audited(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password = new_password(orgs, "alice", now)
    started = signin.sign_in(orgs, "alice", password, now)
    accounts.set_role(orgs, OP, "alice", "safeguarding", ["river", "youth"], now)
    scope = signin.load_session(orgs, started.token, now).signed_in.scope
    assert scope.role == "safeguarding" and len(scope.organisation_ids) == 2
    entry = audit.list_entries(orgs, OP, action="user.role")[0]
    assert entry.detail == "alice: staff (river) -> safeguarding (river, youth)"


def test_throttling_backs_off_per_account(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password = new_password(orgs, "alice", now)
    for i in range(signin.FREE_FAILURES["account"]):
        with pytest.raises(SignInError) as err:
            signin.sign_in(orgs, "alice", "guess", now + timedelta(seconds=i), ip=f"10.0.0.{i}")
        assert err.value.retry_after is None
    t = now + timedelta(seconds=5)
    with pytest.raises(SignInError) as err:           # locked: even the right password is refused
        signin.sign_in(orgs, "alice", password, t, ip="10.9.9.9")
    assert err.value.retry_after and 0 < err.value.retry_after <= 30 and "try again in" in str(err.value)
    t += timedelta(seconds=31)
    with pytest.raises(SignInError):                  # one more wrong guess: the lock doubles
        signin.sign_in(orgs, "alice", "guess", t, ip="10.9.9.9")
    with pytest.raises(SignInError) as err:
        signin.sign_in(orgs, "alice", password, t + timedelta(seconds=1), ip="10.9.9.9")
    assert 30 < err.value.retry_after <= 60
    assert signin.sign_in(orgs, "alice", password, t + timedelta(seconds=61), ip="10.9.9.9").token
    # success clears the account's count: the next wrong guess is not locked at once
    with pytest.raises(SignInError) as err:
        signin.sign_in(orgs, "alice", "guess", t + timedelta(seconds=62), ip="10.9.9.8")
    assert err.value.retry_after is None


def test_throttling_per_address_covers_many_accounts(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password = new_password(orgs, "alice", now)
    for i in range(signin.FREE_FAILURES["address"]):
        with pytest.raises(SignInError):
            signin.sign_in(orgs, f"user{i}", "guess", now, ip="203.0.113.7")
    with pytest.raises(SignInError, match="Too many failed attempts"):
        signin.sign_in(orgs, "alice", password, now, ip="203.0.113.7")
    assert signin.sign_in(orgs, "alice", password, now, ip="203.0.113.8").token


def enrol(db, now, username="alice"):
    password = new_password(db, username, now)
    started = signin.sign_in(db, username, password, now)
    enrolment = twofactor.start_enrolment(db, started.session_id)
    assert enrolment.uri.startswith("otpauth://totp/Chorus:" + username)
    done = twofactor.confirm_enrolment(db, started.session_id, pyotp.TOTP(enrolment.secret).at(now), now)
    assert len(done.recovery_codes) == 10 and done.token is None
    return password, enrolment.secret, done.recovery_codes


def test_totp_sign_in_and_a_replayed_code_is_refused(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password, secret, _codes = enrol(orgs, now)
    later = now + timedelta(minutes=5)
    first = signin.sign_in(orgs, "alice", password, later)
    assert first.stage == "two_factor"
    assert signin.load_session(orgs, first.token, later).signed_in.complete is False
    code = pyotp.TOTP(secret).at(later)
    done = twofactor.verify_second_factor(orgs, signin.load_session(orgs, first.token, later).signed_in, code, later)
    assert done.token != first.token
    assert signin.load_session(orgs, first.token, later).signed_in is None      # the old token is gone
    assert signin.load_session(orgs, done.token, later).signed_in.complete
    second = signin.sign_in(orgs, "alice", password, later + timedelta(seconds=10))
    pending = signin.load_session(orgs, second.token, later).signed_in
    with pytest.raises(SignInError, match="already used"):
        twofactor.verify_second_factor(orgs, pending, code, later + timedelta(seconds=10))
    with pytest.raises(SignInError, match="not right"):
        twofactor.verify_second_factor(orgs, pending, "000000" if code != "000000" else "111111", later)


def test_recovery_codes_work_once(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password, _secret, codes = enrol(orgs, now)
    assert twofactor.recovery_codes_left(orgs, accounts.find_user(orgs, OP, "alice").id) == 10
    for attempt, expect_ok in ((codes[0].upper().replace("-", " "), True), (codes[0], False)):
        started = signin.sign_in(orgs, "alice", password, now)
        pending = signin.load_session(orgs, started.token, now).signed_in
        if expect_ok:
            assert twofactor.verify_second_factor(orgs, pending, attempt, now).token
        else:
            with pytest.raises(SignInError):
                twofactor.verify_second_factor(orgs, pending, attempt, now)
    assert twofactor.recovery_codes_left(orgs, accounts.find_user(orgs, OP, "alice").id) == 9


def test_requiring_two_factor_sends_everyone_through_the_second_step(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password = new_password(orgs, "alice", now)
    twofactor.set_require_two_factor(orgs, OP, True, now)
    assert twofactor.require_two_factor(orgs)
    started = signin.sign_in(orgs, "alice", password, now)
    assert started.stage == "two_factor" and not started.account.two_factor
    secret = twofactor.start_enrolment(orgs, started.session_id).secret
    with pytest.raises(AccountError, match="not right"):
        twofactor.confirm_enrolment(orgs, started.session_id, "12345x", now)
    done = twofactor.confirm_enrolment(orgs, started.session_id, pyotp.TOTP(secret).at(now), now)
    assert done.token and signin.load_session(orgs, done.token, now).signed_in.complete
    with pytest.raises(AccountError, match="required for everyone"):
        twofactor.remove_two_factor(orgs, started.account.id, password, now)
    assert [e.action for e in audit.list_entries(orgs, OP, action="two_factor")] == ["two_factor.enrol"]
    assert audit.list_entries(orgs, OP, action="setting")[0].detail == "on"


def test_an_admin_resets_a_lost_second_factor(orgs, now):
    accounts.add_user(orgs, OP, "alice", "Alice", "staff", ["river"], now)
    password, _secret, _codes = enrol(orgs, now)
    account = twofactor.reset_two_factor(orgs, OP, "alice", now)
    assert not account.two_factor
    assert signin.sign_in(orgs, "alice", password, now).stage == "full"


def test_demo_admin_is_made_once(orgs, now):
    first = accounts.ensure_demo_admin(orgs, now)
    assert first.created and first.username == "admin" and first.password
    assert signin.sign_in(orgs, "admin", first.password, now).account.must_change_password
    again = accounts.ensure_demo_admin(orgs, now)
    assert not again.created and again.password is None
