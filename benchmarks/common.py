"""Shared by the benchmark scripts: the machine line and a throwaway PostgreSQL schema."""
from __future__ import annotations

import os
import platform
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import text

from surveys.store import make_sql_engine

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def encryption(on: bool) -> dict:
    """Settings for `--encrypted`: CHORUS_ENCRYPTION_KEY set to a fresh key (contact details encrypted)."""
    if not on:
        return {}
    from surveys.crypto import generate_key

    print("contact details encrypted at rest (CHORUS_ENCRYPTION_KEY set)")
    return {"CHORUS_ENCRYPTION_KEY": generate_key()}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{platform.system()} {platform.release()}")


@contextmanager
def postgres_schema(base_url: str = PG_URL) -> Iterator[str]:
    """A URL for a fresh schema on the PostgreSQL server at `base_url`, dropped afterwards. Raises
    OSError-like errors from the driver when no server answers (callers report and skip)."""
    schema = f"chorus_bench_{uuid.uuid4().hex[:8]}"
    admin = make_sql_engine(base_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield f"{base_url}?options=-csearch_path%3D{schema}"
    finally:
        try:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            admin.dispose()


@contextmanager
def kept_postgres_schema(base_url: str, schema: str) -> Iterator[str]:
    """Like `postgres_schema`, but the schema is named, made only when missing and kept afterwards (a data
    set to reuse)."""
    if not schema.replace("_", "").isalnum():
        raise ValueError(f"schema name {schema!r}: letters, digits and _ only")
    admin = make_sql_engine(base_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        admin.dispose()
    yield f"{base_url}?options=-csearch_path%3D{schema}"
