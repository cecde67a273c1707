"""Staff accounts for the console: add, list, reset a password, disable, enable, set role and organisations.

Used by `chorus users ...` (as the operator, `Scope.operator()`) and by the console's admin pages (as the
signed-in admin). Every change writes an audit entry in its own transaction. Passwords are hashed with
Argon2id (argon2-cffi's defaults, above OWASP's floor); a password made by Chorus (a new account, a reset)
is shown once and must be changed at the next sign-in. Disabling an account or resetting its password ends
its sessions at once.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from surveys import audit
from surveys import models as m
from surveys.admin import unknown
from surveys.scope import ROLE_LABELS, ROLES, Scope
from surveys.store import Store

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
PASSWORD_MIN, PASSWORD_MAX = 12, 128   # ASVS 2.1.1 / 2.1.2: at least 12, and long passphrases allowed
# Roles that see rows of particular organisations and so must be given at least one.
ORGANISATION_ROLES = ("staff", "safeguarding")
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off a screen and typed

_hasher = PasswordHasher()


class AccountError(ValueError):
    """A request about an account that cannot be done as asked. The message says what to do instead;
    `field` names the form field it is about (for the console), when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class StaffAccount:
    """An account as staff see it (no password hash, no TOTP secret)."""
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    organisation_ids: frozenset[int]
    organisation_codes: tuple[str, ...]
    disabled_at: datetime | None
    two_factor: bool
    must_change_password: bool
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def scope(self) -> Scope:
        return Scope(self.role, self.organisation_ids, self.id, self.username)


@dataclass(frozen=True)
class OneTimePassword:
    """A password Chorus made: show it once to the person who asked; it must be changed at first sign-in."""
    account: StaffAccount
    password: str


# ---- passwords ---------------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def make_password() -> str:
    """20 random characters from a 31-letter alphabet (about 99 bits), in groups of five."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(20))
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


def check_password_rules(password: str, username: str) -> None:
    """ASVS 2.1: length, not the username; no composition rules (they make passwords worse)."""
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"the password must have at least {PASSWORD_MIN} characters (a few words work well)",
                           "new_password")
    if len(password) > PASSWORD_MAX:
        raise AccountError(f"the password may have at most {PASSWORD_MAX} characters", "new_password")
    if username and username.casefold() in password.casefold():
        raise AccountError("the password must not contain the username", "new_password")
    if len(set(password)) < 4:
        raise AccountError("the password is too easy to guess: use more different characters", "new_password")


# ---- reading -----------------------------------------------------------------------------------------
def normalise_username(raw: str) -> str:
    name = (raw or "").strip().casefold()
    if not USERNAME_RE.match(name):
        raise AccountError(f"username {raw.strip()!r}: use 1-64 of a-z 0-9 . _ @ - (starting with a letter or digit)",
                           "username")
    return name


def _view(s: Session, user: m.StaffUser) -> StaffAccount:
    orgs = s.execute(select(m.Organisation.id, m.Organisation.code)
                     .join(m.StaffUserOrganisation, m.StaffUserOrganisation.organisation_id == m.Organisation.id)
                     .where(m.StaffUserOrganisation.user_id == user.id).order_by(m.Organisation.code)).all()
    return StaffAccount(user.id, user.username, user.display_name, user.email, user.role,
                        frozenset(o.id for o in orgs), tuple(o.code for o in orgs), user.disabled_at,
                        user.totp_secret is not None, user.must_change_password, user.created_at)


def user_row(s: Session, username: str) -> m.StaffUser:
    name = (username or "").strip().casefold()
    user = s.scalar(select(m.StaffUser).where(m.StaffUser.username == name))
    if user is None:
        raise AccountError(str(unknown("user", username.strip(), s.scalars(select(m.StaffUser.username)),
                                       "chorus users add USERNAME --role admin")), "username")
    return user


def _get(s: Session, user_id: int) -> m.StaffUser:
    user = s.get(m.StaffUser, user_id)
    if user is None:
        raise AccountError(f"no user with id {user_id}")
    return user


def list_users(db: Store, by: Scope) -> list[StaffAccount]:
    by.require(by.role == "admin", "manage users")
    with db.session() as s:
        return [_view(s, u) for u in s.scalars(select(m.StaffUser).order_by(m.StaffUser.username))]


def get_user(db: Store, by: Scope, user_id: int) -> StaffAccount:
    """One account (admins, or the person themselves)."""
    by.require(by.role == "admin" or by.user_id == user_id, "see other users' accounts")
    with db.session() as s:
        return _view(s, _get(s, user_id))


def find_user(db: Store, by: Scope, username: str) -> StaffAccount:
    by.require(by.role == "admin", "manage users")
    with db.session() as s:
        return _view(s, user_row(s, username))


def account_of(s: Session, user_id: int) -> StaffAccount | None:
    """For the sign-in code: the account behind a session, in its transaction."""
    user = s.get(m.StaffUser, user_id)
    return None if user is None else _view(s, user)


# ---- changes -----------------------------------------------------------------------------------------
def _organisations(s: Session, role: str, codes: Iterable[str]) -> list[m.Organisation]:
    codes = [c.strip() for c in codes if c and c.strip()]
    found = []
    for code in codes:
        org = s.scalar(select(m.Organisation).where(m.Organisation.code_key == code.casefold()))
        if org is None:
            raise AccountError(str(unknown("organisation with join code", code, s.scalars(select(m.Organisation.code)),
                                           "chorus orgs add NAME --code CODE")), "organisations")
        found.append(org)
    if role in ORGANISATION_ROLES and not found:
        raise AccountError(f"a {ROLE_LABELS[role].lower()} covers at least one organisation: give its join code "
                           "(--org CODE)", "organisations")
    if role == "admin" and found:
        raise AccountError("an admin covers every organisation: give no organisation", "organisations")
    return found


def _role(role: str) -> str:
    value = (role or "").strip().casefold()
    if value not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}", "role")
    return value


def _set_organisations(s: Session, user_id: int, orgs: list[m.Organisation]) -> None:
    s.execute(delete(m.StaffUserOrganisation).where(m.StaffUserOrganisation.user_id == user_id))
    for org in {o.id: o for o in orgs}.values():
        s.add(m.StaffUserOrganisation(user_id=user_id, organisation_id=org.id))


def revoke_sessions(s: Session, user_id: int, now: datetime, except_id: int | None = None) -> int:
    """End every open session of the user at once (all workers see the row)."""
    q = update(m.ConsoleSession).where(m.ConsoleSession.user_id == user_id, m.ConsoleSession.revoked_at.is_(None))
    if except_id is not None:
        q = q.where(m.ConsoleSession.id != except_id)
    return s.execute(q.values(revoked_at=now)).rowcount or 0


def add_user(db: Store, by: Scope, username: str, display_name: str, role: str, organisations: Iterable[str],
             now: datetime, *, email: str | None = None, source: str | None = None) -> OneTimePassword:
    """A new account with a one-time password (shown once, changed at first sign-in)."""
    by.require(by.role == "admin", "manage users")
    name = normalise_username(username)
    role = _role(role)
    display = (display_name or "").strip() or name
    if len(display) > 200:
        raise AccountError("the display name may have at most 200 characters", "display_name")
    email = (email or "").strip() or None
    if email and ("@" not in email or " " in email or len(email) > 254):
        raise AccountError(f"{email!r} is not an email address", "email")
    password = make_password()
    with db.session() as s:
        if s.scalar(select(m.StaffUser.id).where(m.StaffUser.username == name)) is not None:
            raise AccountError(f"there is already a user {name!r} (to give them a new password: chorus users reset "
                               f"{name})", "username")
        orgs = _organisations(s, role, organisations)
        user = m.StaffUser(username=name, display_name=display, email=email, password_hash=hash_password(password),
                           role=role, must_change_password=True, created_at=now)
        s.add(user)
        s.flush()
        _set_organisations(s, user.id, orgs)
        s.flush()
        audit.record_as(s, by, now, "user.add", object_type="user", object_id=user.id, source=source,
                        detail=f"{name} as {role}" + (f" for {', '.join(o.code for o in orgs)}" if orgs else ""))
        return OneTimePassword(_view(s, user), password)


def reset_password(db: Store, by: Scope, username: str, now: datetime, *, source: str | None = None) -> OneTimePassword:
    """A new one-time password; the account's sessions end and the password must be changed at sign-in."""
    by.require(by.role == "admin", "manage users")
    password = make_password()
    with db.session() as s:
        user = user_row(s, username)
        user.password_hash = hash_password(password)
        user.must_change_password = True
        revoke_sessions(s, user.id, now)
        audit.record_as(s, by, now, "user.reset_password", object_type="user", object_id=user.id, source=source,
                        detail=user.username)
        return OneTimePassword(_view(s, user), password)


def set_disabled(db: Store, by: Scope, username: str, disabled: bool, now: datetime, *,
                 source: str | None = None) -> StaffAccount:
    """Disable (every session ends at once) or enable an account. An admin cannot disable themselves, nor the
    last active admin (someone must be able to manage users)."""
    by.require(by.role == "admin", "manage users")
    with db.session() as s:
        user = user_row(s, username)
        if disabled:
            if by.user_id == user.id:
                raise AccountError("you cannot disable your own account (ask another admin)")
            if user.role == "admin" and user.disabled_at is None and _active_admins(s) <= 1:
                raise AccountError(f"{user.username} is the last active admin: add or enable another admin first")
            if user.disabled_at is None:
                user.disabled_at = now
            revoke_sessions(s, user.id, now)
        else:
            user.disabled_at = None
        audit.record_as(s, by, now, "user.disable" if disabled else "user.enable", object_type="user",
                        object_id=user.id, source=source, detail=user.username)
        return _view(s, user)


def _active_admins(s: Session) -> int:
    return len(s.scalars(select(m.StaffUser.id).where(m.StaffUser.role == "admin",
                                                      m.StaffUser.disabled_at.is_(None))).all())


def set_role(db: Store, by: Scope, username: str, role: str, organisations: Iterable[str], now: datetime, *,
             source: str | None = None) -> StaffAccount:
    """Change an account's role and organisations (their next request uses the new scope)."""
    by.require(by.role == "admin", "manage users")
    role = _role(role)
    with db.session() as s:
        user = user_row(s, username)
        orgs = _organisations(s, role, organisations)
        if user.role == "admin" and role != "admin" and user.disabled_at is None and _active_admins(s) <= 1:
            raise AccountError(f"{user.username} is the last active admin: make another admin first", "role")
        before = _view(s, user)
        user.role = role
        _set_organisations(s, user.id, orgs)
        s.flush()
        after = _view(s, user)
        if (before.role, before.organisation_codes) != (after.role, after.organisation_codes):
            audit.record_as(s, by, now, "user.role", object_type="user", object_id=user.id, source=source,
                            detail=f"{user.username}: {_describe(before)} -> {_describe(after)}")
        return after


def _describe(a: StaffAccount) -> str:
    return a.role + (f" ({', '.join(a.organisation_codes)})" if a.organisation_codes else "")


def change_password(db: Store, user_id: int, current: str, new: str, now: datetime, *,
                    keep_session_id: int | None = None, source: str | None = None) -> StaffAccount:
    """The person changes their own password: the current one is checked, the rules applied, and their other
    sessions end (a stolen session does not outlive a password change)."""
    with db.session() as s:
        user = _get(s, user_id)
        if not password_matches(user.password_hash, current or ""):
            raise AccountError("the current password is not right", "current_password")
        check_password_rules(new or "", user.username)
        if password_matches(user.password_hash, new):
            raise AccountError("choose a password different from the current one", "new_password")
        user.password_hash = hash_password(new)
        user.must_change_password = False
        revoke_sessions(s, user.id, now, except_id=keep_session_id)
        audit.record(s, now, user.username, "password.change", user_id=user.id, object_type="user", object_id=user.id,
                     source=source)
        return _view(s, user)


@dataclass(frozen=True)
class DemoAdmin:
    created: bool
    username: str
    password: str | None  # only when created


def ensure_demo_admin(db: Store, now: datetime, username: str = "admin") -> DemoAdmin:
    """For `make run`: when no admin account exists, make `username` an admin with a one-time password.
    When one exists, nothing changes (its password is never shown again)."""
    with db.session() as s:
        existing = s.scalar(select(m.StaffUser.username).where(m.StaffUser.role == "admin").order_by(m.StaffUser.id))
        if existing is not None:
            return DemoAdmin(False, existing, None)
    made = add_user(db, Scope.operator(), username, "Demo admin", "admin", (), now)
    return DemoAdmin(True, made.account.username, made.password)
