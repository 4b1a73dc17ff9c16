"""Notification settings and the follow-up work through the API: templates (a template that does not
render is refused), per-merchant HTTP gateways, the customer's contact and opt-out, the contact log and
the follow-up queue — each change an audit event."""

from __future__ import annotations

from starlette.testclient import TestClient

from posrefund.adapters.notifiers.http_gateway import gateway_from
from posrefund.service import execution
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications import follow_up, sending
from posrefund.service.notifications.sending import NotifyRouter
from tests.api.conftest import Auth
from tests.conftest import FixedClock, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import sale_body
from tests.support.notifications import SMS_PAYLOAD, gateway_server


def a_refund(client: TestClient, auth: Auth, deps: Deps, world: World, key: str = "n1") -> str:
    sale = client.post(
        "/v1/sales", json=sale_body(world.a, deps.clock.now(), amount_fen=10_000), headers=auth("a.cashier")
    )
    body = {
        "sale_id": sale.json()["id"],
        "amount_fen": 2_500,
        "reason": "goods_quality",
        "customer": {"phone": "13812345678"},
    }
    r = client.post("/v1/refunds", json=body, headers=auth("a.cashier", **{"Idempotency-Key": key}))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_templates_that_do_not_render_are_refused(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    admin = auth("a.admin")
    items = client.get("/v1/notify/templates", headers=auth("a.cashier")).json()["items"]
    assert len(items) == 44 and not any(i["custom"] for i in items)  # 22 events (9 customer, 13 merchant) × 2
    for bad, why in [
        ("{{ amout }}", "unknown variable"),
        ("{% for i in range(99) %}x{% endfor %}", "For is not allowed"),
        ("{{ amount.__class__ }}", "Getattr"),
        ("{{ amount", "expected"),
        ("{{ 9 ** 9 ** 9 }}", "Pow"),
    ]:
        r = client.put(
            "/v1/notify/templates", json={"event": "paid", "language": "zh", "subject": "s", "body": bad}, headers=admin
        )
        assert r.status_code == 422 and r.json()["code"] == "notify.template_invalid", bad
        assert why in r.json()["params"]["detail"]
    en = client.put(
        "/v1/notify/templates",
        json={"event": "paid", "language": "zh", "subject": "s", "body": "{{ nope }}"},
        headers={**admin, "Accept-Language": "en"},
    )
    assert en.json()["message"].startswith("The template does not render")
    assert (
        client.put(
            "/v1/notify/templates", json={"event": "nope", "language": "zh", "body": "x"}, headers=admin
        ).status_code
        == 422
    )
    assert (
        client.put(
            "/v1/notify/templates", json={"event": "paid", "language": "fr", "body": "x"}, headers=admin
        ).status_code
        == 422
    )
    card = client.put(
        "/v1/notify/templates",
        json={"event": "accepted", "language": "zh", "body": "卡 4111111111111111"},
        headers=admin,
    )
    assert card.status_code == 422 and card.json()["code"] == "pan_detected"


def test_a_merchants_template_is_used_until_reset(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    admin = auth("a.admin")
    ok = client.put(
        "/v1/notify/templates",
        json={
            "event": "accepted",
            "language": "zh",
            "subject": "受理",
            "body": "{{ merchant_name }}已受理 {{ amount }}{% if reason %}（{{ reason }}）{% endif %}",
        },
        headers=admin,
    )
    assert ok.status_code == 200 and ok.json()["custom"] is True
    assert (
        client.put(
            "/v1/notify/templates",
            json={"event": "accepted", "language": "zh", "body": "x"},
            headers=auth("a.supervisor"),
        ).status_code
        == 403
    )
    with gateway_server() as gw:
        router = NotifyRouter(gateways={"sms": gateway_from("sms", {"url": gw.url, "payload": SMS_PAYLOAD}, "")})
        a_refund(client, auth, deps, world)
        sending.sweep(deps, router)
        assert "商户 MA已受理 ¥25.00" in gw.texts()
    assert client.delete("/v1/notify/templates?event=accepted&language=zh", headers=admin).status_code == 204
    assert client.delete("/v1/notify/templates?event=accepted&language=zh", headers=admin).status_code == 404


def test_a_merchants_own_gateway_is_used_and_its_credential_never_shown(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    admin = auth("a.admin")
    bad = client.put(
        "/v1/notify/gateways", json={"kind": "sms", "url": "ftp://example.cn", "payload": {"a": "to"}}, headers=admin
    )
    assert bad.status_code == 422 and bad.json()["code"] == "notify.invalid_gateway"
    unknown = client.put(
        "/v1/notify/gateways",
        json={"kind": "sms", "url": "http://x.cn", "payload": {"a": "to", "b": "body"}},
        headers=admin,
    )
    assert unknown.status_code == 422
    assert (
        client.put(
            "/v1/notify/gateways",
            json={"kind": "fax", "url": "http://x.cn", "payload": {"a": "to", "b": "text"}},
            headers=admin,
        ).status_code
        == 422
    )
    with gateway_server() as gw:
        r = client.put(
            "/v1/notify/gateways",
            json={
                "kind": "sms",
                "url": gw.url,
                "payload": SMS_PAYLOAD,
                "credential": "merchant-secret",
                "response_id": "data.msgid",
            },
            headers=admin,
        )
        assert r.status_code == 200, r.text
        listed = client.get("/v1/notify/gateways", headers=admin).json()["items"]
        assert listed[0]["credential_set"] is True and "merchant-secret" not in str(listed)
        router = NotifyRouter(gateways={}, build_gateway=gateway_from)
        case_id = a_refund(client, auth, deps, world)
        sending.sweep(deps, router)
        assert len(gw.delivered) == 2
        assert {a.headers["authorization"] for a in gw.arrivals} == {"Bearer merchant-secret"}
    sent = client.get(f"/v1/refunds/{case_id}/notifications", headers=auth("a.auditor")).json()
    assert sent["contact"]["phone"] == "138****5678"
    assert {(n["channel"], n["status"]) for n in sent["items"]} == {("sms", "sent")}
    assert all(n["provider_message_id"].startswith("P-prn-") for n in sent["items"])
    events = client.get(f"/v1/refunds/{case_id}/events", headers=auth("a.auditor")).json()["items"]
    attempts = [e for e in events if e["action"] == "notify.attempt"]
    assert len(attempts) == 2 and all(e["data"]["gateway"] == "sms" for e in attempts)


def test_contact_preferences_and_opt_out(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    case_id = a_refund(client, auth, deps, world)
    cs = auth("a.customer_service")
    assert client.put(f"/v1/refunds/{case_id}/notify-contact", json={"email": "nope"}, headers=cs).status_code == 422
    r = client.put(
        f"/v1/refunds/{case_id}/notify-contact",
        json={"email": "wang@example.com", "wechat_openid": "oAbcdef123456", "language": "en"},
        headers=cs,
    )
    assert r.status_code == 200
    assert r.json() == {"language": "en", "email": "w***@example.com", "wechat_openid": "oAb***456", "opted_out": False}
    assert (
        client.put(
            f"/v1/refunds/{case_id}/notify-contact", json={"email": "x@y.cn"}, headers=auth("b.customer_service")
        ).status_code
        == 404
    )
    assert client.post(f"/v1/refunds/{case_id}/opt-out", json={"scope": "case"}, headers=cs).status_code == 204
    shown = client.get(f"/v1/refunds/{case_id}/notifications", headers=cs).json()["contact"]
    assert shown["opted_out"] is True and "wang@example.com" not in str(shown)
    actions = [e["action"] for e in client.get(f"/v1/refunds/{case_id}/events", headers=cs).json()["items"]]
    assert actions.count("notify.contact_changed") == 1 and actions.count("notify.opted_out") == 1


def test_contact_log(client: TestClient, auth: Auth, deps: Deps, world: World, clock: FixedClock) -> None:
    case_id = a_refund(client, auth, deps, world)
    cs = auth("a.customer_service")
    r = client.post(
        f"/v1/refunds/{case_id}/contacts",
        json={"kind": "call", "direction": "in", "note": "顾客来电询问进度"},
        headers=cs,
    )
    assert r.status_code == 201
    clock.advance(minutes=5)
    client.post(
        f"/v1/refunds/{case_id}/contacts", json={"kind": "visit", "note": "到柜台出示小票"}, headers=auth("a.cashier")
    )
    bad = client.post(f"/v1/refunds/{case_id}/contacts", json={"kind": "fax", "note": "x"}, headers=cs)
    assert bad.status_code == 422
    log = client.get(f"/v1/refunds/{case_id}/contacts", headers=auth("a.auditor")).json()["items"]
    assert [(e["kind"], e["direction"], e["actor_role"]) for e in log] == [
        ("call", "in", "customer_service"),
        ("visit", "out", "cashier"),
    ]
    assert log[0]["at"] < log[1]["at"]
    events = client.get(f"/v1/refunds/{case_id}/events", headers=auth("a.auditor")).json()["items"]
    logged = [e for e in events if e["action"] == "contact.logged"]
    assert [(e["actor_role"], e["reason"], e["data"]["kind"]) for e in logged] == [
        ("customer_service", "顾客来电询问进度", "call"),
        ("cashier", "到柜台出示小票", "visit"),
    ]
    assert client.get(f"/v1/refunds/{case_id}/contacts", headers=auth("b.auditor")).status_code == 404


def test_follow_up_queue(client: TestClient, auth: Auth, deps: Deps, world: World, clock: FixedClock) -> None:
    case_id = a_refund(client, auth, deps, world)
    execution.sweep(deps, Router(channels={"wechat": FakeChannel()}, is_workday=lambda d: True))
    sending.sweep(deps, NotifyRouter())  # no gateway configured: recorded as skipped
    assert follow_up.sweep(deps) == 0  # not before the expected arrival date has passed
    clock.advance(days=2)
    assert follow_up.sweep(deps) == 1
    assert follow_up.sweep(deps) == 0
    clock.advance(days=1)
    auth = Auth(client.app, world)  # type: ignore[arg-type]
    items = client.get("/v1/followups", headers=auth("a.customer_service")).json()["items"]
    assert [(i["case_id"], i["age_days"], i["amount_fen"], i["customer_phone"]) for i in items] == [
        (case_id, 1, 2_500, "138****5678")
    ]
    assert client.get("/v1/followups", headers=auth("a.cashier")).status_code == 403
    r = client.post(
        f"/v1/followups/{case_id}/close", json={"note": "电话确认已到账"}, headers=auth("a.customer_service")
    )
    assert r.status_code == 200 and (r.json()["status"], r.json()["closed_how"]) == ("closed", "staff")
    again = client.post(f"/v1/followups/{case_id}/close", json={}, headers=auth("a.customer_service"))
    assert again.status_code == 409
    assert client.get("/v1/followups", headers=auth("a.customer_service")).json()["items"] == []
    sent = client.get(f"/v1/refunds/{case_id}/notifications", headers=auth("a.auditor")).json()["items"]
    assert [n["event"] for n in sent] == ["accepted", "approved", "paid", "arrived"]
    assert {n["last_error"] for n in sent[:3]} == {"no_gateway"} and sent[3]["status"] == "pending"
