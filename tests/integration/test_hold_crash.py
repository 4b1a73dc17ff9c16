"""A card completion whose answer is lost, with the worker killed (SIGKILL) after each channel call before it
could write what happened: a fresh worker asks the terminal's journal first, so the completion is executed
exactly once on the acquirer (the simulator counts), and posrefund ends with the hold completed."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.config import Settings
from posrefund.domain.fund_hold import HoldState, HoldStep
from posrefund.ports.fund_holds import OperationStatus
from posrefund.service import fund_holds
from posrefund.service.deps import Deps
from posrefund.simulators.acquirer.server import AcquirerSimulator
from tests.conftest import FixedClock, World
from tests.support.card_holds import TMK, Card, card_host

CTX = multiprocessing.get_context("forkserver")
CTX.set_forkserver_preload(["tests.integration.hold_crash_harness"])
KILLS = 3


@pytest.fixture
def card(deps: Deps, clock: FixedClock) -> Iterator[Card]:
    clock.at = datetime.now(UTC)  # the children read the real clock
    with card_host(engine_of(deps), clock) as running:
        yield running


def child(conf: dict[str, Any], failpoints: str) -> int:
    from tests.integration import hold_crash_harness

    p = CTX.Process(target=hold_crash_harness.run, args=(conf, failpoints))
    p.start()
    p.join(timeout=60)
    assert p.exitcode is not None
    return p.exitcode


def make_due(deps: Deps) -> None:
    """A killed worker's lease is real time: end it now."""
    with engine_of(deps).begin() as c:
        c.execute(update(tables.fund_hold_operations).values(next_check_at=datetime(2000, 1, 1, tzinfo=UTC)))


def conf_of(settings: Settings, sim: AcquirerSimulator) -> dict[str, Any]:
    host, port = sim.address
    return {
        "db_url": settings.database_url,
        "secret_key": settings.secret_key,
        "pii_key": settings.pii_key,
        "data_dir": str(settings.data_dir),
        "host": host,
        "port": port,
        "tmk": TMK.hex(),
    }


def test_killed_after_each_call_the_completion_runs_once(
    deps: Deps, world: World, settings: Settings, card: Card
) -> None:
    hold = fund_holds.record_card_hold(deps, world.a.actors["terminal"], card.slip(world))
    fund_holds.ask(deps, world.a.actors["cashier"], hold.id, HoldStep.COMPLETE, 9_500)
    card.sim.set_fault(f"{hold.held.rrn}:9500", "no_answer_after_accept")
    conf = conf_of(settings, card.sim)
    kills = []
    for _ in range(KILLS):
        kills.append(child(conf, "hold.after_call=kill:1"))
        make_due(deps)
    assert kills == [-signal.SIGKILL] * KILLS
    assert child(conf, "") == 0
    done, ops = fund_holds.get_hold(deps, world.a.actors["auditor"], hold.id)
    assert (done.status.state, done.status.taken_fen) == (HoldState.COMPLETED, 9_500)
    assert [(o.status, o.attempts) for o in ops] == [(OperationStatus.SUCCEEDED, KILLS + 1)]
    rows = [(r["kind"], r["executed"], r["execution"]) for r in card.sim.book.hold_rows(hold.held.rrn)]
    assert rows == [("complete", False, 1), ("complete", True, 1)]  # the lost one reversed, one executed
