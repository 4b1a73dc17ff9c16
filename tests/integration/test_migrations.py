"""The Alembic migrations build, from an empty database, exactly the schema the code expects."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from posrefund.adapters.db.tables import metadata


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, metadata)
    assert diff == []
    checks = {c["name"] for c in inspect(engine).get_check_constraints("sales")}
    assert "ck_sales_never_over_refunded" in checks
