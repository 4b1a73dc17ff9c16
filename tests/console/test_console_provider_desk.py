"""The provider's desk in the console, in Chinese, for its own staff: the dashboard with the decision clock's
buckets, the breaches with working days late and the escalation, the terminals issued with the registration form
and each terminal's printable return form, a return opened by customer service for a merchant with its documents
(refused plainly outside 7 days or with papers missing), the return's files served only inside its provider, and
the merchants with their refunds masked. Another provider's staff get 404, roles without the permission 403."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.entrypoints.console.session import LANG_COOKIE
from posrefund.service.provider import clock as return_clock
from tests.api import test_provider_returns as returns_tests
from tests.conftest import FixedClock
from tests.console.conftest import Browser
from tests.support.provider import JPEG, MERCHANT_DOCS, PDF, ProviderWorld, device_body, register

app = returns_tests.app
pw = returns_tests.pw


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def signed(app: FastAPI) -> Iterator[Any]:
    made: list[Browser] = []

    def sign(username: str) -> Browser:
        b = Browser(app)
        b.client.__enter__()
        made.append(b)
        assert b.sign_in(username).status_code == 303
        return b

    yield sign
    for b in made:
        b.client.__exit__(None, None, None)


def files(docs: dict[str, bytes]) -> dict[str, tuple[str, bytes, str]]:
    return {
        kind: (f"{kind}.{'pdf' if body == PDF else 'jpg'}", body, "application/octet-stream")
        for kind, body in docs.items()
    }


def test_the_dashboard_counts_open_returns_by_their_clock_and_links_each_list(
    api: TestClient, pw: ProviderWorld, clock: FixedClock, signed: Any
) -> None:
    register(api, pw, device_body(pw.merchants["m1"], "SN-DASH01", clock.now()))
    register(api, pw, device_body(pw.merchants["m2"], "SN-DASH02", clock.now()))
    returns_tests.to_decision(api, pw, "SN-DASH01")  # received on Friday 2026-11-20: due Wednesday 25
    assert returns_tests.open_return(api, pw, "SN-DASH02", who="m2").status_code == 201
    ops = signed("P1_provider_operations")
    page = ops.get("/console/provider")
    assert page.status_code == 200
    assert '<span class="n">1</span>待收机（未计时）' in page.text
    assert '<span class="n">1</span>按时' in page.text
    assert '<span class="n">0</span>今日到期' in page.text and '<span class="n">0</span>已超时' in page.text
    assert 'href="/console/provider/breaches"' in page.text and "本月已退机具款" in page.text
    assert "待退还的费用" not in page.text  # operations staff do not read fees
    clock.advance(days=4)  # Tuesday 24: one working day left (signed in again: the session idled out meanwhile)
    assert (
        '<span class="n">1</span>即将超时（剩 1 个工作日）' in signed("P1_provider_admin").get("/console/provider").text
    )
    clock.advance(days=1)
    assert '<span class="n">1</span>今日到期' in signed("P1_provider_admin").get("/console/provider").text
    finance = signed("P1_provider_finance")
    assert "没有待退还的手续费或费用。" in finance.get("/console/provider").text
    assert signed("P1_provider_service").get("/console/provider").status_code == 403
    assert signed("m1_admin").get("/console/provider").status_code == 403


def test_breaches_list_the_returns_past_their_day_with_days_late_and_the_escalation(
    api: TestClient, app: FastAPI, pw: ProviderWorld, clock: FixedClock, signed: Any
) -> None:
    register(api, pw, device_body(pw.merchants["m1"], "SN-LATE01", clock.now()))
    rid = returns_tests.to_decision(api, pw, "SN-LATE01")
    assert "没有超时的退机。" in signed("P1_provider_operations").get("/console/provider/breaches").text
    clock.advance(days=7)  # Friday 27: two working days past Wednesday 25
    ops = signed("P1_provider_operations")
    deps = app.state.ctx.deps
    assert return_clock.escalate_due(deps, app.state.ctx.router.is_workday, "P1") == {"escalated": 1, "breached": 1}
    page = ops.get("/console/provider/breaches")
    assert page.status_code == 200
    row = page.text.split(f'data-return="{rid}"')[1].split("</tr>")[0]
    assert "SN-LATE01" in row and "2026-11-25" in row and '<td class="num late" data-label="超时工作日">2</td>' in row
    assert "已升级至服务商管理员" in row and "已收货待处理" in row
    assert "SN-LATE01" not in signed("P2_provider_operations").get("/console/provider/breaches").text


def test_terminals_are_listed_and_registered_with_their_payment(
    api: TestClient, pw: ProviderWorld, clock: FixedClock, signed: Any
) -> None:
    register(api, pw, device_body(pw.merchants["m1"], "SN-TERM01", clock.now()))
    ops = signed("P1_provider_operations")
    page = ops.get("/console/provider/terminals")
    assert page.status_code == 200
    row = page.text.split('data-sn="SN-TERM01"')[1].split("</tr>")[0]
    assert "联迪 A8" in row and "商户 PM1" in row and "¥399.00" in row and "押金 ¥100.00" in row
    assert "已激活" in row and "/console/provider/terminals/SN-TERM01/return-form" in row
    form = {
        "sn": "SN-TERM02", "model": "新大陆 ME31", "merchant_id": pw.merchants["m2"], "issued_on": "2026-11-10",
        "signed_on": "2026-11-12", "price": "299", "charge_kind": "service_charge", "charge": "50.5",
        "warranty_months": "12", "route": "alipay", "paid_at": "2026-11-09T10:30",
    }  # fmt: skip
    forged = ops.client.post("/console/provider/terminals", data=form)  # no CSRF token: refused, nothing made
    assert forged.status_code == 403 and "SN-TERM02" not in ops.get("/console/provider/terminals").text
    bad = ops.post("/console/provider/terminals", {**form, "sn": "x"})
    assert bad.status_code == 422 and "机具序列号无效：4–64 位字母、数字或连字符" in bad.text
    assert 'value="新大陆 ME31"' in bad.text  # what was typed is kept
    other = ops.post("/console/provider/terminals", {**form, "merchant_id": pw.merchants["m3"]})
    assert other.status_code == 422 and "商户不存在" in other.text
    done = ops.post("/console/provider/terminals", form, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/console/provider/terminals")
    row = ops.get("/console/provider/terminals").text.split('data-sn="SN-TERM02"')[1].split("</tr>")[0]
    assert "¥349.50" in row and "支付宝" in row and "服务费 ¥50.50" in row and "已发放" in row
    printable = ops.get("/console/provider/terminals/SN-TERM01/return-form")
    assert printable.status_code == 200 and "POS 机具退机申请表" in printable.text
    assert printable.headers["content-security-policy"].startswith("default-src 'none'; style-src 'sha256-")
    risk = signed("P1_provider_risk").get("/console/provider/terminals")
    assert risk.status_code == 200 and "登记发放的机具" not in risk.text  # read-only for risk
    assert signed("P2_provider_operations").get("/console/provider/terminals/SN-TERM01/return-form").status_code == 404


def test_customer_service_opens_a_return_for_a_merchant_with_its_documents(
    api: TestClient, pw: ProviderWorld, clock: FixedClock, signed: Any
) -> None:
    register(api, pw, device_body(pw.merchants["m1"], "SN-CS0001", clock.now()))
    register(api, pw, device_body(pw.merchants["m1"], "SN-CSOLD1", clock.now(), signed_days_ago=10))
    cs = signed("P1_provider_service")
    page = cs.get("/console/provider/new-return?sn=SN-CS0001")
    assert page.status_code == 200 and '<option value="SN-CS0001" selected>' in page.text
    late = cs.post(
        "/console/provider/new-return", {"sn": "SN-CSOLD1", "reason": "no_reason"}, files=files(MERCHANT_DOCS)
    )
    assert late.status_code == 422
    assert "已超过 7 天无理由退机期限（2026-11-10 签收，已过 10 天）；仅保修期内故障可退" in late.text
    short = {k: v for k, v in MERCHANT_DOCS.items() if k in ("invoice", "device_photo")}
    missing = cs.post(
        "/console/provider/new-return",
        {"sn": "SN-CS0001", "reason": "no_reason", "other_account": "1"},
        files=files(short),
    )
    assert missing.status_code == 422
    assert "缺少材料：保修卡、包装照片、退机申请表、付款人身份证明" in missing.text
    wrong = cs.post(
        "/console/provider/new-return",
        {"sn": "SN-CS0001", "reason": "no_reason"},
        files=files({**MERCHANT_DOCS, "device_photo": PDF}),
    )
    assert wrong.status_code == 422 and "机具照片 的文件类型不符，允许：" in wrong.text
    opened = cs.post(
        "/console/provider/new-return",
        {"sn": "SN-CS0001", "reason": "no_reason"},
        files=files(MERCHANT_DOCS),
        follow_redirects=False,
    )
    assert opened.status_code == 303 and opened.headers["location"].startswith("/console/provider/returns/ret")
    view = cs.get(opened.headers["location"]).text
    assert "已提交" in view and "SN-CS0001" in view and "在浏览器中打开" in view
    assert signed("P1_provider_finance").get("/console/provider/new-return").status_code == 403


def test_a_returns_documents_are_shown_and_served_only_inside_its_provider(
    api: TestClient, pw: ProviderWorld, clock: FixedClock, signed: Any
) -> None:
    register(api, pw, device_body(pw.merchants["m1"], "SN-FILE01", clock.now()))
    opened = returns_tests.open_return(api, pw, "SN-FILE01")
    rid = opened.json()["id"]
    docs = {d["kind"]: d["evidence_id"] for d in opened.json()["documents"]}
    ops = signed("P1_provider_operations")
    page = ops.get(f"/console/provider/returns/{rid}").text
    photo = f"/console/provider/returns/{rid}/documents/{docs['device_photo']}"
    invoice = f"/console/provider/returns/{rid}/documents/{docs['invoice']}"
    assert f'<img class="preview" src="{photo}" alt="机具照片">' in page
    assert f'<a href="{invoice}" target="_blank" rel="noopener">在浏览器中打开</a>' in page
    assert "PDF 文件" in page and "0.1 KB" in page
    shown = ops.get(photo)
    assert (shown.status_code, shown.content, shown.headers["content-type"]) == (200, JPEG, "image/jpeg")
    assert shown.headers["content-disposition"] == f'inline; filename="device_photo-{docs["device_photo"]}.jpg"'
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["content-security-policy"] == "default-src 'none'"
    pdf = ops.get(f"{invoice}?download=1")
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.headers["content-disposition"] == f'attachment; filename="invoice-{docs["invoice"]}.pdf"'
    assert signed("P2_provider_operations").get(photo).status_code == 404
    assert signed("m2_admin").get(photo).status_code == 404
    assert ops.get(f"/console/provider/returns/{rid}/documents/evd_not_this_one").status_code == 404


def test_merchants_and_their_refunds_masked_never_another_providers(
    api: TestClient, pw: ProviderWorld, signed: Any
) -> None:
    finance = signed("P1_provider_finance")
    listing = finance.get("/console/provider/merchants")
    assert listing.status_code == 200
    assert "商户 PM1" in listing.text and "商户 PM2" in listing.text and "商户 PM3" not in listing.text
    own = finance.get(f"/console/provider/merchants/{pw.merchants['m1']}")
    assert own.status_code == 200 and "只读：服务商只能查看商户的退款，个人信息已脱敏。" in own.text
    assert "该商户还没有退款。" in own.text
    other = finance.get(f"/console/provider/merchants/{pw.merchants['m3']}")
    assert other.status_code == 404 and "商户不存在" in other.text
    ops = signed("P1_provider_operations")
    assert 'href="/console/provider/merchants/' not in ops.get("/console/provider/merchants").text
    assert ops.get(f"/console/provider/merchants/{pw.merchants['m1']}").status_code == 403


def test_the_menu_shows_each_provider_page_to_the_roles_allowed(pw: ProviderWorld, signed: Any) -> None:
    menus = {
        role: signed(f"P1_{role}")
        .get("/console/provider/returns")
        .text.split('aria-label="主菜单"')[1]
        .split("</nav>")[0]
        for role in ("provider_operations", "provider_service", "provider_finance")
    }
    assert 'href="/console/provider"' in menus["provider_operations"]
    assert 'href="/console/provider/terminals"' in menus["provider_operations"]
    assert 'href="/console/provider"' not in menus["provider_service"].replace('href="/console/provider/', "")
    assert 'href="/console/provider/merchants"' in menus["provider_finance"]


def test_the_desk_speaks_english_on_request(pw: ProviderWorld, signed: Any) -> None:
    ops = signed("P1_provider_operations")
    ops.client.cookies.set(LANG_COOKIE, "en")
    page = ops.get("/console/provider")
    assert page.status_code == 200
    assert "<h1>Provider desk</h1>" in page.text and "On time" in page.text and "Refunds this month" in page.text
    assert "Register a terminal issued" in ops.get("/console/provider/terminals").text


def test_the_provider_admin_onboards_a_merchant_with_its_licence_and_account_kept_as_last_four(
    pw: ProviderWorld, signed: Any
) -> None:
    boss = signed("P1_provider_admin")
    page = boss.get("/console/provider/merchants")
    assert page.status_code == 200 and "开通商户" in page.text and "只保留末四位，完整账号不保存" in page.text
    form = {
        "code": "PSHOP",
        "name": "深圳小店",
        "licence_no": "91440300708461136X",
        "settlement_bank": "中国工商银行",
        "settlement_account_name": "张三",
        "settlement_account_no": "6222021234567890128",
    }
    wrong = boss.post("/console/provider/merchants", form)
    assert wrong.status_code == 422
    assert "统一社会信用代码无效：应为 18 位，且校验位正确" in wrong.text
    assert "6222021234567890128" not in wrong.text  # the number typed is not shown back
    made = boss.post(
        "/console/provider/merchants", {**form, "licence_no": "91440300708461136T"}, follow_redirects=False
    )
    assert made.status_code == 303
    listed = boss.get("/console/provider/merchants").text
    assert "深圳小店" in listed and "91440300708461136T" in listed and "中国工商银行 ****0128" in listed
    ops = signed("P1_provider_operations")
    assert "开通商户" not in ops.get("/console/provider/merchants").text
    refused = ops.post("/console/provider/merchants", {**form, "code": "PSHOP2", "licence_no": ""})
    assert refused.status_code == 403


def test_the_providers_finance_works_a_merchants_fee_desk_chosen_from_its_merchants(
    pw: ProviderWorld, signed: Any
) -> None:
    finance = signed("P1_provider_finance")
    pick = finance.get("/console/fees")
    assert pick.status_code == 200 and "请选择要处理的商户" in pick.text
    m1 = pw.merchants["m1"]
    assert f'href="/console/fees?merchant={m1}"' in pick.text and pw.merchants["m3"] not in pick.text
    desk = finance.get(f"/console/fees?merchant={m1}")
    assert desk.status_code == 200 and "手续费费率合同" in desk.text
    assert f'action="/console/fees/check?merchant={m1}"' in desk.text  # the choice stays on every form
    assert finance.get(f"/console/fees?merchant={pw.merchants['m3']}").status_code == 404
