"""Deposits through the HTTP API on the real database: terms, a deposit recorded with its payment, proposals
by the terms, a supervisor's acceptance creating the refund by the original route and the linked penalty
payout of a double return, overrides, refusals beyond the terms, and another merchant's deposits unseen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.entrypoints.worker.loop import deposit_round
from posrefund.service import evidence
from posrefund.service.deposits import holding
from posrefund.service.deps import Deps
from tests.api.conftest import Auth, refund_body
from tests.conftest import World
from tests.support.helpers import sale_body

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64
P = "/v1/deposits"


def make_terms(client: TestClient, auth: Auth, kind: str, name: str = "", **kw: Any) -> str:
    body = {"name": name or f"{kind} 条款", "kind": kind, "hold_days": 30, **kw}
    r = client.post(f"{P}/terms", json=body, headers=auth("a.supervisor"))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def record(
    client: TestClient, auth: Auth, deps: Deps, world: World, terms_id: str, amount: int, contract: int
) -> dict[str, Any]:
    body = {
        "terms_id": terms_id,
        "contract_value_fen": contract,
        "sale": sale_body(world.a, deps.clock.now(), amount_fen=amount),
    }
    r = client.post(P, json=body, headers=auth("a.cashier"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def propose(client: TestClient, auth: Auth, deposit_id: str, ending: str, who: str = "a.cashier", **kw: Any) -> Any:
    return client.post(f"{P}/{deposit_id}/proposals", json={"ending": ending, **kw}, headers=auth(who))


def accept(client: TestClient, auth: Auth, deposit_id: str, proposal_id: str, who: str = "a.supervisor") -> Any:
    return client.post(f"{P}/{deposit_id}/proposals/{proposal_id}/accept", headers=auth(who))


def sale_row(deps: Deps, sale_id: str) -> tuple[int, int, int]:
    s = tables.sales.c
    with deps.uow.engine.connect() as c:  # type: ignore[attr-defined]
        row = c.execute(select(s.refunded_fen, s.reserved_fen, s.refund_count).where(s.id == sale_id)).one()
    return int(row[0]), int(row[1]), int(row[2])


def count(deps: Deps, table: Any) -> int:
    with deps.uow.engine.connect() as c:  # type: ignore[attr-defined]
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def test_double_return_of_earnest_money(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    """The merchant broke the deal: the 3,000 yuan paid back by the original route (2,000 of it 定金, 1,000 an
    advance above the 20 % cap) and a 2,000-yuan penalty by bank transfer, linked to that refund."""
    terms_id = make_terms(client, auth, "deposit", text="婚宴定金，违约按定金罚则处理")
    made = record(client, auth, deps, world, terms_id, 300_000, 1_000_000)
    deposit, sale = made["deposit"], made["sale"]
    assert (sale["kind"], sale["kind_label"], deposit["kind_label"]) == ("deposit", "定金", "定金")
    assert client.get(f"/v1/sales/{sale['id']}", headers=auth("a.cashier")).json()["kind_label"] == "定金"

    r = propose(client, auth, deposit["id"], "merchant_breach")
    assert r.status_code == 201, r.text
    p = r.json()
    assert (p["earnest_fen"], p["advance_fen"], p["back_now_fen"], p["penalty_now_fen"]) == (
        200_000,
        100_000,
        300_000,
        200_000,
    )
    assert p["explanation"][0]["zh"] == "合同金额 ¥10,000.00 × 20% = 定金上限 ¥2,000.00（民法典第586条）"
    assert p["ending_label"] == "商户违约"

    r = accept(client, auth, deposit["id"], p["id"])
    assert r.status_code == 201, r.text
    done = r.json()
    refund, payout = done["refund"], done["payout"]
    assert (refund["amount_fen"], refund["reason"], refund["sale_id"], refund["status"]) == (
        300_000,
        "deposit_return",
        sale["id"],
        "pending_review",
    )
    assert (payout["amount_fen"], payout["method"], payout["status"], payout["refund_id"]) == (
        200_000,
        "transfer",
        "awaiting_transfer",
        refund["id"],
    )
    assert (done["proposal"]["status"], done["proposal"]["refund_id"], done["proposal"]["payout_id"]) == (
        "accepted",
        refund["id"],
        payout["id"],
    )
    # The channel part never exceeds what was captured; the two together are the deposit plus its penalty.
    assert sale_row(deps, sale["id"]) == (0, 300_000, 1)
    assert refund["amount_fen"] + payout["amount_fen"] == 300_000 + 200_000

    # The transfer is confirmed paid by a second person, with its reference.
    confirm = f"{P}/payouts/{payout['id']}/confirm"
    r = client.post(confirm, json={"reference": "TRF20261120001"}, headers=auth("a.supervisor"))
    assert (r.status_code, r.json()["code"]) == (403, "deposit.second_person_required")
    r = client.post(confirm, json={"reference": " "}, headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"]) == (422, "deposit.reference_required")
    r = client.post(confirm, json={"reference": "TRF20261120001"}, headers=auth("a.finance"))
    assert (r.status_code, r.json()["status"], r.json()["reference"]) == (200, "paid", "TRF20261120001")
    r = client.post(confirm, json={"reference": "TRF20261120001"}, headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"]) == (409, "deposit.payout_not_awaiting")

    detail = client.get(f"{P}/{deposit['id']}", headers=auth("a.auditor")).json()
    assert (detail["status"], detail["allowed_back_fen"], detail["reserved_fen"]) == ("settling", 300_000, 300_000)
    assert [e["action"] for e in detail["events"]] == [
        "deposit.recorded",
        "deposit.proposed",
        "deposit.accepted",
        "deposit.refunds_linked",
        "deposit.penalty_paid",
    ]
    case_events = client.get(f"/v1/refunds/{refund['id']}/events", headers=auth("a.auditor")).json()["items"]
    linked = [e for e in case_events if e["action"] == "deposit.penalty_linked"]
    assert linked[0]["data"] == {"deposit_id": deposit["id"], "penalty_fen": 200_000, "payout_id": payout["id"]}


def test_refunds_beyond_the_terms_are_refused_and_change_nothing(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    terms_id = make_terms(client, auth, "deposit")
    made = record(client, auth, deps, world, terms_id, 300_000, 1_000_000)
    deposit_id, sale_id = made["deposit"]["id"], made["sale"]["id"]
    refunds_before = count(deps, tables.refunds)

    # No proposal accepted yet: a refund straight through the core is refused.
    r = client.post(
        "/v1/refunds", json=refund_body(sale_id, 300_000), headers=auth("a.cashier", **{"Idempotency-Key": "k-dep-1"})
    )
    assert (r.status_code, r.json()["code"]) == (422, "deposit.proposal_required")
    assert sale_row(deps, sale_id) == (0, 0, 0)

    # The customer cancelled: the 定金 part is kept, the 1,000 yuan above the cap goes back.
    p = propose(client, auth, deposit_id, "customer_breach").json()
    assert (p["back_now_fen"], p["penalty_now_fen"], p["kept_fen"]) == (100_000, 0, 200_000)
    done = accept(client, auth, deposit_id, p["id"]).json()
    assert (done["refund"]["amount_fen"], done["payout"]) == (100_000, None)
    assert sale_row(deps, sale_id) == (0, 100_000, 1)

    # One fen more than the terms allow, by the core's own route: refused, nothing changed.
    headers = auth("a.supervisor", **{"Idempotency-Key": "k-dep-2"})
    r = client.post("/v1/refunds", json=refund_body(sale_id, 1), headers=headers)
    assert (r.status_code, r.json()["code"], r.json()["params"]["allowed_fen"]) == (422, "deposit.exceeds_terms", 0)
    assert sale_row(deps, sale_id) == (0, 100_000, 1)
    assert count(deps, tables.refunds) == refunds_before + 1
    # An accepted proposal is decided once.
    r = accept(client, auth, deposit_id, p["id"])
    assert (r.status_code, r.json()["code"]) == (409, "deposit.proposal_closed")

    # Later agreed to be force majeure: a second proposal pays only what is left.
    p2 = propose(client, auth, deposit_id, "force_majeure").json()
    assert (p2["back_total_fen"], p2["basis_back_fen"], p2["back_now_fen"]) == (300_000, 100_000, 200_000)
    assert "已原路退还 ¥1,000.00" in p2["explanation"][-1]["zh"]
    # A proposal computed before another refund moved is stale.
    stale = propose(client, auth, deposit_id, "force_majeure").json()
    assert accept(client, auth, deposit_id, p2["id"]).json()["refund"]["amount_fen"] == 200_000
    r = accept(client, auth, deposit_id, stale["id"])
    assert (r.status_code, r.json()["code"]) == (409, "deposit.proposal_stale")
    assert sale_row(deps, sale_id) == (0, 300_000, 2)


def test_override_needs_a_supervisor_and_a_reason(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    terms_id = make_terms(client, auth, "deposit")
    deposit_id = record(client, auth, deps, world, terms_id, 200_000, 1_000_000)["deposit"]["id"]
    p = propose(client, auth, deposit_id, "customer_breach").json()
    assert p["back_now_fen"] == 0
    url = f"{P}/{deposit_id}/proposals/{p['id']}/override"
    body = {"back_total_fen": 100_000, "penalty_total_fen": 0, "reason": ""}
    r = client.post(url, json=body, headers=auth("a.supervisor"))
    assert (r.status_code, r.json()["code"]) == (422, "deposit.override_reason_required")
    r = client.post(url, json={**body, "reason": "老顾客，退一半"}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden")
    r = client.post(url, json={**body, "back_total_fen": 200_001, "reason": "多退"}, headers=auth("a.supervisor"))
    assert (r.status_code, r.json()["code"]) == (422, "deposit.override_exceeds_paid")
    r = client.post(url, json={**body, "reason": "老顾客，退一半"}, headers=auth("a.supervisor"))
    assert r.status_code == 200, r.text
    o = r.json()
    assert (o["back_now_fen"], o["kept_fen"], o["overridden"], o["override_reason"]) == (
        100_000,
        100_000,
        True,
        "老顾客，退一半",
    )
    assert "主管调整" in o["explanation"][-1]["zh"]
    done = accept(client, auth, deposit_id, p["id"], who="a.supervisor2").json()
    assert done["refund"]["amount_fen"] == 100_000
    events = client.get(f"{P}/{deposit_id}", headers=auth("a.supervisor")).json()["events"]
    overridden = next(e for e in events if e["action"] == "deposit.overridden")
    assert (overridden["reason"], overridden["data"]["after_amounts"]) == (
        "老顾客，退一半",
        {"back_fen": 100_000, "penalty_fen": 0},
    )


def test_security_deposit_with_itemised_deductions(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    terms_id = make_terms(client, auth, "security", name="客房押金", max_deduction_bp=5_000)
    sale = client.post(
        "/v1/sales",
        json=sale_body(world.a, deps.clock.now(), amount_fen=100_000, kind="security"),
        headers=auth("a.cashier"),
    ).json()
    assert sale["kind_label"] == "押金"
    r = client.post(
        P, json={"terms_id": terms_id, "contract_value_fen": 0, "sale_id": sale["id"]}, headers=auth("a.cashier")
    )
    assert r.status_code == 201, r.text
    deposit_id = r.json()["deposit"]["id"]
    r = client.post(
        P, json={"terms_id": terms_id, "contract_value_fen": 0, "sale_id": sale["id"]}, headers=auth("a.cashier")
    )
    assert (r.status_code, r.json()["code"]) == (409, "deposit.already_recorded")

    photo = evidence.upload(deps, world.a.actors["cashier"], content=JPEG, filename="cup.jpg", kind="photo")["id"]
    cup = {"amount_fen": 5_000, "reason": "杯子破损", "evidence_id": photo}
    r = propose(client, auth, deposit_id, "item_returned", deductions=[cup, {**cup, "evidence_id": "evd_nope"}])
    assert (r.status_code, r.json()["code"]) == (422, "evidence.not_found")
    r = propose(client, auth, deposit_id, "item_returned", deductions=[{**cup, "reason": " "}])
    assert (r.status_code, r.json()["code"]) == (422, "deposit.deduction_reason_required")
    r = propose(client, auth, deposit_id, "item_returned", deductions=[{**cup, "amount_fen": 50_001}])
    assert (r.status_code, r.json()["code"]) == (422, "deposit.deductions_exceed_terms")
    r = propose(client, auth, deposit_id, "customer_breach")
    assert (r.status_code, r.json()["code"]) == (422, "deposit.ending_not_for_kind")
    p = propose(
        client, auth, deposit_id, "item_returned", deductions=[cup, {**cup, "amount_fen": 8_000, "reason": "毛巾丢失"}]
    ).json()
    assert (p["back_now_fen"], p["deducted_fen"], len(p["deductions"])) == (87_000, 13_000, 2)
    assert p["explanation"][1]["zh"] == f"扣除扣款：杯子破损 ¥50.00（凭证 {photo}）"
    assert accept(client, auth, deposit_id, p["id"]).json()["refund"]["amount_fen"] == 87_000


def test_advance_payment_costs_only_where_the_terms_allow(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    bill = evidence.upload(deps, world.a.actors["cashier"], content=JPEG, filename="bill.jpg", kind="receipt")["id"]
    cost = {"amount_fen": 80_000, "reason": "已按订单采购面料", "evidence_id": bill}
    with_costs = make_terms(client, auth, "advance", name="家具订金", costs_deductible=True)
    without = make_terms(client, auth, "advance", name="课程订金")
    a = record(client, auth, deps, world, with_costs, 500_000, 5_000_000)["deposit"]["id"]
    b = record(client, auth, deps, world, without, 500_000, 5_000_000)["deposit"]["id"]
    assert propose(client, auth, a, "customer_breach", deductions=[cost]).json()["back_now_fen"] == 420_000
    r = propose(client, auth, a, "merchant_breach", deductions=[cost])
    assert (r.status_code, r.json()["code"]) == (422, "deposit.costs_not_allowed")
    r = propose(client, auth, b, "customer_breach", deductions=[cost])
    assert (r.status_code, r.json()["code"]) == (422, "deposit.costs_not_allowed")
    assert propose(client, auth, b, "customer_breach").json()["back_now_fen"] == 500_000


def test_the_kind_of_the_payment_must_be_the_kind_of_the_terms(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    terms_id = make_terms(client, auth, "advance")
    sale = client.post(
        "/v1/sales", json=sale_body(world.a, deps.clock.now(), kind="deposit"), headers=auth("a.cashier")
    ).json()
    r = client.post(
        P, json={"terms_id": terms_id, "contract_value_fen": 50_000, "sale_id": sale["id"]}, headers=auth("a.cashier")
    )
    assert (r.status_code, r.json()["code"]) == (422, "deposit.sale_not_deposit")
    r = client.post(
        f"{P}/terms", json={"name": "advance 条款", "kind": "advance", "hold_days": 30}, headers=auth("a.supervisor")
    )
    assert (r.status_code, r.json()["code"]) == (409, "deposit.terms_duplicate")
    r = client.post(f"{P}/terms", json={"name": "x", "kind": "earnest", "hold_days": 30}, headers=auth("a.supervisor"))
    assert (r.status_code, r.json()["code"]) == (422, "deposit.invalid_kind")
    # 定金 above its contract's value cannot be 定金.
    earnest = make_terms(client, auth, "deposit")
    body = {
        "terms_id": earnest,
        "contract_value_fen": 1_000,
        "sale": sale_body(world.a, deps.clock.now(), amount_fen=2_000),
    }
    r = client.post(P, json=body, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (422, "deposit.contract_below_paid")
    assert count(deps, tables.deposits) == 0


def test_another_merchants_deposit_is_not_found(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    terms_id = make_terms(client, auth, "deposit")
    deposit_id = record(client, auth, deps, world, terms_id, 300_000, 1_000_000)["deposit"]["id"]
    p = propose(client, auth, deposit_id, "merchant_breach").json()
    payout_id = accept(client, auth, deposit_id, p["id"]).json()["payout"]["id"]
    for method, path, body in [
        ("GET", f"{P}/{deposit_id}", None),
        ("POST", f"{P}/{deposit_id}/proposals", {"ending": "mutual"}),
        ("POST", f"{P}/{deposit_id}/proposals/{p['id']}/accept", None),
        ("POST", f"{P}/{deposit_id}/proposals/{p['id']}/override", {"back_total_fen": 1, "reason": "x"}),
        ("POST", f"{P}/payouts/{payout_id}/confirm", {"reference": "T1"}),
    ]:
        r = client.request(method, path, json=body, headers=auth("b.supervisor"))
        assert r.status_code == 404, (path, r.text)
        assert r.json()["code"] in ("deposit.not_found", "deposit.payout_not_found")
    r = client.post(
        P, json={"terms_id": terms_id, "contract_value_fen": 1, "sale_id": "sal_x"}, headers=auth("b.cashier")
    )
    assert (r.status_code, r.json()["code"]) == (404, "sale.not_found")
    assert client.get(P, headers=auth("b.supervisor")).json()["items"] == []
    assert client.get(f"{P}/terms", headers=auth("b.supervisor")).json()["items"] == []


def test_deposits_held_beyond_their_terms_are_flagged(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    terms_id = make_terms(client, auth, "security", hold_days=3)
    now = deps.clock.now()

    def deposit_paid(days_ago: int) -> dict[str, Any]:
        sale = sale_body(world.a, now, amount_fen=50_000, paid_at=now - timedelta(days=days_ago))
        r = client.post(
            P, json={"terms_id": terms_id, "contract_value_fen": 0, "sale": sale}, headers=auth("a.cashier")
        )
        assert r.status_code == 201, r.text
        return dict(r.json()["deposit"])

    late = deposit_paid(10)  # paid on 10 November (Shanghai), due back three days later
    fresh = deposit_paid(1)
    assert (late["held_until"], fresh["held_until"]) == ("2026-11-13", "2026-11-22")
    items = client.get(f"{P}/overdue", headers=auth("a.supervisor")).json()["items"]
    assert [(i["id"], i["days_overdue"], i["overdue_flagged_at"]) for i in items] == [(late["id"], 7, None)]
    r = client.get(f"{P}/overdue", headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden")
    deposit_round(deps)  # the worker's housekeeping
    assert holding.flag_overdue(deps) == 0  # once per deposit
    flagged = client.get(f"{P}/overdue", headers=auth("a.supervisor")).json()["items"]
    assert flagged[0]["overdue_flagged_at"] == deps.clock.now().isoformat()
    events = client.get(f"{P}/{late['id']}", headers=auth("a.supervisor")).json()["events"]
    assert events[-1]["action"] == "deposit.overdue_flagged"
    assert client.get(f"{P}/overdue", headers=auth("b.supervisor")).json()["items"] == []

    # Once a proposal is accepted it is being returned: no longer overdue.
    p = propose(client, auth, late["id"], "item_returned").json()
    assert accept(client, auth, late["id"], p["id"]).status_code == 201
    assert client.get(f"{P}/overdue", headers=auth("a.supervisor")).json()["items"] == []


def test_a_penalty_cancelled_before_it_is_paid_counts_as_not_paid(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    terms_id = make_terms(client, auth, "deposit")
    deposit_id = record(client, auth, deps, world, terms_id, 200_000, 1_000_000)["deposit"]["id"]
    p = propose(client, auth, deposit_id, "merchant_breach").json()
    payout = accept(client, auth, deposit_id, p["id"]).json()["payout"]
    cancel = f"{P}/payouts/{payout['id']}/cancel"
    r = client.post(cancel, json={"reason": " "}, headers=auth("a.supervisor2"))
    assert (r.status_code, r.json()["code"]) == (422, "deposit.cancel_reason_required")
    r = client.post(cancel, json={"reason": "误选商户违约"}, headers=auth("a.supervisor"))
    assert (r.status_code, r.json()["code"]) == (403, "deposit.second_person_required")
    r = client.post(cancel, json={"reason": "误选商户违约"}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden")
    r = client.post(cancel, json={"reason": "误选商户违约"}, headers=auth("a.supervisor2"))
    assert (r.status_code, r.json()["status"], r.json()["cancel_reason"]) == (200, "cancelled", "误选商户违约")
    r = client.post(f"{P}/payouts/{payout['id']}/confirm", json={"reference": "T1"}, headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"]) == (409, "deposit.payout_not_awaiting")
    # The deposit went back; the penalty did not: a new proposal owes the penalty only.
    again = propose(client, auth, deposit_id, "merchant_breach").json()
    assert (again["basis_back_fen"], again["back_now_fen"], again["penalty_now_fen"]) == (200_000, 0, 200_000)
