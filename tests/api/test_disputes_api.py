"""A dispute's whole life through the API: open with the customer's claim, add evidence, escalate to a
third party, record the outcome — upheld gives a new refund through the normal flow, rejected sends the
reason to the customer — all of it in the case's timeline and in the list with its age."""

from __future__ import annotations

from starlette.testclient import TestClient

from posrefund.service import execution
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications import sending
from posrefund.service.notifications.sending import NotifyRouter
from tests.api.conftest import Auth
from tests.conftest import FixedClock, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import sale_body
from tests.support.notifications import gateway_server, sms_gateway

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


def paid_refund(client: TestClient, auth: Auth, deps: Deps, world: World) -> tuple[str, str]:
    sale = client.post(
        "/v1/sales", json=sale_body(world.a, deps.clock.now(), amount_fen=10_000), headers=auth("a.cashier")
    )
    assert sale.status_code == 201, sale.text
    body = {
        "sale_id": sale.json()["id"],
        "amount_fen": 3_000,
        "reason": "wrong_amount",
        "customer": {"phone": "13812345678"},
    }
    r = client.post("/v1/refunds", json=body, headers=auth("a.cashier", **{"Idempotency-Key": "d1"}))
    assert r.status_code == 201, r.text
    execution.sweep(deps, Router(channels={"wechat": FakeChannel()}, is_workday=lambda d: True))
    case = client.get(f"/v1/refunds/{r.json()['id']}", headers=auth("a.cashier")).json()
    assert case["status"] == "succeeded"
    return case["id"], sale.json()["id"]


def upload(client: TestClient, auth: Auth, name: str, content: bytes, kind: str) -> str:
    r = client.post(
        "/v1/evidence", files={"file": (name, content)}, data={"kind": kind}, headers=auth("a.customer_service")
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def open_and_escalate(client: TestClient, auth: Auth, case_id: str) -> tuple[str, str, str]:
    """A dispute opened with a receipt, a bank statement added, escalated to mediation: (id, receipt, statement)."""
    receipt = upload(client, auth, "receipt.jpg", JPEG, "receipt")
    cs = auth("a.customer_service")
    r = client.post(
        "/v1/disputes",
        json={"case_id": case_id, "claim": "多收了 20 元，应退 50 元", "claimed_fen": 2_000, "evidence_ids": [receipt]},
        headers=cs,
    )
    assert r.status_code == 201, r.text
    dispute = r.json()
    assert (dispute["status"], dispute["claimed_fen"], dispute["evidence_ids"]) == ("open", 2_000, [receipt])
    did = dispute["id"]
    again = client.post("/v1/disputes", json={"case_id": case_id, "claim": "again"}, headers=cs)
    assert again.status_code == 409 and again.json()["code"] == "dispute.already_open"

    statement = upload(client, auth, "bank.pdf", PDF, "payment_record")
    r = client.post(f"/v1/disputes/{did}/evidence", json={"evidence_ids": [statement]}, headers=cs)
    assert r.status_code == 200 and r.json()["evidence_ids"] == [receipt, statement]

    r = client.post(f"/v1/disputes/{did}/escalate", json={"to": "mediation", "reference": "消协 2026-118"}, headers=cs)
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["escalated_to"], r.json()["escalation_ref"]) == (
        "escalated",
        "mediation",
        "消协 2026-118",
    )
    return did, receipt, statement


def test_upheld_dispute_end_to_end(client: TestClient, auth: Auth, deps: Deps, world: World, clock: FixedClock) -> None:
    case_id, sale_id = paid_refund(client, auth, deps, world)
    did, receipt, statement = open_and_escalate(client, auth, case_id)

    clock.advance(days=3, hours=2)
    auth = Auth(client.app, world)  # type: ignore[arg-type]  # fresh tokens: three days have passed
    cs = auth("a.customer_service")
    listed = client.get("/v1/disputes?status=escalated", headers=auth("a.auditor")).json()["items"]
    assert [(d["id"], d["age_days"]) for d in listed] == [(did, 3)]

    # customer service may not decide; a supervisor does
    assert (
        client.post(f"/v1/disputes/{did}/outcome", json={"outcome": "upheld", "reason": "x"}, headers=cs).status_code
        == 403
    )
    r = client.post(
        f"/v1/disputes/{did}/outcome",
        json={"outcome": "upheld", "reason": "调解确认多收 20 元"},
        headers=auth("a.supervisor"),
    )
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "upheld" and closed["new_case_id"] and closed["age_days"] == 3

    new = client.get(f"/v1/refunds/{closed['new_case_id']}", headers=auth("a.auditor")).json()
    assert (new["sale_id"], new["amount_fen"], new["status"]) == (sale_id, 2_000, "approved")  # the normal flow
    assert new["customer"]["phone"] == "138****5678" and new["evidence_ids"] == [receipt, statement]
    sale = client.get(f"/v1/sales/{sale_id}", headers=auth("a.auditor")).json()
    assert (sale["refunded_fen"], sale["reserved_fen"], sale["refundable_fen"]) == (3_000, 2_000, 5_000)

    again = client.post(
        f"/v1/disputes/{did}/outcome", json={"outcome": "upheld", "reason": "again"}, headers=auth("a.supervisor")
    )
    assert again.status_code == 409 and again.json()["code"] == "dispute.closed"

    events = client.get(f"/v1/refunds/{case_id}/events", headers=auth("a.auditor")).json()["items"]
    timeline = [e["action"] for e in events if e["action"].startswith("dispute.")]
    assert timeline == ["dispute.opened", "dispute.evidence_added", "dispute.escalated", "dispute.upheld"]
    upheld = next(e for e in events if e["action"] == "dispute.upheld")
    assert upheld["data"]["new_case_id"] == closed["new_case_id"] and upheld["actor_role"] == "supervisor"
    new_events = client.get(f"/v1/refunds/{closed['new_case_id']}/events", headers=auth("a.auditor")).json()["items"]
    assert [e["action"] for e in new_events][:2] == ["refund.requested", "refund.auto_approved"]


def test_upheld_beyond_what_is_refundable_is_refused_and_the_dispute_stays_open(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    case_id, _ = paid_refund(client, auth, deps, world)
    did = client.post(
        "/v1/disputes", json={"case_id": case_id, "claim": "全部退"}, headers=auth("a.customer_service")
    ).json()["id"]
    r = client.post(
        f"/v1/disputes/{did}/outcome",
        json={"outcome": "upheld", "reason": "全额", "amount_fen": 9_000},
        headers=auth("a.supervisor"),
    )
    assert r.status_code == 422 and r.json()["code"] == "refund.exceeds_refundable"
    assert client.get(f"/v1/disputes/{did}", headers=auth("a.auditor")).json()["status"] == "open"
    missing = client.post(
        f"/v1/disputes/{did}/outcome",
        json={"outcome": "upheld", "reason": "x"},
        headers=auth("a.supervisor", **{"Accept-Language": "en"}),
    )
    assert missing.status_code == 422 and missing.json()["message"] == "An upheld dispute needs the amount to refund"


def test_rejected_dispute_sends_the_reason_to_the_customer(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    case_id, _ = paid_refund(client, auth, deps, world)
    did = client.post(
        "/v1/disputes", json={"case_id": case_id, "claim": "没收到"}, headers=auth("a.customer_service")
    ).json()["id"]
    with gateway_server() as gw:
        router = NotifyRouter(gateways={"sms": sms_gateway(gw)})
        sending.sweep(deps, router)
        r = client.post(
            f"/v1/disputes/{did}/outcome",
            json={"outcome": "rejected", "reason": "银行流水显示已于 11 月 20 日到账"},
            headers=auth("a.admin"),
        )
        assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["new_case_id"] is None
        sending.sweep(deps, router)
        texts = [x for x in gw.texts() if "争议" in x]
    assert len(texts) == 1 and "银行流水显示已于 11 月 20 日到账" in texts[0]
    sent = client.get(f"/v1/refunds/{case_id}/notifications", headers=auth("a.customer_service")).json()
    item = next(n for n in sent["items"] if n["event"] == "dispute_rejected")
    assert item["status"] == "sent" and [a["result"] for a in item["attempt_log"]] == ["sent"]
    events = [
        e["action"] for e in client.get(f"/v1/refunds/{case_id}/events", headers=auth("a.auditor")).json()["items"]
    ]
    assert "dispute.rejected" in events and events.count("notify.attempt") == len(sent["items"])


def test_dispute_input_is_checked(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    case_id, _ = paid_refund(client, auth, deps, world)
    cs = auth("a.customer_service")
    assert client.post("/v1/disputes", json={"case_id": "rfd_nope", "claim": "x"}, headers=cs).status_code == 404
    card = client.post("/v1/disputes", json={"case_id": case_id, "claim": "卡号 4111 1111 1111 1111"}, headers=cs)
    assert card.status_code == 422 and card.json()["code"] == "pan_detected"
    bad_ev = client.post(
        "/v1/disputes", json={"case_id": case_id, "claim": "x", "evidence_ids": ["ev_nope"]}, headers=cs
    )
    assert bad_ev.status_code == 422 and bad_ev.json()["code"] == "evidence.not_found"
    did = client.post("/v1/disputes", json={"case_id": case_id, "claim": "x"}, headers=cs).json()["id"]
    assert (
        client.post(f"/v1/disputes/{did}/escalate", json={"to": "court", "reference": "1"}, headers=cs).status_code
        == 422
    )
    assert client.get(f"/v1/disputes/{did}", headers=auth("b.auditor")).status_code == 404
    assert client.get("/v1/disputes", headers=auth("b.auditor")).json()["items"] == []
