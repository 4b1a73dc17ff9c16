"""A deposit's return reaches ``settled`` through the HTTP API on the real database only when every part of it
has been paid: the refund by the original route succeeded on the channel (the worker's round) and the penalty
of a double return confirmed paid by a second person — whichever comes last moves it, in its own transaction."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from posrefund.adapters.notifiers.http_gateway import gateway_from
from posrefund.domain.channel import Outcome
from posrefund.service import execution
from posrefund.service.deposits import penalty_notice
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications import sending
from posrefund.service.notifications.sending import NotifyRouter
from tests.api.conftest import Auth
from tests.api.test_deposits_api import P, accept, make_terms, propose, record
from tests.conftest import World
from tests.support.fakes import FakeChannel
from tests.support.notifications import SMS_PAYLOAD, gateway_server


def _accepted(
    client: TestClient, auth: Auth, deps: Deps, world: World, paid_fen: int, ending: str
) -> tuple[str, dict[str, Any]]:
    """A 定金 of ``paid_fen`` on a 10,000-yuan contract, ended by ``ending``, its proposal accepted."""
    terms_id = make_terms(client, auth, "deposit")
    deposit_id = record(client, auth, deps, world, terms_id, paid_fen, 1_000_000)["deposit"]["id"]
    p = propose(client, auth, deposit_id, ending).json()
    return deposit_id, accept(client, auth, deposit_id, p["id"]).json()


def _double_return(client: TestClient, auth: Auth, deps: Deps, world: World) -> tuple[str, dict[str, Any]]:
    """3,000 yuan paid, the merchant broke the deal: 3,000 back by the original route (waiting for a second
    supervisor's review) and a 2,000-yuan penalty transfer."""
    return _accepted(client, auth, deps, world, 300_000, "merchant_breach")


def _confirm(client: TestClient, auth: Auth, done: dict[str, Any], reference: str) -> None:
    """The penalty transfer confirmed paid by finance (not who accepted it)."""
    r = client.post(
        f"{P}/payouts/{done['payout']['id']}/confirm", json={"reference": reference}, headers=auth("a.finance")
    )
    assert r.status_code == 200, r.text


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

    _confirm(client, auth, done, "TRF1")
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
    _confirm(client, auth, done, "TRF2")
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
    _confirm(client, auth, done, "TRF3")
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
    said = {"reason": "误选商户违约"}
    assert client.post(
        f"{P}/payouts/{done['payout']['id']}/cancel", json=said, headers=auth("a.supervisor2")
    ).is_success
    assert _status(client, auth, deposit_id)[0] == "settling"


def test_nothing_to_give_back_is_settled_on_acceptance(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    """The customer cancelled a 2,000-yuan 定金 within the 20 % cap: the merchant keeps it all, nothing to pay."""
    deposit_id, done = _accepted(client, auth, deps, world, 200_000, "customer_breach")
    assert (done["proposal"]["back_now_fen"], done["proposal"]["penalty_now_fen"]) == (0, 0)
    assert (done["refund"], done["payout"]) == (None, None)
    status, actions = _status(client, auth, deposit_id)
    assert (status, actions[-2:]) == ("settled", ["deposit.refunds_linked", "deposit.settled"])


def test_the_customer_is_told_of_the_penalty_transfer_once(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    """The double return's penalty confirmed paid: an SMS through the refund's gateway with the penalty in yuan
    and the account as its last four, queued once for the confirmation step."""
    terms_id = make_terms(client, auth, "deposit")
    deposit_id = record(client, auth, deps, world, terms_id, 300_000, 1_000_000)["deposit"]["id"]
    p = propose(client, auth, deposit_id, "merchant_breach").json()
    body = {"customer": {"phone": "13800138000", "name": "王女士"}}
    r = client.post(f"{P}/{deposit_id}/proposals/{p['id']}/accept", json=body, headers=auth("a.supervisor"))
    assert r.status_code == 201, r.text
    payout_id = r.json()["payout"]["id"]
    confirm = f"{P}/payouts/{payout_id}/confirm"

    # A whole card number is refused and never kept; a last four that is not four digits is refused.
    r = client.post(
        confirm, json={"reference": "TRF9", "account_last4": "6222021234567890128"}, headers=auth("a.finance")
    )
    assert (r.status_code, r.json()["code"]) == (422, "pan_detected")
    r = client.post(confirm, json={"reference": "TRF9", "account_last4": "12a4"}, headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"], r.json()["params"]["field"]) == (
        422,
        "deposit.invalid_field",
        "account_last4",
    )

    with gateway_server() as gw:
        router = NotifyRouter(gateways={"sms": gateway_from("sms", {"url": gw.url, "payload": SMS_PAYLOAD}, "")})
        sending.sweep(deps, router)  # the refund's own messages (accepted, under review) go first
        before = len(gw.delivered)
        r = client.post(confirm, json={"reference": "TRF9", "account_last4": "6789"}, headers=auth("a.finance"))
        assert (r.status_code, r.json()["status"]) == (200, "paid")
        sending.sweep(deps, router)
        sending.sweep(deps, router)
        new = list(gw.delivered.values())[before:]
    assert [a.message_id for a in new] == [f"prn-dpo-{payout_id}-paid-sms"]
    text = str(new[0].body["content"])
    assert "罚金 ¥2,000.00" in text and "****6789" in text and text.split("****")[1][:4] == "6789"
    assert "13800138000" not in text
    # The same step again adds nothing.
    with deps.uow() as uow:
        payout = uow.deposits.get_payout(world.a.id, payout_id)
        assert payout is not None
        assert penalty_notice.tell_customer(deps, uow, payout, "****6789", deps.clock.now()) == 0
    sent = client.get(f"/v1/refunds/{r.json()['refund_id']}/notifications", headers=auth("a.supervisor")).json()
    assert [n["event"] for n in sent["items"]].count("penalty_paid") == 1
    events = client.get(f"{P}/{deposit_id}", headers=auth("a.auditor")).json()["events"]
    paid = next(e for e in events if e["action"] == "deposit.penalty_paid")
    assert (paid["data"]["reference"], paid["data"]["account"]) == ("TRF9", "****6789")
