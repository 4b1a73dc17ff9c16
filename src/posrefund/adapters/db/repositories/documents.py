"""Bank applications (退费申请) and the refund-cause summaries' subscriptions and deliveries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.report_days import day_start
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.domain.reports import Period
from posrefund.ports.documents import (
    BankApplicationRow,
    BankApplicationState,
    DeliveryRow,
    SubscriptionRow,
    SummaryCase,
)

_B = t.bank_applications.c
_S = t.summary_subscriptions.c
_D = t.summary_deliveries.c


class BankApplicationSql(Repository):
    def add_application(self, row: BankApplicationRow) -> None:
        self.c.execute(insert(t.bank_applications).values(**row))

    def get_application(self, merchant_id: str, application_id: str) -> BankApplicationRow | None:
        q = select(t.bank_applications).where(_B.id == application_id, _B.merchant_id == merchant_id)
        return cast(BankApplicationRow | None, first_row(self.c, q))

    def applications_of_case(self, merchant_id: str, case_id: str) -> list[BankApplicationRow]:
        q = select(t.bank_applications).where(_B.merchant_id == merchant_id, _B.case_id == case_id)
        return cast(list[BankApplicationRow], all_rows(self.c, q.order_by(_B.prepared_at, _B.id)))

    def save_application(self, application_id: str, version: int, values: BankApplicationState) -> bool:
        q = (
            update(t.bank_applications)
            .where(_B.id == application_id, _B.version == version)
            .values(version=version + 1, **values)
        )
        return bool(self.c.execute(q).rowcount)

    def overdue(self, merchant_id: str, today: date, limit: int) -> list[BankApplicationRow]:
        q = select(t.bank_applications).where(
            _B.merchant_id == merchant_id, _B.status == "submitted", _B.deadline < today
        )
        return cast(list[BankApplicationRow], all_rows(self.c, q.order_by(_B.deadline, _B.id).limit(limit)))


_R = t.refunds.c
OPEN_STATUSES = ("requested", "pending_review", "approved", "processing", "unknown")
TROUBLE_STATUSES = ("failed", "closed", "abnormal")


class SummarySql(Repository):
    def _cases_of(self, merchant_id: str, store_ids: tuple[str, ...], period: Period) -> list[ColumnElement[bool]]:
        start, end = day_start(period.first), day_start(period.last + timedelta(days=1))
        where = [_R.merchant_id == merchant_id, _R.created_at >= start, _R.created_at < end]
        if store_ids:
            where.append(_R.store_id.in_(store_ids))
        return where

    def reason_counts(
        self, merchant_id: str, store_ids: tuple[str, ...], period: Period
    ) -> list[tuple[str, str, str, int]]:
        q = (
            select(_R.store_id, _R.terminal_id, _R.reason, func.count())
            .where(*self._cases_of(merchant_id, store_ids, period))
            .group_by(_R.store_id, _R.terminal_id, _R.reason)
        )
        return [(str(s), str(term), str(r), int(n)) for s, term, r, n in self.c.execute(q)]

    def notable(
        self, merchant_id: str, store_ids: tuple[str, ...], period: Period, kind: str, limit: int
    ) -> list[SummaryCase]:
        q = select(*(_R[name] for name in SummaryCase.__slots__)).where(*self._cases_of(merchant_id, store_ids, period))
        order: list[Any]
        if kind == "largest":
            order = [_R.amount_fen.desc()]
        elif kind == "slowest":
            q = q.where(_R.status == "succeeded", _R.succeeded_at.is_not(None))
            order = [self._wait().desc()]
        else:
            q = q.where(_R.status.in_(TROUBLE_STATUSES if kind == "abnormal" else OPEN_STATUSES))
            order = [_R.created_at]
        rows = self.c.execute(q.order_by(*order, _R.id).limit(limit))
        return [SummaryCase(**row._mapping) for row in rows]

    def _wait(self) -> ColumnElement[Any]:
        """Request to payment, in an order both databases can sort by."""
        if self.c.dialect.name == "sqlite":
            return func.julianday(_R.succeeded_at) - func.julianday(_R.created_at)
        return _R.succeeded_at - _R.created_at

    def put_subscription(self, row: SubscriptionRow) -> None:
        have = self.subscription_of(row["merchant_id"], row["user_id"], row["cadence"], active_only=False)
        if have is None:
            self.c.execute(insert(t.summary_subscriptions).values(**row))
            return
        values = {k: v for k, v in row.items() if k not in ("id", "created_at")}
        self.c.execute(update(t.summary_subscriptions).where(_S.id == have["id"]).values(**values))

    def subscriptions(self, merchant_id: str | None, cadence: str) -> list[SubscriptionRow]:
        q = select(t.summary_subscriptions).where(_S.cadence == cadence, _S.active.is_(True))
        if merchant_id is not None:
            q = q.where(_S.merchant_id == merchant_id)
        return cast(list[SubscriptionRow], all_rows(self.c, q.order_by(_S.merchant_id, _S.id)))

    def subscription_of(
        self, merchant_id: str, user_id: str, cadence: str, *, active_only: bool = True
    ) -> SubscriptionRow | None:
        q = select(t.summary_subscriptions).where(
            _S.merchant_id == merchant_id, _S.user_id == user_id, _S.cadence == cadence
        )
        if active_only:
            q = q.where(_S.active.is_(True))
        return cast(SubscriptionRow | None, first_row(self.c, q))

    def end_subscription(self, merchant_id: str, user_id: str, cadence: str, now: datetime) -> bool:
        q = (
            update(t.summary_subscriptions)
            .where(_S.merchant_id == merchant_id, _S.user_id == user_id, _S.cadence == cadence, _S.active.is_(True))
            .values(active=False, updated_at=now)
        )
        return bool(self.c.execute(q).rowcount)

    def claim_delivery(self, row: DeliveryRow, stale_before: datetime, max_attempts: int) -> bool:
        """The insert is the claim (the primary key refuses a second one); a failed or stale claim is taken over
        by one conditional update, so two workers never both hold it."""
        try:
            with self.c.begin_nested():
                self.c.execute(insert(t.summary_deliveries).values(**row))
            return True
        except IntegrityError:
            pass
        takeover = or_(_D.status == "failed", and_(_D.status == "claimed", _D.claimed_at < stale_before))
        q = (
            update(t.summary_deliveries)
            .where(
                _D.subscription_id == row["subscription_id"],
                _D.period_key == row["period_key"],
                _D.attempts < max_attempts,
                takeover,
            )
            .values(status="claimed", claimed_at=row["claimed_at"], attempts=_D.attempts + 1, error="")
        )
        return bool(self.c.execute(q).rowcount)

    def finish_delivery(self, subscription_id: str, period_key: str, ok: bool, error: str, now: datetime) -> None:
        values = {"status": "sent", "sent_at": now, "error": ""} if ok else {"status": "failed", "error": error[:500]}
        q = update(t.summary_deliveries).where(_D.subscription_id == subscription_id, _D.period_key == period_key)
        self.c.execute(q.values(**values))

    def deliveries(self, merchant_id: str, period_key: str) -> list[DeliveryRow]:
        q = select(t.summary_deliveries).where(_D.merchant_id == merchant_id, _D.period_key == period_key)
        return cast(list[DeliveryRow], all_rows(self.c, q.order_by(_D.subscription_id)))
