"""A provider's operations staff member works a device return in a real Chromium on a 390 px phone: the list
of returns with their clock, then the return's page — approve shipping, receive and inspect it with a photo,
decide a partial refund with an itemised deduction. Nothing is wider than the screen, every control is
fingertip-sized, the CSP holds; screenshots 47–50 go to ``docs/screenshots`` (``make screenshots``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from posrefund.domain.roles import Actor, Role
from posrefund.service import admin
from posrefund.service.provider import desk, documents, returns
from tests.conftest import PASSWORD
from tests.e2e.conftest import Live, watched_page
from tests.e2e.test_console_shift_browser import SCREENS, fits
from tests.support.provider import JPEG, MERCHANT_DOCS, provider_staff

SN = "SN-PHONE01"


def a_return(live: Live) -> str:
    """Provider P7's desk, a merchant of it, a terminal signed for two days ago and a return opened for it
    with every document: the return's id."""
    deps = live.deps
    boss = provider_staff(deps, "P7", "provider_admin", "p7_admin")
    provider_staff(deps, "P7", "provider_operations", "p7_ops")
    desk.set_up(deps, boss, name="联动优势（机具）", code="P7SELLER")
    merchant = admin.create_merchant(deps, boss, code="PM7", name="好邻居便利店", contact_phone="13912345678")
    made = admin.create_user(
        deps, boss, username="pm7_admin", password=PASSWORD, role="admin", merchant_id=merchant["id"]
    )
    owner = Actor(id=made["id"], role=Role.ADMIN, merchant_id=merchant["id"], name="pm7_admin")
    now = deps.clock.now()
    today = deps.local_date(now)
    signed = today - timedelta(days=2)
    payment = desk.Payment(route="wechat", paid_at=now - timedelta(days=5))
    inp = desk.DeviceInput(
        sn=SN, model="联迪 A8", merchant_id=merchant["id"], issued_on=signed - timedelta(days=5), price_fen=29_900,
        payment=payment, charge_kind="deposit", charge_fen=10_000, signed_on=signed, activated_on=signed,
    )  # fmt: skip
    desk.register_device(deps, boss, inp)
    ids = [
        str(documents.upload(deps, owner, sn=SN, kind=kind, filename=f"{kind}.jpg", content=content)["id"])
        for kind, content in MERCHANT_DOCS.items()
    ]
    return str(returns.open_return(deps, owner, returns.OpenInput(SN, "no_reason", tuple(ids)))["id"])


def sign_in_as(page: Page, live: Live, username: str) -> None:
    page.goto(live.url("/console/login"))
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/console/home")  # everyone lands on their overview first
    page.goto(live.url("/console/provider/returns"))


def test_operations_staff_work_a_return_on_a_phone(chromium: Browser, live: Live, tmp_path: Path) -> None:
    return_id = a_return(live)
    photo = tmp_path / "inspection.jpg"
    photo.write_bytes(JPEG)
    screen = "390"
    with watched_page(chromium, SCREENS[screen]) as page:
        sign_in_as(page, live, "p7_ops")
        row = page.locator(f'tr[data-return="{return_id}"]')
        expect(row).to_contain_text("未开始计时")
        fits(page, screen, "47-provider-returns", live)
        row.get_by_role("link", name=SN).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("已提交")
        page.fill("#f-address", "上海市浦东新区张江路 88 号 退机仓")
        page.fill("#f-courier", "顺丰速运")
        page.fill("#f-tracking_no", "SF1234567890")
        fits(page, screen, "48-provider-return-shipping", live)
        page.get_by_role("button", name="同意寄回").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("待寄回")
        page.check("#f-insp-damaged")
        page.fill("#f-note", "外壳右下角破损")
        page.set_input_files("#f-photo", str(photo))
        page.get_by_role("button", name="确认收货").click()
        expect(page.locator("dd.clock")).to_contain_text("计时中")
        expect(page.locator("dd.clock")).to_contain_text("剩余工作日")
        fits(page, screen, "49-provider-return-decision", live)
        page.check("#f-dec-partial_refund")
        page.fill("#f-item_1", "外壳破损")
        page.fill("#f-amount_1", "50.00")
        page.fill("#f-reason", "验机发现外壳破损")
        page.get_by_role("button", name="提交处理结果").click()
        expect(page.locator("dd.decision")).to_contain_text("部分退款（扣款）")
        expect(page.locator("dd.decision")).to_contain_text("¥349.00")
        fits(page, screen, "50-provider-return-decided", live)
