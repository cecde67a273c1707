"""Process start: what every entry point (the `chorus` commands, the web app factory, the worker and the
clock) checks before it serves, and how a problem reaches people: as one line and a non-zero exit, never a
traceback. The database's password is never printed.
"""
from __future__ import annotations

import sys

from config.settings import SettingsError
from surveys.crypto import KeyMismatch
from surveys.keys import RotationError, check_keys
from surveys.store import DatabaseUnavailable, Store, describe_database_error


def explain(exc: BaseException) -> str | None:
    """One line for a configuration or database problem; None for anything else (a bug: let it show)."""
    if isinstance(exc, SettingsError):
        return f"configuration: {exc}"
    if isinstance(exc, (DatabaseUnavailable, KeyMismatch, RotationError)):
        return str(exc)
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        from config.settings import load_settings

        try:
            url = load_settings().database_url
        except SettingsError:
            url = ""
        return describe_database_error(exc, url)
    return None


def check_ready(store: Store) -> None:
    """Raise DatabaseUnavailable unless the database answers and carries this version's schema, and
    KeyMismatch when its stored contact details cannot be read with the configured encryption keys (a wrong
    CHORUS_ENCRYPTION_KEY stops the process here, rather than letting it run half-readable)."""
    store.check()
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from config.migrate import alembic_config

    with store.sql_engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current != set(ScriptDirectory.from_config(alembic_config()).get_heads()):
        raise DatabaseUnavailable("the database was set up by an older version of Chorus: run chorus db upgrade")
    check_keys(store)


def ready_store() -> Store:
    """The store every long-running process uses, checked (see check_ready)."""
    from config.logs import configure_logging
    from config.wiring import make_store

    configure_logging()
    from config.wiring import announce

    store = make_store()
    check_ready(store)
    announce(store)
    return store


def ready_store_or_exit() -> Store:
    """ready_store for entry points outside click: a problem prints one line on stderr and exits with 3,
    which gunicorn reads as "worker failed to boot" (it stops instead of restarting the worker forever)."""
    try:
        return ready_store()
    except Exception as exc:  # noqa: BLE001 - explained or re-raised below
        line = explain(exc)
        if line is None:
            raise
        print(f"chorus: {line}", file=sys.stderr, flush=True)
        raise SystemExit(3) from None
