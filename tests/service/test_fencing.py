"""Many workers, one refund: leases as long as the slowest call, renewed while it runs, and a fencing token the
database checks, so a worker that lost its case mid-call can never write its late answer over a later one."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.domain.channel import ChannelAnswer, Method, Outcome, RefundOrder
from posrefund.domain.refund import RefundStatus
from posrefund.ports import StaleFence
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.conftest import FixedClock, World
from tests.service.test_execution import approved, state
from tests.support.fakes import FakeChannel

S = RefundStatus


class Held:
    """Holds the calls made from one named thread until released: a channel slower than the lease."""

    def __init__(self, thread_name: str) -> None:
        self.thread_name, self.entered, self.release = thread_name, threading.Event(), threading.Event()

    def __call__(self, _kind: str, _order: RefundOrder) -> None:
        if threading.current_thread().name == self.thread_name:
            self.entered.set()
            assert self.release.wait(10), "the test never released the held call"


def slow(fake: FakeChannel, seconds: float) -> FakeChannel:
    fake.longest_call_seconds = seconds  # type: ignore[attr-defined]  # what the adapter says of its calls
    return fake


def actions(deps: Deps, world: World, case_id: str) -> list[str]:
    return [e["action"] for e in refunds.case_events(deps, world.a.actors["auditor"], case_id)]


def in_thread(name: str, work: object) -> tuple[threading.Thread, dict[str, object]]:
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["result"] = work()  # type: ignore[operator]
        except Exception as exc:
            out["error"] = exc

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, out


def test_a_stale_workers_late_answer_is_refused_by_the_database_and_kept_on_its_attempt(
    deps: Deps, world: World, clock: FixedClock
) -> None:
    fake = slow(FakeChannel(), 1.0)
    held = Held("worker-A")
    fake.on_call = held
    # Worker A stalls mid-call (its heartbeat stops with it); B finds the lease run out and takes over.
    stalled = Router({"wechat": fake}, ChineseCalendar().is_workday, lease_margin=timedelta(0), renew_leases=False)
    case = approved(deps, world)
    fake.script[case.refund_no] = ["declined"]  # A's answer, arriving late: it must not overwrite B's
    thread, out = in_thread("worker-A", lambda: execution.advance(deps, stalled, world.a.id, case.id, "A"))
    assert held.entered.wait(10)
    clock.advance(seconds=31)
    taken = execution.advance(deps, stalled, world.a.id, case.id, "B")
    assert taken is not None and taken.status is S.SUCCEEDED
    held.release.set()
    thread.join(10)
    assert isinstance(out.get("error"), StaleFence)
    after = state(deps, world, case.id)
    assert (after.status, after.last_code) == (S.SUCCEEDED, "SUCCEEDED")
    assert "refund.contradictory_outcome" not in actions(deps, world, case.id)
    tried = execution.attempts_of(deps, world.a.actors["auditor"], case.id)
    assert [(a.fence, a.worker, a.outcome, a.code) for a in tried] == [
        (1, "A", "stale", "DECLINED"),
        (2, "B", "succeeded", "SUCCEEDED"),
    ]
    assert tried[0].message.startswith("stale, not applied")


def test_a_renewed_lease_keeps_a_slow_call_from_being_claimed_twice(
    deps: Deps, world: World, clock: FixedClock
) -> None:
    fake = slow(FakeChannel(), 0.3)  # a lease of 0.3 s, renewed every 0.1 s while the call runs
    held = Held("worker-A")
    fake.on_call = held
    router = Router({"wechat": fake}, ChineseCalendar().is_workday, lease_margin=timedelta(0))
    case = approved(deps, world)
    thread, out = in_thread("worker-A", lambda: execution.advance(deps, router, world.a.id, case.id, "A"))
    assert held.entered.wait(10)
    clock.advance(seconds=31)  # far past the first lease: only the heartbeat keeps the case
    assert held.release.wait(0.6) is False  # let the heartbeat beat a few times
    assert execution.advance(deps, router, world.a.id, case.id, "B") is None
    assert execution.sweep(deps, router) == 0
    held.release.set()
    thread.join(10)
    assert "error" not in out
    assert state(deps, world, case.id).status is S.SUCCEEDED
    tried = execution.attempts_of(deps, world.a.actors["auditor"], case.id)
    assert [(a.fence, a.worker, a.outcome) for a in tried] == [(1, "A", "succeeded")]
    assert tried[0].lease_until >= clock.now()  # renewed past the jump
    assert fake.calls == [("submit", case.refund_no)]


def test_a_write_with_an_old_fence_is_refused_even_bypassing_the_service(
    deps: Deps, world: World, clock: FixedClock
) -> None:
    fake = FakeChannel()
    router = Router({"wechat": fake}, ChineseCalendar().is_workday)
    case = approved(deps, world)
    fake.script[case.refund_no] = ["processing", "processing"]
    execution.sweep(deps, router)
    clock.advance(seconds=61)
    execution.sweep(deps, router)  # a second claim: the fence is now 2
    with deps.uow() as uow:
        loaded = uow.refunds.get_case(world.a.id, case.id)
        assert loaded is not None
        version = loaded.version
        loaded.last_code = "FORGED"
        with pytest.raises(StaleFence):
            uow.refunds.save_case(loaded, fence=1)
        uow.refunds.save_case(loaded, fence=2)  # the current fence is accepted
        uow.rollback()
    again = state(deps, world, case.id)
    assert (again.version, again.last_code) == (version, "PROCESSING")


def test_an_orders_minimum_gap_sets_a_timer_instead_of_spinning(deps: Deps, world: World, clock: FixedClock) -> None:
    fake = FakeChannel()
    router = Router({"wechat": fake}, ChineseCalendar().is_workday)
    first = approved(deps, world, amount=1_000)
    second = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=first.sale_id, amount_fen=1_000, reason="other")
    )
    assert execution.sweep(deps, router) == 2
    waiting = state(deps, world, second.id)
    assert (waiting.status, waiting.next_check_at) == (S.APPROVED, clock.now() + timedelta(seconds=60))
    assert execution.sweep(deps, router) == 0
    assert execution.sweep(deps, router) == 0
    clock.advance(seconds=60)
    assert execution.sweep(deps, router) == 1
    assert state(deps, world, second.id).status is S.SUCCEEDED


class VoidThenRefund:
    """An acquirer that settled the batch: a void is refused with the hint to refund; a refund succeeds."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def submit(self, order: RefundOrder) -> ChannelAnswer:
        self.calls.append(("submit", order.method.value, order.refund_no))
        if order.method is Method.VOID:
            return ChannelAnswer(Outcome.DECLINED, code="12", details={"hint": "use_refund"})
        return ChannelAnswer(Outcome.SUCCEEDED, channel_refund_id="RRN1", code="00")

    def query(self, order: RefundOrder) -> ChannelAnswer:
        self.calls.append(("query", order.method.value, order.refund_no))
        return ChannelAnswer(Outcome.NOT_FOUND)


def test_a_void_refused_after_settlement_goes_out_as_a_refund_in_the_same_sweep(deps: Deps, world: World) -> None:
    card = VoidThenRefund()
    router = Router(
        {"card": card}, ChineseCalendar().is_workday, choose_card_method=lambda _sale, _case, _now: Method.VOID
    )
    case = approved(deps, world, channel="card", payer_masked="622202******1234")
    assert execution.sweep(deps, router) == 1
    done = state(deps, world, case.id)
    assert (done.status, done.method) == (S.SUCCEEDED, "refund")
    assert card.calls == [("submit", "void", case.refund_no), ("submit", "refund", case.refund_no)]
    assert "refund.method_changed" in actions(deps, world, case.id)


def test_a_request_that_never_left_is_sent_again_soon_with_the_same_number(
    deps: Deps, world: World, clock: FixedClock
) -> None:
    fake = FakeChannel()
    router = Router({"wechat": fake}, ChineseCalendar().is_workday)
    case = approved(deps, world)
    fake.script[case.refund_no] = ["not_sent"]
    execution.sweep(deps, router)
    waiting = state(deps, world, case.id)
    assert (waiting.status, waiting.submitted, waiting.next_check_at) == (
        S.PROCESSING,
        False,
        clock.now() + timedelta(seconds=5),
    )
    assert execution.sweep(deps, router) == 0
    clock.advance(seconds=5)
    execution.sweep(deps, router)
    assert state(deps, world, case.id).status is S.SUCCEEDED
    assert fake.calls == [("submit", case.refund_no), ("submit", case.refund_no)]


def test_a_query_that_never_left_is_asked_again_never_a_second_submit(
    deps: Deps, world: World, clock: FixedClock
) -> None:
    fake = FakeChannel()
    router = Router({"wechat": fake}, ChineseCalendar().is_workday)
    case = approved(deps, world)
    fake.script[case.refund_no] = ["timeout", "not_sent"]  # the submit may have executed; the query never left
    execution.sweep(deps, router)
    clock.advance(seconds=61)
    execution.sweep(deps, router)
    clock.advance(seconds=5)
    execution.sweep(deps, router)
    assert state(deps, world, case.id).status is S.SUCCEEDED
    assert fake.calls == [("submit", case.refund_no), ("query", case.refund_no), ("query", case.refund_no)]
    tried = execution.attempts_of(deps, world.a.actors["auditor"], case.id)
    assert [(a.call, a.outcome) for a in tried] == [
        ("submit", "unknown"),
        ("query", "not_sent"),
        ("query", "succeeded"),
    ]


def test_retry_of_a_failed_wallet_refund_sends_a_new_linked_number(deps: Deps, world: World) -> None:
    fake = FakeChannel()
    router = Router({"wechat": fake}, ChineseCalendar().is_workday)
    case = approved(deps, world)
    fake.script[case.refund_no] = ["declined"]
    execution.sweep(deps, router)
    assert state(deps, world, case.id).status is S.FAILED
    retried = execution.retry(deps, world.a.actors["supervisor"], case.id, "余额已补足")
    assert retried.refund_no != case.refund_no
    execution.sweep(deps, router)
    done = state(deps, world, case.id)
    assert (done.status, done.refund_no, done.attempts) == (S.SUCCEEDED, retried.refund_no, 2)
    assert fake.calls == [("submit", case.refund_no), ("submit", retried.refund_no)]
    tried = execution.attempts_of(deps, world.a.actors["auditor"], case.id)
    assert [(a.attempt_no, a.refund_no, a.previous_refund_no, a.outcome) for a in tried] == [
        (1, case.refund_no, "", "declined"),
        (2, retried.refund_no, case.refund_no, "succeeded"),
    ]
    assert "refund.renumbered" in actions(deps, world, case.id)
    with deps.uow(readonly=True) as uow:  # a late notification for the old number still finds its case
        found = uow.refunds.get_by_refund_no(case.refund_no)
    assert found is not None and found.id == case.id


def test_retry_after_a_failure_told_by_callback_sends_again_on_card(deps: Deps, world: World) -> None:
    """The card host takes the same number again (under a new trace): a person's retry sends, never only asks."""
    fake = FakeChannel()
    router = Router({"card": fake}, ChineseCalendar().is_workday)
    case = approved(deps, world, channel="card", payer_masked="622202******1234")
    fake.script[case.refund_no] = ["processing"]
    execution.sweep(deps, router)
    declined = ChannelAnswer(Outcome.DECLINED, code="51")
    execution.record_answer(deps, router, case.merchant_id, case.id, declined, "callback")
    assert state(deps, world, case.id).status is S.FAILED
    retried = execution.retry(deps, world.a.actors["supervisor"], case.id, "余额已补足")
    assert retried.refund_no == case.refund_no
    execution.sweep(deps, router)
    assert state(deps, world, case.id).status is S.SUCCEEDED
    assert fake.calls == [("submit", case.refund_no), ("submit", case.refund_no)]
