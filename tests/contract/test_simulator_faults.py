"""Every simulator takes its faults the same way: the same ``set_fault`` switches, the same constructor
switches and CLI flags for random faults, and the same ``POST /__sim__/faults`` body."""

from __future__ import annotations

import argparse
import inspect

import pytest

from posrefund.simulators.acquirer.server import AcquirerSimulator
from posrefund.simulators.alipay.server import AlipaySimulator
from posrefund.simulators.common.faults import Fault, FaultPlan, add_fault_flags, fault_from_json, fault_settings
from posrefund.simulators.wechatpay.server import WeChatPaySimulator

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
