"""The merchant's refund policy: read, replace (admin only, audited)."""

from __future__ import annotations

from typing import Any

from posrefund.domain.policy import RefundPolicy
from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps
from posrefund.service.records import record


def get_policy(deps: Deps, actor: Actor) -> RefundPolicy:
    actor.require("policy.read")
    with deps.uow(readonly=True) as uow:
        return uow.policies.get_policy(actor.merchant_id or "") or RefundPolicy()


def put_policy(deps: Deps, actor: Actor, document: dict[str, Any]) -> tuple[RefundPolicy, int]:
    actor.require("policy.write")
    policy = RefundPolicy.from_dict(document)
    now = deps.clock.now()
    with deps.uow() as uow:
        old = uow.policies.get_policy(actor.merchant_id or "") or RefundPolicy()
        version = uow.policies.put_policy(actor.merchant_id or "", policy, actor.id, now)
        changed = {k: [old.to_dict()[k], v] for k, v in policy.to_dict().items() if old.to_dict()[k] != v}
        record(uow, actor, actor.merchant_id, "policy.updated", now, version=version, changes=changed)
        uow.commit()
    return policy, version
