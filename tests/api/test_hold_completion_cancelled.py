"""A card completion cancelled the same day (预授权完成撤销) took nothing: its sale is voided and a refund of it is
refused (409 ``sale.voided``, zh + en) instead of being sent to the acquirer (which would answer 25)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from posrefund.service import fund_holds
from posrefund.service.deps import Deps
from tests.api.conftest import Auth, refund_body
from tests.api.test_holds_api import hold, recorded
from tests.conftest import FixedClock, World
from tests.support.card_holds import Card, card_host


@pytest.fixture
def card(engine: Engine, clock: FixedClock) -> Iterator[Card]:
    with card_host(engine, clock) as running:
        yield running


def test_the_sale_of_a_cancelled_completion_is_not_refunded(
    client: TestClient, auth: Auth, world: World, deps: Deps, card: Card
) -> None:
    made = recorded(client, auth, world, card)
    r = client.post(f"/v1/holds/{made['id']}/complete", json={"amount_fen": 8_000}, headers=auth("a.cashier"))
    assert r.status_code == 202, r.text
    fund_holds.sweep_holds(deps, card.worker)
    sale_id = hold(client, auth, made["id"])["sale_id"]
    r = client.post(f"/v1/holds/{made['id']}/cancel-completion", json={}, headers=auth("a.supervisor"))
    assert r.status_code == 202, r.text
    fund_holds.sweep_holds(deps, card.worker)
    back = hold(client, auth, made["id"])
    assert (back["state"], back["held_fen"]) == ("held", 10_000)
    sale = client.get(f"/v1/sales/{sale_id}", headers=auth("a.cashier")).json()
    assert sale["settlement_status"] == "voided"
    for lang, text in (("zh-CN", "已被撤销"), ("en", "voided")):
        headers = auth("a.cashier", **{"Idempotency-Key": f"void-{lang}", "Accept-Language": lang})
        r = client.post("/v1/refunds", json=refund_body(sale_id, 1_000), headers=headers)
        assert (r.status_code, r.json()["code"]) == (409, "sale.voided")
        assert text in r.json()["message"]
    assert [row["kind"] for row in card.sim.book.hold_rows(made["rrn"]) if row["executed"]] == [
        "complete",
        "compvoid",  # the host's name for 预授权完成撤销
    ]
