"""The console's navigation: one entry per page area, shown to the roles that may use it. Only pages that
exist are listed; an area adds its entry here when its page is written."""
from __future__ import annotations

from dataclasses import dataclass

from surveys.scope import ROLES


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: tuple[str, ...] = ROLES


NAV: list[NavItem] = [
    NavItem("Home", "console.home"),
    NavItem("Dashboard", "console.dashboard"),
    NavItem("Participants", "console.participants", ("admin", "staff")),
    NavItem("Responses", "console.responses", ("admin", "staff", "governance")),
    NavItem("Flags", "console.flags", ("admin", "staff", "safeguarding")),
    NavItem("Actions", "console.actions"),
    NavItem("Digests", "console.digests"),
    NavItem("Surveys", "console.designs", ("admin", "staff")),
    NavItem("Waves", "console.waves", ("admin", "staff")),
    NavItem("Users", "console.users", ("admin",)),
    NavItem("Audit log", "console.audit", ("admin",)),
    NavItem("Retention", "console.retention", ("admin",)),
    NavItem("Settings", "console.settings", ("admin",)),
]


def items_for(role: str | None) -> list[NavItem]:
    return [item for item in NAV if role in item.roles]
