"""The refund API contract: status codes, bodies, languages, idempotency."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.service import refunds
from posrefund.service.deps import Deps
from tests.api.conftest import Auth, refund_body
from tests.conftest import PASSWORD, World
from tests.support.helpers import new_sale, sale_body


def test_sign_in_and_me(client: TestClient, world: World) -> None:
    r = client.post("/v1/auth/token", json={"username": "ma_cashier", "password": PASSWORD})
    assert r.status_code == 200
    token = r.json()["access_token"]
    me = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {
        "id": world.a.actors["cashier"].id,
        "role": "cashier",
        "merchant_id": world.a.id,
        "display_name": "ma_cashier",
        "terminal_id": None,
    }
    bad = client.post("/v1/auth/token", json={"username": "ma_cashier", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.json()["code"] == "auth.invalid_credentials"
    assert client.get("/v1/auth/me").json()["code"] == "auth.missing"
    assert client.get("/v1/auth/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_lock_out_after_repeated_failures(client: TestClient, world: World) -> None:
    for _ in range(10):
        client.post("/v1/auth/token", json={"username": "ma_finance", "password": "nope-nope"})
    r = client.post("/v1/auth/token", json={"username": "ma_finance", "password": PASSWORD})
    # Locked: the right password is refused like a wrong one (a lock never confirms a guess).
    assert r.status_code == 401 and r.json()["code"] == "auth.invalid_credentials"


def test_record_find_and_refund_a_sale(client: TestClient, auth: Auth, world: World, deps: Deps) -> None:
    body = sale_body(world.a, deps.clock.now(), channel="card", payer_masked="622202******1234", amount_fen=12_345)
    r = client.post("/v1/sales", json=body, headers=auth("a.terminal"))
    assert r.status_code == 201, r.text
    sale = r.json()
    assert sale["refundable_fen"] == 12_345 and sale["payer_masked"] == "622202******1234"
    assert client.post("/v1/sales", json=body, headers=auth("a.terminal")).json()["code"] == "sale.duplicate"
    day = body["paid_at"][:10]
    by_voucher = client.get(f"/v1/sales?voucher_no={body['voucher_no']}", headers=auth("a.cashier")).json()
    by_card = client.get(f"/v1/sales?last4=1234&amount_fen=12345&date={day}", headers=auth("a.cashier")).json()
    by_order = client.get(f"/v1/sales?order_no={body['order_no']}", headers=auth("a.cashier")).json()
    assert [s["id"] for s in by_voucher["items"]] == [s["id"] for s in by_card["items"]] == [sale["id"]]
    assert [s["id"] for s in by_order["items"]] == [sale["id"]]
    assert client.get("/v1/sales", headers=auth("a.cashier")).json()["code"] == "sale.search_criteria"

    r = client.post(
        "/v1/refunds",
        json=refund_body(sale["id"], 2_345, note="顾客取消"),
        headers=auth("a.cashier", **{"Idempotency-Key": "k-1"}),
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["status"], case["amount_fen"], case["currency"], case["sale_refundable_fen"]) == (
        "approved",
        2_345,
        "CNY",
        10_000,
    )
    got = client.get(f"/v1/refunds/{case['id']}", headers=auth("a.auditor")).json()
    assert got["refund_no"] == case["refund_no"] and got["status"] == "approved"
    assert client.get(f"/v1/sales/{sale['id']}", headers=auth("a.cashier")).json()["refundable_fen"] == 10_000
    events = client.get(f"/v1/refunds/{case['id']}/events", headers=auth("a.auditor")).json()["items"]
    assert [e["action"] for e in events] == ["refund.requested", "refund.auto_approved"]


def test_review_over_http(client: TestClient, auth: Auth, world: World, deps: Deps) -> None:
    sale = new_sale(deps, world.a, amount_fen=80_000)
    case = client.post(
        "/v1/refunds", json=refund_body(sale.id, 60_000), headers=auth("a.cashier", **{"Idempotency-Key": "r1"})
    ).json()
    assert case["status"] == "pending_review"
    queue = client.get("/v1/refunds/review-queue", headers=auth("a.supervisor")).json()
    assert [c["id"] for c in queue["items"]] == [case["id"]]
    r = client.post(f"/v1/refunds/{case['id']}/approve", json={"reason": "ok"}, headers=auth("a.cashier"))
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    r = client.post(f"/v1/refunds/{case['id']}/reject", json={}, headers=auth("a.supervisor"))
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"
    r = client.post(f"/v1/refunds/{case['id']}/approve", json={"reason": "核实"}, headers=auth("a.supervisor"))
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = client.post(f"/v1/refunds/{case['id']}/cancel", headers=auth("a.cashier"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = client.post(f"/v1/refunds/{case['id']}/approve", headers=auth("a.supervisor2"))
    assert r.status_code == 409 and r.json()["code"] == "state.invalid_transition"


def test_errors_speak_chinese_by_default_and_english_on_request(
    client: TestClient, auth: Auth, world: World, deps: Deps
) -> None:
    sale = new_sale(deps, world.a, amount_fen=10_000)
    body = refund_body(sale.id, 10_001)
    zh = client.post("/v1/refunds", json=body, headers=auth("a.cashier", **{"Idempotency-Key": "e1"}))
    en = client.post(
        "/v1/refunds",
        json=body,
        headers=auth("a.cashier", **{"Idempotency-Key": "e2", "Accept-Language": "en-US,en;q=0.9"}),
    )
    assert zh.status_code == en.status_code == 422
    assert zh.json()["code"] == en.json()["code"] == "refund.exceeds_refundable"
    assert zh.json()["message"] == "退款金额 ¥100.01 超过可退金额 ¥100.00"
    assert en.json()["message"] == "Refund of ¥100.01 exceeds the refundable ¥100.00"
    assert zh.json()["params"]["refundable_fen"] == 10_000


def test_unknown_fields_and_bad_types_are_refused(client: TestClient, auth: Auth, world: World, deps: Deps) -> None:
    sale = new_sale(deps, world.a)
    h = auth("a.cashier", **{"Idempotency-Key": "u1"})
    for body in (
        refund_body(sale.id, amount_fen_extra=1),
        refund_body(sale.id, 10.5),
        refund_body(sale.id, "100"),
        {**refund_body(sale.id), "customer": {"phone": "13812345678", "email": "x@y"}},
    ):
        r = client.post("/v1/refunds", json=body, headers=h)
        assert r.status_code == 422 and r.json()["code"] == "request.invalid", body
    r = client.post("/v1/refunds", content=b"{not json", headers={**h, "content-type": "application/json"})
    assert r.status_code == 422
    assert client.post("/v1/refunds", json=refund_body(sale.id), headers=auth("a.cashier")).json()["code"] == (
        "idempotency.key_required"
    )
    _views, total = refunds.list_cases(deps, world.a.actors["auditor"], refunds.RefundQuery())
    assert total == 0


def test_idempotency_replay_and_key_reuse(client: TestClient, auth: Auth, world: World, deps: Deps) -> None:
    sale = new_sale(deps, world.a)
    h = auth("a.cashier", **{"Idempotency-Key": "same"})
    first = client.post("/v1/refunds", json=refund_body(sale.id, 500), headers=h)
    again = client.post("/v1/refunds", json=refund_body(sale.id, 500), headers=h)
    assert first.status_code == again.status_code == 201
    assert "idempotency-replayed" not in first.headers and again.headers["idempotency-replayed"] == "true"
    assert again.content == first.content
    other = client.post("/v1/refunds", json=refund_body(sale.id, 600), headers=h)
    assert other.status_code == 422 and other.json()["code"] == "idempotency.key_reused"
    assert client.get(f"/v1/sales/{sale.id}", headers=auth("a.cashier")).json()["refundable_fen"] == 9_500


def test_sixteen_concurrent_requests_with_one_key_make_one_case(
    app: FastAPI, auth: Auth, world: World, deps: Deps
) -> None:
    sale = new_sale(deps, world.a)
    h = auth("a.cashier", **{"Idempotency-Key": "burst-1"})

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as ac:
            return await asyncio.gather(
                *[ac.post("/v1/refunds", json=refund_body(sale.id, 700), headers=h) for _ in range(16)]
            )

    responses = asyncio.run(burst())
    codes = sorted(r.status_code for r in responses)
    created = [r for r in responses if r.status_code == 201 and "idempotency-replayed" not in r.headers]
    assert len(created) == 1
    assert set(codes) <= {201, 409}
    assert all(r.json()["code"] == "idempotency.in_progress" for r in responses if r.status_code == 409)
    _, total = refunds.list_cases(deps, world.a.actors["auditor"], refunds.RefundQuery())
    assert total == 1
    assert client_refundable(deps, world, sale.id) == 9_300


def client_refundable(deps: Deps, world: World, sale_id: str) -> int:
    from posrefund.service import sales

    return sales.get_sale(deps, world.a.actors["cashier"], sale_id).refundable_fen


def test_fifty_concurrent_http_requests_exactly_three_win(app: FastAPI, auth: Auth, world: World, deps: Deps) -> None:
    client_put_policy(app, auth)
    sale = new_sale(deps, world.a, amount_fen=10_000)

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as ac:
            return await asyncio.gather(
                *[
                    ac.post(
                        "/v1/refunds",
                        json=refund_body(sale.id, 3_000),
                        headers=auth("a.cashier", **{"Idempotency-Key": f"c-{i}"}),
                    )
                    for i in range(50)
                ]
            )

    responses = asyncio.run(burst())
    assert sum(r.status_code == 201 for r in responses) == 3
    assert {r.json()["code"] for r in responses if r.status_code != 201} == {"refund.exceeds_refundable"}
    assert client_refundable(deps, world, sale.id) == 1_000


def client_put_policy(app: FastAPI, auth: Auth) -> None:
    with TestClient(app) as c:
        r = c.put("/v1/policy", json={"auto_approve_limit_fen": 5_000}, headers=auth("a.admin"))
        assert r.status_code == 200 and r.json()["version"] == 2  # the test world set version 1


def test_list_paginates_and_filters(client: TestClient, auth: Auth, world: World, deps: Deps) -> None:
    sale = new_sale(deps, world.a)
    for i in range(5):
        client.post(
            "/v1/refunds", json=refund_body(sale.id, 100 + i), headers=auth("a.cashier", **{"Idempotency-Key": f"p{i}"})
        )
    page = client.get("/v1/refunds?limit=2&offset=2&count=true", headers=auth("a.finance")).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert client.get("/v1/refunds?status=approved&count=true", headers=auth("a.finance")).json()["total"] == 5
    assert client.get("/v1/refunds?status=rejected&count=true", headers=auth("a.finance")).json()["total"] == 0
    assert client.get("/v1/refunds?status=bogus", headers=auth("a.finance")).status_code == 422
    assert client.get("/v1/refunds?count=true", headers=auth("b.finance")).json()["total"] == 0


@pytest.mark.parametrize("path", ["/v1/nope", "/v1/refunds/x/y/z"])
def test_unknown_routes_answer_in_our_error_shape(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and r.json()["code"] == "request.not_found"


def test_the_hand_read_refund_body_answers_like_every_other_route(client: TestClient, auth: Auth) -> None:
    """POST /v1/refunds reads its body without FastAPI's parameter machinery: same rules, same answers."""
    h = auth("a.cashier", **{"Idempotency-Key": "hand-1"})
    cases = [
        (b"", "application/json", "body"),
        (b'{"sale_id": "x", "amount_fen": 1, "reason": "other"}', "text/plain", "body"),
        (b"{not json", "application/json", "body"),
        (b'{"sale_id": "x", "amount_fen": "100", "reason": "other"}', "application/json", "body.amount_fen"),
        (b'{"sale_id": "x", "amount_fen": 1, "reason": "other", "extra": 1}', "application/json", "body.extra"),
        (b'{"sale_id": "x", "amount_fen": 1, "reason": "other", "customer": {"pin": "1"}}', None, "body.customer.pin"),
    ]
    for raw, ctype, where in cases:
        r = client.post("/v1/refunds", content=raw, headers={**h, "Content-Type": ctype or "application/json"})
        assert r.status_code == 422, (raw, r.text)
        body = r.json()
        assert body["code"] == "request.invalid"
        assert any(".".join(e["loc"]).startswith(where) for e in body["params"]["errors"]), (raw, body)
    # who is calling is checked before the body is looked at, as with Depends()
    assert client.post("/v1/refunds", content=b"{not json", headers={"Idempotency-Key": "k"}).status_code == 401


def test_openapi_still_documents_the_refund_request(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/v1/refunds"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/RefundIn"
    refund_in = spec["components"]["schemas"]["RefundIn"]
    assert set(refund_in["required"]) == {"sale_id", "reason"}  # the amount, or the items it is computed from
    assert refund_in["additionalProperties"] is False
    assert "CustomerIn" in spec["components"]["schemas"]
    assert [p["name"] for p in op["parameters"]] == ["Idempotency-Key"]
