"""Point the environment at a test database, so a process entry point (which reads its settings from the
environment, as in production) builds its own store on the same data the test can see, on either backend."""
from __future__ import annotations

from sqlalchemy.engine import Engine

from surveys.store import Store

# Providers unset unless a test sets them: nothing reaches out, and every test starts from the same place.
BLANK = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_BASE_URL",
         "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID",
         "TWILIO_API_BASE_URL", "PUBLIC_BASE_URL", "SMTP_HOST", "DIGEST_RECIPIENTS", "DIGEST_TELEGRAM_CHAT")


def use_database(monkeypatch, db: Store, var_dir) -> dict:
    values = {"CHORUS_VAR_DIR": str(var_dir), "DATABASE_URL": db.sql_engine.url.render_as_string(hide_password=False),
              "CHORUS_SECRET_KEY": db.settings.secret_key, **{k: "" for k in BLANK}}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def close(store_or_engine) -> None:
    """Release what a process's store holds (its pool, SQLite's checkpoint thread) before the next test
    cleans the tables."""
    sql_engine: Engine = getattr(store_or_engine, "sql_engine", store_or_engine)
    checkpointer = getattr(sql_engine, "_chorus_checkpointer", None)
    if checkpointer is not None:
        checkpointer.close()
    sql_engine.dispose()
