"""The provider's operations staff work a device return in the console, in Chinese: the list with its clock,
the return's page with its steps — approve shipping, receive and inspect with a photo, decide a partial
refund with an itemised deduction; a refused step says why beside the form and changes nothing. The merchant
follows its own return read-only; another provider's staff get 404."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.testclient import TestClient

from tests.api import test_provider_returns as returns_tests
from tests.conftest import FixedClock
from tests.console.conftest import Browser
from tests.support.provider import JPEG, ProviderWorld, device_body, register

app = returns_tests.app
pw = returns_tests.pw


def signed_in(app: FastAPI, username: str) -> Browser:
    b = Browser(app)
    b.client.__enter__()
    assert b.sign_in(username).status_code == 303
    return b


def test_operations_staff_work_a_return_through_its_steps(app: FastAPI, pw: ProviderWorld, clock: FixedClock) -> None:
    with TestClient(app, raise_server_exceptions=False) as api:
        register(api, pw, device_body(pw.merchants["m1"], "SN-CON01", clock.now()))
        opened = returns_tests.open_return(api, pw, "SN-CON01")
        assert opened.status_code == 201
    rid = opened.json()["id"]
    ops = signed_in(app, "P1_provider_operations")
    listing = ops.get("/console/provider/returns")
    assert listing.status_code == 200
    assert "SN-CON01" in listing.text and "未开始计时" in listing.text and "已提交" in listing.text
    page = f"/console/provider/returns/{rid}"
    assert 'action="/console/provider/returns/' in ops.get(page).text
    refused = ops.post(f"{page}/shipping", {"address": "上海市浦东新区", "courier": "", "tracking_no": "SF1"})
    assert refused.status_code == 422 and "courier" in refused.text
    shipped = ops.post(
        f"{page}/shipping",
        {"address": "上海市浦东新区", "courier": "顺丰", "tracking_no": "SF1"},
        follow_redirects=False,
    )
    assert shipped.status_code == 303
    no_photo = ops.post(f"{page}/receipt", {"inspection": "damaged", "note": "外壳破损"})
    assert no_photo.status_code == 422 and "缺少材料" in no_photo.text
    received = ops.post(
        f"{page}/receipt",
        {"inspection": "damaged", "note": "外壳破损"},
        files={"photo": ("p.jpg", JPEG, "image/jpeg")},
        follow_redirects=False,
    )
    assert received.status_code == 303
    view = ops.get(page).text
    assert "计时中" in view and "2026-11-25" in view and "有损坏" in view
    bad = ops.post(
        f"{page}/decision", {"decision": "partial_refund", "reason": "验机", "item_1": "外壳破损", "amount_1": "5x"}
    )
    assert bad.status_code == 422
    decided = ops.post(
        f"{page}/decision",
        {"decision": "partial_refund", "reason": "验机", "item_1": "外壳破损", "amount_1": "50"},
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    done = ops.get(page).text
    assert "部分退款（扣款）" in done and "¥349.00" in done and "¥50.00" in done and "已处理" in done
    merchant = signed_in(app, "m1_admin")
    own = merchant.get(page)
    assert own.status_code == 200 and "当前没有需要您处理的步骤。" in own.text
    other = signed_in(app, "P2_provider_operations")
    assert other.get(page).status_code == 404
