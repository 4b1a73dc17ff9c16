"""Fund holds and their operations (``FundHoldRepo``). A claim is one ``UPDATE`` that checks the operation is
open, due and still under the fence the claimer read, so two workers never both send one operation; an answer is
written only under the claim's own fence."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.domain.fund_hold import CompletionRef, HeldFunds, HoldState, HoldStatus, HoldStep
from posrefund.ports.fund_holds import OPEN_OPERATIONS, HoldOperation, HoldRecord, OperationStatus

H = tables.fund_holds.c
O = tables.fund_hold_operations.c  # noqa: E741
_HELD = ("channel", "hold_no", "amount_fen", "currency", "held_at", "expires_at", "channel_hold_id", "tolerance_bp")
_CARD = ("auth_code", "rrn", "voucher_no", "batch_no", "terminal_no", "card_masked")
_OPEN = tuple(s.value for s in OPEN_OPERATIONS)


def _hold_values(hold: HoldRecord) -> dict[str, Any]:
    held, status, done = hold.held, hold.status, hold.status.completion
    values: dict[str, Any] = {name: getattr(held, name) for name in (*_HELD, *_CARD)}
    values |= {"state": status.state.value, "taken_fen": status.taken_fen, "sale_id": hold.sale_id}
    values |= {
        "completion_operation_no": done.operation_no if done else "",
        "completion_fen": done.amount_fen if done else 0,
        "completion_rrn": done.rrn if done else "",
        "completion_auth_code": done.auth_code if done else "",
        "completion_voucher_no": done.voucher_no if done else "",
        "completion_batch_no": done.batch_no if done else "",
        "completed_at": done.completed_at if done else None,
        "completion_by_notice": done.by_notice if done else False,
    }
    return values


def _hold(row: dict[str, Any]) -> HoldRecord:
    held = HeldFunds(merchant_no="", payer_ref="", **{name: row[name] for name in (*_HELD, *_CARD)})
    done = None
    if row["completed_at"] is not None:
        done = CompletionRef(
            row["completion_operation_no"],
            int(row["completion_fen"]),
            row["completion_rrn"],
            row["completion_auth_code"],
            row["completion_voucher_no"],
            row["completion_batch_no"],
            row["completed_at"],
            bool(row["completion_by_notice"]),
        )
    status = HoldStatus(HoldState(row["state"]), int(row["taken_fen"]), done)
    return HoldRecord(
        row["id"],
        row["merchant_id"],
        row["terminal_id"],
        held,
        status,
        int(row["version"]),
        row["sale_id"],
        row["recorded_by"],
    )


def _operation(row: dict[str, Any]) -> HoldOperation:
    values = {k: row[k] for k in HoldOperation.__dataclass_fields__ if k in row}
    values |= {"step": HoldStep(row["step"]), "status": OperationStatus(row["status"]), "sent": bool(row["sent"])}
    return HoldOperation(**values | {"details": json.loads(row["details"] or "{}")})


class FundHoldSql(Repository):
    def add_hold(self, hold: HoldRecord, now: datetime) -> bool:
        values = _hold_values(hold) | {"id": hold.id, "merchant_id": hold.merchant_id, "version": 1}
        values |= {"terminal_id": hold.terminal_id, "recorded_by": hold.recorded_by}
        taken = select(H.id).where(H.merchant_id == hold.merchant_id, H.hold_no == hold.held.hold_no)
        if self.c.execute(taken).first() is not None:
            return False
        self.c.execute(insert(tables.fund_holds).values(created_at=now, updated_at=now, **values))
        return True

    def get_hold(self, merchant_id: str, hold_id: str) -> HoldRecord | None:
        row = first_row(self.c, select(tables.fund_holds).where(H.id == hold_id, H.merchant_id == merchant_id))
        return _hold(row) if row else None

    def save_hold(self, hold: HoldRecord, now: datetime) -> bool:
        q = (
            update(tables.fund_holds)
            .where(H.id == hold.id, H.merchant_id == hold.merchant_id, H.version == hold.version)
            .values(version=H.version + 1, updated_at=now, **_hold_values(hold))
        )
        return self.c.execute(q).rowcount == 1

    def holds(self, merchant_id: str, states: frozenset[HoldState], limit: int) -> list[HoldRecord]:
        q = select(tables.fund_holds).where(H.merchant_id == merchant_id)
        if states:
            q = q.where(H.state.in_([s.value for s in states]))
        return [_hold(r) for r in all_rows(self.c, q.order_by(H.held_at.desc(), H.id).limit(limit))]

    def held_until(
        self, until: datetime, limit: int, merchant_id: str | None = None, state: HoldState = HoldState.HELD
    ) -> list[HoldRecord]:
        q = select(tables.fund_holds).where(H.state == state.value, H.expires_at <= until)
        if merchant_id is not None:
            q = q.where(H.merchant_id == merchant_id)
        return [_hold(r) for r in all_rows(self.c, q.order_by(H.expires_at, H.id).limit(limit))]

    def flagged_operations(self, merchant_id: str, limit: int) -> list[HoldOperation]:
        later = tables.fund_hold_operations.alias("later")
        refused = and_(O.status == OperationStatus.DECLINED.value, O.step == HoldStep.RELEASE.value)
        q = (
            select(tables.fund_hold_operations)
            .join(tables.fund_holds, and_(H.id == O.hold_id, H.merchant_id == O.merchant_id))
            .where(
                O.merchant_id == merchant_id,
                or_(refused, O.status == OperationStatus.UNRESOLVED.value),
                H.state.in_((HoldState.HELD.value, HoldState.HOLDING.value)),
                ~exists().where(
                    later.c.hold_id == O.hold_id,
                    later.c.merchant_id == O.merchant_id,
                    or_(
                        later.c.requested_at > O.requested_at,
                        and_(later.c.requested_at == O.requested_at, later.c.id > O.id),
                    ),
                ),
            )
            .order_by(O.requested_at.desc(), O.id)
            .limit(limit)
        )
        return [_operation(r) for r in all_rows(self.c, q)]

    def add_operation(self, operation: HoldOperation) -> None:
        values = {k: getattr(operation, k) for k in HoldOperation.__dataclass_fields__}
        values |= {"step": operation.step.value, "status": operation.status.value}
        self.c.execute(
            insert(tables.fund_hold_operations).values(**values | {"details": json.dumps(values["details"])})
        )

    def get_operation(self, merchant_id: str, operation_id: str) -> HoldOperation | None:
        q = select(tables.fund_hold_operations).where(O.id == operation_id, O.merchant_id == merchant_id)
        row = first_row(self.c, q)
        return _operation(row) if row else None

    def operations_of(self, merchant_id: str, hold_id: str) -> list[HoldOperation]:
        q = select(tables.fund_hold_operations).where(O.hold_id == hold_id, O.merchant_id == merchant_id)
        return [_operation(r) for r in all_rows(self.c, q.order_by(O.requested_at, O.id))]

    def due_operations(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        q = (
            select(O.merchant_id, O.id)
            .where(O.status.in_(_OPEN), or_(O.next_check_at.is_(None), O.next_check_at <= now))
            .order_by(O.next_check_at, O.id)
            .limit(limit)
        )
        return [(str(m), str(i)) for m, i in self.c.execute(q)]

    def claim(self, operation_id: str, fence: int, now: datetime, lease_until: datetime, worker: str) -> bool:
        q = (
            update(tables.fund_hold_operations)
            .where(
                O.id == operation_id,
                O.fence == fence,
                O.status.in_(_OPEN),
                or_(O.next_check_at.is_(None), O.next_check_at <= now),
            )
            .values(
                fence=O.fence + 1,
                attempts=O.attempts + 1,
                status=OperationStatus.PROCESSING.value,
                next_check_at=lease_until,
                worker=worker[:40],
            )
        )
        return self.c.execute(q).rowcount == 1

    def record(self, operation: HoldOperation, fence: int) -> bool:
        q = (
            update(tables.fund_hold_operations)
            .where(O.id == operation.id, O.fence == fence)
            .values(
                status=operation.status.value,
                sent=operation.sent,
                next_check_at=operation.next_check_at,
                outcome=operation.outcome,
                code=operation.code[:32],
                message=operation.message,
                details=json.dumps(operation.details, sort_keys=True),
                finished_at=operation.finished_at,
            )
        )
        return self.c.execute(q).rowcount == 1
