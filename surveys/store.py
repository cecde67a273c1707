"""The store: one SQLAlchemy engine (`Store.sql_engine`), connection set-up for SQLite and PostgreSQL, and small caches.

Write transactions on SQLite begin IMMEDIATE (they take the write lock up front), because a deferred
transaction that reads and then writes fails at once with "database is locked" when another writer got
there first; the busy timeout only helps a transaction that asks for the lock at its start.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import sqlite3
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Protocol

from sqlalchemy import Connection, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from surveys import crypto
from surveys import models as m
from surveys.definition import Survey as SurveyDefinition
from surveys.hotpath import HotPath


class AnswerTagger(Protocol):
    """Implemented by `analysis`; handed to the store by the composition root. Returns the tags to store
    with a free-text answer (or None). `context` holds the other answers of the same conversation."""

    def tag(self, text: str, language: str, context: dict) -> dict | None: ...


def make_sql_engine(url: str, echo: bool = False, background_checkpoints: bool = False) -> Engine:
    """An engine for `url`. For long-running SQLite processes, `background_checkpoints` moves WAL
    checkpoints off the request path (see _Checkpointer)."""
    if url.startswith("sqlite"):
        # No folder is made here: settings refuse a SQLite path whose folder does not exist (and create
        # Chorus's own var/), because SQLite would otherwise make an empty file and fail on the first query.
        path = url.split("///", 1)[-1]
        sql_engine = create_engine(url, echo=echo, connect_args={"timeout": 15, "check_same_thread": False})
        _configure_sqlite(sql_engine, background_checkpoints)
        if background_checkpoints and path and path != ":memory:":
            sql_engine._chorus_checkpointer = _Checkpointer(path)  # type: ignore[attr-defined]
        return sql_engine
    sql_engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)
    if sql_engine.dialect.name == "postgresql":
        _configure_postgresql(sql_engine)
    return sql_engine


# PostgreSQL's default cost of a random page read (4) is for spinning disks with little cache: with it, the
# planner hashes every message or conversation ever stored to join a week's few thousand invitations, where
# probing their indexes is several times faster (the digest, the dashboard, wave counts). 1.1 is what
# PostgreSQL's documentation suggests for solid-state storage. A value the server sets (postgresql.conf,
# ALTER DATABASE/ROLE, PGOPTIONS) is left alone: only the built-in default is replaced, per session.
RANDOM_PAGE_COST = 1.1


def _configure_postgresql(sql_engine: Engine) -> None:
    @event.listens_for(sql_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT source FROM pg_settings WHERE name = 'random_page_cost'")
        row = cursor.fetchone()
        if row is not None and row[0] == "default":
            cursor.execute(f"SET random_page_cost = {RANDOM_PAGE_COST}")
        cursor.close()
        dbapi_connection.commit()


class _Checkpointer:
    """Copies the WAL back into the database every quarter second from a thread of its own.

    Left to itself, SQLite checkpoints inside whichever commit crosses 1,000 WAL pages: that commit takes
    about 5 ms instead of 0.5, which is the p99 of inbound handling. With this thread running, the
    automatic threshold is raised (to 10,000 pages) and is reached only if the thread falls behind."""

    INTERVAL = 0.25

    def __init__(self, path: str):
        self.path = path
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=1, check_same_thread=False)
        try:
            while not self.stop.wait(self.INTERVAL):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    pass  # busy or locked now: the next round will do it
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)


def _configure_sqlite(sql_engine: Engine, background_checkpoints: bool = False) -> None:
    @event.listens_for(sql_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control from the sqlite3 module so BEGIN is ours (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if background_checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.close()

    @event.listens_for(sql_engine, "begin")
    def _on_begin(conn: Connection):
        # Straight to the driver: this runs for every transaction, inbound messages included.
        immediate = conn.get_execution_options().get("chorus_write")
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_private_sqlite_engine(connect: Callable[[], sqlite3.Connection]) -> Engine:
    """An engine over one SQLite connection the caller made (an in-memory sandbox, see surveys.simulator),
    set up exactly as every SQLite connection of the real store is (transactions, foreign keys)."""
    from sqlalchemy.pool import StaticPool

    sql_engine = create_engine("sqlite://", creator=connect, poolclass=StaticPool)
    _configure_sqlite(sql_engine)
    return sql_engine


class DatabaseUnavailable(RuntimeError):
    """The database cannot be used as it is: not reachable, or not set up. The message is one line for people
    and never carries the password from DATABASE_URL."""


# SQLSTATEs (PostgreSQL) and SQLite messages that mean "the schema is missing or older than this code".
_NOT_MIGRATED_PG = {"42P01": "table", "42703": "column"}  # undefined_table, undefined_column
_NOT_MIGRATED_SQLITE = ("no such table", "no such column", "has no column named")


def where(url: str) -> str:
    """Where a database URL points, without user name or password: `host:port/name`, or the SQLite path."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception:  # noqa: BLE001 - an unparsable URL: say nothing that could hold a secret
        return "the configured database"
    if u.drivername.startswith("sqlite"):
        return u.database or ":memory:"
    return f"{u.host or 'localhost'}:{u.port or 5432}/{u.database or ''}"


def describe_database_error(exc: BaseException, url: str) -> str | None:
    """One line saying what is wrong with the database, for a SQLAlchemy error met at start or by a command;
    None when `exc` is not about the database being unreachable or not set up (a bug, then: let it show)."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    message = str(orig).strip().splitlines()[0] if str(orig).strip() else orig.__class__.__name__
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _NOT_MIGRATED_PG or any(p in message for p in _NOT_MIGRATED_SQLITE):
        if "column" in message or _NOT_MIGRATED_PG.get(sqlstate) == "column":
            return "the database was set up by an older version of Chorus: run chorus db upgrade"
        return "the database is not set up: run chorus db upgrade"
    if isinstance(orig, sqlite3.Error) and "unable to open database file" in message:
        return f"cannot open the SQLite database {where(url)} (check DATABASE_URL and the folder's permissions)"
    # psycopg: no SQLSTATE when the server never answered; class 08 (connection), 28 (authentication) and
    # 3D000 (no such database) when it answered "no".
    if url.startswith("postgresql") and (sqlstate is None or sqlstate[:2] in ("08", "28") or sqlstate == "3D000"):
        reason = _connect_reason(message)
        return f"cannot connect to the database at {where(url)} ({reason}; check DATABASE_URL)"
    return None


def _connect_reason(message: str) -> str:
    low = message.lower()
    for needle, reason in (("connection refused", "connection refused"), ("timeout", "timed out"),
                           ("timed out", "timed out"), ("password authentication failed", "password authentication failed"),
                           ("does not exist", "no such database or user"), ("could not translate host name", "unknown host"),
                           ("name or service not known", "unknown host"), ("no route to host", "no route to host"),
                           ("no password supplied", "a password is needed")):
        if needle in low:
            return reason
    return "the server did not accept the connection"


class Store:
    """What the service functions are given as `db`: the SQLAlchemy engine, the address-hash key, the tagger, and a
    cache of survey versions (immutable, so caching them is always safe)."""

    def __init__(self, settings: Settings, sql_engine: Engine | None = None, tagger: AnswerTagger | None = None):
        self.settings = settings
        self.sql_engine = sql_engine or make_sql_engine(settings.database_url, background_checkpoints=True)
        self.tagger = tagger
        # Contact details at rest (surveys.crypto): PLAIN without CHORUS_ENCRYPTION_KEY. The `Sealed` columns
        # read the cipher from the engine's dialect; the raw statements use `self.cipher`.
        self.cipher = crypto.cipher_for(settings.encryption_keys)
        crypto.attach(self.sql_engine, self.cipher)
        self._hash_key = settings.secret_key.encode()
        self._versions: dict[int, SurveyDefinition] = {}
        self.sessions = sessionmaker(self.sql_engine, expire_on_commit=False)
        self.hot = HotPath(self.sql_engine.dialect.name)
        # The DBAPI's own IntegrityError: the hot path's raw statements raise it, not SQLAlchemy's.
        self.dbapi_integrity_error = self.sql_engine.dialect.dbapi.IntegrityError

    def over(self, sql_engine: Engine) -> "Store":
        """This store's settings and answer tagger over another database (the simulator's sandbox), so the
        service does there exactly what it does here, tagging and flagging included."""
        return type(self)(self.settings, sql_engine=sql_engine, tagger=self.tagger)

    @property
    def dialect(self) -> str:
        return self.sql_engine.dialect.name

    def address_hash(self, channel: str, address: str) -> str:
        """A keyed hash: lets us recognise an address without keeping it, and cannot be reversed by
        trying every phone number unless the key is known."""
        return hmac.new(self._hash_key, f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, contact_id: int) -> str:
        """How exports name a person: "P-" and 12 base32 characters (60 bits) of an HMAC-SHA256 of the contact
        under the installation's secret key (CHORUS_SECRET_KEY). The same contact gets the same pseudonym in
        every export, whatever its survey or filter, so staff can follow one person's answers without seeing
        who they are; without the key it cannot be linked back to the contact, and another installation's
        pseudonyms differ. 60 bits make a clash unlikely: about 1 in 2 million for a million contacts
        (n^2 / 2^61)."""
        digest = hmac.new(self._hash_key, f"pseudonym:{contact_id}".encode(), hashlib.sha256).digest()
        return "P-" + base64.b32encode(digest).decode()[:12]

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (IMMEDIATE on SQLite), committed on success, rolled back on error."""
        with self.sql_engine.connect().execution_options(chorus_write=True) as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.sql_engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def session(self) -> Iterator[Session]:
        """An ORM session for the CLI and staff tools (not the inbound hot path), committed on success."""
        with self.sql_engine.connect().execution_options(chorus_write=True) as conn:
            with Session(bind=conn, expire_on_commit=False) as session:
                with session.begin():
                    yield session

    def check(self) -> None:
        """Fail fast at process start: raise DatabaseUnavailable (one line) when the database cannot be
        reached or has no schema. Runs one cheap query against a table every process uses."""
        from sqlalchemy.exc import DBAPIError

        try:
            with self.sql_engine.connect() as conn:
                conn.execute(select(m.Survey.id).limit(1)).all()
        except DBAPIError as exc:
            problem = describe_database_error(exc, self.settings.database_url)
            if problem is None:
                raise
            raise DatabaseUnavailable(problem) from None

    def survey_version(self, conn: Connection, version_id: int) -> SurveyDefinition:
        cached = self._versions.get(version_id)
        if cached is None:
            definition = conn.execute(
                select(m.SurveyVersion.definition).where(m.SurveyVersion.id == version_id)
            ).scalar_one()
            cached = self._versions[version_id] = SurveyDefinition.from_dict(definition)
        return cached

    def dispose(self) -> None:
        checkpointer = getattr(self.sql_engine, "_chorus_checkpointer", None)
        if checkpointer is not None:
            checkpointer.close()
        self.sql_engine.dispose()
