"""A release the channel refuses does not leave money held and forgotten: over HTTP on SQLite and PostgreSQL, with
the Alipay and acquirer simulators behind the worker and a fixed clock.

- Alipay refuses an unfreeze: the hold stays held, is listed for a supervisor (its sub_code in Chinese, or in
  English on request), and a supervisor's retry releases it (executed once at Alipay).
- Alipay closed the freeze by itself: the refused unfreeze (ORDER_ALREADY_CLOSED) is followed by the freeze's query
  and the hold ends released.
- A lapsed freeze whose release Alipay refused is released by the expiry round once Alipay says it is closed.
- A freeze of unknown outcome whose withdrawal Alipay refuses: unresolved, listed, retried by a supervisor (or by
  the expiry round) until Alipay says what became of it.
- A card 预授权撤销 refused (12): listed with the acquirer's code in Chinese; the hold still expires at its end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.domain.fund_hold import HoldState, HoldStep
from posrefund.service import fund_holds
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.api.test_alipay_holds_api import freeze, hold, steps
from tests.conftest import FixedClock, World
from tests.support.alipay_holds import Alipay, alipay_line
from tests.support.card_holds import Card, card_host


@pytest.fixture
def alipay(app: FastAPI, deps: Deps, monkeypatch: pytest.MonkeyPatch) -> Iterator[Alipay]:
    with alipay_line(app, deps, monkeypatch) as line:
        yield line


def attention(client: TestClient, auth: Auth, **headers: str) -> list[dict[str, Any]]:
    r = client.get("/v1/holds/attention", headers=auth("a.supervisor", **headers))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def state_of(deps: Deps, world: World, hold_id: str) -> HoldState:
    found = fund_holds.get_hold(deps, world.a.actors["auditor"], hold_id)[0]
    return found.status.state


def actions(engine: Engine) -> list[str]:
    with engine.connect() as c:
        return list(c.execute(select(tables.audit_events.c.action)).scalars().all())


def test_a_refused_unfreeze_is_listed_then_a_supervisors_retry_releases_it(
    client: TestClient, auth: Auth, world: World, deps: Deps, clock: FixedClock, alipay: Alipay
) -> None:
    made = freeze(client, auth, world).json()
    clock.advance(minutes=1)
    refused_no = alipay.next_number()
    alipay.sim.fund_auth.set_fault(refused_no, "decline", code="ACCESS_FORBIDDEN")
    assert client.post(f"/v1/holds/{made['id']}/release", json={}, headers=auth("a.cashier")).status_code == 202
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    found = hold(client, auth, made["id"])
    assert (found["state"], found["held_fen"], steps(found)[1]) == ("held", 10_000, ("release", "declined", 10_000, 1))
    [listed] = attention(client, auth)
    assert (listed["hold"]["id"], listed["warning"], listed["code"]) == (
        made["id"],
        "release_declined",
        "ACCESS_FORBIDDEN",
    )
    assert listed["code_label"] == "支付宝：无权限使用该接口"
    assert listed["message"].startswith("撤销/解冻被拒绝：支付宝：无权限使用该接口")
    [english] = attention(client, auth, **{"Accept-Language": "en"})
    assert english["code_label"] == "Alipay: not allowed to use this method"
    r = client.post(f"/v1/holds/{made['id']}/retry", json={}, headers=auth("a.cashier"))
    assert r.status_code == 403
    r = client.post(f"/v1/holds/{made['id']}/retry", json={"reason": "核实后重试"}, headers=auth("b.supervisor"))
    assert (r.status_code, r.json()["code"]) == (404, "hold.not_found")
    r = client.post(f"/v1/holds/{made['id']}/retry", json={"reason": "核实后重试"}, headers=auth("a.supervisor"))
    assert (r.status_code, r.json()["step"], r.json()["status"]) == (202, "release", "pending")
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    done = hold(client, auth, made["id"])
    assert (done["state"], done["held_fen"]) == ("released", 0)
    assert attention(client, auth) == []
    assert alipay.row(r.json()["operation_no"])["executions"] == 1
    assert alipay.freeze(made["auth_no"])["rest_fen"] == 0
    r = client.post(f"/v1/holds/{made['id']}/retry", json={}, headers=auth("a.supervisor"))
    assert (r.status_code, r.json()["code"]) == (409, "hold.not_retryable")


def test_a_freeze_alipay_closed_by_itself_ends_released_on_the_refused_unfreeze(
    client: TestClient, auth: Auth, world: World, deps: Deps, engine: Engine, clock: FixedClock, alipay: Alipay
) -> None:
    made = freeze(client, auth, world).json()
    assert alipay.sim.fund_auth.lapse(made["auth_no"]) is True  # Alipay's own time limit: the money went back
    clock.advance(minutes=1)
    r = client.post(f"/v1/holds/{made['id']}/release", json={}, headers=auth("a.cashier"))
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    done = hold(client, auth, made["id"])
    assert (done["state"], done["held_fen"]) == ("released", 0)
    release = [o for o in done["operations"] if o["step"] == "release"]
    assert [(o["status"], o["code"]) for o in release] == [("succeeded", "ORDER_ALREADY_CLOSED")]
    assert [
        row["operation"] for row in alipay.sim.fund_auth.ledger() if row["refund_no"] == r.json()["operation_no"]
    ] == []
    assert attention(client, auth) == []
    assert "hold.released" in actions(engine)


def test_the_expiry_round_ends_a_lapsed_freeze_once_alipay_says_it_is_closed(
    client: TestClient, auth: Auth, world: World, deps: Deps, clock: FixedClock, alipay: Alipay
) -> None:
    made = freeze(client, auth, world).json()
    clock.advance(minutes=1)
    alipay.sim.fund_auth.set_fault(alipay.next_number(), "decline", code="ACCESS_FORBIDDEN")
    client.post(f"/v1/holds/{made['id']}/release", json={}, headers=auth("a.cashier"))
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    clock.advance(days=30)  # past the freeze's end (the test's tokens expire too: the service is asked directly)
    alipay.sim.fund_auth.set_fault(alipay.next_number(), "decline", code="ACCESS_FORBIDDEN")
    assert fund_holds.expire_holds(deps) == 1  # refused before its end: asked again at once
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    assert state_of(deps, world, made["id"]) is HoldState.HELD  # refused again: Alipay still holds it
    assert fund_holds.expire_holds(deps) == 0  # refused after its end: not before a day
    supervisor = world.a.actors["supervisor"]
    [listed] = fund_holds.holds_needing_attention(deps, supervisor)
    assert (listed.warning.value, listed.operation.code) == ("release_declined", "ACCESS_FORBIDDEN")
    assert alipay.sim.fund_auth.lapse(made["auth_no"]) is True
    clock.advance(days=1)
    assert fund_holds.expire_holds(deps) == 1
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    assert state_of(deps, world, made["id"]) is HoldState.RELEASED
    assert fund_holds.holds_needing_attention(deps, supervisor) == []
    assert fund_holds.expire_holds(deps) == 0
    unfreezes = [r for r in alipay.sim.fund_auth.ledger() if r["operation"] == "UNFREEZE"]
    assert [(r["refund_no"][:6], r["executions"]) for r in unfreezes] == [("LAPSE-", 1)]  # only Alipay's own


def test_a_refused_withdrawal_is_listed_and_retried_until_alipay_says(
    client: TestClient, auth: Auth, world: World, deps: Deps, engine: Engine, clock: FixedClock, alipay: Alipay
) -> None:
    number = alipay.next_number()
    alipay.sim.fund_auth.set_fault(number, "payer_confirming")
    made = freeze(client, auth, world).json()
    for _ in range(2):
        clock.advance(minutes=5)
        assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    alipay.sim.fund_auth.set_fault(number, "decline", code="ILLEGAL_ARGUMENT")
    clock.advance(minutes=5)
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1  # the 4th call withdraws: refused
    found = hold(client, auth, made["id"])
    assert (found["state"], steps(found)) == ("holding", [("hold", "unresolved", 10_000, 4)])
    clock.advance(minutes=5)
    assert fund_holds.sweep_holds(deps, alipay.worker) == 0  # no more asking by itself
    [listed] = attention(client, auth)
    assert (listed["warning"], listed["code"], listed["code_label"]) == (
        "withdrawal_declined",
        "ILLEGAL_ARGUMENT",
        "支付宝：参数有误或不允许此操作",
    )
    r = client.post(f"/v1/holds/{made['id']}/retry", json={}, headers=auth("a.supervisor"))
    assert (r.status_code, r.json()["step"], r.json()["status"]) == (202, "hold", "processing")
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1  # asked, still unknown: withdrawn, done this time
    done = hold(client, auth, made["id"])
    assert (done["state"], steps(done)) == ("cancelled", [("hold", "cancelled", 10_000, 5)])
    assert [(h["order_status"], h["total_freeze_fen"]) for h in alipay.sim.fund_auth.holds()] == [("CLOSED", 0)]
    assert attention(client, auth) == []
    assert "hold.withdrawal_retried" in actions(engine)


def test_a_refused_withdrawal_past_the_freezes_end_is_asked_by_the_expiry_round(
    client: TestClient, auth: Auth, world: World, deps: Deps, clock: FixedClock, alipay: Alipay
) -> None:
    number = alipay.next_number()
    alipay.sim.fund_auth.set_fault(number, "payer_confirming")
    made = freeze(client, auth, world).json()
    alipay.sim.fund_auth.set_fault(number, "decline", code="ILLEGAL_ARGUMENT")
    for _ in range(3):
        clock.advance(minutes=5)
        assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    assert state_of(deps, world, made["id"]) is HoldState.HOLDING
    assert fund_holds.expire_holds(deps) == 0  # not past its end yet
    assert alipay.sim.fund_auth.payer_confirms(number) is True  # the payer confirmed after all
    clock.advance(days=30)
    assert fund_holds.expire_holds(deps) == 1  # the freeze asked about again
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    assert state_of(deps, world, made["id"]) is HoldState.HELD  # held: now past its end, released by itself
    assert fund_holds.expire_holds(deps) == 1
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    assert state_of(deps, world, made["id"]) is HoldState.RELEASED
    assert [(h["order_status"], h["total_unfreeze_fen"]) for h in alipay.sim.fund_auth.holds()] == [("CLOSED", 10_000)]


@pytest.fixture
def card(engine: Engine, clock: FixedClock) -> Iterator[Card]:
    with card_host(engine, clock) as running:
        yield running


def test_a_refused_card_release_is_listed_and_the_hold_still_expires(
    client: TestClient, auth: Auth, world: World, deps: Deps, clock: FixedClock, card: Card
) -> None:
    slip = card.slip(world)
    made = fund_holds.record_card_hold(deps, world.a.actors["terminal"], slip)
    card.sim.set_fault(f"{slip.rrn}:{slip.amount_fen}", "decline", code="12")
    fund_holds.ask(deps, world.a.actors["cashier"], made.id, HoldStep.RELEASE, 0)
    assert fund_holds.sweep_holds(deps, card.worker) == 1
    [listed] = attention(client, auth)
    assert (listed["warning"], listed["code"]) == ("release_declined", "12")
    assert listed["code_label"] == "银联：无效交易（预授权已撤销、已完成或已过期）"
    assert state_of(deps, world, made.id) is HoldState.HELD
    clock.advance(days=30)
    assert fund_holds.expire_holds(deps) == 1  # the issuer's validity ends it: it is not held forever
    assert state_of(deps, world, made.id) is HoldState.EXPIRED
    assert fund_holds.holds_needing_attention(deps, world.a.actors["supervisor"]) == []
