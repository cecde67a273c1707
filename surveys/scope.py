"""Who is asking: the role of a signed-in staff member and the organisations it covers.

Every staff operation the console calls takes a `Scope` and filters by it (the view never filters), so a
query cannot forget whose rows it may return. The command line runs as the server's operator and passes
`Scope.operator()`, which sees everything, as `chorus` always has.

Roles (issue 14):
- admin: everything, every organisation, manages users.
- staff: their organisations' participants, raw answers and flags; the partnership's aggregates.
- safeguarding: flags of the organisations they are assigned to, with the answer's words and the way to
  reach the person.
- governance: digests and aggregate dashboards only; never a raw answer, a contact detail or a quote from a
  group under the small-number threshold.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("admin", "staff", "safeguarding", "governance")
ROLE_LABELS = {
    "admin": "Backbone admin",
    "staff": "Organisation staff",
    "safeguarding": "Safeguarding lead",
    "governance": "Governance viewer",
}


class Forbidden(PermissionError):
    """The scope may not see or do this. The message is safe to show: it names no row it may not see."""


@dataclass(frozen=True)
class Scope:
    role: str
    organisation_ids: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None
    # Shown in audit entries and notes ("alice", or "operator" for the command line).
    actor: str = "operator"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r} (one of: {', '.join(ROLES)})")

    @classmethod
    def operator(cls) -> "Scope":
        """The command line: the person at the server's terminal, who can already read the database."""
        return cls("admin", frozenset(), None, "operator")

    @property
    def all_organisations(self) -> bool:
        return self.role == "admin"

    def covers(self, organisation_id: int | None) -> bool:
        """May this scope see rows of this organisation (participants, answers, flags)?"""
        if self.role == "admin":
            return True
        if self.role == "governance":
            return False
        return organisation_id is not None and organisation_id in self.organisation_ids

    @property
    def sees_rows(self) -> bool:
        """Raw answers and participants of some organisation (not governance)."""
        return self.role in ("admin", "staff")

    @property
    def sees_flags(self) -> bool:
        return self.role in ("admin", "staff", "safeguarding")

    @property
    def sees_contact_details(self) -> bool:
        """Phone numbers and chat ids, of the organisations `covers` allows: the admin, the organisation's own
        staff (who enrol their people) and the safeguarding lead (to reach a person at risk); never governance."""
        return self.role in ("admin", "staff", "safeguarding")

    def require(self, allowed: bool, what: str) -> None:
        if not allowed:
            raise Forbidden(f"your role ({ROLE_LABELS[self.role]}) may not {what}")
