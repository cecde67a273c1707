"""The audit log: who did what to which object, when and from where.

Every staff operation that must be accountable (sign-in, sign-out, account changes, two-factor changes,
and the console's views of flags, exports and erasures) writes one entry in the same transaction as the
change itself, so a change without its entry cannot be committed. An entry never holds answer text, a
password, a code or a contact detail: `detail` is a short fact such as 'role staff -> admin'.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import models as m
from surveys.scope import Scope
from surveys.store import Store

# Where a change made at the server's terminal came from (the console passes the request's address).
COMMAND_LINE = "command line"


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    source: str | None
    detail: str | None


def record(s: Session, at: datetime, actor: str, action: str, *, user_id: int | None = None,
           object_type: str | None = None, object_id: object = None, source: str | None = None,
           detail: str | None = None) -> None:
    """Add an entry to the session's transaction. `action` is dotted and stable ('user.disable')."""
    s.add(m.AuditEntry(at=at, actor=actor[:100], user_id=user_id, action=action[:64], object_type=object_type,
                       object_id=None if object_id is None else str(object_id)[:64],
                       source=(source or COMMAND_LINE)[:64], detail=None if detail is None else detail[:200]))


def record_as(s: Session, scope: Scope, at: datetime, action: str, **what) -> None:
    """An entry whose actor is the scope's (a signed-in staff member, or the operator at the terminal)."""
    record(s, at, scope.actor, action, user_id=scope.user_id, **what)


def note(db: Store, scope: Scope, at: datetime, action: str, **what) -> None:
    """record_as in a transaction of its own (a console view that writes nothing else, e.g. an export)."""
    with db.session() as s:
        record_as(s, scope, at, action, **what)


def list_entries(db: Store, scope: Scope, *, limit: int = 100, before_id: int | None = None,
                 action: str | None = None) -> list[AuditRecord]:
    """The newest entries first (admins only); `before_id` pages back, `action` keeps one action or a dotted
    prefix of actions ('user' keeps user.add, user.disable, ...)."""
    scope.require(scope.role == "admin", "read the audit log")
    q = select(m.AuditEntry).order_by(m.AuditEntry.id.desc()).limit(max(1, min(limit, 1000)))
    if before_id is not None:
        q = q.where(m.AuditEntry.id < before_id)
    if action:
        q = q.where((m.AuditEntry.action == action) | m.AuditEntry.action.startswith(action + ".", autoescape=True))
    with db.session() as s:
        return [AuditRecord(e.id, e.at, e.actor, e.action, e.object_type, e.object_id, e.source, e.detail)
                for e in s.scalars(q)]
