"""The notify tables (issue 5): contacts, opt-outs, templates, gateways, notifications and their attempts,
follow-ups, the contact log and disputes. Rows are plain dicts; the service gives them meaning."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select, update

from posrefund.adapters.db import tables as t


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


class NotifySql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def case_merchant(self, case_id: str) -> str | None:
        r = self.c.execute(select(t.refunds.c.merchant_id).where(t.refunds.c.id == case_id)).first()
        return str(r[0]) if r else None

    # --- contacts and opt-outs ---
    def contact(self, case_id: str) -> dict[str, Any] | None:
        r = self.c.execute(select(t.notify_contacts).where(t.notify_contacts.c.case_id == case_id)).first()
        return _row(r) if r else None

    def put_contact(self, row: dict[str, Any]) -> None:
        nc = t.notify_contacts.c
        done = self.c.execute(update(t.notify_contacts).where(nc.case_id == row["case_id"]).values(**row))
        if done.rowcount == 0:
            self.c.execute(insert(t.notify_contacts).values(**row))

    def phone_opted_out(self, merchant_id: str, phone_index: str) -> bool:
        o = t.notify_optouts.c
        q = select(o.phone_index).where(o.merchant_id == merchant_id, o.phone_index == phone_index)
        return self.c.execute(q).first() is not None

    def put_phone_optout(self, merchant_id: str, phone_index: str, source: str, now: datetime) -> None:
        if not self.phone_opted_out(merchant_id, phone_index):
            self.c.execute(
                insert(t.notify_optouts).values(
                    merchant_id=merchant_id, phone_index=phone_index, source=source, created_at=now
                )
            )

    # --- templates and gateways ---
    def template(self, merchant_id: str, event: str, language: str) -> tuple[str, str] | None:
        tc = t.notify_templates.c
        q = select(tc.subject, tc.body).where(tc.merchant_id == merchant_id, tc.event == event, tc.language == language)
        r = self.c.execute(q).first()
        return (str(r.subject), str(r.body)) if r else None

    def templates(self, merchant_id: str) -> list[dict[str, Any]]:
        tc = t.notify_templates.c
        q = select(t.notify_templates).where(tc.merchant_id == merchant_id).order_by(tc.event, tc.language)
        return [_row(r) for r in self.c.execute(q)]

    def put_template(self, row: dict[str, Any]) -> None:
        self.delete_template(row["merchant_id"], row["event"], row["language"])
        self.c.execute(insert(t.notify_templates).values(**row))

    def delete_template(self, merchant_id: str, event: str, language: str) -> bool:
        tc = t.notify_templates.c
        q = delete(t.notify_templates).where(tc.merchant_id == merchant_id, tc.event == event, tc.language == language)
        return bool(self.c.execute(q).rowcount)

    def gateway(self, merchant_id: str, kind: str) -> dict[str, Any] | None:
        g = t.notify_gateways.c
        r = self.c.execute(select(t.notify_gateways).where(g.merchant_id == merchant_id, g.kind == kind)).first()
        return _row(r) if r else None

    def gateways(self, merchant_id: str) -> list[dict[str, Any]]:
        g = t.notify_gateways.c
        q = select(t.notify_gateways).where(g.merchant_id == merchant_id).order_by(g.kind)
        return [_row(r) for r in self.c.execute(q)]

    def put_gateway(self, row: dict[str, Any]) -> None:
        g = t.notify_gateways.c
        self.c.execute(delete(t.notify_gateways).where(g.merchant_id == row["merchant_id"], g.kind == row["kind"]))
        self.c.execute(insert(t.notify_gateways).values(**row))

    # --- outbox case events and notifications ---
    def pending_case_events(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Oldest unprocessed case events; on PostgreSQL locked so concurrent workers take different rows."""
        o = t.outbox.c
        q = (
            select(o.id, o.merchant_id, o.case_id, o.payload)
            .where(o.topic == "case.event", o.done_at.is_(None), o.available_at <= now)
            .order_by(o.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_row(r) for r in self.c.execute(q)]

    def mark_events_done(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            o = t.outbox.c
            self.c.execute(update(t.outbox).where(o.id.in_(list(ids))).values(done_at=now, attempts=o.attempts + 1))

    def add_notification(self, row: dict[str, Any]) -> bool:
        n = t.notifications.c
        if self.c.execute(select(n.id).where(n.message_id == row["message_id"])).first() is not None:
            return False
        self.c.execute(insert(t.notifications).values(**row))
        return True

    def due_notifications(self, now: datetime, limit: int) -> list[str]:
        n = t.notifications.c
        q = (
            select(n.id)
            .where(n.status.in_(("pending", "sending")), n.next_attempt_at <= now)
            .order_by(n.next_attempt_at)
            .limit(limit)
        )
        return [str(r[0]) for r in self.c.execute(q)]

    def get_notification(self, notification_id: str) -> dict[str, Any] | None:
        r = self.c.execute(select(t.notifications).where(t.notifications.c.id == notification_id)).first()
        return _row(r) if r else None

    def update_notification(self, notification_id: str, attempts: int, values: dict[str, Any]) -> bool:
        """Compare-and-set on the attempt count: of two workers only one claims or records a given try."""
        n = t.notifications.c
        q = update(t.notifications).where(n.id == notification_id, n.attempts == attempts).values(**values)
        return bool(self.c.execute(q).rowcount)

    def add_attempt(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(t.notify_attempts).values(**row))

    def notifications_for(self, case_id: str) -> list[dict[str, Any]]:
        n = t.notifications.c
        q = select(t.notifications).where(n.case_id == case_id).order_by(n.created_at, n.message_id)
        return [_row(r) for r in self.c.execute(q)]

    def attempts_for(self, notification_ids: Sequence[str]) -> list[dict[str, Any]]:
        if not notification_ids:
            return []
        a = t.notify_attempts.c
        q = select(t.notify_attempts).where(a.notification_id.in_(list(notification_ids))).order_by(a.id)
        return [_row(r) for r in self.c.execute(q)]

    # --- follow-ups ---
    def cases_needing_followup(self, before: date, limit: int) -> list[tuple[str, str]]:
        r, f = t.refunds.c, t.followups.c
        q = (
            select(r.merchant_id, r.id)
            .where(
                r.status == "succeeded",
                r.expected_arrival < before,
                ~exists().where(f.case_id == r.id),
            )
            .order_by(r.expected_arrival, r.id)
            .limit(limit)
        )
        return [(str(a), str(b)) for a, b in self.c.execute(q)]

    def add_followup(self, row: dict[str, Any]) -> bool:
        f = t.followups.c
        if self.c.execute(select(f.case_id).where(f.case_id == row["case_id"])).first() is not None:
            return False
        self.c.execute(insert(t.followups).values(**row))
        return True

    def followup(self, merchant_id: str, case_id: str) -> dict[str, Any] | None:
        f = t.followups.c
        r = self.c.execute(select(t.followups).where(f.case_id == case_id, f.merchant_id == merchant_id)).first()
        return _row(r) if r else None

    def close_followup(self, case_id: str, values: dict[str, Any]) -> bool:
        f = t.followups.c
        q = update(t.followups).where(f.case_id == case_id, f.status == "open").values(status="closed", **values)
        return bool(self.c.execute(q).rowcount)

    def list_followups(self, merchant_id: str, status: str | None, limit: int) -> list[dict[str, Any]]:
        f = t.followups.c
        q = select(t.followups).where(f.merchant_id == merchant_id)
        if status:
            q = q.where(f.status == status)
        return [_row(r) for r in self.c.execute(q.order_by(f.due_on, f.case_id).limit(limit))]

    # --- contact log ---
    def add_contact_entry(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(t.contact_log).values(**row))

    def contact_entries(self, merchant_id: str, case_id: str) -> list[dict[str, Any]]:
        cl = t.contact_log.c
        q = select(t.contact_log).where(cl.merchant_id == merchant_id, cl.case_id == case_id).order_by(cl.at, cl.id)
        return [_row(r) for r in self.c.execute(q)]

    # --- disputes ---
    def add_dispute(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(t.disputes).values(**row))

    def get_dispute(self, merchant_id: str, dispute_id: str) -> dict[str, Any] | None:
        d = t.disputes.c
        r = self.c.execute(select(t.disputes).where(d.id == dispute_id, d.merchant_id == merchant_id)).first()
        return _row(r) if r else None

    def save_dispute(self, dispute_id: str, version: int, values: dict[str, Any]) -> bool:
        d = t.disputes.c
        q = update(t.disputes).where(d.id == dispute_id, d.version == version).values(version=version + 1, **values)
        return bool(self.c.execute(q).rowcount)

    def list_disputes(
        self, merchant_id: str, status: str | None, case_id: str | None, limit: int
    ) -> list[dict[str, Any]]:
        d = t.disputes.c
        q = select(t.disputes).where(d.merchant_id == merchant_id)
        if status:
            q = q.where(d.status == status)
        if case_id:
            q = q.where(d.case_id == case_id)
        return [_row(r) for r in self.c.execute(q.order_by(d.opened_at, d.id).limit(limit))]
