"""Alembic, driven from code: ``upgrade(url)`` builds or updates a database to the newest schema."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from posrefund.adapters.db.statistics import refresh_statistics_at

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate, then refresh the planner's statistics: a new index is only chosen once the planner knows it."""
    command.upgrade(alembic_config(url), revision)
    refresh_statistics_at(url)


@cache
def head_revisions() -> frozenset[str]:
    """The revisions the migrations end at (one, unless two branches were never joined): what a database
    built by ``upgrade`` carries in ``alembic_version``. Read from the scripts once per process."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
