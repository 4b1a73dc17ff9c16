"""The worker's flow with a fake channel at the edge and the real database in the middle."""

from __future__ import annotations

from datetime import date

import pytest

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.domain.channel import ChannelAnswer, Outcome
from posrefund.domain.errors import Conflict, Forbidden, Invalid
from posrefund.domain.refund import RefundStatus
from posrefund.service import execution, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.conftest import FixedClock, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale

S = RefundStatus


def approved(deps: Deps, world: World, amount: int = 3_000, **sale_kw: object) -> refunds.RefundCase:
    sale = new_sale(deps, world.a, **sale_kw)
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=amount, reason="customer_cancelled")
    )
    assert case.status is S.APPROVED
    return case


def state(deps: Deps, world: World, case_id: str) -> refunds.RefundCase:
    return refunds.get_case(deps, world.a.actors["auditor"], case_id).case


def test_submit_then_query_until_success(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["processing", "processing"]
    assert execution.sweep(deps, router) == 1
    mid = state(deps, world, case.id)
    assert (mid.status, mid.method, mid.attempts, mid.channel_refund_id) == (
        S.PROCESSING,
        "refund",
        1,
        f"CH-{case.refund_no}",
    )
    assert execution.sweep(deps, router) == 0  # first query only after a minute
    clock.advance(seconds=61)
    execution.sweep(deps, router)  # PROCESSING again
    assert state(deps, world, case.id).status is S.PROCESSING
    clock.advance(seconds=59)
    assert execution.sweep(deps, router) == 0  # back-off grows
    clock.advance(seconds=70)
    execution.sweep(deps, router)
    done = state(deps, world, case.id)
    assert done.status is S.SUCCEEDED and done.expected_arrival == date(2026, 11, 20)
    assert fake.calls == [("submit", case.refund_no), ("query", case.refund_no), ("query", case.refund_no)]
    sale = sales.get_sale(deps, world.a.actors["cashier"], case.sale_id)
    assert (sale.refunded_fen, sale.reserved_fen) == (3_000, 0)
    actions = [e["action"] for e in refunds.case_events(deps, world.a.actors["auditor"], case.id)]
    assert actions[-2:] == ["refund.processing", "refund.succeeded"]


def test_lost_answer_is_resolved_by_query_never_a_second_submit(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["timeout"]  # executed, but the answer never came
    execution.sweep(deps, router)
    assert state(deps, world, case.id).status is S.PROCESSING
    clock.advance(seconds=61)
    execution.sweep(deps, router)
    assert state(deps, world, case.id).status is S.SUCCEEDED
    assert [k for k, _ in fake.calls] == ["submit", "query"] and fake.ledger == {case.refund_no: 3_000}


def test_request_that_never_arrived_is_sent_again_with_the_same_number(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["lost"]  # the request never reached the channel
    execution.sweep(deps, router)
    clock.advance(seconds=61)
    execution.sweep(deps, router)  # query → NOT_FOUND → submit again, same refund_no
    assert state(deps, world, case.id).status is S.SUCCEEDED
    assert fake.calls == [("submit", case.refund_no), ("query", case.refund_no), ("submit", case.refund_no)]


def test_crash_after_the_channel_executed_is_found_again(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = approved(deps, world)

    def die(kind: str, _order: object) -> None:
        if kind == "submit":
            raise KeyboardInterrupt("worker killed")

    fake.on_call = die
    with pytest.raises(KeyboardInterrupt):
        execution.sweep(deps, router)
    fake.on_call = None
    assert state(deps, world, case.id).status is S.PROCESSING  # the claim was committed before the call
    assert execution.sweep(deps, router) == 0  # leased
    clock.advance(seconds=31)
    execution.sweep(deps, router)
    assert state(deps, world, case.id).status is S.SUCCEEDED
    assert fake.ledger == {case.refund_no: 3_000}
    assert [k for k, _ in fake.calls] == ["submit", "query"]


def test_decline_then_retry_with_the_same_refund_no_on_card(deps: Deps, world: World, fake: FakeChannel) -> None:
    """The card host takes a failed refund's number again (the adapter sends a new trace); a wallet does not
    (tests/service/test_fencing.py)."""
    router = Router(channels={"card": fake}, is_workday=ChineseCalendar().is_workday)
    case = approved(deps, world, channel="card", payer_masked="622202******1234")
    fake.script[case.refund_no] = ["declined"]
    execution.sweep(deps, router)
    failed = state(deps, world, case.id)
    assert failed.status is S.FAILED and failed.last_code == "DECLINED"
    assert sales.get_sale(deps, world.a.actors["cashier"], case.sale_id).reserved_fen == 3_000
    with pytest.raises(Forbidden):
        execution.retry(deps, world.a.actors["cashier"], case.id, "again")
    execution.retry(deps, world.a.actors["supervisor"], case.id, "余额已补足")
    execution.sweep(deps, router)
    final = state(deps, world, case.id)
    assert final.status is S.SUCCEEDED and final.attempts == 2 and final.refund_no == case.refund_no
    assert fake.calls == [("submit", case.refund_no), ("submit", case.refund_no)]  # sent again, not asked


def test_abnormal_goes_to_a_person_who_closes_it_and_the_amount_returns(
    deps: Deps, world: World, router: Router, fake: FakeChannel
) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["abnormal"]
    execution.sweep(deps, router)
    assert state(deps, world, case.id).status is S.ABNORMAL
    with pytest.raises(Conflict):
        execution.retry(deps, world.a.actors["supervisor"], case.id, "x")
    closed = execution.resolve(deps, world.a.actors["finance"], case.id, "closed", "卡已注销，改为现金退还另案处理")
    assert closed.status is S.CLOSED
    assert sales.get_sale(deps, world.a.actors["cashier"], case.sale_id).refundable_fen == 10_000


def test_duplicate_and_contradictory_outcomes(deps: Deps, world: World, router: Router, fake: FakeChannel) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["declined"]
    execution.sweep(deps, router)
    for _ in range(3):
        execution.record_answer(deps, router, world.a.id, case.id, ChannelAnswer(Outcome.DECLINED, code="X"), "query")
    events = refunds.case_events(deps, world.a.actors["auditor"], case.id)
    assert [e["action"] for e in events].count("refund.failed") == 1
    execution.record_answer(deps, router, world.a.id, case.id, ChannelAnswer(Outcome.SUCCEEDED), "callback")
    assert state(deps, world, case.id).status is S.ABNORMAL  # failed, then "succeeded": a person decides
    assert [e["action"] for e in refunds.case_events(deps, world.a.actors["auditor"], case.id)][-2:] == [
        "refund.contradictory_outcome",
        "refund.abnormal",
    ]


def test_cash_waits_for_a_second_person(deps: Deps, world: World, router: Router) -> None:
    case = approved(deps, world, channel="cash", payer_masked="")
    execution.sweep(deps, router)
    waiting = state(deps, world, case.id)
    assert (waiting.status, waiting.method) == (S.PROCESSING, "cash")
    assert execution.sweep(deps, router) == 0
    with pytest.raises(Forbidden) as e:
        execution.confirm_payout(deps, world.a.actors["cashier"], case.id, "till 1")
    assert e.value.code == "refund.second_person_required"
    done = execution.confirm_payout(deps, world.a.actors["supervisor"], case.id, "till 1")
    assert done.status is S.SUCCEEDED
    assert sales.get_sale(deps, world.a.actors["cashier"], case.sale_id).refunded_fen == 3_000


def test_gap_between_refunds_of_one_order(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    first = approved(deps, world, amount=1_000)
    second = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=first.sale_id, amount_fen=1_000, reason="other")
    )
    execution.sweep(deps, router)
    assert state(deps, world, first.id).status is S.SUCCEEDED
    assert state(deps, world, second.id).status is S.APPROVED  # WeChat wants 60 s between them
    clock.advance(seconds=61)
    execution.sweep(deps, router)
    assert state(deps, world, second.id).status is S.SUCCEEDED


def test_channel_rate_limit_defers_calls_to_the_next_sweep(deps: Deps, world: World, fake: FakeChannel) -> None:
    from posrefund.adapters.rate_limit import ChannelRateLimiter

    limiter = ChannelRateLimiter()
    router = Router(
        channels={"wechat": fake},
        is_workday=ChineseCalendar().is_workday,
        rules={"wechat": execution.ChannelRules(max_calls_per_second=2)},
        may_call=limiter,
    )
    cases = [approved(deps, world) for _ in range(5)]
    assert execution.sweep(deps, router) == 5
    assert len(fake.calls) == 2  # the other three stay approved, untouched
    statuses = sorted(state(deps, world, c.id).status.value for c in cases)
    assert statuses == ["approved", "approved", "approved", "succeeded", "succeeded"]


def test_reroute_away_from_a_closed_account_needs_a_reviewer_and_a_second_person(
    deps: Deps, world: World, router: Router, fake: FakeChannel
) -> None:
    case = approved(deps, world)
    fake.script[case.refund_no] = ["abnormal"]  # the payer's card account was closed
    execution.sweep(deps, router)
    with pytest.raises(Forbidden):
        execution.reroute(deps, world.a.actors["cashier"], case.id, "cash", "卡已注销")
    with pytest.raises(Invalid):
        execution.reroute(deps, world.a.actors["supervisor"], case.id, "cash", " ")
    moved = execution.reroute(deps, world.a.actors["supervisor"], case.id, "transfer", "卡已注销，改银行转账")
    assert (moved.status, moved.method) == (S.PROCESSING, "transfer")
    assert execution.sweep(deps, router) == 0  # nothing for the channel: a person pays
    done = execution.confirm_payout(deps, world.a.actors["finance"], case.id, "BANK-REF-778")
    assert done.status is S.SUCCEEDED and done.channel_refund_id == "BANK-REF-778"
    actions = [e["action"] for e in refunds.case_events(deps, world.a.actors["auditor"], case.id)]
    assert actions[-3:] == ["refund.abnormal", "refund.rerouted", "refund.payout_confirmed"]
    assert sales.get_sale(deps, world.a.actors["cashier"], case.sale_id).refunded_fen == 3_000


def test_a_success_for_another_amount_goes_to_a_person_not_to_succeeded(
    deps: Deps, world: World, router: Router, fake: FakeChannel
) -> None:
    """WeChat Pay's refund notification, read by the real mapping, says SUCCESS for 1 fen of a 5,000-fen
    refund: the case is abnormal (with a person), the money stays reserved, no success is recorded."""
    from posrefund.adapters.channels.wechatpay.mapping import refund_answer

    case = approved(deps, world, amount=5_000)
    fake.script[case.refund_no] = ["processing"]
    execution.sweep(deps, router)
    resource = {"out_refund_no": case.refund_no, "amount": {"refund": 1, "total": 10_000}, "success_time": ""}
    answer = refund_answer(resource, "SUCCESS", "50300000000000000001")
    execution.record_answer(deps, router, case.merchant_id, case.id, answer, "callback")
    after = state(deps, world, case.id)
    assert (after.status, after.succeeded_at) == (S.ABNORMAL, None)
    sale = sales.get_sale(deps, world.a.actors["cashier"], case.sale_id)
    assert (sale.refunded_fen, sale.reserved_fen) == (0, 5_000)
    events = refunds.case_events(deps, world.a.actors["auditor"], case.id)
    assert [e["action"] for e in events][-1] == "refund.abnormal"
    assert "refund.succeeded" not in [e["action"] for e in events]
    assert events[-1]["reason"] == "channel reports 1 fen refunded; this refund is 5000 fen"
