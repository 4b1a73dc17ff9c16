"""Installing notifications on a running system must not send customers a burst of old messages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, select

from posrefund.adapters.db import tables
from posrefund.adapters.db.migrate import upgrade


def test_case_events_from_before_the_upgrade_are_not_notified(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    engine = create_engine(url)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as c:
        for topic in ("case.event", "refund.execute"):
            c.execute(
                insert(tables.outbox).values(
                    topic=topic, merchant_id="m", case_id="c", payload="{}", created_at=at, available_at=at, attempts=0
                )
            )
    upgrade(url)
    with engine.connect() as c:
        rows = {r.topic: r.done_at for r in c.execute(select(tables.outbox.c.topic, tables.outbox.c.done_at))}
    engine.dispose()
    assert rows == {"case.event": at, "refund.execute": at}  # nothing reads refund.execute: closed too
