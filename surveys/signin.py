"""Signing in to the console: the password check with throttling, and server-side sessions.

Throttling (ASVS 2.2.1) lives in the database, so it holds across gunicorn workers: failures are counted per
account and per address; past a free allowance each further failure locks that key for twice as long as the
last (30 s, 1 min, 2 min, ... at most 15 min), and a quiet hour forgets them. Unknown usernames are counted
like real ones and take as long to refuse, so neither the answer nor its timing says which accounts exist.

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256, with the user, the
stage ('two_factor' between the password and the second factor, then 'full'), when it started and when it
was last seen. It ends after 30 idle minutes, 8 hours in all, at sign-out, or at once when the account is
disabled or its password reset (revoked_at), in every worker.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys import audit
from surveys import models as m
from surveys.accounts import StaffAccount, account_of, hash_password, password_matches, password_needs_rehash
from surveys.store import Store

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=8)
TOUCH_EVERY = timedelta(seconds=60)       # last_seen_at is written at most once a minute per session
FREE_FAILURES = {"account": 5, "address": 50}
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)
_DUMMY_HASH: list[str] = []


class SignInError(Exception):
    """Sign-in refused. The message is safe to show (it never says whether the account exists);
    `retry_after` is set (seconds) when the account or address is locked for now."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


WRONG = "Wrong username or password."


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


# ---- throttling ------------------------------------------------------------------------------------
def throttle_keys(username: str, ip: str | None) -> list[tuple[str, str]]:
    keys = [("account", _key("account", (username or "").strip().casefold()[:200]))]
    if ip:
        keys.append(("address", _key("address", ip)))
    return keys


def locked_for(s: Session, keys: list[tuple[str, str]], now: datetime) -> int:
    """Seconds until every key is free again (0: free now)."""
    rows = s.scalars(select(m.SignInThrottle).where(m.SignInThrottle.key_hash.in_([k for _, k in keys]))).all()
    waits = [(r.locked_until - now).total_seconds() for r in rows if r.locked_until and r.locked_until > now]
    return int(max(waits) + 0.999) if waits else 0


def record_failure(s: Session, keys: list[tuple[str, str]], now: datetime) -> None:
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    for kind, key in keys:
        # Insert-or-nothing, then lock the row: two workers counting the same key at once both count.
        s.execute(insert(m.SignInThrottle).values(key_hash=key, kind=kind, failures=0, last_failure_at=now)
                  .on_conflict_do_nothing())
        row = s.get(m.SignInThrottle, key, with_for_update=True, populate_existing=True)
        if now - row.last_failure_at > FORGET_AFTER:
            row.failures, row.locked_until = 0, None
        row.failures += 1
        row.last_failure_at = now
        excess = row.failures - FREE_FAILURES[kind]
        if excess >= 0:
            row.locked_until = now + min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** min(excess, 20)))
        s.flush()


def clear_failures(s: Session, keys: list[tuple[str, str]]) -> None:
    for _kind, key in keys:
        row = s.get(m.SignInThrottle, key)
        if row is not None:
            s.delete(row)


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = (seconds + 59) // 60
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def refuse_if_locked(s: Session, keys, now: datetime) -> None:
    wait = locked_for(s, keys, now)
    if wait:
        raise SignInError(f"Too many failed attempts: try again in {_wait_words(wait)}.", retry_after=wait)


# ---- signing in ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignedIn:
    """A live session: who it is (with their scope), its stage and ids. `token` is set only when the session
    was just made or rotated (then the caller puts it in the cookie)."""
    session_id: int
    stage: str                 # 'full' | 'two_factor'
    account: StaffAccount
    created_at: datetime
    enrol_secret: str | None = None
    token: str | None = None

    @property
    def scope(self):
        return self.account.scope()

    @property
    def complete(self) -> bool:
        return self.stage == "full"


def sign_in(db: Store, username: str, password: str, now: datetime, *, ip: str | None = None,
            user_agent: str | None = None, two_factor_required: bool | None = None) -> SignedIn:
    """Check the password (throttled per account and address) and start a session: 'full', or 'two_factor'
    when the account has TOTP or the console requires it for everyone. Raises SignInError."""
    from surveys.twofactor import require_two_factor

    keys = throttle_keys(username, ip)
    name = (username or "").strip().casefold()
    with db.session() as s:
        refuse_if_locked(s, keys, now)
        user = s.scalar(select(m.StaffUser).where(m.StaffUser.username == name)) if name else None
        if user is None:
            if not _DUMMY_HASH:
                _DUMMY_HASH.append(hash_password(secrets.token_hex(8)))
            password_matches(_DUMMY_HASH[0], password or "")   # the same time as a real check
            ok = False
        else:
            ok = password_matches(user.password_hash, password or "")
    if not ok or user.disabled_at is not None:
        with db.session() as s:
            record_failure(s, keys, now)
            audit.record(s, now, user.username if user else "(unknown account)", "sign_in.failed",
                         user_id=user.id if user else None, object_type="user" if user else None,
                         object_id=user.id if user else None, source=ip,
                         detail="account disabled" if ok else ("wrong password" if user else "no such account"))
        # A disabled account gets the same answer as a wrong password: nothing to learn from trying.
        raise SignInError(WRONG)
    if two_factor_required is None:
        two_factor_required = require_two_factor(db)
    with db.session() as s:
        user = s.get(m.StaffUser, user.id)
        if password_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        clear_failures(s, keys[:1])
        stage = "two_factor" if (user.totp_secret or two_factor_required) else "full"
        token = secrets.token_urlsafe(32)
        row = m.ConsoleSession(token_hash=_token_hash(token), user_id=user.id, stage=stage, created_at=now,
                               last_seen_at=now, ip=(ip or None) and ip[:64], user_agent=(user_agent or "")[:300] or None)
        s.add(row)
        s.flush()
        audit.record(s, now, user.username, "sign_in" if stage == "full" else "sign_in.password", user_id=user.id,
                     object_type="session", object_id=row.id, source=ip)
        return SignedIn(row.id, stage, account_of(s, user.id), now, None, token)


@dataclass(frozen=True)
class SessionCheck:
    signed_in: SignedIn | None
    ended: str | None = None   # why a session the browser still had is over (to tell the person)


def load_session(db: Store, token: str | None, now: datetime) -> SessionCheck:
    """The session behind a cookie, if it is still good; touches last_seen_at (at most once a minute)."""
    if not token or len(token) > 200:
        return SessionCheck(None)
    with db.session() as s:
        row = s.scalar(select(m.ConsoleSession).where(m.ConsoleSession.token_hash == _token_hash(token)))
        if row is None:
            return SessionCheck(None)
        user = s.get(m.StaffUser, row.user_id)
        ended = None
        if user is None or user.disabled_at is not None:
            ended = "This account is disabled."
        elif row.revoked_at is not None:
            return SessionCheck(None, "You were signed out.")
        elif now - row.last_seen_at > IDLE_TIMEOUT:
            ended = "You were signed out after 30 minutes without activity. Sign in again."
        elif now - row.created_at > ABSOLUTE_TIMEOUT:
            ended = "You were signed out after 8 hours. Sign in again."
        if ended:
            row.revoked_at = row.revoked_at or now
            return SessionCheck(None, ended)
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
        return SessionCheck(SignedIn(row.id, row.stage, account_of(s, user.id), row.created_at, row.totp_enrol_secret))


def rotate(s: Session, row: m.ConsoleSession, now: datetime, stage: str) -> str:
    """A new token for the session (a raised privilege gets a new identifier: ASVS 3.2.1)."""
    token = secrets.token_urlsafe(32)
    row.token_hash, row.stage, row.last_seen_at, row.totp_enrol_secret = _token_hash(token), stage, now, None
    return token


def sign_out(db: Store, token: str | None, now: datetime, *, ip: str | None = None) -> bool:
    """End the session behind the cookie (revoked in the database: the cookie is worthless from now on)."""
    if not token:
        return False
    with db.session() as s:
        row = s.scalar(select(m.ConsoleSession).where(m.ConsoleSession.token_hash == _token_hash(token)))
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = now
        user = s.get(m.StaffUser, row.user_id)
        audit.record(s, now, user.username if user else "?", "sign_out", user_id=row.user_id, object_type="session",
                     object_id=row.id, source=ip)
        return True


def open_sessions(db: Store, user_id: int) -> int:
    with db.session() as s:
        return len(s.scalars(select(m.ConsoleSession.id).where(m.ConsoleSession.user_id == user_id,
                                                                m.ConsoleSession.revoked_at.is_(None))).all())


def revoke_session(s: Session, session_id: int, now: datetime) -> None:
    s.execute(update(m.ConsoleSession).where(m.ConsoleSession.id == session_id).values(revoked_at=now))
