"""Sales and refund cases written straight through the repositories (as the use cases write them, marks of
changed days included), for the refund reports' tests: any status, any time, without running each case's life."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from posrefund.domain.events import CaseEvent
from posrefund.domain.policy import Reason
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.domain.roles import SYSTEM_ACTOR
from posrefund.domain.sale import Channel, Sale, SaleKind, SettlementStatus
from posrefund.ports import CustomerRecord, UnitOfWork

_serial = itertools.count(1)
# Local midnight of 2026-11-01 in China (UTC+8), the first day the report tests write into.
DAY0 = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Place:
    merchant_id: str
    store_id: str
    terminal_id: str


def add_sale(uow: UnitOfWork, at: Place, paid_at: datetime, amount_fen: int, channel: str = "wechat") -> Sale:
    n = next(_serial)
    sale = Sale(
        id=f"S{n:08d}",
        merchant_id=at.merchant_id,
        store_id=at.store_id,
        terminal_id=at.terminal_id,
        channel=Channel(channel),
        kind=SaleKind.SALE,
        amount_fen=amount_fen,
        fee_fen=0,
        currency="CNY",
        paid_at=paid_at,
        settlement_status=SettlementStatus("unsettled"),
        voucher_no=f"{n:06d}",
        rrn=f"{n:012d}",
        batch_no="000001",
        auth_code="A1B2C3",
        order_no=f"ORD{n:08d}",
        payer_masked="o***ab",
    )
    assert uow.sales.add_sale(sale, paid_at)
    return sale


def add_case(
    uow: UnitOfWork, sale: Sale, created_at: datetime, amount_fen: int, cashier_id: str, reason: str = "other"
) -> RefundCase:
    n = next(_serial)
    case = RefundCase(
        id=f"R{n:08d}",
        merchant_id=sale.merchant_id,
        store_id=sale.store_id,
        terminal_id=sale.terminal_id,
        sale_id=sale.id,
        refund_no=f"RN{n:010d}",
        amount_fen=amount_fen,
        currency=sale.currency,
        reason=Reason(reason),
        note="",
        status=RefundStatus.REQUESTED,
        requested_by=cashier_id,
        requested_role="cashier",
        created_at=created_at,
        updated_at=created_at,
        channel=sale.channel.value,
    )
    uow.refunds.add_case(case, CustomerRecord())
    return case


def move(
    uow: UnitOfWork,
    case: RefundCase,
    status: str,
    at: datetime,
    *,
    paid_at: datetime | None = None,
    rerouted: bool = False,
) -> None:
    """A step of the case as the domain records one: a new status (and payment time, route) and its event."""
    before = case.status
    case.status = RefundStatus(status)
    case.updated_at = at
    case.succeeded_at = paid_at if status == "succeeded" else None
    if rerouted:
        case.rerouted_by = "reviewer"
    case.pending_events.append(CaseEvent.between("test.step", SYSTEM_ACTOR, at, before, case.status, "", {}))
    uow.refunds.save_case(case)
    case.pending_events.clear()


def later(base: datetime, **kw: float) -> datetime:
    return base + timedelta(**kw)
