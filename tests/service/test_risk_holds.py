"""Holding the cases of a high alert is one statement a chunk of cases: only cases of the merchant still before
the money and never held before are held (their version moves, so a worker's claim that read one fails), and each
of those, and only those, gets its audit event."""

from __future__ import annotations

from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from posrefund.service.risk.holds import hold_cases
from tests.api.risk_routes import a_case, held_refunds
from tests.conftest import World
from tests.support.helpers import new_sale


def _version(deps: Deps, merchant_id: str, case_id: str) -> int:
    with deps.uow(readonly=True) as uow:
        case = uow.refunds.get_case(merchant_id, case_id)
        assert case is not None
        return case.version


def test_an_alert_holds_only_the_cases_still_before_the_money_and_never_held(deps: Deps, world: World) -> None:
    a, b = world.a, world.b
    alert_id, held_before = held_refunds(deps, world, approve=False)
    waiting, gone = a_case(deps, world), a_case(deps, world)
    refunds.cancel(deps, a.actors["cashier"], gone, "顾客改主意")
    sale_b = new_sale(deps, b, amount_fen=2_000)
    theirs = refunds.request_refund(
        deps, b.actors["cashier"], RefundRequest(sale_id=sale_b.id, amount_fen=1_000, reason="other")
    ).id
    named = [*held_before, waiting, gone, theirs, waiting]
    before = {c: _version(deps, a.id if c != theirs else b.id, c) for c in named}
    with deps.uow() as uow:
        assert hold_cases(uow, a.actors["risk"], a.id, alert_id, named, deps.clock.now()) == 1
        uow.commit()
        hold = uow.risk_holds.get_hold(a.id, waiting)
        assert hold is not None and (hold["alert_id"], hold["status"]) == (alert_id, "held")
        assert uow.risk_holds.get_hold(a.id, gone) is None
        assert uow.risk_holds.get_hold(b.id, theirs) is None
    after = {c: _version(deps, a.id if c != theirs else b.id, c) for c in named}
    assert {c: after[c] - before[c] for c in named} == {**dict.fromkeys(named, 0), waiting: 1}
    events = [e["action"] for e in refunds.case_events(deps, a.actors["supervisor"], waiting)]
    assert events.count("refund.held") == 1
    assert [e["action"] for e in refunds.case_events(deps, a.actors["supervisor"], gone)].count("refund.held") == 0
    with deps.uow() as uow:  # the same alert again holds nothing: each case is held at most once
        assert hold_cases(uow, a.actors["risk"], a.id, alert_id, named, deps.clock.now()) == 0
        uow.commit()
