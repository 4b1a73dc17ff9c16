"""The provider's desk across tenants: a provider's staff read their merchants' refunds masked and act on none
of them; another provider's merchants, terminals and returns do not exist for them (404); a merchant sees its
own terminals and returns only, never another merchant's nor the provider's internals (escalations, the
dashboard, the other merchants)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from posrefund.domain.errors import DomainError
from posrefund.domain.roles import Actor, Role
from posrefund.service import admin, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.api import test_provider_returns as returns_tests
from tests.conftest import PASSWORD, FixedClock
from tests.support.provider import DESK_ROLES, JPEG, ProviderWorld, device_body, register

app = returns_tests.app
pw = returns_tests.pw
PHONE, NAME, ID_NO = "13800138000", "王小明", "11010519491231002X"


def a_refund_of_m1(deps: Deps, pw: ProviderWorld) -> str:
    """A customer's refund at merchant m1, with the customer's phone, name and ID number."""
    boss = pw.admins["m1"]
    store = admin.create_store(deps, boss, name="一号店")
    term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no="PM101", device_sn="SNPM101")
    sale = sales.record_sale(
        deps,
        boss,
        sales.SaleInput(
            terminal_id=term["id"], voucher_no="000001", rrn="000000000001", batch_no="000001", auth_code="",
            order_no="O1", channel="wechat", kind="sale", amount_fen=8_800, fee_fen=0, currency="CNY",
            paid_at=deps.clock.now(), payer_masked="",
        ),
    )  # fmt: skip
    customer = CustomerInput(phone=PHONE, name=NAME, id_no=ID_NO)
    req = RefundRequest(sale_id=sale.id, amount_fen=8_800, reason="other", note="顾客电话 备注", customer=customer)
    return refunds.request_refund(deps, boss, req).id


def test_provider_staff_see_their_merchants_refunds_masked_and_cannot_act_on_them(
    client: TestClient, pw: ProviderWorld, deps: Deps
) -> None:
    case_id = a_refund_of_m1(deps, pw)
    m1 = pw.merchants["m1"]
    r = client.get(f"/v1/provider/merchants/{m1}/refunds", headers=pw("p1.provider_finance"))
    assert r.status_code == 200
    [row] = r.json()["items"]
    assert (row["id"], row["amount_fen"], row["status"]) == (case_id, 8_800, "pending_review")
    assert row["customer"] == {"phone": "138****8000", "name": "王**", "id_no": "110***********002X"}
    assert PHONE not in r.text and NAME not in r.text and ID_NO not in r.text and "备注" not in r.text
    for role in DESK_ROLES:
        who = pw(f"p1.{role}")
        assert client.get(f"/v1/refunds/{case_id}", headers=who).status_code == 403, role
        approve = client.post(f"/v1/refunds/{case_id}/approve", json={"reason": "ok"}, headers=who)
        assert (approve.status_code, approve.json()["code"]) == (403, "auth.forbidden"), role
        reveal = client.post(f"/v1/refunds/{case_id}/customer/reveal", json={"purpose": "x"}, headers=who)
        assert reveal.status_code == 403, role
    # operations staff handle devices, not money: the masked refunds are not theirs either
    ops = client.get(f"/v1/provider/merchants/{m1}/refunds", headers=pw("p1.provider_operations"))
    assert (ops.status_code, ops.json()["code"]) == (403, "auth.forbidden")


@pytest.mark.parametrize("role", DESK_ROLES)
def test_another_providers_merchants_do_not_exist(
    client: TestClient, pw: ProviderWorld, role: str, clock: FixedClock
) -> None:
    m3 = pw.merchants["m3"]  # provider P2's
    who = pw(f"p1.{role}")
    expected = 404 if role in ("provider_admin", "provider_finance", "provider_risk", "provider_service") else 403
    assert client.get(f"/v1/provider/merchants/{m3}/refunds", headers=who).status_code == expected
    assert m3 not in [m["id"] for m in client.get("/v1/provider/merchants", headers=who).json()["items"]]
    terminals = client.get(f"/v1/provider/terminals?merchant_id={m3}", headers=who)
    assert (terminals.status_code, terminals.json()["code"]) == (404, "merchant.not_found")


def test_another_providers_terminals_and_returns_answer_404(
    client: TestClient, pw: ProviderWorld, clock: FixedClock
) -> None:
    register(client, pw, device_body(pw.merchants["m1"], "SN-TEN01", clock.now()))
    rid = returns_tests.to_decision(client, pw, "SN-TEN01")
    p2 = pw("p2.provider_operations")
    foreign = device_body(pw.merchants["m1"], "SN-TEN02", clock.now())
    made = client.post("/v1/provider/terminals", json=foreign, headers=p2)
    assert (made.status_code, made.json()["code"]) == (404, "merchant.not_found")
    for method, path, body in (
        ("GET", f"/v1/provider/returns/{rid}", None),
        ("POST", f"/v1/provider/returns/{rid}/decision", {"decision": "full_refund"}),
        ("GET", "/v1/provider/terminals/SN-TEN01/return-form", None),
    ):
        r = client.request(method, path, json=body, headers=p2)
        assert r.status_code == 404 and r.json()["code"].endswith("not_found"), (path, r.text)
    assert client.get("/v1/provider/returns", headers=p2).json()["items"] == []
    assert client.get("/v1/provider/dashboard", headers=p2).json()["open_returns"] == 0
    doc = client.post(
        "/v1/provider/documents",
        data={"sn": "SN-TEN01", "kind": "invoice"},
        files={"file": ("i.jpg", JPEG)},
        headers=p2,
    )
    assert (doc.status_code, doc.json()["code"]) == (404, "provider.device_not_found")


def test_a_merchant_sees_only_its_own_and_none_of_the_providers_internals(
    client: TestClient, pw: ProviderWorld, clock: FixedClock
) -> None:
    register(client, pw, device_body(pw.merchants["m1"], "SN-OWN01", clock.now()))
    register(client, pw, device_body(pw.merchants["m2"], "SN-OWN02", clock.now()))
    rid = returns_tests.to_decision(client, pw, "SN-OWN01")
    m2 = pw("m2")
    assert [t["sn"] for t in client.get("/v1/provider/terminals", headers=m2).json()["items"]] == ["SN-OWN02"]
    assert client.get(f"/v1/provider/returns/{rid}", headers=m2).status_code == 404
    assert client.get("/v1/provider/returns", headers=m2).json()["items"] == []
    assert client.get("/v1/provider/notices", headers=m2).json()["items"] == []
    other = client.post(
        "/v1/provider/returns", json={"sn": "SN-OWN01", "reason": "no_reason", "document_ids": []}, headers=m2
    )
    assert (other.status_code, other.json()["code"]) == (404, "provider.device_not_found")
    other_terms = client.get(f"/v1/provider/terminals?merchant_id={pw.merchants['m1']}", headers=m2)
    assert other_terms.status_code == 404
    for path in ("/v1/provider/dashboard", "/v1/provider/breaches", "/v1/provider/merchants",
                 f"/v1/provider/merchants/{pw.merchants['m2']}/refunds"):  # fmt: skip
        r = client.get(path, headers=m2)
        assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden"), path
    m1 = pw("m1")
    photo = client.post(
        "/v1/provider/documents",
        data={"sn": "SN-OWN01", "kind": "inspection_photo"},
        files={"file": ("p.jpg", JPEG)},
        headers=m1,
    )
    assert (photo.status_code, photo.json()["code"]) == (403, "auth.forbidden")
    decide = client.post(f"/v1/provider/returns/{rid}/decision", json={"decision": "full_refund"}, headers=m1)
    assert (decide.status_code, decide.json()["code"]) == (403, "auth.forbidden")


def test_desk_roles_are_given_by_a_provider_admin_and_never_by_a_merchant(deps: Deps, pw: ProviderWorld) -> None:
    p1 = pw.staff["p1.provider_admin"]
    made = admin.create_user(deps, p1, username="p1_ops_two", password=PASSWORD, role="provider_operations")
    assert (made["provider_id"], made["merchant_id"]) == ("P1", None)
    boss = pw.admins["m1"]
    with pytest.raises(DomainError) as refused:
        admin.create_user(deps, boss, username="m1_sneaky", password=PASSWORD, role="provider_operations")
    assert refused.value.code == "user.role_above_own"
    with pytest.raises(DomainError) as staff_in_merchant:
        admin.create_user(
            deps, p1, username="p1_ops_m", password=PASSWORD, role="provider_operations", merchant_id=pw.merchants["m1"]
        )
    assert staff_in_merchant.value.code == "user.merchant_required"
    ops = Actor(id="x", role=Role.PROVIDER_OPERATIONS, merchant_id=None, provider_id="P1")
    with pytest.raises(DomainError) as no_users:
        admin.create_user(
            deps, ops, username="p1_ops_three", password=PASSWORD, role="cashier", merchant_id=pw.merchants["m1"]
        )
    assert no_users.value.code == "auth.forbidden"


def test_the_providers_finance_staff_keep_the_fee_desk_of_their_own_merchants_only(
    client: TestClient, pw: ProviderWorld
) -> None:
    """Fee contracts and fee refunds are the provider's finance work: its merchants', never another
    provider's (404), and never its operations staff's (403)."""
    m1, m3 = pw.merchants["m1"], pw.merchants["m3"]
    finance = pw("p1.provider_finance")
    assert client.get(f"/v1/fees/{m1}/periods", headers=finance).status_code == 200
    other = client.get(f"/v1/fees/{m3}/periods", headers=finance)
    assert (other.status_code, other.json()["code"]) == (404, "merchant.not_found")
    refused = client.get(f"/v1/fees/{m1}/periods", headers=pw("p1.provider_operations"))
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.forbidden")
