"""The policy preview over HTTP: what a proposed policy would have done to the last 30 days' refunds, for
admins only, refused with the policy's own codes, and nothing saved or audited."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.api.conftest import Auth
from tests.conftest import World
from tests.support.helpers import new_sale


def _updates(engine: Engine) -> int:
    with engine.connect() as c:
        q = (
            select(func.count())
            .select_from(tables.audit_events)
            .where(tables.audit_events.c.action == "policy.updated")
        )
        return int(c.execute(q).scalar() or 0)


def test_admin_sees_the_effect_and_nothing_changes(
    client: TestClient, auth: Auth, world: World, deps: Deps, engine: Engine
) -> None:
    for amount in (5_000, 20_000, 80_000):
        sale = new_sale(deps, world.a, amount_fen=100_000)
        req = RefundRequest(sale_id=sale.id, amount_fen=amount, reason="customer_cancelled")
        refunds.request_refund(deps, world.a.actors["cashier"], req)
    before = client.get("/v1/policy", headers=auth("a.admin")).json()
    updates = _updates(engine)
    body = {
        "auto_approve_limit_fen": 0,
        "two_person_limit_fen": 50_000,
        "evidence_required": {"customer_cancelled": ["receipt"]},
    }
    r = client.post("/v1/policy/preview", json=body, headers=auth("a.admin"))
    assert r.status_code == 200, r.text
    found = r.json()
    assert (found["cases"], found["days"], found["capped"]) == (3, 30, False)
    assert found["proposed"] == {
        "review": 0,
        "two_person": 0,
        "refused": 3,
        "refused_by": {"policy.evidence_required": 3},
    }
    assert found["current"]["refused"] == 0
    assert client.get("/v1/policy", headers=auth("a.admin")).json() == before
    assert _updates(engine) == updates


def test_refusals(client: TestClient, auth: Auth) -> None:
    for who in ("a.cashier", "a.supervisor", "a.auditor"):
        r = client.post("/v1/policy/preview", json={}, headers=auth(who))
        assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden")
    bad = client.post(
        "/v1/policy/preview",
        json={"auto_approve_limit_fen": 900_000, "supervisor_limit_fen": 1},
        headers=auth("a.admin"),
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "policy.limits_out_of_order")
    unknown = client.post("/v1/policy/preview", json={"nonsense": 1}, headers=auth("a.admin"))
    assert (unknown.status_code, unknown.json()["code"]) == (422, "request.invalid")
