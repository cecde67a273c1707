"""Two-factor sign-in with TOTP (RFC 6238, pyotp) and single-use recovery codes, and the console setting
that requires it for everyone.

A code is accepted for the current 30-second step or one either side (clock drift), and only for a step
later than the last one accepted for that account: the same code cannot be used twice, even by two workers
at once (the step is claimed with one conditional UPDATE). Recovery codes are random (about 60 bits), shown
once, stored as SHA-256 and each used once (claimed the same way).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from surveys import audit
from surveys import models as m
from surveys.accounts import AccountError, account_of, password_matches, revoke_sessions, user_row
from surveys.scope import Scope
from surveys.signin import (SignedIn, SignInError, clear_failures, record_failure, refuse_if_locked,
                            rotate, throttle_keys)
from surveys.store import Store

ISSUER = "Chorus"
STEP = 30
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
REQUIRE_TWO_FACTOR = "require_two_factor"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str      # otpauth://totp/... for the QR code


@dataclass(frozen=True)
class SecondFactorDone:
    """The second factor was given: the session is 'full' now, under the new `token`. `recovery_codes` are
    set when this was an enrolment (show them once)."""
    token: str | None
    recovery_codes: tuple[str, ...] = ()


# ---- the setting ---------------------------------------------------------------------------------------
def require_two_factor(db: Store) -> bool:
    with db.session() as s:
        row = s.get(m.ConsoleSetting, REQUIRE_TWO_FACTOR)
        return row is not None and row.value == "true"


def set_require_two_factor(db: Store, by: Scope, on: bool, now: datetime, *, source: str | None = None) -> bool:
    by.require(by.role == "admin", "change console settings")
    with db.session() as s:
        row = s.get(m.ConsoleSetting, REQUIRE_TWO_FACTOR)
        before = row is not None and row.value == "true"
        if row is None:
            row = m.ConsoleSetting(key=REQUIRE_TWO_FACTOR, value="false", updated_at=now)
            s.add(row)
        row.value, row.updated_at, row.updated_by = ("true" if on else "false"), now, by.actor
        if before != on:
            audit.record_as(s, by, now, "setting.require_two_factor", object_type="setting",
                            object_id=REQUIRE_TWO_FACTOR, source=source, detail="on" if on else "off")
    return on


# ---- codes ---------------------------------------------------------------------------------------------
def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    for step in (_step(now) - 1, _step(now), _step(now) + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(s: Session, user_id: int, step: int) -> bool:
    """Accept `step` only if it is later than the last accepted one (a replayed code is refused)."""
    done = s.execute(update(m.StaffUser).where(m.StaffUser.id == user_id,
                                               or_(m.StaffUser.totp_last_step.is_(None), m.StaffUser.totp_last_step < step))
                     .values(totp_last_step=step))
    return done.rowcount == 1


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normal_recovery(code).encode()).hexdigest()


def _normal_recovery(code: str) -> str:
    return "".join(ch for ch in (code or "").casefold() if ch.isalnum())


def _new_recovery_codes(s: Session, user_id: int, now: datetime) -> tuple[str, ...]:
    s.execute(delete(m.StaffRecoveryCode).where(m.StaffRecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        codes.append(code)
        s.add(m.StaffRecoveryCode(user_id=user_id, code_hash=_code_hash(code), created_at=now))
    return tuple(codes)


def _use_recovery_code(s: Session, user_id: int, code: str, now: datetime) -> bool:
    if len(_normal_recovery(code)) != 12:
        return False
    done = s.execute(update(m.StaffRecoveryCode)
                     .where(m.StaffRecoveryCode.user_id == user_id, m.StaffRecoveryCode.code_hash == _code_hash(code),
                            m.StaffRecoveryCode.used_at.is_(None))
                     .values(used_at=now))
    return done.rowcount == 1


def recovery_codes_left(db: Store, user_id: int) -> int:
    with db.session() as s:
        return len(s.scalars(select(m.StaffRecoveryCode.id).where(m.StaffRecoveryCode.user_id == user_id,
                                                                   m.StaffRecoveryCode.used_at.is_(None))).all())


# ---- enrolment -----------------------------------------------------------------------------------------
def start_enrolment(db: Store, session_id: int) -> Enrolment:
    """A new secret for the account behind the session, kept with the session until a code confirms it."""
    with db.session() as s:
        row = s.get(m.ConsoleSession, session_id)
        user = s.get(m.StaffUser, row.user_id)
        if not row.totp_enrol_secret:
            row.totp_enrol_secret = pyotp.random_base32()
        secret = row.totp_enrol_secret
        return Enrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER))


def confirm_enrolment(db: Store, session_id: int, code: str, now: datetime, *, source: str | None = None) -> SecondFactorDone:
    """A code from the app proves it holds the secret: two-factor is on for the account, ten recovery codes
    are made (show them once), and a session waiting for its second factor becomes full under a new token."""
    with db.session() as s:
        row = s.get(m.ConsoleSession, session_id)
        user = s.get(m.StaffUser, row.user_id)
        keys = throttle_keys(user.username, None)
        refuse_if_locked(s, keys, now)
        secret = row.totp_enrol_secret
        if not secret:
            raise AccountError("start the set-up again: there is no code being set up", "code")
        step = _matching_step(secret, code, now)
    if step is None:
        with db.session() as s:
            record_failure(s, keys, now)
        raise AccountError("that code is not right: type the 6 digits your app shows now", "code")
    with db.session() as s:
        row = s.get(m.ConsoleSession, session_id)
        user = s.get(m.StaffUser, row.user_id)
        clear_failures(s, keys)
        user.totp_secret, user.totp_last_step = secret, step
        codes = _new_recovery_codes(s, user.id, now)
        token = rotate(s, row, now, "full") if row.stage != "full" else None
        row.totp_enrol_secret = None
        audit.record(s, now, user.username, "two_factor.enrol", user_id=user.id, object_type="user", object_id=user.id,
                     source=source)
        if token:
            audit.record(s, now, user.username, "sign_in", user_id=user.id, object_type="session", object_id=row.id,
                         source=source, detail="two-factor set up")
        return SecondFactorDone(token, codes)


def verify_second_factor(db: Store, signed_in: SignedIn, code: str, now: datetime, *,
                         source: str | None = None) -> SecondFactorDone:
    """The sign-in's second step: a TOTP code (not used before) or an unused recovery code. Failures count
    toward the account's and address's throttling. Raises SignInError."""
    keys = throttle_keys(signed_in.account.username, source)
    with db.session() as s:
        refuse_if_locked(s, keys, now)
        user = s.get(m.StaffUser, signed_in.account.id)
        if user is None or user.totp_secret is None:
            raise SignInError("This account has no two-factor app set up yet.")
        step = _matching_step(user.totp_secret, code, now)
        how = None
        if step is not None and _claim_step(s, user.id, step):
            how = "app code"
        elif step is None and _use_recovery_code(s, user.id, code, now):
            how = "recovery code"
        if how:
            clear_failures(s, keys[:1])
            row = s.get(m.ConsoleSession, signed_in.session_id)
            token = rotate(s, row, now, "full")
            audit.record(s, now, user.username, "sign_in", user_id=user.id, object_type="session", object_id=row.id,
                         source=source, detail=how)
            if how == "recovery code":
                audit.record(s, now, user.username, "two_factor.recovery_used", user_id=user.id, object_type="user",
                             object_id=user.id, source=source)
            return SecondFactorDone(token)
    with db.session() as s:
        record_failure(s, keys, now)
        audit.record(s, now, signed_in.account.username, "sign_in.failed", user_id=signed_in.account.id,
                     object_type="user", object_id=signed_in.account.id, source=source,
                     detail="code already used" if step is not None else "wrong code")
    raise SignInError("That code was already used: wait for the next one." if step is not None
                      else "That code is not right. Type the 6 digits your app shows now, or a recovery code.")


def new_recovery_codes(db: Store, user_id: int, code: str, now: datetime, *, source: str | None = None) -> tuple[str, ...]:
    """Replace the recovery codes (the old ones stop working); needs a current code from the app."""
    with db.session() as s:
        user = s.get(m.StaffUser, user_id)
        if user.totp_secret is None:
            raise AccountError("set up two-factor first")
        step = _matching_step(user.totp_secret, code, now)
        if step is None or not _claim_step(s, user.id, step):
            raise AccountError("that code is not right (or was already used): type the code your app shows now", "code")
        codes = _new_recovery_codes(s, user.id, now)
        audit.record(s, now, user.username, "two_factor.recovery_codes", user_id=user.id, object_type="user",
                     object_id=user.id, source=source)
        return codes


def remove_two_factor(db: Store, user_id: int, password: str, now: datetime, *, source: str | None = None) -> None:
    """The person turns two-factor off (with their password), unless the console requires it."""
    if require_two_factor(db):
        raise AccountError("two-factor is required for everyone here: it cannot be turned off")
    with db.session() as s:
        user = s.get(m.StaffUser, user_id)
        if not password_matches(user.password_hash, password or ""):
            raise AccountError("the password is not right", "password")
        user.totp_secret, user.totp_last_step = None, None
        s.execute(delete(m.StaffRecoveryCode).where(m.StaffRecoveryCode.user_id == user_id))
        audit.record(s, now, user.username, "two_factor.remove", user_id=user.id, object_type="user", object_id=user.id,
                     source=source)


def reset_two_factor(db: Store, by: Scope, username: str, now: datetime, *, source: str | None = None):
    """An admin clears someone's two-factor (a lost phone): their sessions end; they set it up again."""
    by.require(by.role == "admin", "manage users")
    with db.session() as s:
        user = user_row(s, username)
        user.totp_secret, user.totp_last_step = None, None
        s.execute(delete(m.StaffRecoveryCode).where(m.StaffRecoveryCode.user_id == user.id))
        revoke_sessions(s, user.id, now)
        audit.record_as(s, by, now, "two_factor.reset", object_type="user", object_id=user.id, source=source,
                        detail=user.username)
        return account_of(s, user.id)
