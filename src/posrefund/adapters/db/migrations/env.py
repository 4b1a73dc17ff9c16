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
        if url.startswith("sqlite"):
            # A batch migration rebuilds a table by copy and drop; with foreign keys enforced the drop of a table
            # other rows point at fails (SQLite deletes its rows first). Alembic's advice: keys off while migrating
            # (set outside a transaction; the app's own connections keep them on).
            raw = connection.connection.dbapi_connection  # before SQLAlchemy begins its transaction
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
