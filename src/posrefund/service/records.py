"""Audit helper shared by use cases: every state change and sensitive read becomes a chained event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from posrefund.domain.events import CaseEvent
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.ports import CaseEventMessage, UnitOfWork


def flush_case_events(uow: UnitOfWork, case: RefundCase) -> list[CaseEvent]:
    """Write the case's pending events to the audit chain and the outbox (read by the notification sender),
    then clear them. Execution needs no outbox row: the channel worker finds approved cases in the refunds
    table, written in this same transaction."""
    events = list(case.pending_events)
    case.pending_events.clear()
    uow.audit.append_many(case.merchant_id, case.id, events)
    out: list[tuple[str, str, str | None, CaseEventMessage, datetime]] = []
    for ev in events:
        payload: CaseEventMessage = {
            "case_id": case.id,
            "refund_no": case.refund_no,
            "action": ev.action,
            "status": ev.after,
        }
        out.append(("case.event", case.merchant_id, case.id, payload, ev.at))
    uow.outbox.put_many(out)
    return events


def record(
    uow: UnitOfWork,
    actor: Actor,
    merchant_id: str | None,
    action: str,
    at: Any,
    *,
    case_id: str | None = None,
    reason: str = "",
    before: str | None = None,
    after: str | None = None,
    **data: Any,
) -> None:
    """An audit event that is not a case transition (admin changes, reveals, uploads)."""
    uow.audit.append(
        merchant_id,
        case_id,
        CaseEvent(action=action, actor=actor, at=at, before=before, after=after, reason=reason, data=data),
    )


def record_on_case(
    uow: UnitOfWork, actor: Actor, case: RefundCase, action: str, at: Any, reason: str = "", **data: Any
) -> None:
    """An audit event on a refund case that leaves it where it is (a contact, a reveal, an opt-out): its
    status stands as both before and after, so the case's trail reads without gaps."""
    record(
        uow,
        actor,
        case.merchant_id,
        action,
        at,
        case_id=case.id,
        reason=reason,
        before=case.status.value,
        after=case.status.value,
        **data,
    )
