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
    shown = ("id", "code", "name", "licence_no", "settlement_bank", "settlement_account_masked")
    return [{key: m.get(key, "") for key in shown} for m in rows]


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


# A payout case still owed to the merchant: awaiting finance's approval, or approved and awaiting the transfer.
PENDING_PAYOUTS = ("open", "approved")


def pending_payouts(deps: Deps, actor: Actor) -> dict[str, dict[str, int]]:
    """The fee refunds and one-off charges given back still pending across the provider's merchants, as a count
    and a sum per (kind, status): ``{"overcharge:open": {"count": 2, "amount_fen": 1234}, …}``."""
    actor.require("fees.read")
    out: dict[str, dict[str, int]] = {}
    with deps.uow(readonly=True) as uow:
        scope = scope_of(uow, actor)
        ids = [m["id"] for m in uow.merchants.list_merchants() if m["provider_id"] == scope.provider_id]
        ids = [scope.merchant_id] if scope.merchant_id is not None else ids  # a merchant's staff: their own only
        for merchant_id in ids:
            for status in PENDING_PAYOUTS:
                for case in uow.fee_contracts.payouts(merchant_id, status):
                    sums = out.setdefault(f"{case.kind}:{status}", {"count": 0, "amount_fen": 0})
                    sums["count"] += 1
                    sums["amount_fen"] += case.amount_fen
    return out
