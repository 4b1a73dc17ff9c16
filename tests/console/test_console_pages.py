"""The console through HTTP: sign-in, the refund desk, review, customer service, reports, admin, guards."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from posrefund.adapters.db import tables
from posrefund.ports import RefundQuery
from posrefund.service import refunds
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import FixedClock, World
from tests.console.conftest import Browser
from tests.support.helpers import new_sale

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
FORM_ID = re.compile(r'name="form_id" value="([^"]+)"')


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table).where(*where)).scalar() or 0)


def field_error(html: str, name: str) -> str:
    m = re.search(rf'id="f-{name}-err"[^>]*>([^<]+)<', html)
    return m.group(1) if m else ""


def refund_form(b: Browser, sale_id: str, **fields: Any) -> Any:
    page = b.get(f"/console/desk/sale/{sale_id}")
    assert page.status_code == 200, page.text
    form_id = FORM_ID.search(page.text)
    assert form_id
    data = {
        "amount": "10.00",
        "reason": "customer_cancelled",
        "note": "",
        "phone": "",
        "name": "",
        "evidence_kind": "receipt",
        "form_id": form_id.group(1),
        **fields,
    }
    return data


def test_sign_in_gives_each_role_its_own_menu(as_user: Any) -> None:
    cashier = as_user("a.cashier")
    page = cashier.get("/console/desk")
    assert page.status_code == 200
    # every member of staff reads the refund policy; only admins manage operators
    assert "退款台" in page.text and ">待审核<" not in page.text and "/console/admin/users" not in page.text
    supervisor = as_user("a.supervisor").get("/console/review")
    assert ">待审核<" in supervisor.text and "/console/admin/users" not in supervisor.text
    admin = as_user("a.admin").get("/console/admin/policy")
    assert admin.status_code == 200 and "/console/admin/users" in admin.text
    finance = as_user("a.finance")
    assert finance.get("/console/desk").status_code == 403
    first = finance.get("/console/")  # followed: lands on the overview of what waits for finance
    assert first.status_code == 200 and first.url.path == "/console/home"


def test_pages_need_a_signed_in_session(browser: Browser) -> None:
    for path in (
        "/console/desk",
        "/console/review",
        "/console/cases/rfd_x",
        "/console/reports",
        "/console/admin/users",
    ):
        r = browser.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login?next="), path


def test_sign_in_with_a_wrong_password_says_so_in_place(browser: Browser, world: World) -> None:
    r = browser.sign_in(world.a.usernames["cashier"], "wrong-password")
    assert r.status_code == 401 and "用户名或密码错误" in r.text


def test_cookie_is_httponly_and_samesite_strict(browser: Browser, world: World) -> None:
    r = browser.sign_in(world.a.usernames["cashier"])
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie


def test_lock_out_after_repeated_failures_is_audited(browser: Browser, world: World, engine: Engine) -> None:
    name = world.a.usernames["cashier"]
    for _ in range(10):
        assert browser.sign_in(name, "nope-nope-nope").status_code == 401
    r = browser.sign_in(name)  # the right password, but locked now: refused like a wrong one
    assert r.status_code == 401 and "用户名或密码错误（多次失败后账户将暂时锁定）" in r.text
    assert count(engine, tables.audit_events, tables.audit_events.c.action == "user.locked") == 1


def test_idle_operator_is_signed_out(as_user: Any, clock: FixedClock) -> None:
    cashier = as_user("a.cashier")
    assert cashier.get("/console/desk").status_code == 200
    clock.advance(minutes=14)
    assert cashier.get("/console/desk").status_code == 200  # activity restarts the idle clock
    clock.advance(minutes=16)
    r = cashier.get("/console/desk", follow_redirects=False)
    assert r.status_code == 303 and "idle=1" in r.headers["location"]
    assert "已自动退出" in cashier.get(r.headers["location"]).text
    assert cashier.get("/console/desk", follow_redirects=False).status_code == 303  # stays signed out


def test_every_post_needs_the_csrf_token(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    cashier = as_user("a.cashier")
    sale = new_sale(deps, world.a)
    data = refund_form(cashier, sale.id)
    data["csrf"] = "forged"
    r = cashier.client.post(f"/console/desk/sale/{sale.id}", data=data)
    assert r.status_code == 403 and "表单已过期" in r.text
    assert count(engine, tables.refunds) == 0


def test_cashier_finds_a_sale_and_gets_an_auto_approval(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    sale = new_sale(deps, world.a, amount_fen=123_456, voucher_no="778899")
    cashier = as_user("a.cashier")
    found = cashier.get("/console/desk", params={"voucher_no": "778899"})
    assert "¥1,234.56" in found.text and f"/console/desk/sale/{sale.id}" in found.text
    data = refund_form(cashier, sale.id, amount="50", phone="13812345678", note="尺码不合适")
    r = cashier.post(f"/console/desk/sale/{sale.id}", data)
    assert r.url.path.startswith("/console/desk/answer/rfd_")
    assert r.status_code == 200 and "已自动批准" in r.text and "¥50.00" in r.text
    assert "¥1,184.56" in r.text  # what is left to refund
    again = cashier.post(f"/console/desk/sale/{sale.id}", data)  # the same form sent twice: one refund
    assert again.status_code == 200 and "已自动批准" in again.text and again.url.path == r.url.path
    assert count(engine, tables.refunds) == 1


def test_search_by_last4_amount_and_date(as_user: Any, world: World, deps: Any) -> None:
    sale = new_sale(deps, world.a, channel="card", payer_masked="622202******4321", amount_fen=8_800)
    day = deps.local_date(sale.paid_at).isoformat()
    r = as_user("a.cashier").get("/console/desk", params={"last4": "4321", "amount": "88.00", "on": day})
    assert sale.id in r.text
    bad = as_user("a.cashier").get("/console/desk", params={"last4": "4321", "amount": "8x", "on": day})
    assert bad.status_code == 200 and field_error(bad.text, "amount") == "请输入正确的金额（元，最多两位小数）"


def test_above_the_auto_limit_waits_for_review(as_user: Any, world: World, deps: Any) -> None:
    sale = new_sale(deps, world.a, amount_fen=300_000)
    cashier = as_user("a.cashier")
    r = cashier.post(f"/console/desk/sale/{sale.id}", refund_form(cashier, sale.id, amount="2000"))
    assert r.url.path.startswith("/console/desk/answer/rfd_") and "等待主管审核" in r.text


def test_refused_by_policy_names_the_rule(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    sale = new_sale(deps, world.a, paid_at=deps.clock.now() - timedelta(days=40))
    cashier = as_user("a.cashier")
    r = cashier.post(f"/console/desk/sale/{sale.id}", refund_form(cashier, sale.id, amount="10"))
    assert r.status_code == 422
    assert "按本店退款政策，不能退款" in r.text and "已超过 30 天的退款期限" in r.text
    assert count(engine, tables.refunds) == 0


def test_bad_input_shows_beside_the_field_and_changes_nothing(
    as_user: Any, world: World, deps: Any, engine: Engine
) -> None:
    sale = new_sale(deps, world.a, amount_fen=10_000)
    cashier = as_user("a.cashier")
    cases = {
        "amount": ({"amount": "12.345"}, "请输入正确的金额"),
        "reason": ({"reason": "because"}, "请选择列表中的一项"),
        "phone": ({"phone": "12345"}, "手机号格式不正确"),
    }
    for name, (fields, text) in cases.items():
        r = cashier.post(f"/console/desk/sale/{sale.id}", refund_form(cashier, sale.id, **fields))
        assert r.status_code == 422 and text in field_error(r.text, name), (name, r.text[-2000:])
    over = cashier.post(f"/console/desk/sale/{sale.id}", refund_form(cashier, sale.id, amount="100.01"))
    assert field_error(over.text, "amount") == "退款金额 ¥100.01 超过可退金额 ¥100.00"
    assert count(engine, tables.refunds) == 0


def _pending(deps: Any, world: World, amount: int = 300_000, by: str = "cashier") -> str:
    sale = new_sale(deps, world.a, amount_fen=amount)
    req = RefundRequest(
        sale_id=sale.id, amount_fen=amount, reason="goods_quality", customer=CustomerInput(phone="13912345678")
    )
    case = refunds.request_refund(deps, world.a.actors[by], req)
    assert case.status.value == "pending_review"
    return case.id


def test_supervisor_sees_the_queue_oldest_first_and_approves(
    as_user: Any, world: World, deps: Any, clock: FixedClock
) -> None:
    first = _pending(deps, world)
    clock.advance(hours=2)
    second = _pending(deps, world, amount=200_000)
    sup = as_user("a.supervisor")
    queue = sup.get("/console/review").text
    assert queue.index(first) < queue.index(second)
    assert "2 小时" in queue and "¥3,000.00" in queue
    page = sup.get(f"/console/cases/{first}").text
    assert "不能审批自己发起的退款" in page and 'value="approve"' in page
    r = sup.post(f"/console/cases/{first}/review", {"decision": "approve", "reason": "小票齐全"})
    assert r.url.path == f"/console/cases/{first}"
    assert r.status_code == 200 and 'data-status="approved"' in r.text and "小票齐全" in r.text
    assert refunds.get_case(deps, world.a.actors["supervisor"], first).case.status.value == "approved"


def test_rejecting_needs_a_reason_shown_beside_it(as_user: Any, world: World, deps: Any) -> None:
    case_id = _pending(deps, world)
    sup = as_user("a.supervisor")
    r = sup.post(f"/console/cases/{case_id}/review", {"decision": "reject", "reason": " "})
    assert r.status_code == 422 and "驳回时必须填写原因" in field_error(r.text, "reason")
    assert refunds.get_case(deps, world.a.actors["supervisor"], case_id).case.status.value == "pending_review"


def test_cashier_cannot_approve(as_user: Any, world: World, deps: Any) -> None:
    case_id = _pending(deps, world, by="customer_service")
    cashier = as_user("a.cashier")
    page = cashier.get(f"/console/cases/{case_id}").text
    assert 'value="approve"' not in page and "审核需由店长或主管完成" in page
    r = cashier.post(f"/console/cases/{case_id}/review", {"decision": "approve", "reason": ""})
    assert r.status_code == 403
    assert refunds.get_case(deps, world.a.actors["supervisor"], case_id).case.status.value == "pending_review"


def test_no_self_approval_is_shown_not_just_enforced(as_user: Any, world: World, deps: Any) -> None:
    case_id = _pending(deps, world, by="supervisor")
    sup = as_user("a.supervisor")
    page = sup.get(f"/console/cases/{case_id}").text
    assert "不能审批自己发起的退款" in page and 'value="approve"' not in page
    r = sup.post(f"/console/cases/{case_id}/review", {"decision": "approve", "reason": ""})
    assert r.status_code == 422 and "不能审批自己发起的退款" in r.text


def test_two_person_rule_is_shown(as_user: Any, world: World, deps: Any) -> None:
    case_id = _pending(deps, world, amount=1_200_000)
    page = as_user("a.admin").get(f"/console/cases/{case_id}").text
    assert "需要两位不同的审批人" in page and "0/2" in page


def test_another_merchants_case_is_not_found(as_user: Any, world: World, deps: Any) -> None:
    case_id = _pending(deps, world)
    other = as_user("b.supervisor")
    for path in (f"/console/cases/{case_id}", f"/console/cases/{case_id}/live"):
        r = other.get(path)
        assert r.status_code == 404 and "退款单不存在" in r.text
    r = other.post(f"/console/cases/{case_id}/review", {"decision": "approve", "reason": ""})
    assert r.status_code == 404
    assert refunds.get_case(deps, world.a.actors["supervisor"], case_id).case.status.value == "pending_review"


def test_live_fragment_polls_until_the_case_is_final(as_user: Any, world: World, deps: Any) -> None:
    case_id = _pending(deps, world)
    sup = as_user("a.supervisor")
    live = sup.get(f"/console/cases/{case_id}/live").text
    assert 'hx-trigger="every 3s"' in live and 'data-status="pending_review"' in live
    refunds.reject(deps, world.a.actors["supervisor2"], case_id, "超过退货期")
    live = sup.get(f"/console/cases/{case_id}/live").text
    assert 'data-status="rejected"' in live and "hx-trigger" not in live and "超过退货期" in live


def test_customer_service_finds_by_phone_reveals_and_notes(
    as_user: Any, world: World, deps: Any, engine: Engine
) -> None:
    case_id = _pending(deps, world)
    cs = as_user("a.customer_service")
    found = cs.get("/console/service", params={"phone": "139 1234 5678"}).text
    assert case_id in found and "139****5678" in found and "13912345678" not in found
    assert "13912345678" not in cs.get(f"/console/cases/{case_id}").text
    r = cs.post(f"/console/cases/{case_id}/reveal", {"purpose": ""})
    assert r.status_code == 422 and "需说明用途" in field_error(r.text, "purpose")
    r = cs.post(f"/console/cases/{case_id}/reveal", {"purpose": "回电确认到账"})
    assert "13912345678" in r.text
    assert count(engine, tables.audit_events, tables.audit_events.c.action == "customer.revealed") == 1
    r = cs.post(f"/console/cases/{case_id}/contact", {"channel": "phone", "note": "顾客来电询问", "escalate": "1"})
    assert r.url.path == f"/console/cases/{case_id}"
    assert r.status_code == 200 and "顾客来电询问" in r.text and "升级处理" in r.text
    assert count(engine, tables.audit_events, tables.audit_events.c.action == "case.escalated") == 1
    logged = tables.contact_log.c
    assert (
        count(engine, tables.contact_log, (logged.case_id == case_id) & (logged.kind == "call")) == 1
    )  # one contact log
    assert as_user("a.cashier").get("/console/service").status_code == 403


def test_reports_filter_and_export_csv(as_user: Any, world: World, deps: Any) -> None:
    pending = _pending(deps, world)
    fin = as_user("a.finance")
    page = fin.get("/console/reports", params={"status": "pending_review"}).text
    assert pending in page
    csv = fin.get("/console/reports/export.csv", params={"status": "pending_review"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("退款单号,退款案件编号") and len(lines) == 2 and "3000.00" in lines[1]
    assert "139****5678" in lines[1] and "13912345678" not in csv.text
    bad = fin.get("/console/reports", params={"from": "2026-13-40", "status": "nope"})
    assert bad.status_code == 200 and field_error(bad.text, "from") and field_error(bad.text, "status")
    assert as_user("a.cashier").get("/console/reports").status_code == 403
    auditor = as_user("a.auditor")
    assert auditor.get("/console/reports/export.csv").status_code == 200
    auditor.client.cookies.set("prc_lang", "en", path="/console")
    english = auditor.get("/console/reports/export.csv").content.decode("utf-8-sig")
    assert english.startswith("Refund no.,Case ID,")
    auditor.client.cookies.set("prc_lang", "zh", path="/console")
    timeline = auditor.get(f"/console/cases/{pending}").text  # the audit timeline of any case, read-only
    assert "发起退款申请" in timeline and "转人工审核" in timeline and 'value="approve"' not in timeline


def test_admin_forms_show_errors_beside_fields(as_user: Any, engine: Engine) -> None:
    adm = as_user("a.admin")
    before = count(engine, tables.users)
    adm.get("/console/admin/users")
    r = adm.post("/console/admin/users", {"username": "x", "display_name": "", "role": "cashier", "password": "p"})
    assert r.status_code == 422 and "用户名为 3–64 位" in field_error(r.text, "username")
    r = adm.post(
        "/console/admin/users",
        {"username": "new_cashier", "display_name": "小王", "role": "cashier", "password": "short"},
    )
    assert "密码至少 8 位" in field_error(r.text, "password")
    assert count(engine, tables.users) == before
    r = adm.post(
        "/console/admin/users",
        {"username": "new_cashier", "display_name": "小王", "role": "cashier", "password": "long-enough-1"},
    )
    assert r.status_code == 200 and "new_cashier" in r.text and count(engine, tables.users) == before + 1
    assert r.url.path == "/console/admin/users"  # back on the list, with the new operator in it
    adm.get("/console/admin/terminals")
    r = adm.post("/console/admin/terminals", {"store_id": "sto_nope", "terminal_no": "T 1", "device_sn": "SN"})
    assert "终端号只能包含字母和数字" in field_error(r.text, "terminal_no")
    adm.get("/console/admin/stores")
    r = adm.post("/console/admin/stores", {"name": " ", "address": ""})
    assert "缺少必填字段" in field_error(r.text, "name")


def test_policy_page_validates_and_saves(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    adm = as_user("a.admin")
    page = adm.get("/console/admin/policy").text
    assert 'value="100.00"' in page  # the auto-approve limit of the test world, in yuan
    good = {
        "refund_window_days": "15",
        "max_partial_refunds": "10",
        "auto_approve_limit_fen": "200",
        "supervisor_limit_fen": "5000",
        "two_person_limit_fen": "10000",
        "require_customer_phone_above_fen": "",
        "window_wechat": "365",
        "window_alipay": "365",
        "window_unionpay_qr": "365",
    }
    r = adm.post("/console/admin/policy", {**good, "auto_approve_limit_fen": "9000"})
    assert r.status_code == 422 and "自动审批限额不能高于主管审批限额" in field_error(r.text, "auto_approve_limit_fen")
    r = adm.post("/console/admin/policy", {**good, "refund_window_days": "abc"})
    assert "请输入正整数" in field_error(r.text, "refund_window_days")
    r = adm.post("/console/admin/policy", {**good, "evidence": "goods_quality:receipt"})
    assert r.status_code == 200 and "已保存" in r.text
    assert (r.url.path, r.url.params.get("saved")) == ("/console/admin/policy", "1")
    from posrefund.service import policies

    saved = policies.get_policy(deps, world.a.actors["admin"])
    assert saved.auto_approve_limit_fen == 20_000 and saved.evidence_required == {"goods_quality": ["receipt"]}


def test_english_switch(as_user: Any) -> None:
    cashier = as_user("a.cashier")
    r = cashier.get("/console/lang", params={"to": "en", "next": "/console/desk"})
    assert r.url.path == "/console/desk"
    assert r.status_code == 200 and "Refund desk" in r.text and "退款台" not in r.text
    assert 'lang="en"' in r.text
    back = cashier.get("/console/lang", params={"to": "zh", "next": "https://evil.example/"}, follow_redirects=False)
    assert back.headers["location"] == "/console/"


def test_evidence_photo_is_shown_inline_to_its_merchant_only(as_user: Any, world: World, deps: Any) -> None:
    sale = new_sale(deps, world.a, amount_fen=300_000)
    cashier = as_user("a.cashier")
    data = refund_form(cashier, sale.id, amount="2000", reason="goods_quality")
    data["csrf"] = cashier.csrf
    r = cashier.client.post(f"/console/desk/sale/{sale.id}", data=data, files={"evidence": ("r.png", PNG, "image/png")})
    assert r.url.path.startswith("/console/desk/answer/rfd_") and "等待主管审核" in r.text
    case_id = re.search(r"/console/cases/(rfd_[A-Za-z0-9_]+)", r.text)
    assert case_id
    page = as_user("a.supervisor").get(f"/console/cases/{case_id.group(1)}").text
    img = re.search(r'<img src="(/console/evidence/[^"]+)"', page)
    assert img
    got = as_user("a.supervisor").get(img.group(1))
    assert got.status_code == 200 and got.headers["content-type"] == "image/png" and got.content == PNG
    assert as_user("b.supervisor").get(img.group(1)).status_code == 404


def test_full_card_number_in_any_form_field_is_refused(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    sale = new_sale(deps, world.a)
    cashier = as_user("a.cashier")
    for note in ("4111111111111111", "4111 1111 1111 1111", "卡号6222021234567890128请退"):
        data = {**refund_form(cashier, sale.id, note=note), "csrf": cashier.csrf}
        r = cashier.client.post(f"/console/desk/sale/{sale.id}", data=data)  # urlencoded
        assert r.status_code == 422 and "请勿提交完整银行卡号" in r.text, note
        r = cashier.client.post(
            f"/console/desk/sale/{sale.id}", data=data, files={"evidence": ("r.png", PNG, "image/png")}
        )  # multipart
        assert r.status_code == 422 and "请勿提交完整银行卡号" in r.text, note
    assert count(engine, tables.refunds) == 0 and count(engine, tables.evidence) == 0


def test_evidence_rule_named_and_photos_kept_across_a_refused_try(
    as_user: Any, world: World, deps: Any, engine: Engine
) -> None:
    from posrefund.service import policies

    policies.put_policy(
        deps,
        world.a.actors["admin"],
        {"auto_approve_limit_fen": 10_000, "evidence_required": {"goods_quality": ["receipt"]}},
    )
    sale = new_sale(deps, world.a, amount_fen=50_000)
    cashier = as_user("a.cashier")
    data = {**refund_form(cashier, sale.id, amount="80", reason="goods_quality"), "csrf": cashier.csrf}
    r = cashier.client.post(f"/console/desk/sale/{sale.id}", data=data)
    assert r.status_code == 422 and "退款原因需要提供凭证：购物小票" in r.text
    r = cashier.client.post(
        f"/console/desk/sale/{sale.id}", data={**data, "phone": "123"}, files={"evidence": ("r.png", PNG, "image/png")}
    )
    assert r.status_code == 422 and "手机号格式不正确" in field_error(r.text, "phone")
    kept = re.findall(r'name="evidence_id" value="([^"]+)"', r.text)
    assert len(kept) == 1 and count(engine, tables.refunds) == 0
    r = cashier.client.post(f"/console/desk/sale/{sale.id}", data={**data, "phone": "13812345678", "evidence_id": kept})
    assert r.url.path.startswith("/console/desk/answer/rfd_") and "已自动批准" in r.text
    case = refunds.list_cases(deps, world.a.actors["cashier"], RefundQuery(sale_id=sale.id))[0][0].case
    assert case.evidence_ids == kept
    stranger = {**data, "form_id": "another-form-0001", "evidence_id": ["evd_of_someone_else"]}
    r = cashier.client.post(f"/console/desk/sale/{sale.id}", data=stranger)
    assert r.status_code == 422 and "凭证不存在" in r.text
