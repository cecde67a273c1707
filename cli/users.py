"""`chorus users ...`: console accounts for the first admin and for scripts (the console's admin pages do
the same through the same operations in surveys/accounts.py)."""
from __future__ import annotations

import click

from cli.common import now as _now, store as _store


def _fail(exc) -> click.ClickException:
    return click.ClickException(str(exc))


def _show(account) -> str:
    orgs = ", ".join(account.organisation_codes) or ("every organisation" if account.role == "admin" else "-")
    status = "disabled" if account.disabled_at else "active"
    extras = [x for x, on in (("two-factor", account.two_factor), ("must change password", account.must_change_password)) if on]
    return (f"{account.username:20} {account.role:13} {status:8} {orgs}"
            + (f"  ({', '.join(extras)})" if extras else "") + f"  {account.display_name}")


@click.group()
def users() -> None:
    """Staff accounts for the console (roles: admin, staff, safeguarding, governance)."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, help="admin, staff, safeguarding or governance.")
@click.option("--org", "orgs", multiple=True, help="Join code of an organisation they cover (repeat for several); "
                                                     "staff and safeguarding leads need one, admins take none.")
@click.option("--name", "display_name", default=None, help="Name shown in the console (default: the username).")
@click.option("--email", default=None, help="Email address (optional).")
def users_add(username, role, orgs, display_name, email) -> None:
    """Add an account; prints a one-time password, to be changed at first sign-in."""
    from surveys.accounts import AccountError, add_user
    from surveys.scope import Scope

    try:
        made = add_user(_store(), Scope.operator(), username, display_name or "", role, orgs, _now(), email=email)
    except AccountError as exc:
        raise _fail(exc) from None
    click.echo(f"added {made.account.username} ({made.account.role_label})")
    click.echo(f"one-time password: {made.password}  (shown once; it must be changed at first sign-in)")


@users.command("reset")
@click.argument("username")
def users_reset(username) -> None:
    """Give USERNAME a new one-time password (their sessions end; they choose a new one at sign-in)."""
    from surveys.accounts import AccountError, reset_password
    from surveys.scope import Scope

    try:
        made = reset_password(_store(), Scope.operator(), username, _now())
    except AccountError as exc:
        raise _fail(exc) from None
    click.echo(f"{made.account.username}: new one-time password: {made.password}  (shown once; their sessions ended)")


@users.command("disable")
@click.argument("username")
def users_disable(username) -> None:
    """Disable USERNAME: they cannot sign in, and their open sessions end at once."""
    _set_disabled(username, True)


@users.command("enable")
@click.argument("username")
def users_enable(username) -> None:
    """Let a disabled account sign in again."""
    _set_disabled(username, False)


def _set_disabled(username: str, disabled: bool) -> None:
    from surveys.accounts import AccountError, set_disabled
    from surveys.scope import Scope

    try:
        account = set_disabled(_store(), Scope.operator(), username, disabled, _now())
    except AccountError as exc:
        raise _fail(exc) from None
    click.echo(f"{account.username}: " + ("disabled (sessions ended)" if disabled else "enabled"))


@users.command("role")
@click.argument("username")
@click.option("--role", required=True, help="admin, staff, safeguarding or governance.")
@click.option("--org", "orgs", multiple=True, help="Join code of an organisation they cover (repeat for several).")
def users_role(username, role, orgs) -> None:
    """Set USERNAME's role and organisations (replacing the ones they had)."""
    from surveys.accounts import AccountError, set_role
    from surveys.scope import Scope

    try:
        account = set_role(_store(), Scope.operator(), username, role, orgs, _now())
    except AccountError as exc:
        raise _fail(exc) from None
    click.echo(_show(account))


@users.command("list")
def users_list() -> None:
    """List accounts."""
    from surveys.accounts import list_users
    from surveys.scope import Scope

    accounts = list_users(_store(), Scope.operator())
    if not accounts:
        click.echo("no users yet: chorus users add USERNAME --role admin")
    for account in accounts:
        click.echo(_show(account))


@users.command("demo-admin")
@click.option("--url", default="http://127.0.0.1:8000/", show_default=True, help="Where the console is served.")
def users_demo_admin(url) -> None:
    """For `make run`: when there is no admin yet, make `admin` with a one-time password and print the login;
    otherwise say how to get a new password."""
    from surveys.accounts import ensure_demo_admin

    made = ensure_demo_admin(_store(), _now())
    if made.created:
        click.echo(f"console: {url}  sign in as {made.username} with the one-time password {made.password}"
                   " (shown once; you choose your own at first sign-in)")
    else:
        click.echo(f"console: {url}  (admin account: {made.username}; a new password: "
                   f".venv/bin/chorus users reset {made.username})")
