"""Alembic environment. Batch mode so ALTERs run on SQLite too; the URL comes from Chorus settings unless
the caller hands over a connection (tests, `chorus db upgrade`)."""
from alembic import context

from surveys.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        from config.settings import load_settings

        sql_engine = create_engine(config.get_main_option("sqlalchemy.url") or load_settings().database_url)
        with sql_engine.begin() as conn:
            _run(conn)
        sql_engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
