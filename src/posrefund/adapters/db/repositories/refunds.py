"""Refund cases, with the customer's contact as stored (encrypted, indexed, masked)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, insert, or_, select, tuple_, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.prebuilt import Prebuilt
from posrefund.adapters.db.repositories.report_days import local_day, mark_day
from posrefund.adapters.db.repositories.rows import Repository, columns_of, dataclass_columns, equal_where_given
from posrefund.domain.policy import Reason
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.ports import ConcurrentUpdate, CustomerRecord, RefundQuery, StaleFence

# Built once and run on the driver's cursor: the refund hot path (see sales.py and prebuilt.py).
_R = tables.refunds.c
INSERT_REFUND = Prebuilt(insert(tables.refunds), held=True)
GET_CASE = Prebuilt(select(tables.refunds).where(_R.id == bindparam("b_id"), _R.merchant_id == bindparam("b_mid")))
SAVE_CASE = Prebuilt(update(tables.refunds).where(_R.id == bindparam("b_id"), _R.version == bindparam("b_version")))
# A worker's save: also under the fence its claim took, so the database itself refuses a stale worker's write.
SAVE_FENCED = Prebuilt(
    update(tables.refunds).where(
        _R.id == bindparam("b_id"), _R.version == bindparam("b_version"), _R.fence == bindparam("b_fence")
    )
)
_CASE_COLUMNS = dataclass_columns(RefundCase, tables.refunds)
_CUSTOMER_FIELDS = tuple(f.name for f in fields(CustomerRecord))


def case_from_row(r: Any) -> RefundCase:
    m = r._mapping
    return RefundCase(
        **{
            **columns_of(m, _CASE_COLUMNS),
            "reason": Reason(m["reason"]),
            "status": RefundStatus(m["status"]),
            "approved_by": json.loads(m["approved_by"]),
            "evidence_ids": json.loads(m["evidence_ids"]),
            "submitted": bool(m["submitted"]),
        }
    )


def _customer_from(m: Any) -> CustomerRecord:
    """The customer's fields are the refund's columns of the same name after ``customer_``."""
    return CustomerRecord(**{name: m[f"customer_{name}"] for name in _CUSTOMER_FIELDS})


def new_case_row(case: RefundCase, customer: CustomerRecord) -> dict[str, Any]:
    """A new case's row, at version 1."""
    return {
        "id": case.id,
        "merchant_id": case.merchant_id,
        "store_id": case.store_id,
        "terminal_id": case.terminal_id,
        "sale_id": case.sale_id,
        "refund_no": case.refund_no,
        "amount_fen": case.amount_fen,
        "currency": case.currency,
        "reason": case.reason.value,
        "note": case.note,
        "status": case.status.value,
        "channel": case.channel,
        "requested_by": case.requested_by,
        "requested_role": case.requested_role,
        "required_approvals": case.required_approvals,
        "approved_by": json.dumps(case.approved_by),
        "review_reason": case.review_reason,
        "evidence_ids": json.dumps(case.evidence_ids),
        "request_id": case.request_id,
        "customer_phone_enc": customer.phone_enc,
        "customer_phone_index": customer.phone_index,
        "customer_phone_masked": customer.phone_masked,
        "customer_name_enc": customer.name_enc,
        "customer_name_masked": customer.name_masked,
        "customer_id_no_enc": customer.id_no_enc,
        "customer_id_no_masked": customer.id_no_masked,
        "version": 1,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


def _changed_case_row(case: RefundCase) -> dict[str, Any]:
    """What a save writes (the columns a case's life changes), guarded by the version read."""
    return {
        "b_id": case.id,
        "b_version": case.version,
        "status": case.status.value,
        "refund_no": case.refund_no,
        "approved_by": json.dumps(case.approved_by),
        "review_reason": case.review_reason,
        "updated_at": case.updated_at,
        "method": case.method,
        "attempts": case.attempts,
        "submitted": case.submitted,
        "channel_refund_id": case.channel_refund_id,
        "last_code": case.last_code,
        "next_check_at": case.next_check_at,
        "checks": case.checks,
        "sent_at": case.sent_at,
        "succeeded_at": case.succeeded_at,
        "expected_arrival": case.expected_arrival,
        "rerouted_by": case.rerouted_by,
        "version": case.version + 1,
    }


class RefundSql(Repository):
    def add_case(self, case: RefundCase, customer: CustomerRecord) -> None:
        INSERT_REFUND.run(self.c, new_case_row(case, customer))
        mark_day(self.c, case.merchant_id, local_day(case.created_at))
        case.version = 1

    def get_case(self, merchant_id: str, case_id: str) -> RefundCase | None:
        r = GET_CASE.run(self.c, {"b_id": case_id, "b_mid": merchant_id}).first()
        return case_from_row(r) if r else None

    def save_case(self, case: RefundCase, fence: int | None = None) -> None:
        """Compare-and-set on the version read: a lost race raises instead of overwriting. With a ``fence``
        (a worker's answer) the row must also still carry that fence: otherwise ``StaleFence``."""
        if fence is None:
            saved = SAVE_CASE.run(self.c, _changed_case_row(case)).rowcount
        else:
            saved = SAVE_FENCED.run(self.c, {**_changed_case_row(case), "b_fence": fence}).rowcount
        if saved != 1:
            if fence is not None and self._fence(case.id) != fence:
                raise StaleFence(case.id, fence)
            raise ConcurrentUpdate(case.id)
        if case.pending_events:  # a step of the case (not a lease or a timer): the reports' day changed
            mark_day(self.c, case.merchant_id, local_day(case.created_at))
        case.version += 1

    def _fence(self, case_id: str) -> int:
        return int(self.c.execute(select(_R.fence).where(_R.id == case_id)).scalar_one())

    def set_payee(self, case_id: str, payee_masked: str) -> None:
        self.c.execute(update(tables.refunds).where(_R.id == case_id).values(payee_masked=payee_masked))

    def next_fence(self, case_id: str) -> int:
        """A new fencing token for a claim, in the claim's transaction: one more than any before."""
        self.c.execute(update(tables.refunds).where(_R.id == case_id).values(fence=_R.fence + 1))
        return self._fence(case_id)

    def renew_lease(self, case_id: str, fence: int, until: datetime) -> bool:
        """Extend a running call's lease while the case is in flight under this fence. False only when the
        fence moved on (another worker claimed the case); a case a callback already finished keeps its fence."""
        q = (
            update(tables.refunds)
            .where(_R.id == case_id, _R.fence == fence, _R.status == "processing")
            .values(next_check_at=until)
        )
        return self.c.execute(q).rowcount == 1 or self._fence(case_id) == fence

    def case_merchant(self, case_id: str) -> str | None:
        """The merchant a case belongs to, whoever asks (a customer's tracking link carries only the case)."""
        r = self.c.execute(select(_R.merchant_id).where(_R.id == case_id)).first()
        return str(r[0]) if r else None

    def get_by_refund_no(self, refund_no: str) -> RefundCase | None:
        """The case by any number it was sent under: a wallet retry's new number, or an earlier one."""
        r = self.c.execute(select(tables.refunds).where(_R.refund_no == refund_no)).first()
        if r is None:
            sent = select(tables.refund_attempts.c.case_id).where(tables.refund_attempts.c.refund_no == refund_no)
            r = self.c.execute(select(tables.refunds).where(_R.id.in_(sent))).first()
        return case_from_row(r) if r else None

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(merchant, case) pairs the worker must move: approved and not yet handed over, or in flight and
        due for a look. Our own table is the queue, so nothing is lost with a dead worker."""
        q = select(_R.merchant_id, _R.id).where(due_now(now)).order_by(_R.updated_at).limit(limit)
        return [(str(row[0]), str(row[1])) for row in self.c.execute(q)]

    def due_on_channels(self, now: datetime, limit: int) -> list[tuple[str, str, str]]:
        """The same due cases with their channel, so a concurrent worker can hold each channel to its
        number of calls in flight before it hands a case to a thread. Both halves of the filter are served
        by ``ix_refunds_due`` (status, next_check_at): cheap enough to ask several times a second."""
        q = select(_R.merchant_id, _R.id, _R.channel).where(due_now(now)).order_by(_R.updated_at).limit(limit)
        return [(str(row[0]), str(row[1]), str(row[2])) for row in self.c.execute(q)]

    def unknown_cases(self, merchant_id: str, channels: Sequence[str]) -> list[RefundCase]:
        """The merchant's refunds whose outcome the channel can no longer tell: for reconciliation to settle."""
        q = (
            select(tables.refunds)
            .where(_R.merchant_id == merchant_id, _R.status == "unknown", _R.channel.in_(channels))
            .order_by(_R.sent_at, _R.id)
        )
        return [case_from_row(r) for r in self.c.execute(q)]

    def last_sent_for_sale(self, sale_id: str, other_than: str) -> datetime | None:
        """When another refund of the same sale was last sent: channels want a gap between them."""
        q = select(func.max(_R.sent_at)).where(_R.sale_id == sale_id, _R.id != other_than)
        value = self.c.execute(q).scalar()  # max() keeps the column's type, so this is an aware datetime
        assert value is None or isinstance(value, datetime)
        return value

    def customer(self, case_id: str) -> CustomerRecord:
        r = self.c.execute(select(tables.refunds).where(_R.id == case_id)).first()
        assert r is not None
        return _customer_from(r._mapping)

    def customers_masked(self, case_ids: Sequence[str]) -> dict[str, CustomerRecord]:
        if not case_ids:
            return {}
        rows = self.c.execute(select(tables.refunds).where(_R.id.in_(list(case_ids))))
        return {r._mapping["id"]: _customer_from(r._mapping) for r in rows}

    def count_cases(self, merchant_id: str, query: RefundQuery) -> int:
        """How many cases the list's filters match: a walk over all of them, so only on request."""
        where = and_(*_case_conditions(merchant_id, replace(query, after=None)))
        return int(self.c.execute(select(func.count()).select_from(tables.refunds).where(where)).scalar() or 0)

    def find_cases(self, merchant_id: str, query: RefundQuery) -> list[RefundCase]:
        """One page in (created_at, id) order, after ``query.after`` when given: the key every list index ends
        in, so the page costs the same on the first page and the ten-thousandth."""
        key = tuple_(_R.created_at, _R.id)
        conds = _case_conditions(merchant_id, query)
        if query.after is not None:
            conds.append(key > tuple_(*query.after) if query.oldest_first else key < tuple_(*query.after))
        order = (_R.created_at.asc(), _R.id.asc()) if query.oldest_first else (_R.created_at.desc(), _R.id.desc())
        q = select(tables.refunds).where(and_(*conds)).order_by(*order).limit(query.limit).offset(query.offset)
        return [case_from_row(row) for row in self.c.execute(q)]


def _case_conditions(merchant_id: str, query: RefundQuery) -> list[Any]:
    """The list's filters: each one given narrows the merchant's cases."""
    conds = [
        _R.merchant_id == merchant_id,
        *equal_where_given(
            (_R.status, query.status),
            (_R.store_id, query.store_id),
            (_R.terminal_id, query.terminal_id),
            (_R.sale_id, query.sale_id),
            (_R.customer_phone_index, query.phone_index),
            (_R.requested_by, query.requested_by),
        ),
    ]
    if query.refund_no:
        sent = select(tables.refund_attempts.c.case_id).where(tables.refund_attempts.c.refund_no == query.refund_no)
        conds.append(or_(_R.refund_no == query.refund_no, _R.id.in_(sent)))
    if query.phone_last4:
        conds.append(_R.customer_phone_masked.endswith(query.phone_last4, autoescape=True))
    if query.created_from:
        conds.append(_R.created_at >= query.created_from)
    if query.created_to:
        conds.append(_R.created_at < query.created_to)
    return conds


def due_now(now: datetime) -> ColumnElement[bool]:
    """Approved and not yet handed over (an approved case waits only for a channel's gap between refunds of one
    order: its timer) nor held by a high risk alert, or in flight with its next look due."""
    held = select(tables.risk_holds.c.case_id).where(
        tables.risk_holds.c.case_id == _R.id, tables.risk_holds.c.status == "held"
    )
    waiting = (_R.status == "approved") & (_R.next_check_at.is_(None) | (_R.next_check_at <= now)) & ~held.exists()
    return waiting | ((_R.status == "processing") & (_R.next_check_at.is_not(None)) & (_R.next_check_at <= now))
