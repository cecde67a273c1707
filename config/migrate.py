"""Run Alembic migrations from code (the CLI, `make run`, tests)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

import migrations


def alembic_config(sql_engine: Engine | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(sql_engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with sql_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
