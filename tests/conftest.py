"""Fixtures: a migrated database per backend (SQLite file, PostgreSQL), a clean state for every test, a
frozen clock, and no network.

PostgreSQL: CHORUS_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test). Each test run
works in its own schema, so two runs on one server do not disturb each other. When the server does not
answer, PostgreSQL tests skip with the reason, except under CI=true, where they fail.
"""
from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from config.migrate import upgrade
from config.settings import load_settings
from surveys import models as m
from surveys.store import Store, make_sql_engine

PG_URL = os.environ.get("CHORUS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # a Monday


# ---- no network: anything but loopback fails loudly -------------------------------------------------
_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
        if host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("127."):
            raise RuntimeError(f"tests may not reach the network (tried {address!r})")
    return _real_connect(self, address)


socket.socket.connect = _guarded_connect


# ---- settings and databases ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    return load_settings(
        env={"CHORUS_VAR_DIR": str(var), "CHORUS_SECRET_KEY": "test-secret-key-0123456789",
             "DATABASE_URL": f"sqlite:///{var / 'chorus.db'}"},
        dotenv=False,
    )


def _postgres_sql_engine():
    from sqlalchemy.exc import OperationalError

    schema = f"chorus_test_{uuid.uuid4().hex[:10]}"
    admin = make_sql_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL at {PG_URL} does not answer ({exc.orig.__class__.__name__})"
        if IN_CI:
            pytest.fail(reason + ": under CI=true PostgreSQL tests must run", pytrace=False)
        pytest.skip(reason + "; start it or set CHORUS_TEST_POSTGRES_URL")
    admin.dispose()
    sql_engine = make_sql_engine(PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}")
    return sql_engine, schema


@pytest.fixture(scope="session")
def sql_engines(settings):
    """Migrated SQLAlchemy engines, created on first use and dropped at the end of the run."""
    made: dict = {}
    yield made
    for name, (sql_engine, schema) in made.items():
        sql_engine.dispose()
        if schema:
            admin = make_sql_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _sql_engine_for(backend: str, sql_engines: dict, settings):
    if backend not in sql_engines:
        if backend == "sqlite":
            sql_engine, schema = make_sql_engine(settings.database_url), None
        else:
            sql_engine, schema = _postgres_sql_engine()
        upgrade(sql_engine)
        sql_engines[backend] = (sql_engine, schema)
    return sql_engines[backend][0]


TABLES = [t.name for t in reversed(m.Base.metadata.sorted_tables)]


def _clean(sql_engine) -> None:
    with sql_engine.begin() as conn:
        if sql_engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES) + " RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, sql_engines, settings) -> Store:
    """A Store on a clean, migrated database: every test that takes it runs on SQLite and PostgreSQL."""
    sql_engine = _sql_engine_for(request.param, sql_engines, settings)
    _clean(sql_engine)
    return Store(settings, sql_engine=sql_engine)


@pytest.fixture
def sqlite_db(sql_engines, settings) -> Store:
    sql_engine = _sql_engine_for("sqlite", sql_engines, settings)
    _clean(sql_engine)
    return Store(settings, sql_engine=sql_engine)


@pytest.fixture
def now() -> datetime:
    return T0
