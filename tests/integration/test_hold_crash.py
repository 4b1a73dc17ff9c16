"""Card pre-authorisations (预授权) asked through the HTTP app, their channel step executed by a worker killed with
SIGKILL after each call to the acquirer before it could write what happened, with the answer lost (and the
reversal of the lost message lost too): a fresh worker asks the terminal's journal first, so the completion or the
release (预授权撤销) is executed exactly once on the acquirer (the simulator counts) and the hold ends completed or
released. The completion's sale is then refunded as an ordinary card refund (退货) by a refund worker killed the
same way: one refund on the host."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.config import Settings
from posrefund.service.deps import Deps
from posrefund.simulators.acquirer.server import AcquirerSimulator
from tests.api import conftest as api
from tests.api.conftest import Auth, refund_body
from tests.api.test_holds_api import hold, recorded
from tests.conftest import FixedClock, World
from tests.support.card_holds import TMK, Card, card_host

CTX = multiprocessing.get_context("forkserver")
CTX.set_forkserver_preload(["tests.integration.hold_crash_harness"])
KILLS = 3
app, client, auth = api.app, api.client, api.auth  # the real HTTP app's fixtures


@pytest.fixture(autouse=True)
def real_time(clock: FixedClock) -> None:
    """The children read the real clock: the parent's (its tokens, the simulator's) is set to it first."""
    clock.at = datetime.now(UTC)


@pytest.fixture
def card(deps: Deps, clock: FixedClock) -> Iterator[Card]:
    with card_host(engine_of(deps), clock) as running:
        yield running


def child(conf: dict[str, Any], failpoints: str, mode: str = "holds", request: dict[str, Any] | None = None) -> int:
    """A worker's sweep (``mode`` "holds" or "refunds") or one API request in a fresh process; its exit code
    (-SIGKILL when a failpoint killed it)."""
    from tests.integration import hold_crash_harness

    p = CTX.Process(target=hold_crash_harness.run, args=(conf, failpoints, mode, request))
    p.start()
    p.join(timeout=60)
    assert p.exitcode is not None
    return p.exitcode


def killed(deps: Deps, conf: dict[str, Any], failpoint: str, times: int, mode: str = "holds", **kw: Any) -> None:
    """``times`` children, each killed at ``failpoint``; every lease a dead one left is ended at once."""
    kills = []
    for _ in range(times):
        kills.append(child(conf, f"{failpoint}=kill:1", mode, **kw))
        make_due(deps)
    assert kills == [-signal.SIGKILL] * times


def make_due(deps: Deps) -> None:
    """A killed worker's lease is real time: end it now (hold operations and refund cases alike)."""
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    with engine_of(deps).begin() as c:
        for table in (tables.fund_hold_operations, tables.refunds):
            c.execute(update(table).where(table.c.next_check_at.is_not(None)).values(next_check_at=long_ago))


def conf_of(settings: Settings, sim: AcquirerSimulator | None = None) -> dict[str, Any]:
    """What a child needs: the database and keys, and the acquirer simulator's address when there is one."""
    conf: dict[str, Any] = {
        "db_url": settings.database_url,
        "secret_key": settings.secret_key,
        "pii_key": settings.pii_key,
        "data_dir": str(settings.data_dir),
    }
    if sim is not None:
        host, port = sim.address
        conf |= {"host": host, "port": port, "tmk": TMK.hex()}
    return conf


def rows(card: Card, rrn: str) -> list[tuple[str, bool, int]]:
    return [(r["kind"], r["executed"], r["execution"]) for r in card.sim.book.hold_rows(rrn)]


@pytest.mark.parametrize(
    ("step", "body", "amount", "state", "taken"),
    [
        ("complete", {"amount_fen": 9_500}, 9_500, "completed", 9_500),
        ("release", {"reason": "客人退房"}, 10_000, "released", 0),
    ],
)
def test_killed_after_each_call_the_operation_runs_once(
    step: str,
    body: dict[str, Any],
    amount: int,
    state: str,
    taken: int,
    client: TestClient,
    auth: Auth,
    world: World,
    deps: Deps,
    settings: Settings,
    card: Card,
) -> None:
    made = recorded(client, auth, world, card)
    r = client.post(f"/v1/holds/{made['id']}/{step}", json=body, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["amount_fen"]) == (202, amount)
    card.sim.set_fault(f"{made['rrn']}:{amount}", "no_answer_after_accept")
    card.sim.set_fault(f"{made['rrn']}:{amount}", "reversal_lost")  # the first reversal of it lost as well
    conf = conf_of(settings, card.sim)
    killed(deps, conf, "hold.after_call", KILLS)
    assert child(conf, "") == 0
    done = hold(client, auth, made["id"])
    assert (done["state"], done["taken_fen"], done["held_fen"]) == (state, taken, 0)
    assert [(o["step"], o["status"], o["attempts"]) for o in done["operations"]] == [(step, "succeeded", KILLS + 1)]
    assert rows(card, made["rrn"]) == [(step, False, 1), (step, True, 1)]  # the lost one reversed, one executed


def test_the_completions_card_refund_killed_after_the_submit_runs_once(
    client: TestClient, auth: Auth, world: World, deps: Deps, settings: Settings, card: Card
) -> None:
    made = recorded(client, auth, world, card)
    r = client.post(f"/v1/holds/{made['id']}/complete", json={"amount_fen": 11_000}, headers=auth("a.cashier"))
    assert r.status_code == 202, r.text
    conf = conf_of(settings, card.sim)
    killed(deps, conf, "hold.after_call", 1)
    assert child(conf, "") == 0
    done = hold(client, auth, made["id"])
    assert (done["state"], done["taken_fen"]) == ("completed", 11_000)
    [completion] = card.live(made["rrn"], "complete")
    r = client.post(
        "/v1/refunds", json=refund_body(done["sale_id"], 4_000), headers=auth("a.cashier", **{"Idempotency-Key": "c"})
    )
    assert r.status_code == 201, r.text
    case = r.json()
    card.sim.set_fault(f"{completion['rrn']}:4000", "no_answer_after_accept")  # 退货's answer lost: resent
    killed(deps, conf, "advance.after_submit", 1, "refunds")
    killed(deps, conf, "advance.after_query", KILLS - 1, "refunds")  # a sent refund is asked about first
    assert child(conf, "", "refunds") == 0
    refund = client.get(f"/v1/refunds/{case['id']}", headers=auth("a.auditor")).json()
    sale = client.get(f"/v1/sales/{done['sale_id']}", headers=auth("a.auditor")).json()
    assert (refund["status"], sale["refunded_fen"], sale["reserved_fen"]) == ("succeeded", 4_000, 0)
    assert rows(card, made["rrn"]) == [("complete", True, 1), ("refund", True, 1)]
