"""What a provider's staff see of their merchants: the merchants themselves, and their refund activity
read-only with every personal detail masked — never a case they could act on, never another provider's."""

from __future__ import annotations

from typing import Any

from posrefund.domain.roles import Actor
from posrefund.ports import RefundQuery
from posrefund.service.deps import Deps
from posrefund.service.provider.desk import provider_merchant, scope_of

# The fields of a refund a provider may read; notes, names of staff and clear contacts stay the merchant's.
SHOWN = ("id", "refund_no", "status", "amount_fen", "currency", "channel", "method", "reason", "created_at")


def merchants(deps: Deps, actor: Actor) -> list[dict[str, Any]]:
    actor.require("provider.merchants.read")
    with deps.uow(readonly=True) as uow:
        scope = scope_of(uow, actor)
        rows = [m for m in uow.merchants.list_merchants() if m["provider_id"] == scope.provider_id]
    return [{"id": m["id"], "code": m["code"], "name": m["name"]} for m in rows]


def merchant_refunds(deps: Deps, actor: Actor, merchant_id: str, limit: int = 50) -> list[dict[str, Any]]:
    actor.require("provider.refunds.read")
    with deps.uow(readonly=True) as uow:
        scope = scope_of(uow, actor)
        provider_merchant(uow, scope, merchant_id)
        cases = uow.refunds.find_cases(merchant_id, RefundQuery(limit=limit))
        customers = uow.refunds.customers_masked([c.id for c in cases])
    out = []
    for case in cases:
        row = {k: getattr(case, k) for k in SHOWN}
        row["status"] = case.status.value
        row["reason"] = getattr(case.reason, "value", case.reason)
        c = customers[case.id]
        row["customer"] = {"phone": c.phone_masked, "name": c.name_masked, "id_no": c.id_no_masked}
        out.append(row)
    return out
