"""Card pre-authorisations over HTTP on SQLite and PostgreSQL, with the terminal adapter and the acquirer
simulator behind the worker's steps: 预授权 → completion → a refund of the completion; 预授权 → release; and the
refusals (above the tolerance 422, release after completion 409, completion after expiry 409) that change
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.service import execution, fund_holds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.api.conftest import Auth, refund_body
from tests.conftest import FixedClock, World
from tests.support.card_holds import Card, card_host


@pytest.fixture
def card(engine: Engine, clock: FixedClock) -> Iterator[Card]:
    with card_host(engine, clock) as running:
        yield running


def recorded(client: TestClient, auth: Auth, world: World, card: Card, amount_fen: int = 10_000) -> dict[str, Any]:
    slip = card.slip(world, amount_fen)
    body = {**slip.__dict__, "held_at": slip.held_at.isoformat()}
    del body["currency"]
    r = client.post("/v1/holds", json=body, headers=auth("a.terminal"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def hold(client: TestClient, auth: Auth, hold_id: str) -> dict[str, Any]:
    r = client.get(f"/v1/holds/{hold_id}", headers=auth("a.auditor"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_preauth_complete_then_refund_the_completion(
    client: TestClient, auth: Auth, world: World, deps: Deps, card: Card
) -> None:
    made = recorded(client, auth, world, card)
    assert (made["state"], made["held_fen"], made["ceiling_fen"]) == ("held", 10_000, 11_500)
    r = client.post(f"/v1/holds/{made['id']}/complete", json={"amount_fen": 11_000}, headers=auth("a.cashier"))
    assert r.status_code == 202, r.text
    assert (r.json()["step"], r.json()["status"]) == ("complete", "pending")
    assert fund_holds.sweep_holds(deps, card.worker) == 1
    done = hold(client, auth, made["id"])
    assert (done["state"], done["held_fen"], done["taken_fen"]) == ("completed", 0, 11_000)
    assert [(o["step"], o["status"], o["attempts"]) for o in done["operations"]] == [("complete", "succeeded", 1)]
    sale = client.get(f"/v1/sales/{done['sale_id']}", headers=auth("a.cashier")).json()
    assert (sale["amount_fen"], sale["channel"], sale["rrn"]) == (
        11_000,
        "card",
        card.live(made["rrn"], "complete")[0]["rrn"],
    )
    r = client.post(
        "/v1/refunds", json=refund_body(done["sale_id"], 4_000), headers=auth("a.cashier", **{"Idempotency-Key": "h-1"})
    )
    assert r.status_code == 201, r.text
    execution.sweep(deps, Router(channels={"card": card.card}, is_workday=ChineseCalendar().is_workday))
    refund = client.get(f"/v1/refunds/{r.json()['id']}", headers=auth("a.auditor")).json()
    assert refund["status"] == "succeeded"
    assert [row["kind"] for row in card.sim.book.hold_rows(made["rrn"]) if row["executed"]] == ["complete", "refund"]


def test_preauth_release(client: TestClient, auth: Auth, world: World, deps: Deps, card: Card) -> None:
    made = recorded(client, auth, world, card)
    r = client.post(f"/v1/holds/{made['id']}/release", json={"reason": "客人退房"}, headers=auth("a.cashier"))
    assert r.status_code == 202, r.text
    assert r.json()["amount_fen"] == 10_000
    fund_holds.sweep_holds(deps, card.worker)
    assert (hold(client, auth, made["id"])["state"], len(card.live(made["rrn"], "release"))) == ("released", 1)


def test_refusals_change_nothing(
    app: FastAPI, client: TestClient, auth: Auth, world: World, deps: Deps, card: Card, clock: FixedClock
) -> None:
    made = recorded(client, auth, world, card)
    r = client.post(f"/v1/holds/{made['id']}/complete", json={"amount_fen": 11_501}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (422, "hold.above_ceiling")
    assert "¥115.01" in r.json()["message"] and "¥115.00" in r.json()["message"]
    assert hold(client, auth, made["id"]) == made | {"operations": []}
    assert client.get(f"/v1/holds/{made['id']}", headers=auth("b.admin")).status_code == 404
    client.post(f"/v1/holds/{made['id']}/complete", json={"amount_fen": 10_000}, headers=auth("a.cashier"))
    fund_holds.sweep_holds(deps, card.worker)
    r = client.post(f"/v1/holds/{made['id']}/release", json={}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (409, "hold.already_completed")
    late = recorded(client, auth, world, card, 20_000)
    clock.advance(days=30)
    auth = Auth(app, world)  # signed in again: a month has passed
    r = client.post(f"/v1/holds/{late['id']}/complete", json={"amount_fen": 100}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (409, "hold.expired")
    assert hold(client, auth, late["id"])["operations"] == []
    assert card.live(late["rrn"], "complete") == [] and len(card.live(made["rrn"], "complete")) == 1
