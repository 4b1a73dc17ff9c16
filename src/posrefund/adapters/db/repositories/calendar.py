"""Days the working-day calendar overrides (a moved weekend, an extra holiday)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, insert, select

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository

_CO = tables.calendar_overrides.c


class CalendarSql(Repository):
    def overrides(self) -> dict[date, bool]:
        return {row[0]: bool(row[1]) for row in self.c.execute(select(_CO.day, _CO.workday))}

    def version(self) -> tuple[int, str]:
        """How many overrides and when the last one changed: a worker compares this each round and reads
        the table again only when it moved (every change rewrites its row with a new ``updated_at``)."""
        count, last = self.c.execute(select(func.count(), func.max(_CO.updated_at))).one()
        return int(count), "" if last is None else str(last)

    def put_override(self, day: date, workday: bool, note: str, actor_id: str, now: datetime) -> None:
        self.c.execute(delete(tables.calendar_overrides).where(_CO.day == day))
        self.c.execute(
            insert(tables.calendar_overrides).values(
                day=day, workday=workday, note=note, updated_by=actor_id, updated_at=now
            )
        )
