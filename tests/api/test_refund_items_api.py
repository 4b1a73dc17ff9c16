"""Item lines over HTTP: a sale recorded with its lines, a refund naming lines and units, its exact refusals."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World
from tests.support.helpers import sale_body

ITEMS = [
    {"name": "矿泉水", "quantity": 2, "unit_price_fen": 1_200},
    {"name": "面包", "quantity": 3, "unit_price_fen": 400, "amount_fen": 1_000},
]


def _sale(client: TestClient, auth: Auth, world: World, deps: Deps) -> dict[str, Any]:
    body = sale_body(world.a, deps.clock.now(), amount_fen=3_400) | {"items": ITEMS}
    r = client.post("/v1/sales", json=body, headers=auth("a.terminal"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _refund(client: TestClient, auth: Auth, sale_id: str, key: str, who: str = "a.cashier", **kw: Any) -> Any:
    body = {"sale_id": sale_id, "reason": "customer_cancelled", **kw}
    return client.post("/v1/refunds", json=body, headers=auth(who, **{"Idempotency-Key": key}))


def test_sale_with_lines_and_a_refund_of_units(client: TestClient, auth: Auth, world: World, deps: Deps) -> None:
    sale = _sale(client, auth, world, deps)
    assert [(i["line"], i["amount_fen"], i["refundable_qty"]) for i in sale["items"]] == [(1, 2_400, 2), (2, 1_000, 3)]
    r = _refund(client, auth, sale["id"], "k1", items=[{"line": 2, "quantity": 2}])
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["amount_fen"] == 666 and case["sale_refundable_fen"] == 3_400 - 666
    held = client.get(f"/v1/refunds/{case['id']}/items", headers=auth("a.cashier")).json()
    assert held == {"items": [{"line": 2, "name": "面包", "quantity": 2, "amount_fen": 666}]}
    after = client.get(f"/v1/sales/{sale['id']}", headers=auth("a.cashier")).json()
    assert [(i["reserved_qty"], i["refundable_qty"]) for i in after["items"]] == [(0, 2), (2, 1)]
    events = client.get(f"/v1/refunds/{case['id']}/events", headers=auth("a.auditor")).json()["items"]
    assert [e["action"] for e in events][-1] == "refund.items_held"


def test_refusals_have_exact_codes(client: TestClient, auth: Auth, world: World, deps: Deps) -> None:
    sale = _sale(client, auth, world, deps)
    over = _refund(client, auth, sale["id"], "k2", items=[{"line": 1, "quantity": 3}])
    assert (over.status_code, over.json()["code"]) == (422, "refund.item_over_quantity")
    assert over.json()["params"]["refundable_qty"] == 2
    unknown = _refund(client, auth, sale["id"], "k3", items=[{"line": 9, "quantity": 1}])
    assert (unknown.status_code, unknown.json()["code"]) == (422, "refund.item_unknown_line")
    twice = _refund(client, auth, sale["id"], "k4", items=[{"line": 1, "quantity": 1}, {"line": 1, "quantity": 1}])
    assert (twice.status_code, twice.json()["code"]) == (422, "refund.item_duplicate_line")
    wrong = _refund(client, auth, sale["id"], "k5", amount_fen=1, items=[{"line": 1, "quantity": 1}])
    assert (wrong.status_code, wrong.json()["code"]) == (422, "refund.item_amount_mismatch")
    zero = _refund(client, auth, sale["id"], "k6", items=[{"line": 1, "quantity": 0}])
    assert (zero.status_code, zero.json()["code"]) == (422, "request.invalid")
    neither = _refund(client, auth, sale["id"], "k7")
    assert (neither.status_code, neither.json()["code"]) == (422, "refund.amount_not_positive")
    other = _refund(client, auth, sale["id"], "k8", who="b.cashier", items=[{"line": 1, "quantity": 1}])
    assert (other.status_code, other.json()["code"]) == (404, "sale.not_found")
    finance = _refund(client, auth, sale["id"], "k9", who="a.finance", items=[{"line": 1, "quantity": 1}])
    assert (finance.status_code, finance.json()["code"]) == (403, "auth.forbidden")
    bad_sale = sale_body(world.a, deps.clock.now(), amount_fen=3_000) | {"items": ITEMS}
    r = client.post("/v1/sales", json=bad_sale, headers=auth("a.terminal"))
    assert (r.status_code, r.json()["code"]) == (422, "sale.items_sum_mismatch")
