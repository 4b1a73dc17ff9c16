"""Every simulator takes its faults the same way: the same ``set_fault`` switches, the same constructor
switches and CLI flags for random faults, and the same ``POST /__sim__/faults`` body."""

from __future__ import annotations

import argparse
import inspect
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from posrefund.demo.channels import Simulated, start
from posrefund.domain.channel import ChannelAnswer, Method, OriginalSale, Outcome, RefundOrder
from posrefund.simulators.acquirer.server import AcquirerSimulator
from posrefund.simulators.alipay.server import AlipaySimulator
from posrefund.simulators.common.faults import (
    CANONICAL,
    LATE_CALLBACK_SECONDS,
    Fault,
    FaultPlan,
    UnsupportedFault,
    add_fault_flags,
    fault_from_json,
    fault_settings,
)
from posrefund.simulators.common.http_life import HttpSimulatorLife
from posrefund.simulators.common.ledger import LEDGER_KEYS
from posrefund.simulators.wechatpay.server import WeChatPaySimulator
from tests.support.ports import free_port

SIMULATORS: list[type[AcquirerSimulator | WeChatPaySimulator | AlipaySimulator]] = [
    AcquirerSimulator,
    WeChatPaySimulator,
    AlipaySimulator,
]


def test_every_simulator_plans_faults_with_the_same_switches() -> None:
    shapes = {str(inspect.signature(sim.set_fault)) for sim in SIMULATORS}
    assert len(shapes) == 1
    for sim in SIMULATORS:
        switches = inspect.signature(sim.__init__).parameters
        assert {"fault_rate", "rate_faults", "fault_rates", "seed"} <= set(switches)
        assert callable(sim.clear_faults) and callable(sim.ledger)


@pytest.mark.parametrize("sim", SIMULATORS)
def test_an_unknown_random_fault_is_refused_at_construction(sim: type[AcquirerSimulator]) -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        sim(fault_rates={"no_such_fault": 0.5})


def test_a_fault_hits_as_many_requests_as_it_is_told() -> None:
    plan = FaultPlan({"decline", "slow"})
    plan.plan("R1", Fault("slow"))
    plan.plan("R1", Fault("decline", times=2))
    assert [plan.take("R1", {"decline"}) for _ in range(3)] == [
        Fault("decline", times=2),
        Fault("decline", times=1),
        None,
    ]
    assert plan.take("R1", {"slow"}) == Fault("slow") and plan.planned("R1") == []


def test_random_faults_repeat_with_the_seed() -> None:
    def draws(plan: FaultPlan) -> list[str | None]:
        return [plan.draw() for _ in range(40)]

    shared = draws(FaultPlan({"a", "b"}, fault_rate=0.5, rate_faults=("a", "b"), seed=3))
    assert shared == draws(FaultPlan({"a", "b"}, fault_rate=0.5, rate_faults=("a", "b"), seed=3))
    assert {"a", "b", None} == set(shared)
    per_fault = draws(FaultPlan({"a", "b"}, fault_rates={"a": 0.3}, seed=3))
    assert per_fault == draws(FaultPlan({"a", "b"}, fault_rates={"a": 0.3}, seed=3)) and {"a", None} == set(per_fault)


def test_the_cli_flags_and_the_side_door_read_the_same_names() -> None:
    parser = argparse.ArgumentParser()
    add_fault_flags(parser, {"decline", "slow"})
    args = parser.parse_args(["--fault-rate", "0.2", "--fault-rate", "slow=0.1", "--rate-fault", "decline"])
    assert fault_settings(args, ("slow",)) == {
        "fault_rate": 0.2,
        "rate_faults": ("decline",),
        "fault_rates": {"slow": 0.1},
        "seed": 0,
    }
    body = {"refund_no": "R9", "fault": "system_error", "applied": False, "code": "96", "times": 2}
    assert fault_from_json(body) == ("R9", Fault("system_error", applied=False, code="96", times=2))


# ---- the canonical faults, one meaning on every simulator ------------------------------------------------------

WALLET_CANONICAL = {
    "wechat": [
        "latency",
        "no_answer_after_accept",
        "system_error",
        "decline",
        "processing",
        "host_reversal",
        "duplicate_callback",
        "late_callback",
        "forged_callback",
    ],
    "alipay": [
        "latency",
        "no_answer_after_accept",
        "system_error",
        "decline",
        "processing",
        "duplicate_callback",
        "late_callback",
        "forged_callback",
    ],
}


@pytest.fixture(scope="module")
def wallets() -> Iterator[Simulated]:
    """Both wallet simulators with posrefund's own adapters pointed at them; notifications go nowhere (a closed
    port): only the simulators' delivery journals are read."""
    sims = start(f"http://127.0.0.1:{free_port()}", timeout=1.5)
    for sim in sims.simulators.values():
        if isinstance(sim, HttpSimulatorLife):
            sim._hang_seconds = 1.0
    yield sims
    sims.close()


def _order(channel: str) -> RefundOrder:
    paid = datetime.now(UTC) - timedelta(hours=1)
    no = f"F{uuid.uuid4().hex[:20]}"
    sale = OriginalSale(channel=channel, order_no=f"O{no}", amount_fen=10_000, currency="CNY", paid_at=paid)
    return RefundOrder(no, 6_000, "CNY", "other", Method.REFUND, sale)


def _submit(sims: Simulated, channel: str, fault: str, **switches: Any) -> tuple[RefundOrder, ChannelAnswer, float]:
    order = _order(channel)
    sims.simulators[channel].set_fault(order.refund_no, fault, **switches)
    began = time.monotonic()
    answer = sims.router.channels[channel].submit(order)
    return order, answer, time.monotonic() - began


def _row(sims: Simulated, channel: str, refund_no: str) -> dict[str, Any] | None:
    return next((r for r in sims.simulators[channel].ledger() if r["refund_no"] == refund_no), None)


def _kinds(sims: Simulated, channel: str, refund_no: str, count: int) -> list[tuple[str, float]]:
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        rows = [r for r in sims.simulators[channel].notifications() if r["refund_no"] == refund_no]
        if len({r["kind"] for r in rows}) >= count:
            return [(str(r["kind"]), time.monotonic()) for r in rows]
        time.sleep(0.05)
    raise AssertionError(f"no {count} notification kinds for {refund_no}")


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
def test_each_wallet_declares_the_canonical_faults_it_supports(wallets: Simulated, channel: str) -> None:
    assert wallets.simulators[channel].supported_faults() == WALLET_CANONICAL[channel]


def test_the_card_host_supports_the_faults_that_apply_to_it_and_says_so() -> None:
    assert AcquirerSimulator().supported_faults() == [
        "latency",
        "no_answer_after_accept",
        "system_error",
        "decline",
        "host_reversal",
    ]
    assert "card" not in CANONICAL["forged_callback"].applies_to
    with pytest.raises(UnsupportedFault, match=r"not supported by this simulator \(applies to wechat, alipay\)"):
        AcquirerSimulator().set_fault("R1", "forged_callback")


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
def test_latency_answers_late_after_executing(wallets: Simulated, channel: str) -> None:
    order, answer, took = _submit(wallets, channel, "latency", seconds=0.6)
    assert took >= 0.6 and answer.outcome in (Outcome.ACCEPTED, Outcome.SUCCEEDED)
    assert _row(wallets, channel, order.refund_no) is not None


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
def test_latency_longer_than_the_client_waits_leaves_an_executed_refund_unanswered(
    wallets: Simulated, channel: str
) -> None:
    order, answer, _ = _submit(wallets, channel, "latency", seconds=2.5)
    assert answer.outcome is Outcome.UNKNOWN
    row = _row(wallets, channel, order.refund_no)
    assert row is not None and row["requests"] == 1


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
def test_no_answer_after_accept_executes_and_never_answers(wallets: Simulated, channel: str) -> None:
    order, answer, _ = _submit(wallets, channel, "no_answer_after_accept")
    assert answer.outcome is Outcome.UNKNOWN
    assert _row(wallets, channel, order.refund_no) is not None


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
@pytest.mark.parametrize("applied", [True, False])
def test_system_error_executes_behind_it_exactly_when_applied(wallets: Simulated, channel: str, applied: bool) -> None:
    order, answer, _ = _submit(wallets, channel, "system_error", applied=applied)
    assert answer.outcome is Outcome.UNKNOWN
    assert (_row(wallets, channel, order.refund_no) is not None) is applied


@pytest.mark.parametrize(("channel", "code"), [("wechat", "NO_AUTH"), ("alipay", "ACQ.TRADE_NOT_ALLOW_REFUND")])
def test_decline_refuses_with_the_code_and_executes_nothing(wallets: Simulated, channel: str, code: str) -> None:
    order, answer, _ = _submit(wallets, channel, "decline", code=code)
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, code)
    assert _row(wallets, channel, order.refund_no) is None


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
def test_processing_answers_still_processing_as_many_times_as_told(wallets: Simulated, channel: str) -> None:
    order, answer, _ = _submit(wallets, channel, "processing", times=3)
    adapter = wallets.router.channels[channel]
    outcomes = [answer.outcome] + [adapter.query(order).outcome for _ in range(4)]
    # Still processing: WeChat says PROCESSING; Alipay leaves refund_status out (its adapter reads that as
    # "not found" — a resubmission with the same number is then answered with the refund already taken).
    assert [o is Outcome.SUCCEEDED for o in outcomes[-4:]] == [False, False, False, True]


def test_host_reversal_on_wechat_takes_the_refund_then_undoes_it(wallets: Simulated) -> None:
    order, answer, _ = _submit(wallets, "wechat", "host_reversal")
    assert answer.outcome is Outcome.ACCEPTED
    wallets.simulators["wechat"].complete(order.refund_no)
    assert wallets.router.channels["wechat"].query(order).outcome is Outcome.CLOSED
    row = _row(wallets, "wechat", order.refund_no)
    assert row is not None and (row["executed"], row["reversed"]) == (False, True)


def test_a_fault_the_simulator_does_not_support_is_a_400_naming_it(wallets: Simulated) -> None:
    alipay = wallets.simulators["alipay"]
    with pytest.raises(UnsupportedFault, match="'host_reversal' is not supported"):
        alipay.set_fault("R1", "host_reversal")
    answer = httpx.post(f"{alipay.base_url}/__sim__/faults", json={"refund_no": "R1", "fault": "host_reversal"})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("UnsupportedFault: fault 'host_reversal' is not supported")
    assert httpx.get(f"{alipay.base_url}/__sim__/faults").json() == {"supported": WALLET_CANONICAL["alipay"]}


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
@pytest.mark.parametrize(("fault", "kinds"), [("duplicate_callback", ["duplicate"]), ("forged_callback", ["forged"])])
def test_callback_faults_send_the_extra_copy(wallets: Simulated, channel: str, fault: str, kinds: list[str]) -> None:
    order, _, _ = _submit(wallets, channel, fault)
    wallets.simulators[channel].complete(order.refund_no)
    sent = [kind for kind, _ in _kinds(wallets, channel, order.refund_no, 2)]
    assert kinds[0] in sent and len(set(sent)) == 2
    if fault == "forged_callback":
        assert sent[0] == "forged"


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
def test_late_callback_leaves_late(wallets: Simulated, channel: str) -> None:
    order, _, _ = _submit(wallets, channel, "late_callback")
    began = time.monotonic()
    wallets.simulators[channel].complete(order.refund_no)
    # The one notification's own arrival time says it came late (a sleep-then-look would depend on the load).
    _, at = _kinds(wallets, channel, order.refund_no, 1)[0]
    assert at - began >= LATE_CALLBACK_SECONDS


@pytest.mark.parametrize("sim", SIMULATORS)
def test_every_ledger_has_the_same_keys(sim: type[AcquirerSimulator]) -> None:
    book = sim().book
    book.count_request("R1")
    assert set(LEDGER_KEYS) <= set(book._shared_keys({"refund_no": "R1", "amount_fen": 1, "executed": True}))
