"""Device returns (退机) end to end: through the API, the worker and the channel simulators — a return inside
7 days refunded in full back to WeChat Pay with the merchant told by SMS, one outside 7 days refused, one
partly refunded to the card with itemised deductions, one replaced (new SN linked, old deactivated) — and
every bad input refused with its code and nothing changed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.demo import channels
from posrefund.entrypoints.api.app import create_app
from posrefund.entrypoints.worker import loop
from posrefund.service import admin
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications.sending import NotifyRouter
from tests.conftest import FixedClock
from tests.integration.test_demo_channels import live  # noqa: F401  (the simulators and the callback server)
from tests.support.limits import RELAXED
from tests.support.notifications import GatewayServer, gateway_server, sms_gateway
from tests.support.provider import (
    JPEG,
    MERCHANT_DOCS,
    MERCHANT_PHONE,
    PDF,
    ProviderWorld,
    build_provider_world,
    card_rrn,
    device_body,
    register,
    seller_case,
    upload_docs,
)

Live = tuple[channels.Simulated, str]


@pytest.fixture
def app(deps: Deps, backend: str) -> FastAPI:
    """The API with the real Chinese calendar: the decision clock counts working days."""
    router = Router(channels={}, is_workday=ChineseCalendar().is_workday)
    return create_app(deps, inline=backend == "sqlite", rate_limits=RELAXED, router=router)


@pytest.fixture
def pw(deps: Deps, app: FastAPI) -> ProviderWorld:
    return build_provider_world(deps, app)


@pytest.fixture
def sims(live: Live) -> channels.Simulated:  # noqa: F811
    return live[0]


@pytest.fixture
def sms() -> Iterator[GatewayServer]:
    with gateway_server() as gw:
        yield gw


def open_return(client: TestClient, pw: ProviderWorld, sn: str, who: str = "m1", **kw: Any) -> Any:
    ids = upload_docs(client, pw(who), sn, MERCHANT_DOCS)
    body = {"sn": sn, "reason": "no_reason", "document_ids": ids, **kw}
    return client.post("/v1/provider/returns", json=body, headers=pw(who))


def to_decision(
    client: TestClient, pw: ProviderWorld, sn: str, who: str = "m1", inspection: str = "intact", note: str = ""
) -> str:
    """Open a return for ``sn``, approve shipping, receive and inspect it: the return's id."""
    r = open_return(client, pw, sn, who=who)
    assert r.status_code == 201, r.text
    rid = str(r.json()["id"])
    ops = pw("p1.provider_operations")
    ship = {"address": "上海市浦东新区 退机仓", "courier": "顺丰", "tracking_no": "SF1234567890"}
    assert client.post(f"/v1/provider/returns/{rid}/shipping", json=ship, headers=ops).status_code == 200
    photo = upload_docs(client, ops, sn, {"inspection_photo": JPEG})
    body = {"inspection": inspection, "note": note, "photo_ids": photo}
    assert client.post(f"/v1/provider/returns/{rid}/receipt", json=body, headers=ops).status_code == 200
    return rid


def work_until_paid(
    deps: Deps, sims: channels.Simulated, sms: GatewayServer, clock: FixedClock, rid: str, c: Any
) -> Any:
    """Run the worker (channels, then the customer's messages) until the return's refund is paid."""
    notify = NotifyRouter(gateways={"sms": sms_gateway(sms)})
    for _ in range(20):
        loop.run(deps, sims.router, threading.Event(), once=True, notify_router=notify)
        view = c()
        if view["refund_status"] == "succeeded":
            loop.run(deps, sims.router, threading.Event(), once=True, notify_router=notify)
            return view
        clock.advance(seconds=61)
    case = seller_case(deps, "P1", view["refund_case_id"])
    raise AssertionError(f"the refund never succeeded: {view['refund_status']} {case.last_code} {case.method}")


def test_a_return_inside_seven_days_is_refunded_in_full_through_wechat(
    client: TestClient,
    pw: ProviderWorld,
    deps: Deps,
    sims: channels.Simulated,
    sms: GatewayServer,
    clock: FixedClock,
) -> None:
    device = register(client, pw, device_body(pw.merchants["m1"], "SN-A0001", clock.now()))
    at_counter = _merchant_terminal(deps, pw, "SN-A0001")  # the merchant's own record of the device, with a key
    form = client.get("/v1/provider/terminals/SN-A0001/return-form", headers=pw("m1"))
    assert form.status_code == 200 and "SN-A0001" in form.text and "¥399.00" in form.text
    policy = form.headers["content-security-policy"]  # its one stylesheet, by hash; nothing else loads or runs
    assert policy.startswith("default-src 'none'; style-src 'sha256-") and "'self'" not in policy
    opened = open_return(client, pw, "SN-A0001")
    assert opened.status_code == 201, opened.text
    assert (opened.json()["status"], opened.json()["clock"], opened.json()["due_at"]) == ("opened", "not_started", None)
    rid = opened.json()["id"]
    ops = pw("p1.provider_operations")
    ship = {"address": "上海市浦东新区 退机仓", "courier": "顺丰", "tracking_no": "SF1234567890"}
    assert client.post(f"/v1/provider/returns/{rid}/shipping", json=ship, headers=ops).status_code == 200
    photo = upload_docs(client, ops, "SN-A0001", {"inspection_photo": JPEG})
    got = client.post(
        f"/v1/provider/returns/{rid}/receipt", json={"inspection": "intact", "photo_ids": photo}, headers=ops
    )
    # received on Friday 2026-11-20: Mon 23, Tue 24, Wed 25 are its three working days
    assert (got.json()["due_on"], got.json()["due_at"]) == ("2026-11-25", "2026-11-25T23:59:59+08:00")
    assert (got.json()["working_days_left"], got.json()["clock"]) == (3, "running")
    decided = client.post(
        f"/v1/provider/returns/{rid}/decision", json={"decision": "full_refund"}, headers=pw("p1.provider_finance")
    )
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["refund_fen"], decided.json()["clock"]) == (
        "refunded",
        39_900,
        "stopped",
    )
    view = work_until_paid(
        deps, sims, sms, clock, rid, lambda: client.get(f"/v1/provider/returns/{rid}", headers=pw("m1")).json()
    )
    assert view["refund_status"] == "succeeded"
    case = seller_case(deps, "P1", view["refund_case_id"])
    assert (case.amount_fen, case.channel) == (39_900, "wechat")
    assert [e["refund_no"] for e in sims.simulators["wechat"].ledger()] == [case.refund_no]
    terminals = client.get("/v1/provider/terminals", headers=pw("m1")).json()["items"]
    [t] = [t for t in terminals if t["id"] == device["id"]]
    assert t["state"] == "returned" and t["deactivated_at"] is not None
    with deps.uow(readonly=True) as uow:  # the returned device refunds nothing more: its key went with it
        [key] = [k for k in uow.users.list_api_keys(pw.merchants["m1"]) if k["terminal_id"] == at_counter]
    assert key["revoked_at"] is not None
    assert {a.body["mobile"] for a in sms.delivered.values()} == {MERCHANT_PHONE}
    kinds = [n["kind"] for n in client.get("/v1/provider/notices", headers=pw("m1")).json()["items"]]
    assert kinds == ["refund_paid", "deactivated", "decided", "received", "shipping_approved", "opened"]


def test_outside_seven_days_or_without_documents_is_refused_naming_why(
    client: TestClient, pw: ProviderWorld, clock: FixedClock
) -> None:
    register(client, pw, device_body(pw.merchants["m1"], "SN-OLD01", clock.now(), signed_days_ago=10))
    r = open_return(client, pw, "SN-OLD01")
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["params"]["days_since"], r.json()["params"]["window_days"]) == (
        "device_return.outside_window",
        10,
        7,
    )
    # a fault under warranty may still come back
    assert open_return(client, pw, "SN-OLD01", reason="fault", fault_note="屏幕无法点亮").status_code == 201
    register(client, pw, device_body(pw.merchants["m1"], "SN-DOC01", clock.now()))
    some = upload_docs(client, pw("m1"), "SN-DOC01", {"invoice": PDF, "device_photo": JPEG})
    r = client.post(
        "/v1/provider/returns",
        json={"sn": "SN-DOC01", "reason": "no_reason", "document_ids": some, "refund_to_other_account": True},
        headers=pw("m1"),
    )
    assert (r.status_code, r.json()["code"]) == (422, "device_return.documents_missing")
    assert r.json()["params"]["missing"] == ["warranty_card", "packaging_photo", "return_form", "payer_identity"]
    assert "缺少材料" in r.json()["message"]
    assert client.get("/v1/provider/returns", headers=pw("m1")).json()["items"][0]["sn"] == "SN-OLD01"


def test_a_partial_refund_with_itemised_deductions_goes_back_to_the_card(
    client: TestClient,
    pw: ProviderWorld,
    deps: Deps,
    sims: channels.Simulated,
    sms: GatewayServer,
    clock: FixedClock,
) -> None:
    register(client, pw, device_body(pw.merchants["m2"], "SN-CARD01", clock.now(), route="card"))
    rid = to_decision(client, pw, "SN-CARD01", "m2", inspection="damaged", note="外壳破损")
    finance = pw("p1.provider_finance")
    url = f"/v1/provider/returns/{rid}/decision"
    items = [{"item": "外壳破损", "amount_fen": 5_000}, {"item": "缺少充电器", "amount_fen": 3_000}]
    too_much = client.post(
        url,
        json={"decision": "partial_refund", "reason": "验机", "deductions": items, "refund_fen": 50_000},
        headers=finance,
    )
    assert (too_much.status_code, too_much.json()["code"]) == (422, "device_return.refund_above_paid")
    wrong = client.post(
        url,
        json={"decision": "partial_refund", "reason": "验机", "deductions": items, "refund_fen": 30_000},
        headers=finance,
    )
    assert (wrong.status_code, wrong.json()["code"]) == (422, "device_return.refund_mismatch")
    over = [{"item": "整机报废", "amount_fen": 39_900}]
    assert client.post(
        url, json={"decision": "partial_refund", "reason": "验机", "deductions": over}, headers=finance
    ).json()["code"] == ("device_return.deductions_exceed_paid")
    ok = client.post(
        url,
        json={"decision": "partial_refund", "reason": "验机", "deductions": items, "refund_fen": 31_900},
        headers=finance,
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["refund_fen"], ok.json()["deductions"]) == (31_900, items)
    again = client.post(url, json={"decision": "full_refund"}, headers=finance)
    assert (again.status_code, again.json()["code"]) == (409, "device_return.closed")
    view = work_until_paid(
        deps, sims, sms, clock, rid, lambda: client.get(f"/v1/provider/returns/{rid}", headers=finance).json()
    )
    assert view["refund_status"] == "succeeded"
    card = [e for e in sims.simulators["card"].ledger() if e["executed"]]
    assert [e["original_rrn"] for e in card] == [card_rrn("SN-CARD01")]
    dash = client.get("/v1/provider/dashboard", headers=pw("p1.provider_admin")).json()
    assert (dash["refunded_this_month_fen"], dash["refunds_this_month"]) == (31_900, 1)


def test_a_replacement_links_the_new_sn_and_deactivates_the_old(
    client: TestClient, pw: ProviderWorld, clock: FixedClock
) -> None:
    old = register(client, pw, device_body(pw.merchants["m1"], "SN-FIX01", clock.now()))
    rid = to_decision(client, pw, "SN-FIX01", inspection="damaged", note="主板故障")
    url = f"/v1/provider/returns/{rid}/decision"
    ops = pw("p1.provider_operations")
    taken = client.post(url, json={"decision": "replacement", "new_sn": "SN-FIX01"}, headers=ops)
    assert (taken.status_code, taken.json()["code"]) == (422, "provider.sn_taken")
    r = client.post(url, json={"decision": "replacement", "new_sn": "SN-NEW01"}, headers=ops)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["replacement_sn"], r.json()["refund_case_id"]) == (
        "replaced",
        "SN-NEW01",
        None,
    )
    devices = {t["sn"]: t for t in client.get("/v1/provider/terminals", headers=ops).json()["items"]}
    assert (devices["SN-FIX01"]["state"], devices["SN-FIX01"]["replaced_by_id"]) == (
        "replaced",
        devices["SN-NEW01"]["id"],
    )
    assert devices["SN-FIX01"]["deactivated_at"] is not None
    assert (devices["SN-NEW01"]["state"], devices["SN-NEW01"]["replaces_id"]) == ("issued", old["id"])
    again = open_return(client, pw, "SN-FIX01")
    assert (again.status_code, again.json()["code"]) == (409, "device_return.terminal_not_returnable")


def test_bad_input_is_refused_with_its_code_and_changes_nothing(
    client: TestClient, pw: ProviderWorld, clock: FixedClock
) -> None:
    ops, m1 = pw("p1.provider_operations"), pw("m1")
    register(client, pw, device_body(pw.merchants["m1"], "SN-BAD01", clock.now()))
    again = client.post(
        "/v1/provider/terminals", json=device_body(pw.merchants["m1"], "SN-BAD01", clock.now()), headers=ops
    )
    assert (again.status_code, again.json()["code"]) == (409, "provider.sn_taken")
    unknown = open_return(client, pw, "SN-BAD01")  # documents first, then the return
    assert unknown.status_code == 201
    r = client.post(
        "/v1/provider/returns", json={"sn": "SN-NOPE", "reason": "no_reason", "document_ids": []}, headers=m1
    )
    assert (r.status_code, r.json()["code"]) == (404, "provider.device_not_found")
    twice = open_return(client, pw, "SN-BAD01")
    assert (twice.status_code, twice.json()["code"]) == (409, "device_return.already_open")
    pdf_photo = client.post(
        "/v1/provider/documents",
        data={"sn": "SN-BAD01", "kind": "device_photo"},
        files={"file": ("p.pdf", PDF)},
        headers=m1,
    )
    assert (pdf_photo.status_code, pdf_photo.json()["code"]) == (422, "device_return.document_type")
    big = JPEG + b"0" * (4 * 1024 * 1024)
    large = client.post(
        "/v1/provider/documents", data={"sn": "SN-BAD01", "kind": "invoice"}, files={"file": ("i.jpg", big)}, headers=m1
    )
    assert (large.status_code, large.json()["code"]) == (422, "device_return.document_too_large")
    rid = unknown.json()["id"]
    early = client.post(f"/v1/provider/returns/{rid}/decision", json={"decision": "full_refund"}, headers=ops)
    assert (early.status_code, early.json()["code"]) == (409, "device_return.invalid_step")
    no_photo = client.post(
        f"/v1/provider/returns/{rid}/receipt", json={"inspection": "intact", "photo_ids": ["evd_x"]}, headers=ops
    )
    assert no_photo.status_code == 409
    view = client.get(f"/v1/provider/returns/{rid}", headers=ops).json()
    assert (view["status"], view["decision"], view["refund_case_id"]) == ("opened", "", None)
    assert len(client.get("/v1/provider/notices", headers=m1).json()["items"]) == 1


def _merchant_terminal(deps: Deps, pw: ProviderWorld, sn: str) -> str:
    """The merchant's terminal record for the device with serial number ``sn``, given an API key."""
    boss = pw.admins["m1"]
    store = admin.create_store(deps, boss, name="收银台")
    term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no="M1T01", device_sn=sn)
    admin.create_api_key(deps, boss, terminal_id=term["id"])
    return str(term["id"])


def test_a_device_paid_by_transfer_is_refunded_once_a_second_person_records_the_transfer(
    client: TestClient, pw: ProviderWorld, deps: Deps, clock: FixedClock, sims: channels.Simulated
) -> None:
    register(client, pw, device_body(pw.merchants["m1"], "SN-TR001", clock.now(), route="transfer"))
    rid = open_return(client, pw, "SN-TR001").json()["id"]
    ops, finance = pw("p1.provider_operations"), pw("p1.provider_finance")
    early = client.post(f"/v1/provider/returns/{rid}/confirm-transfer", json={"reference": "B1"}, headers=finance)
    assert (early.status_code, early.json()["code"]) == (409, "device_return.no_refund")
    ship = {"address": "上海市浦东新区 退机仓", "courier": "顺丰", "tracking_no": "SF1234567891"}
    assert client.post(f"/v1/provider/returns/{rid}/shipping", json=ship, headers=ops).status_code == 200
    photo = upload_docs(client, ops, "SN-TR001", {"inspection_photo": JPEG})
    received = {"inspection": "intact", "photo_ids": photo}
    assert client.post(f"/v1/provider/returns/{rid}/receipt", json=received, headers=ops).status_code == 200
    decided = client.post(f"/v1/provider/returns/{rid}/decision", json={"decision": "full_refund"}, headers=finance)
    assert decided.status_code == 200, decided.text
    case_id = decided.json()["refund_case_id"]
    loop.run(deps, sims.router, threading.Event(), once=True)  # the worker hands it to the desk: no channel call
    case = seller_case(deps, "P1", case_id)
    assert (case.status.value, case.method) == ("processing", "transfer")  # waits for the money to leave
    same = client.post(f"/v1/provider/returns/{rid}/confirm-transfer", json={"reference": "B1"}, headers=finance)
    assert (same.status_code, same.json()["code"]) == (403, "refund.second_person_required")
    done = client.post(
        f"/v1/provider/returns/{rid}/confirm-transfer", json={"reference": "网银 20261120-01"}, headers=ops
    )
    assert done.status_code == 200, done.text
    case = seller_case(deps, "P1", case_id)
    assert (case.status.value, case.amount_fen) == ("succeeded", 39_900)
    again = client.post(f"/v1/provider/returns/{rid}/confirm-transfer", json={"reference": "B2"}, headers=ops)
    assert (again.status_code, again.json()["code"]) == (409, "refund.not_awaiting_confirmation")
