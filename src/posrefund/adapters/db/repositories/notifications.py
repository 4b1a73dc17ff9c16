"""Notifications: the outbox's case events they are made from, the messages, and each delivery attempt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import (
    AttemptRow,
    CaseEventEntry,
    NewAttemptRow,
    NewNotificationRow,
    NotificationChange,
    NotificationRow,
)

_O, _N, _NA = t.outbox.c, t.notifications.c, t.notify_attempts.c


class NotificationSql(Repository):
    def pending_case_events(self, now: datetime, limit: int) -> list[CaseEventEntry]:
        """Oldest unprocessed case events; on PostgreSQL locked so concurrent workers take different rows."""
        q = (
            select(_O.id, _O.merchant_id, _O.case_id, _O.payload)
            .where(_O.topic == "case.event", _O.done_at.is_(None), _O.available_at <= now)
            .order_by(_O.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return cast(list[CaseEventEntry], all_rows(self.c, q))

    def mark_events_done(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            self.c.execute(update(t.outbox).where(_O.id.in_(list(ids))).values(done_at=now, attempts=_O.attempts + 1))

    def add_notification(self, row: NewNotificationRow) -> bool:
        """False when a notification with this message id exists already (the event was handled before)."""
        if self.c.execute(select(_N.id).where(_N.message_id == row["message_id"])).first() is not None:
            return False
        self.c.execute(insert(t.notifications).values(**row))
        return True

    def due_notifications(self, now: datetime, limit: int) -> list[str]:
        q = (
            select(_N.id)
            .where(_N.status.in_(("pending", "sending")), _N.next_attempt_at <= now)
            .order_by(_N.next_attempt_at)
            .limit(limit)
        )
        return [str(r[0]) for r in self.c.execute(q)]

    def get_notification(self, notification_id: str) -> NotificationRow | None:
        return cast(NotificationRow | None, first_row(self.c, select(t.notifications).where(_N.id == notification_id)))

    def update_notification(self, notification_id: str, attempts: int, values: NotificationChange) -> bool:
        """Compare-and-set on the attempt count: of two workers only one claims or records a given try."""
        q = update(t.notifications).where(_N.id == notification_id, _N.attempts == attempts).values(**values)
        return bool(self.c.execute(q).rowcount)

    def add_attempt(self, row: NewAttemptRow) -> None:
        self.c.execute(insert(t.notify_attempts).values(**row))

    def by_message_ids(self, message_ids: Sequence[str]) -> list[NotificationRow]:
        if not message_ids:
            return []
        q = select(t.notifications).where(_N.message_id.in_(list(message_ids)))
        return cast(list[NotificationRow], all_rows(self.c, q))

    def notifications_for(self, case_id: str) -> list[NotificationRow]:
        q = select(t.notifications).where(_N.case_id == case_id).order_by(_N.created_at, _N.message_id)
        return cast(list[NotificationRow], all_rows(self.c, q))

    def attempts_for(self, notification_ids: Sequence[str]) -> list[AttemptRow]:
        if not notification_ids:
            return []
        q = select(t.notify_attempts).where(_NA.notification_id.in_(list(notification_ids))).order_by(_NA.id)
        return cast(list[AttemptRow], all_rows(self.c, q))
