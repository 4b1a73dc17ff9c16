"""A deposit's return reaches ``settled`` through the HTTP API on the real database only when every part of it
has been paid: the refund by the original route succeeded on the channel (the worker's round) and the penalty
of a double return confirmed paid by a second person — whichever comes last moves it, in its own transaction."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from posrefund.domain.channel import Outcome
from posrefund.service import execution
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.api.conftest import Auth
from tests.api.test_deposits_api import P, accept, make_terms, propose, record
from tests.conftest import World
from tests.support.fakes import FakeChannel


def _double_return(client: TestClient, auth: Auth, deps: Deps, world: World) -> tuple[str, dict[str, Any]]:
    """A 3,000-yuan 定金 on a 10,000-yuan contract, the merchant broke the deal, accepted: 3,000 back by the
    original route (waiting for a second supervisor's review) and a 2,000-yuan penalty transfer."""
    terms_id = make_terms(client, auth, "deposit")
    deposit_id = record(client, auth, deps, world, terms_id, 300_000, 1_000_000)["deposit"]["id"]
    p = propose(client, auth, deposit_id, "merchant_breach").json()
    done = accept(client, auth, deposit_id, p["id"]).json()
    return deposit_id, done


def _status(client: TestClient, auth: Auth, deposit_id: str) -> tuple[str, list[str]]:
    detail = client.get(f"{P}/{deposit_id}", headers=auth("a.auditor")).json()
    return detail["status"], [e["action"] for e in detail["events"]]


def _pay_refund(client: TestClient, auth: Auth, deps: Deps, refund_id: str, channel: FakeChannel) -> str:
    r = client.post(f"/v1/refunds/{refund_id}/approve", json={}, headers=auth("a.supervisor2"))
    assert r.status_code == 200, r.text
    execution.sweep(deps, Router(channels={"wechat": channel}, is_workday=lambda d: True))
    return str(client.get(f"/v1/refunds/{refund_id}", headers=auth("a.auditor")).json()["status"])


def test_settled_when_the_penalty_is_confirmed_after_the_refund_succeeded(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    deposit_id, done = _double_return(client, auth, deps, world)
    assert _status(client, auth, deposit_id)[0] == "settling"

    assert _pay_refund(client, auth, deps, done["refund"]["id"], FakeChannel()) == "succeeded"
    # The original route is paid, the penalty is not: still settling.
    assert _status(client, auth, deposit_id)[0] == "settling"

    r = client.post(
        f"{P}/payouts/{done['payout']['id']}/confirm", json={"reference": "TRF1"}, headers=auth("a.finance")
    )
    assert r.status_code == 200, r.text
    status, actions = _status(client, auth, deposit_id)
    assert (status, actions[-2:]) == ("settled", ["deposit.penalty_paid", "deposit.settled"])
    settled = client.get(f"{P}/{deposit_id}", headers=auth("a.auditor")).json()["events"][-1]
    assert (settled["before"], settled["after"], settled["actor_id"]) == (
        "settling",
        "settled",
        world.a.actors["finance"].id,
    )
    assert (settled["data"]["refunded_fen"], settled["data"]["penalty_paid_fen"]) == (300_000, 200_000)
    listed = client.get(P, params={"status": "settled"}, headers=auth("a.cashier")).json()["items"]
    assert [d["id"] for d in listed] == [deposit_id]


def test_settled_by_the_worker_when_the_refund_is_the_last_part(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    deposit_id, done = _double_return(client, auth, deps, world)
    r = client.post(
        f"{P}/payouts/{done['payout']['id']}/confirm", json={"reference": "TRF2"}, headers=auth("a.finance")
    )
    assert r.status_code == 200, r.text
    # The penalty is paid, the refund is still in review: still settling.
    assert _status(client, auth, deposit_id)[0] == "settling"

    assert _pay_refund(client, auth, deps, done["refund"]["id"], FakeChannel()) == "succeeded"
    status, actions = _status(client, auth, deposit_id)
    assert (status, actions[-1]) == ("settled", "deposit.settled")
    settled = client.get(f"{P}/{deposit_id}", headers=auth("a.auditor")).json()["events"][-1]
    assert settled["actor_id"] == "system"


def test_a_refund_that_failed_leaves_the_deposit_settling(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    deposit_id, done = _double_return(client, auth, deps, world)
    r = client.post(
        f"{P}/payouts/{done['payout']['id']}/confirm", json={"reference": "TRF3"}, headers=auth("a.finance")
    )
    assert r.status_code == 200, r.text
    refund_no = client.get(f"/v1/refunds/{done['refund']['id']}", headers=auth("a.auditor")).json()["refund_no"]
    channel = FakeChannel(final={refund_no: Outcome.DECLINED})
    assert _pay_refund(client, auth, deps, done["refund"]["id"], channel) == "failed"
    status, actions = _status(client, auth, deposit_id)
    assert (status, "deposit.settled" in actions) == ("settling", False)


def test_a_cancelled_penalty_leaves_the_deposit_settling(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    deposit_id, done = _double_return(client, auth, deps, world)
    assert _pay_refund(client, auth, deps, done["refund"]["id"], FakeChannel()) == "succeeded"
    cancel = f"{P}/payouts/{done['payout']['id']}/cancel"
    r = client.post(cancel, json={"reason": "误选商户违约"}, headers=auth("a.supervisor2"))
    assert r.status_code == 200, r.text
    assert _status(client, auth, deposit_id)[0] == "settling"


def test_nothing_to_give_back_is_settled_on_acceptance(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    """The customer cancelled a 2,000-yuan 定金 within the 20 % cap: the merchant keeps it all, nothing to pay."""
    terms_id = make_terms(client, auth, "deposit")
    deposit_id = record(client, auth, deps, world, terms_id, 200_000, 1_000_000)["deposit"]["id"]
    p = propose(client, auth, deposit_id, "customer_breach").json()
    assert (p["back_now_fen"], p["penalty_now_fen"]) == (0, 0)
    done = accept(client, auth, deposit_id, p["id"]).json()
    assert (done["refund"], done["payout"]) == (None, None)
    status, actions = _status(client, auth, deposit_id)
    assert (status, actions[-2:]) == ("settled", ["deposit.refunds_linked", "deposit.settled"])
