"""The audit browser: a merchant's trail read by its auditors a page at a time, newest first, narrowed by case,
person, action and dates. A case may be named by its refund number as people know it."""

from __future__ import annotations

from dataclasses import replace

from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.ports import AuditEventRow, AuditQuery
from posrefund.service.deps import Deps

PAGE = 50


def browse(deps: Deps, actor: Actor, query: AuditQuery, case_ref: str = "") -> tuple[list[AuditEventRow], int | None]:
    """One page of the actor's merchant's events and the cursor of the next (None on the last page). A case
    named by a refund number this merchant does not have gives an empty page, as one with no events."""
    actor.require("audit.browse")
    if query.at_from is not None and query.at_to is not None and query.at_from >= query.at_to:
        raise Invalid("audit.range_reversed", field="at_to")
    merchant_id = actor.merchant_id or ""
    limit = max(1, min(query.limit, 200))
    with deps.uow(readonly=True) as uow:
        if case_ref:
            case = uow.refunds.get_case(merchant_id, case_ref) or uow.refunds.get_by_refund_no(case_ref)
            if case is None or case.merchant_id != merchant_id:
                return [], None
            query = replace(query, case_id=case.id)
        rows = uow.audit.browse(merchant_id, replace(query, limit=limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (int(rows[-1]["id"]) if more and rows else None)
