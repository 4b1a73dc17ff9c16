"""A refund paid away from its route names its payee, kept masked on the refund: the risk rule that looks for
refunds paid to someone other than the payer reads it there. A full account number never enters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from posrefund.domain.errors import Invalid
from posrefund.service import execution
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.risk import alerts
from posrefund.service.risk.rules import merge
from tests.conftest import World
from tests.service.test_execution import approved
from tests.support.fakes import FakeChannel


def test_a_transfer_to_another_payee_is_kept_masked_and_seen_by_the_risk_rule(
    deps: Deps, world: World, router: Router, fake: FakeChannel
) -> None:
    supervisor = world.a.actors["supervisor"]
    cases = [approved(deps, world) for _ in range(2)]
    for case in cases:
        fake.script[case.refund_no] = ["abnormal"]
    execution.sweep(deps, router)
    with pytest.raises(Invalid) as refused:
        execution.reroute(deps, supervisor, cases[0].id, "transfer", "卡已注销", payee="6222021234567890123")
    assert refused.value.code == "pii.invalid_payee"
    execution.reroute(deps, supervisor, cases[0].id, "transfer", "卡已注销，转到家人账户", payee="622202******0123")
    execution.reroute(deps, supervisor, cases[1].id, "transfer", "卡已注销，转到手机", payee="138 0013 8000")
    with deps.uow(readonly=True) as uow:
        start, end = deps.clock.now() - timedelta(days=1), deps.clock.now() + timedelta(minutes=1)
        found = alerts.findings(uow, world.a.id, start, end, merge(None))
    paid_elsewhere = [f for f in found if f.rule == "payee_not_payer"]
    assert [(f.subject_id, f.measures["count"], f.severity) for f in paid_elsewhere] == [
        (world.a.actors["cashier"].id, 2, "high")
    ]
    assert sorted(paid_elsewhere[0].case_ids) == sorted(c.id for c in cases)
