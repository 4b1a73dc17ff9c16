"""The last two parts of a 定金 double return paid at the same moment on PostgreSQL: the refund's success is held
just before its commit (it has already looked at the deposit and found the penalty unpaid) while a second person
confirms the penalty transfer. The confirmation waits on the deposit's row and, once the refund commits, sees it
paid and settles the deposit; without that lock each would see the other's part still open and the deposit would
stay ``settling`` for good."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from posrefund.service import execution, refunds
from posrefund.service.deposits import holding, payouts, proposals
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.api.deposit_routes import a_terms
from tests.conftest import World
from tests.support.fakes import FakeChannel
from tests.support.helpers import sale_input

WAIT = 10.0


# PostgreSQL only: SQLite has one writer at a time, so the two transactions cannot overlap there.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_refund_and_the_penalty_paid_at_once_settle_the_deposit(deps: Deps, world: World, backend: str) -> None:
    a = world.a.actors
    sale = sale_input(world.a, deps.clock.now(), amount_fen=300_000)
    _, deposit = holding.record_deposit_sale(
        deps, a["cashier"], sale, terms_id=a_terms(deps, world), contract_value_fen=1_000_000
    )
    proposal = proposals.propose(deps, a["cashier"], deposit["id"], ending="merchant_breach")
    accepted = proposals.accept(deps, a["supervisor2"], deposit["id"], proposal["id"])
    refunds.approve(deps, a["supervisor"], accepted["refund"].id)

    held, go = threading.Event(), threading.Event()

    def hold_the_first_commit(name: str) -> None:
        if name == "record.before_commit" and not held.is_set():
            held.set()
            assert go.wait(WAIT)

    router = Router(channels={"wechat": FakeChannel()}, is_workday=lambda _d: True)
    refund = threading.Thread(target=execution.sweep, args=(replace(deps, failpoint=hold_the_first_commit), router))
    refund.start()
    assert held.wait(WAIT), "the refund's answer never reached its commit"
    confirmed: list[str] = []
    payout_id = accepted["payout"]["id"]
    confirm = threading.Thread(
        target=lambda: confirmed.append(payouts.confirm_payout(deps, a["finance"], payout_id, "TRF-RACE")["status"])
    )
    confirm.start()
    confirm.join(0.5)
    assert confirm.is_alive(), "the confirmation did not wait for the refund's transaction"
    go.set()
    refund.join(WAIT)
    confirm.join(WAIT)
    assert confirmed == ["paid"]
    after = holding.get_deposit(deps, a["auditor"], deposit["id"])
    assert (after["status"], after["refunded_fen"], after["reserved_fen"]) == ("settled", 300_000, 0)
    assert [e["action"] for e in after["events"]][-1] == "deposit.settled"
