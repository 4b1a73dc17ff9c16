"""``posrefund db``: the database schema, brought to the newest version before anything else runs."""

from __future__ import annotations

from posrefund.entrypoints.cli.common import db_app, err, settings


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema (Alembic)."""
    from posrefund.adapters.db.migrate import upgrade

    upgrade(settings().database_url)
    err.print("[green]database is at the newest schema[/green]")
