"""Card pre-authorisations through the service, on the real database, with the real terminal adapter talking to
the acquirer simulator: recorded from the terminal, completed (and the completion refunded as an ordinary card
sale), released, refused by the rules before anything is sent, and executed exactly once by the worker across a
lost answer and a worker that dies between the channel's answer and its commit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from posrefund.domain.fund_hold import HoldState, HoldStep
from posrefund.domain.refund import RefundStatus
from posrefund.ports.fund_holds import HoldRecord, OperationStatus
from posrefund.service import execution, fund_holds, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.conftest import FixedClock, World
from tests.support.card_holds import Card, card_host


@pytest.fixture
def card(engine: Engine, clock: FixedClock) -> Iterator[Card]:
    with card_host(engine, clock) as running:
        yield running


def preauthorised(deps: Deps, world: World, card: Card, amount_fen: int = 10_000) -> HoldRecord:
    """The terminal's 预授权, then the terminal's key records it in posrefund."""
    return fund_holds.record_card_hold(deps, world.a.actors["terminal"], card.slip(world, amount_fen))


def hold_of(deps: Deps, world: World, hold_id: str) -> HoldRecord:
    return fund_holds.get_hold(deps, world.a.actors["auditor"], hold_id)[0]


def test_complete_then_refund_the_completion_as_a_card_refund(deps: Deps, world: World, card: Card) -> None:
    hold = preauthorised(deps, world, card)
    op = fund_holds.ask(deps, world.a.actors["cashier"], hold.id, HoldStep.COMPLETE, 8_000)
    assert fund_holds.sweep_holds(deps, card.worker) == 1
    done = hold_of(deps, world, hold.id)
    assert (done.status.state, done.status.taken_fen, done.sale_id != "") == (HoldState.COMPLETED, 8_000, True)
    assert fund_holds.get_hold(deps, world.a.actors["auditor"], hold.id)[1][0].status is OperationStatus.SUCCEEDED
    assert fund_holds.sweep_holds(deps, card.worker) == 0  # nothing due: never sent again
    case = refunds.request_refund(
        deps,
        world.a.actors["cashier"],
        RefundRequest(sale_id=done.sale_id, amount_fen=3_000, reason="customer_cancelled"),
    )
    router = Router(channels={"card": card.card}, is_workday=ChineseCalendar().is_workday)
    execution.sweep(deps, router)
    refunded = refunds.get_case(deps, world.a.actors["auditor"], case.id).case
    assert refunded.status is RefundStatus.SUCCEEDED
    assert [r["kind"] for r in card.sim.book.hold_rows(hold.held.rrn) if r["executed"]] == ["complete", "refund"]
    assert op.operation_no.startswith("HO")


def test_release_and_the_rules_refuse_before_anything_is_sent(deps: Deps, world: World, card: Card) -> None:
    hold = preauthorised(deps, world, card)
    cashier = world.a.actors["cashier"]
    with pytest.raises(Invalid) as above:
        fund_holds.ask(deps, cashier, hold.id, HoldStep.COMPLETE, 11_501)
    assert above.value.code == "hold.above_ceiling"
    with pytest.raises(Forbidden):
        fund_holds.ask(deps, world.a.actors["finance"], hold.id, HoldStep.RELEASE, 0)
    with pytest.raises(NotFound):
        fund_holds.ask(deps, world.b.actors["cashier"], hold.id, HoldStep.RELEASE, 0)
    fund_holds.ask(deps, cashier, hold.id, HoldStep.RELEASE, 0)
    with pytest.raises(Conflict) as open_one:
        fund_holds.ask(deps, cashier, hold.id, HoldStep.COMPLETE, 100)
    assert open_one.value.code == "hold.operation_open"
    fund_holds.sweep_holds(deps, card.worker)
    assert hold_of(deps, world, hold.id).status.state is HoldState.RELEASED
    assert len(card.live(hold.held.rrn, "release")) == 1
    for step, code in ((HoldStep.COMPLETE, "hold.not_held"), (HoldStep.RELEASE, "hold.not_held")):
        with pytest.raises(DomainError) as refused:
            fund_holds.ask(deps, cashier, hold.id, step, 100)
        assert refused.value.code == code


def test_after_completion_a_release_is_refused_and_after_expiry_everything(
    deps: Deps, world: World, card: Card, clock: FixedClock
) -> None:
    done = preauthorised(deps, world, card, 5_000)
    fund_holds.ask(deps, world.a.actors["cashier"], done.id, HoldStep.COMPLETE, 5_000)
    fund_holds.sweep_holds(deps, card.worker)
    with pytest.raises(Conflict) as completed:
        fund_holds.ask(deps, world.a.actors["cashier"], done.id, HoldStep.RELEASE, 0)
    assert completed.value.code == "hold.already_completed"
    old = preauthorised(deps, world, card, 6_000)
    clock.advance(days=27)
    soon = fund_holds.expiring_holds(deps, world.a.actors["cashier"], timedelta(days=3))
    assert [h.id for h in soon] == [old.id]
    clock.advance(days=3)
    with pytest.raises(Conflict) as expired:
        fund_holds.ask(deps, world.a.actors["cashier"], old.id, HoldStep.COMPLETE, 100)
    assert expired.value.code == "hold.expired"
    assert fund_holds.expire_holds(deps) == 1
    assert hold_of(deps, world, old.id).status.state is HoldState.EXPIRED
    assert hold_of(deps, world, done.id).status.state is HoldState.COMPLETED


def test_a_lost_answer_and_a_worker_dying_before_its_commit_execute_once(
    deps: Deps, world: World, card: Card, clock: FixedClock
) -> None:
    hold = preauthorised(deps, world, card)
    fund_holds.ask(deps, world.a.actors["cashier"], hold.id, HoldStep.COMPLETE, 9_000)
    card.sim.set_fault(f"{hold.held.rrn}:9000", "no_answer_after_accept")

    def dies(name: str) -> None:
        if name == "hold.before_commit":
            raise SystemExit("killed between the channel's answer and the commit")

    with pytest.raises(SystemExit):  # the lost answer is reversed: UNKNOWN, and the worker dies before writing it
        fund_holds.sweep_holds(replace(deps, failpoint=dies), card.worker, failed=None)
    assert fund_holds.sweep_holds(deps, card.worker) == 0  # the dead worker's lease still runs
    clock.advance(minutes=4)
    with pytest.raises(SystemExit):  # asked: nothing moved (reversed), sent again, executed; dies again
        fund_holds.sweep_holds(replace(deps, failpoint=dies), card.worker)
    clock.advance(minutes=4)
    assert fund_holds.sweep_holds(deps, card.worker) == 1  # asked: the journal has the approval
    assert hold_of(deps, world, hold.id).status.state is HoldState.COMPLETED
    rows = [(r["kind"], r["executed"]) for r in card.sim.book.hold_rows(hold.held.rrn)]
    assert rows == [("complete", False), ("complete", True)]
    ops = fund_holds.get_hold(deps, world.a.actors["auditor"], hold.id)[1]
    assert [(o.status, o.attempts) for o in ops] == [(OperationStatus.SUCCEEDED, 3)]
