"""The pace of the worker's looks at a refund in flight: an answer that told nothing and that the channel says to
follow at once is looked at again within seconds (a query, then the same number), never paid twice; "slow
down" answers and a refund the channel took wait for the channel's own delays. Fake channel at the edge, the
real database in the middle."""

from __future__ import annotations

from datetime import timedelta

import pytest

from posrefund.domain.refund import RefundStatus
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.conftest import FixedClock, World
from tests.service.test_execution import approved
from tests.support.fakes import FakeChannel

S = RefundStatus


def due_in(deps: Deps, world: World, case_id: str, clock: FixedClock) -> float:
    case = refunds.get_case(deps, world.a.actors["auditor"], case_id).case
    assert case.next_check_at is not None
    return (case.next_check_at - clock.now()).total_seconds()


def test_a_system_error_that_moved_nothing_is_sent_again_with_the_same_number_within_seconds(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["system_error"]
    execution.sweep(deps, router)
    assert due_in(deps, world, case.id, clock) == 2.0  # not the first-query minute
    clock.advance(seconds=1)
    assert execution.sweep(deps, router) == 0
    clock.advance(seconds=1)
    execution.sweep(deps, router)  # query → not found → the same number again, in one step
    done = refunds.get_case(deps, world.a.actors["auditor"], case.id).case
    assert done.status is S.SUCCEEDED
    assert fake.calls == [("submit", case.refund_no), ("query", case.refund_no), ("submit", case.refund_no)]
    assert fake.ledger == {case.refund_no: 3_000}


def test_a_system_error_that_hid_a_refund_is_found_by_the_early_look_and_never_sent_twice(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["system_error_applied"]
    execution.sweep(deps, router)
    clock.advance(seconds=2)
    execution.sweep(deps, router)
    assert refunds.get_case(deps, world.a.actors["auditor"], case.id).case.status is S.SUCCEEDED
    assert fake.calls == [("submit", case.refund_no), ("query", case.refund_no)]


def test_early_looks_are_spent_then_the_channel_s_own_delays_apply(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["system_error"] * 4
    execution.sweep(deps, router)
    waits = [due_in(deps, world, case.id, clock)]
    for _ in range(3):
        clock.advance(seconds=waits[-1])
        execution.sweep(deps, router)
        waits.append(due_in(deps, world, case.id, clock))
    assert waits == [2.0, 5.0, 15.0, 60.0]  # WeChat's early looks, then its first-query minute
    assert [k for k, _ in fake.calls] == ["submit", "query", "query", "query"]
    clock.advance(seconds=60)
    execution.sweep(deps, router)
    assert refunds.get_case(deps, world.a.actors["auditor"], case.id).case.status is S.SUCCEEDED
    assert fake.ledger == {case.refund_no: 3_000}


def test_a_slow_down_answer_waits_for_the_channel_s_delay(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["slow_down"]
    execution.sweep(deps, router)
    assert due_in(deps, world, case.id, clock) == 60.0


def test_a_refund_the_channel_took_is_not_looked_at_early(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["processing"]
    execution.sweep(deps, router)
    assert due_in(deps, world, case.id, clock) == 60.0


def test_alipay_early_looks_follow_its_five_seconds(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = approved(deps, world, channel="alipay")
    fake.script[case.refund_no] = ["system_error"]
    execution.sweep(deps, router)
    assert due_in(deps, world, case.id, clock) == 6.0


def test_configured_early_looks_replace_the_defaults(deps: Deps, world: World, fake: FakeChannel) -> None:
    from posrefund.entrypoints.worker.refresh import rules_from

    rules = rules_from({"wechat": {"ask_again_after_seconds": [1, 3]}}, execution.DEFAULT_RULES)
    assert rules["wechat"].ask_again_after == (timedelta(seconds=1), timedelta(seconds=3))
    assert rules["wechat"].first_query_after == timedelta(seconds=60)  # the rest unchanged
    with pytest.raises(ValueError, match="ask_again_after_seconds"):
        rules_from({"wechat": {"ask_again_after_seconds": 2}}, execution.DEFAULT_RULES)
    with pytest.raises(ValueError, match="ask_again_after_seconds"):
        rules_from({"wechat": {"ask_again_after_seconds": [-1]}}, execution.DEFAULT_RULES)
