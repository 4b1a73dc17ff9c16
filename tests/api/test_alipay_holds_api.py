"""Alipay freezes (资金授权) over HTTP on SQLite and PostgreSQL, with the adapter and the Alipay simulator behind
the API's freeze and the worker's steps: freeze → convert part → release the rest, the simulator's ledger checked
to the fen; a lost answer on the freeze resolved by a query (executed once); a freeze that stays unknown
withdrawn (cancelled); a lost answer on the unfreeze (executed once); a refused freeze (failed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.domain.errors import Conflict
from posrefund.domain.fund_hold import HoldStep
from posrefund.service import fund_holds
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import T0, FixedClock, World
from tests.support.alipay_holds import PAYER_CODE, Alipay, alipay_line

LATER = timedelta(minutes=5)  # past any claim's lease: the worker may take the operation over


@pytest.fixture
def alipay(app: FastAPI, deps: Deps, monkeypatch: pytest.MonkeyPatch) -> Iterator[Alipay]:
    with alipay_line(app, deps, monkeypatch) as line:
        yield line


def freeze(client: TestClient, auth: Auth, world: World, amount_fen: int = 10_000, code: str = PAYER_CODE) -> Any:
    body = {
        "terminal_id": world.a.terminal_id,
        "amount_fen": amount_fen,
        "payer_code": code,
        "title": "房间押金",
        "expires_at": (T0 + timedelta(days=30)).isoformat(),
    }
    return client.post("/v1/holds/alipay", json=body, headers=auth("a.cashier"))


def hold(client: TestClient, auth: Auth, hold_id: str) -> dict[str, Any]:
    r = client.get(f"/v1/holds/{hold_id}", headers=auth("a.auditor"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def steps(found: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    """The hold's operations in the order they were asked (their numbers follow one another here)."""
    ops = sorted(found["operations"], key=lambda o: o["operation_no"])
    return [(o["step"], o["status"], o["amount_fen"], o["attempts"]) for o in ops]


def test_freeze_convert_part_then_release_the_rest(
    client: TestClient, auth: Auth, world: World, deps: Deps, alipay: Alipay
) -> None:
    r = freeze(client, auth, world)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["state"], made["channel"], made["held_fen"], made["hold_no"][:2]) == ("held", "alipay", 10_000, "HF")
    assert made["auth_no"] != ""
    r = client.post(f"/v1/holds/{made['id']}/complete", json={"amount_fen": 3_000}, headers=auth("a.cashier"))
    assert r.status_code == 202, r.text
    convert_no = r.json()["operation_no"]
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    part = hold(client, auth, made["id"])
    assert (part["state"], part["held_fen"], part["taken_fen"], part["ceiling_fen"]) == ("held", 7_000, 3_000, 10_000)
    sale = client.get(f"/v1/sales/{part['sale_id']}", headers=auth("a.cashier")).json()
    conversion = alipay.row(convert_no)
    assert (sale["channel"], sale["amount_fen"], sale["order_no"]) == ("alipay", 3_000, convert_no)
    with deps.uow(readonly=True) as uow:
        kept = uow.sales.get_sale(world.a.id, part["sale_id"])
    assert kept is not None and (kept.channel_trade_no, conversion["executions"]) == (conversion["trade_no"], 1)
    r = client.post(f"/v1/holds/{made['id']}/complete", json={"amount_fen": 7_001}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (422, "hold.above_ceiling")
    r = client.post(f"/v1/holds/{made['id']}/release", json={"reason": "退房"}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["amount_fen"]) == (202, 7_000)
    release_no = r.json()["operation_no"]
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    done = hold(client, auth, made["id"])
    assert (done["state"], done["held_fen"], done["taken_fen"]) == ("released", 0, 3_000)
    assert steps(done) == [("hold", "succeeded", 10_000, 1), ("complete", "succeeded", 3_000, 1),
                           ("release", "succeeded", 7_000, 1)]  # fmt: skip
    assert [(r["operation"], r["amount_fen"], r["executions"]) for r in alipay.sim.fund_auth.ledger()] == [
        ("FREEZE", 10_000, 1),
        ("UNFREEZE", 7_000, 1),
        ("PAY", 3_000, 1),
    ]
    totals = alipay.freeze(made["auth_no"])
    assert (totals["total_freeze_fen"], totals["total_pay_fen"], totals["total_unfreeze_fen"], totals["rest_fen"]) == (
        10_000,
        3_000,
        7_000,
        0,
    )
    assert release_no != convert_no


def test_a_lost_freeze_answer_is_resolved_by_a_query_and_executed_once(
    client: TestClient, auth: Auth, world: World, deps: Deps, clock: FixedClock, alipay: Alipay
) -> None:
    number = alipay.next_number()
    alipay.sim.fund_auth.set_fault(number, "no_answer_after_accept")
    r = freeze(client, auth, world)
    assert r.status_code == 201, r.text
    assert (r.json()["state"], steps(r.json())) == ("holding", [("hold", "processing", 10_000, 1)])
    assert fund_holds.sweep_holds(deps, alipay.worker) == 0  # the API's claim still holds its lease
    clock.advance(minutes=5)
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    found = hold(client, auth, r.json()["id"])
    assert (found["state"], found["held_fen"], steps(found)) == ("held", 10_000, [("hold", "succeeded", 10_000, 2)])
    assert found["auth_no"] == alipay.row(number)["auth_no"]
    assert (alipay.row(number)["operation"], alipay.row(number)["executions"]) == ("FREEZE", 1)


def test_a_freeze_that_stays_unknown_is_withdrawn(
    client: TestClient, auth: Auth, world: World, deps: Deps, clock: FixedClock, alipay: Alipay
) -> None:
    number = alipay.next_number()
    alipay.sim.fund_auth.set_fault(number, "payer_confirming")
    made = freeze(client, auth, world).json()
    assert made["state"] == "holding"
    for _ in range(3):
        clock.advance(minutes=5)
        assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    found = hold(client, auth, made["id"])
    assert (found["state"], found["held_fen"]) == ("cancelled", 0)
    assert [(o["status"], o["code"], o["attempts"]) for o in found["operations"]] == [("cancelled", "CANCEL_CLOSE", 4)]
    assert [(h["order_status"], h["total_freeze_fen"]) for h in alipay.sim.fund_auth.holds()] == [("CLOSED", 0)]
    assert alipay.sim.fund_auth.payer_confirms(number) is False
    r = client.post(f"/v1/holds/{made['id']}/release", json={}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (409, "hold.not_held")


def test_a_lost_unfreeze_answer_is_executed_once(
    client: TestClient, auth: Auth, world: World, deps: Deps, clock: FixedClock, alipay: Alipay
) -> None:
    made = freeze(client, auth, world).json()
    number = alipay.next_number()
    alipay.sim.fund_auth.set_fault(number, "no_answer_after_accept")
    r = client.post(f"/v1/holds/{made['id']}/release", json={}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["operation_no"]) == (202, number)
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    assert steps(hold(client, auth, made["id"]))[1] == ("release", "processing", 10_000, 1)
    clock.advance(minutes=5)
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    found = hold(client, auth, made["id"])
    assert (found["state"], steps(found)[1]) == ("released", ("release", "succeeded", 10_000, 2))
    assert (alipay.row(number)["operation"], alipay.row(number)["executions"]) == ("UNFREEZE", 1)
    assert alipay.freeze(made["auth_no"])["rest_fen"] == 0


def test_a_refused_freeze_closes_the_hold_with_alipays_reason(
    client: TestClient, auth: Auth, world: World, alipay: Alipay
) -> None:
    alipay.sim.fund_auth.set_fault(alipay.next_number(), "decline", code="PAYER_BALANCE_NOT_ENOUGH")
    made = freeze(client, auth, world).json()
    assert (made["state"], made["held_fen"]) == ("failed", 0)
    assert [(o["status"], o["code"]) for o in made["operations"]] == [("declined", "PAYER_BALANCE_NOT_ENOUGH")]


def test_a_freeze_asks_a_valid_payment_code_and_a_configured_channel(
    client: TestClient, auth: Auth, world: World, app: FastAPI, alipay: Alipay
) -> None:
    r = freeze(client, auth, world, code="123")
    assert (r.status_code, r.json()["code"]) == (422, "hold.invalid_field")
    assert "123" not in r.text.replace(world.a.terminal_id, "")
    assert alipay.sim.fund_auth.ledger() == []
    app.state.ctx.router = type(app.state.ctx.router)(channels={}, is_workday=lambda _d: True)
    r = freeze(client, auth, world)
    assert (r.status_code, r.json()["code"]) == (409, "hold.channel_unavailable")
    r = client.post("/v1/holds/alipay", json={}, headers=auth("a.auditor"))
    assert r.status_code in (403, 422)


def test_a_freeze_past_its_end_is_released_once_by_the_worker(
    client: TestClient, auth: Auth, world: World, deps: Deps, clock: FixedClock, alipay: Alipay
) -> None:
    made = freeze(client, auth, world).json()
    clock.advance(days=30)  # (the test's tokens expire too: the service is asked directly)
    with pytest.raises(Conflict) as refused:
        fund_holds.ask(deps, world.a.actors["cashier"], made["id"], HoldStep.COMPLETE, 100)
    assert refused.value.code == "hold.expired"
    assert fund_holds.expire_holds(deps) == 1
    assert fund_holds.expire_holds(deps) == 0  # one release at a time, and only one by itself
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    assert alipay.freeze(made["auth_no"])["rest_fen"] == 0
    assert fund_holds.expire_holds(deps) == 0
    with deps.uow(readonly=True) as uow:
        kept = uow.fund_holds.get_hold(world.a.id, made["id"])
    assert kept is not None and (kept.status.state.value, kept.status.taken_fen) == ("released", 0)
