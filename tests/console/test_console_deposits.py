"""The deposits pages of the console over HTTP (SQLite and PostgreSQL): the store's list with its kinds, due
dates and overdue flags, narrowed by kind and state; the counter's lookup by voucher; a restaurant's 定金
returned double (the refund and the linked penalty transfer, confirmed by a second person); a hotel's 押金
returned less an itemised deduction with its photo; overrides for supervisors only and with a reason; the
terms templates; refusals that change nothing; another merchant's deposit unseen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from posrefund.adapters.db import tables
from posrefund.service import execution, refunds
from posrefund.service.deposits import holding, terms
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.conftest import World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale, sale_input

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64


def make_deposit(
    deps: Deps, world: World, kind: str, paid_fen: int, contract_fen: int = 0, *, days_ago: int = 1, **kw: Any
) -> dict[str, Any]:
    """A terms template of ``kind`` and a deposit paid ``days_ago`` under it (due back 30 days after)."""
    a = world.a
    names = {"deposit": "婚宴定金", "advance": "定制家具订金", "security": "客房押金"}
    t = terms.create_terms(
        deps, a.actors["supervisor"], name=f"{names[kind]} {paid_fen}", kind=kind, hold_days=30,
        text="违约按定金罚则处理" if kind == "deposit" else "退房时检查房间，损坏照价扣除", **kw,
    )  # fmt: skip
    sale = sale_input(a, deps.clock.now(), amount_fen=paid_fen, paid_at=deps.clock.now() - timedelta(days=days_ago))
    _, row = holding.record_deposit_sale(
        deps, a.actors["cashier"], sale, terms_id=t["id"], contract_value_fen=contract_fen
    )
    return dict(row)


def count(deps: Deps, table: Any) -> int:
    with deps.uow.engine.connect() as c:  # type: ignore[attr-defined]
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def voucher_of(deps: Deps, sale_id: str) -> str:
    s = tables.sales.c
    with deps.uow.engine.connect() as c:  # type: ignore[attr-defined]
        return str(c.execute(select(s.voucher_no).where(s.id == sale_id)).scalar_one())


def test_the_store_list_flags_overdue_and_filters(as_user: Any, deps: Deps, world: World) -> None:
    earnest = make_deposit(deps, world, "deposit", 300_000, 1_000_000)
    key = make_deposit(deps, world, "security", 50_000, days_ago=40)
    cashier = as_user("a.cashier")
    page = cashier.get("/console/deposits")
    assert page.status_code == 200
    text = page.text
    assert 'href="/console/deposits"' in text and "定金押金" in text
    assert "¥3,000.00" in text and "¥500.00" in text and "o***ab" in text
    assert "合同金额 20% 以内的部分是定金" in text and "物品归还后退还" in text
    assert text.count("超期 10 天") == 1 and "没有待接受的退还方案。" in text and "没有待确认的罚金转账。" in text
    assert key["held_until"].isoformat() in text

    only_keys = cashier.get("/console/deposits?kind=security").text
    assert "¥500.00" in only_keys and "¥3,000.00" not in only_keys
    assert "¥3,000.00" not in cashier.get("/console/deposits?status=settling").text
    here = cashier.get(f"/console/deposits?store_id={world.a.store_id}").text
    assert "¥3,000.00" in here and "¥500.00" in here
    assert "暂无定金、订金或押金。" in cashier.get("/console/deposits?store_id=sto_elsewhere").text
    cashier.get(f"/console/deposits/{earnest['id']}")
    cashier.post(f"/console/deposits/{earnest['id']}/propose", {"ending": "customer_breach"})
    waiting = cashier.get("/console/deposits").text.split("待接受的退还方案", 1)[1]
    assert "顾客违约（取消）" in waiting and "¥1,000.00" in waiting
    bad = cashier.get("/console/deposits?kind=coupon")
    assert bad.status_code == 422 and "款项类型无效：coupon（可选定金、订金、押金）" in bad.text

    found = cashier.get(f"/console/deposits?q={voucher_of(deps, earnest['sale_id'])}", follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (303, f"/console/deposits/{earnest['id']}")
    assert "未找到该凭证号或订单号的消费。" in cashier.get("/console/deposits?q=NOPE0001").text
    sale_page = cashier.get(f"/console/sales/{earnest['sale_id']}").text
    assert (
        f'href="/console/deposits/{earnest["id"]}">按条款退还' in sale_page and "/console/desk/sale/" not in sale_page
    )
    plain = new_sale(deps, world.a)
    assert "按条款退还" not in cashier.get(f"/console/sales/{plain.id}").text
    assert "未登记为定金、订金或押金" in cashier.get(f"/console/deposits?q={plain.voucher_no}").text


def test_a_restaurant_breaks_the_deal_and_returns_the_deposit_double(as_user: Any, deps: Deps, world: World) -> None:
    d = make_deposit(deps, world, "deposit", 300_000, 1_000_000)
    url = f"/console/deposits/{d['id']}"
    cashier, boss, finance = as_user("a.cashier"), as_user("a.supervisor"), as_user("a.finance")
    page = cashier.get(url)
    assert page.status_code == 200 and "违约按定金罚则处理" in page.text and "物品已归还" not in page.text

    assert cashier.post(f"{url}/propose", {"ending": "merchant_breach"}, follow_redirects=False).status_code == 303
    shown = cashier.get(url).text
    assert "合同金额 ¥10,000.00 × 20% = 定金上限 ¥2,000.00（民法典第586条）" in shown
    assert "已付 ¥3,000.00：定金部分 ¥2,000.00，超出部分 ¥1,000.00 不是定金，作预付款全额退还" in shown
    assert "另以银行转账支付定金罚金 ¥2,000.00" in shown
    assert "接受方案并发起退款" not in shown  # a cashier proposes; a supervisor decides
    proposal_id = str(holding.get_deposit(deps, world.a.actors["cashier"], d["id"])["proposals"][0]["id"])
    assert cashier.post(f"{url}/proposals/{proposal_id}/accept").status_code == 403
    assert (
        cashier.post(f"{url}/proposals/{proposal_id}/override", {"back_total": "1", "override_reason": "x"}).status_code
        == 403
    )
    assert count(deps, tables.refunds) == 0

    boss_page = boss.get(url).text
    assert "一笔原路退款 ¥3,000.00" in boss_page and "一笔罚金银行转账 ¥2,000.00" in boss_page
    assert boss.post(f"{url}/proposals/{proposal_id}/accept", {}, follow_redirects=False).status_code == 303
    after = boss.get(url).text
    assert "退还记录" in after and "罚金转账 ¥2,000.00 · 待转账" in after and "/slip" in after
    assert 'name="reference"' not in after  # who accepted never confirms the transfer
    assert count(deps, tables.refunds) == 1 and count(deps, tables.deposit_payouts) == 1

    payout_id = str(holding.get_deposit(deps, world.a.actors["cashier"], d["id"])["payouts"][0]["id"])
    confirm = f"{url}/payouts/{payout_id}/confirm"
    finance.get(url)
    blank = finance.post(confirm, {"reference": " "})
    assert blank.status_code == 422 and "须填写银行转账流水号" in blank.text and 'id="f-reference-err"' in blank.text
    assert boss.post(confirm, {"reference": "TRF1"}).status_code == 403
    card = finance.post(confirm, {"reference": "TRF1", "account_last4": "6222021234567890128"})
    # The console's card guard refuses the whole form before it is read, and never shows the number back.
    assert (
        card.status_code == 422 and 'data-code="pan_detected"' in card.text and "6222021234567890128" not in card.text
    )
    short = finance.post(confirm, {"reference": "TRF1", "account_last4": "67a9"})
    assert short.status_code == 422 and 'id="f-account_last4-err"' in short.text and "67a9" not in short.text
    assert 'name="account_last4"' in short.text and "收款账户尾号" in short.text
    form = {"reference": "TRF20261204001", "account_last4": "6789"}
    assert finance.post(confirm, form, follow_redirects=False).status_code == 303
    done = finance.get(url).text
    assert "罚金转账 ¥2,000.00 · 已转账" in done and "TRF20261204001" in done and "罚金已转账" in done
    desk = finance.get("/console/deposits").text
    assert "没有待确认的罚金转账。" in desk and "退还中" in desk
    assert "已退还" not in done.split("<h1", 1)[1].split("</h1>", 1)[0]  # the refund has not gone out yet

    # The refund by the original route succeeds on the channel: every part is paid, the deposit is settled.
    case_id = str(holding.get_deposit(deps, world.a.actors["cashier"], d["id"])["payouts"][0]["refund_id"])
    refunds.approve(deps, world.a.actors["supervisor2"], case_id)
    execution.sweep(deps, Router(channels={"wechat": FakeChannel()}, is_workday=lambda _d: True))
    settled = finance.get(url).text
    assert "定金 · ¥3,000.00 · 已退还" in settled and "全部退还完成" in settled
    assert d["id"] in finance.get("/console/deposits?status=settled").text

    english = finance.get(f"/console/lang?to=en&next={url}").text
    assert "contract value ¥10,000.00 × 20% = 定金 cap ¥2,000.00 (Civil Code art. 586)" in english
    assert "Penalty by bank transfer ¥2,000.00 · paid" in english and "What goes back" in english


def test_a_hotel_key_deposit_back_less_an_itemised_deduction(as_user: Any, deps: Deps, world: World) -> None:
    d = make_deposit(deps, world, "security", 100_000, max_deduction_bp=5_000)
    url = f"/console/deposits/{d['id']}"
    cashier, boss = as_user("a.cashier"), as_user("a.supervisor")
    cashier.get(url)
    form = {"ending": "item_returned", "amount_0": "50", "reason_0": ""}
    no_reason = cashier.post(f"{url}/propose", form)
    assert no_reason.status_code == 422 and 'id="f-reason_0-err"' in no_reason.text
    assert "第 1 项扣款须写明理由" in no_reason.text
    zero = cashier.post(f"{url}/propose", {**form, "amount_0": "0", "reason_0": "毛巾污损"})
    assert zero.status_code == 422 and 'id="f-amount_0-err"' in zero.text
    no_photo = cashier.post(f"{url}/propose", {**form, "reason_0": "毛巾污损"})
    assert no_photo.status_code == 422 and "第 1 项扣款须附凭证编号" in no_photo.text
    too_much = cashier.post(
        f"{url}/propose", {**form, "amount_0": "600", "reason_0": "毛巾污损"},
        files={"evidence_0": ("towel.jpg", JPEG, "image/jpeg")},
    )  # fmt: skip
    assert too_much.status_code == 422 and "扣除合计 ¥600.00超过条款允许的 ¥500.00" in too_much.text
    assert count(deps, tables.deposit_proposals) == 0
    kept = too_much.text.split('name="evidence_id_0" value="', 1)[1].split('"', 1)[0]

    ok = cashier.post(f"{url}/propose", {**form, "reason_0": "毛巾污损", "evidence_id_0": kept}, follow_redirects=False)
    assert ok.status_code == 303
    shown = boss.get(url).text
    assert f"扣除扣款：毛巾污损 ¥50.00（凭证 {kept}）" in shown
    assert "已付 ¥1,000.00 − 扣除合计 ¥50.00 = 原路退还 ¥950.00" in shown
    assert f'毛巾污损 ¥50.00 · <a href="/console/evidence/{kept}">查看凭证' in shown
    assert boss.get(f"/console/evidence/{kept}").content == JPEG
    assert "一笔原路退款 ¥950.00" in shown and "一笔罚金银行转账" not in shown
    proposal_id = str(holding.get_deposit(deps, world.a.actors["cashier"], d["id"])["proposals"][0]["id"])
    assert boss.post(f"{url}/proposals/{proposal_id}/accept", {}, follow_redirects=False).status_code == 303
    after = boss.get(url).text
    assert "<summary>处理结果有变时重新计算（只退差额）</summary>" in after
    assert "¥950.00" in after and "退还记录" in after and "罚金转账 ¥" not in after and "按方案创建退还" in after


def test_an_override_needs_a_supervisor_and_a_reason(as_user: Any, deps: Deps, world: World) -> None:
    d = make_deposit(deps, world, "deposit", 200_000, 1_000_000)
    url = f"/console/deposits/{d['id']}"
    boss = as_user("a.supervisor")
    boss.get(url)
    assert boss.post(f"{url}/propose", {"ending": "customer_breach"}, follow_redirects=False).status_code == 303
    proposal_id = str(holding.get_deposit(deps, world.a.actors["cashier"], d["id"])["proposals"][0]["id"])
    target = f"{url}/proposals/{proposal_id}/override"
    no_reason = boss.post(target, {"back_total": "1000", "penalty_total": "0", "override_reason": ""})
    assert no_reason.status_code == 422 and "调整金额须说明理由" in no_reason.text
    assert 'id="f-override_reason-err"' in no_reason.text
    too_much = boss.post(target, {"back_total": "2000.01", "override_reason": "顾客家中急事"})
    assert too_much.status_code == 422 and "原路退还合计 ¥2,000.01超过已付 ¥2,000.00" in too_much.text
    bad = boss.post(target, {"back_total": "十元", "override_reason": "顾客家中急事"})
    assert bad.status_code == 422 and 'id="f-back_total-err"' in bad.text
    figures = holding.get_deposit(deps, world.a.actors["cashier"], d["id"])["proposals"][0]
    assert (figures["back_now_fen"], figures["override_reason"]) == (0, "")

    ok = boss.post(target, {"back_total": "1000", "override_reason": "顾客家中急事"}, follow_redirects=False)
    assert ok.status_code == 303
    shown = boss.get(url).text
    assert "主管调整：原路退还合计 ¥1,000.00，罚金合计 ¥0.00（理由：顾客家中急事）" in shown
    assert "一笔原路退款 ¥1,000.00" in shown and "主管调整退还金额" in shown


def test_terms_templates_for_supervisors(as_user: Any, deps: Deps, world: World) -> None:
    cashier, boss = as_user("a.cashier"), as_user("a.supervisor")
    listed = cashier.get("/console/deposits/terms")
    assert listed.status_code == 200 and "尚无条款模板。" in listed.text and "保存模板" not in listed.text
    assert cashier.post("/console/deposits/terms", {"name": "x", "kind": "deposit"}).status_code == 403
    boss.get("/console/deposits/terms")
    form = {"name": "包间定金", "kind": "deposit", "hold_days": "30", "max_deduction": "100", "text": "违约按定金罚则"}
    bad_days = boss.post("/console/deposits/terms", {**form, "hold_days": "三十"})
    assert bad_days.status_code == 422 and "请输入正整数" in bad_days.text and 'id="f-hold_days-err"' in bad_days.text
    bad_share = boss.post("/console/deposits/terms", {**form, "max_deduction": "120"})
    assert bad_share.status_code == 422 and 'id="f-max_deduction-err"' in bad_share.text
    assert count(deps, tables.deposit_terms) == 0
    assert boss.post("/console/deposits/terms", form, follow_redirects=False).status_code == 303
    again = boss.post("/console/deposits/terms", form)
    assert again.status_code == 422 and "已有同名的条款模板：包间定金" in again.text
    shown = boss.get("/console/deposits/terms").text
    assert "包间定金" in shown and "100.00%" in shown and "违约按定金罚则" in shown
    assert count(deps, tables.deposit_terms) == 1


def test_another_merchants_deposit_and_a_missing_token(as_user: Any, deps: Deps, world: World) -> None:
    d = make_deposit(deps, world, "deposit", 100_000, 1_000_000)
    url = f"/console/deposits/{d['id']}"
    other = as_user("b.supervisor")
    assert other.get(url).status_code == 404
    assert other.post(f"{url}/propose", {"ending": "merchant_breach"}).status_code == 404
    assert "¥1,000.00" not in other.get("/console/deposits").text
    cashier = as_user("a.cashier")
    cashier.get(url)
    cashier.csrf = "forged"
    assert cashier.post(f"{url}/propose", {"ending": "merchant_breach"}).status_code == 403
    assert count(deps, tables.deposit_proposals) == 0
