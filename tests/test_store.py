"""The store on both databases: migrations agree with the models, times stay aware, settings fail fast."""
from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from config.settings import SettingsError, load_settings, normalise_database_url
from surveys import admin
from surveys import models as m


def test_migrations_match_the_models(db):
    with db.sql_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False, "render_as_batch": True})
        diff = compare_metadata(ctx, m.Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_sqlite_connections_use_wal_and_a_busy_timeout(sqlite_db):
    with sqlite_db.sql_engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_times_come_back_aware_and_in_utc(db, now):
    local = now.astimezone(timezone(timedelta(hours=5)))
    org_id = admin.add_organisation(db, "Org", "org1", local)
    with db.read() as conn:
        created = conn.execute(select(m.Organisation.created_at).where(m.Organisation.id == org_id)).scalar_one()
    assert created == now and created.tzinfo is not None


def test_naive_times_are_refused(db):
    with pytest.raises(Exception, match="naive datetime"):
        admin.add_organisation(db, "Org", "org2", datetime(2026, 1, 1))


def test_join_codes_are_unique_case_insensitively(db, now):
    admin.add_organisation(db, "Food Bank", "FoodBank", now)
    with pytest.raises(admin.AdminError, match="already used"):
        admin.add_organisation(db, "Other", "FOODBANK", now)


@pytest.mark.parametrize("code", ["", "has space", "x" * 65, "ünï", "semi;colon"])
def test_bad_join_codes_are_refused(db, now, code):
    with pytest.raises(admin.AdminError, match="join code"):
        admin.add_organisation(db, "Org", code, now)


# ---- settings (no database needed) -----------------------------------------------------------------
def _env(tmp_path, **extra):
    return {"CHORUS_VAR_DIR": str(tmp_path), **extra}


def test_defaults_just_work(tmp_path):
    s = load_settings(env=_env(tmp_path), dotenv=False)
    assert s.database_url == f"sqlite:///{tmp_path / 'chorus.db'}"
    assert s.conversation_expiry_hours == 48 and s.default_timezone == "Europe/London"
    # the generated key is kept, so address hashes stay findable across restarts
    assert load_settings(env=_env(tmp_path), dotenv=False).secret_key == s.secret_key


@pytest.mark.parametrize("url, expected", [
    ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///var/x.db", "sqlite:///var/x.db"),
])
def test_database_urls_are_normalised(url, expected):
    assert normalise_database_url(url) == expected


@pytest.mark.parametrize("name, value, message", [
    ("CONVERSATION_EXPIRY_HOURS", "two", "CONVERSATION_EXPIRY_HOURS: expected a whole number"),
    ("CONVERSATION_EXPIRY_HOURS", "0", "CONVERSATION_EXPIRY_HOURS: must be at least 1"),
    ("CHORUS_TIMEZONE", "Mars/Olympus", "CHORUS_TIMEZONE: unknown timezone"),
    ("QUIET_HOURS", "late", "QUIET_HOURS: expected HH:MM-HH:MM"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL: expected"),
    ("DATABASE_URL", "mysql://x", "DATABASE_URL: only sqlite"),
    ("CHORUS_SECRET_KEY", "short", "CHORUS_SECRET_KEY: must be at least 16"),
    ("SENTIMENT_ANALYZER", "bert", "SENTIMENT_ANALYZER: expected one of feedback"),
    ("SAFEGUARDING_LEXICON_DIR", "/no/such/folder", "SAFEGUARDING_LEXICON_DIR: '/no/such/folder' is not a directory"),
    ("DIGEST_RECIPIENTS", "board@x.org, chair", "DIGEST_RECIPIENTS: 'chair' is not an email address"),
    ("DIGEST_TELEGRAM_CHAT", "@board", "DIGEST_TELEGRAM_CHAT: expected a Telegram chat id"),
    ("DIGEST_WHEN", "monday", "DIGEST_WHEN: expected a day and a time like 'mon 08:00'"),
    ("DIGEST_WHEN", "someday 08:00", "DIGEST_WHEN: expected a day and a time"),
    ("DIGEST_WHEN", "mon 25:00", "DIGEST_WHEN: expected a day and a time"),
])
def test_bad_settings_fail_with_the_variable_name(tmp_path, name, value, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env=_env(tmp_path, **{name: value}), dotenv=False)


@pytest.mark.parametrize("background", [True, False])
def test_background_checkpoints_copy_the_wal_back(tmp_path, background):
    """Long-running processes checkpoint the WAL off the request path (the inbound p99 depends on it).
    Observable: the main database file grows only when WAL pages are copied back into it."""
    import time

    from config.migrate import upgrade
    from surveys.store import make_sql_engine

    path = tmp_path / "ck.db"
    sql_engine = make_sql_engine(f"sqlite:///{path}", background_checkpoints=background)
    try:
        upgrade(sql_engine)
        with sql_engine.connect() as conn:
            conn.execute(text("PRAGMA wal_autocheckpoint=10000"))  # the control must not checkpoint by itself
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).all()
        size_before = path.stat().st_size
        with sql_engine.begin() as conn:
            for _ in range(60):
                conn.execute(text("INSERT INTO message (channel, direction, kind, status, created_at, text) "
                                  "VALUES ('sms', 'in', 'text', 'received', '2026-01-01 00:00:00.000000', :t)"),
                             {"t": "x" * 3000})
        time.sleep(0.8)
        grew = path.stat().st_size > size_before
        assert grew is background
    finally:
        checkpointer = getattr(sql_engine, "_chorus_checkpointer", None)
        if checkpointer is not None:
            checkpointer.close()
            assert not checkpointer.thread.is_alive()
        sql_engine.dispose()


def test_free_text_answers_are_read_through_their_partial_index(db):
    """free_text_answers() writes the partial index's terms with literal constants, so both databases can prove
    that ix_answer_free_text_answered holds the rows asked for (the digest's and dashboard's sentiment and themes
    read a fifth of a week's answers); a bound parameter in their place would silently lose the index."""
    A = m.Answer.__table__
    sql = str(select(A.c.id).where(m.free_text_answers()).compile(db.sql_engine))
    assert "'text'" in sql and "'unparsed'" in sql
    with db.sql_engine.connect() as conn:
        if db.sql_engine.dialect.name == "sqlite":
            # INDEXED BY fails ("no query solution") when the index cannot serve the query.
            forced = sql.replace("FROM answer", "FROM answer INDEXED BY ix_answer_free_text_answered")
            assert conn.exec_driver_sql(forced).all() == []
        else:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
            assert "ix_answer_free_text_answered" in plan, plan
            conn.rollback()
