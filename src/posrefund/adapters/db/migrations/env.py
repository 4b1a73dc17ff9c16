"""Alembic environment: runs migrations online against the URL set by ``migrate.alembic_config``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from posrefund.adapters.db.engine import make_engine
from posrefund.adapters.db.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def run() -> None:
    engine = make_engine(url) if url.startswith("sqlite") else None
    if engine is None:
        from sqlalchemy import create_engine

        engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
