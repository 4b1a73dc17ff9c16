"""A provider's operations staff member works a device return in a real Chromium on a 390 px phone: the list
of returns with their clock, then the return's page — approve shipping, receive and inspect it with a photo,
decide a partial refund with an itemised deduction; and from the desk's dashboard, a return opened for a merchant
with its papers uploaded, taken to a decision. Nothing is wider than the screen, every control is fingertip-sized,
the CSP holds; screenshots 47–50 and 56–60 go to ``docs/screenshots`` (``make screenshots``)."""

from __future__ import annotations

import struct
import zlib
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


def photo_png(width: int = 240, height: int = 160, rgb: tuple[int, int, int] = (90, 130, 170)) -> bytes:
    """A real (one-colour) PNG, so the return's page shows its photos as a person would see them."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def a_desk(live: Live, provider: str, sn: str, staff: dict[str, str]) -> Actor:
    """Provider ``provider``'s desk with its ``staff`` (username → role), a merchant of it and a terminal ``sn``
    signed for two days ago, paid by WeChat Pay: the merchant's administrator."""
    deps = live.deps
    boss = provider_staff(deps, provider, "provider_admin", f"{provider.lower()}_admin")
    for username, role in staff.items():
        provider_staff(deps, provider, role, username)
    desk.set_up(deps, boss, name="联动优势（机具）", code=f"{provider}SELLER")
    merchant = admin.create_merchant(deps, boss, code=f"M{provider}", name="好邻居便利店", contact_phone="13912345678")
    made = admin.create_user(
        deps, boss, username=f"m{provider.lower()}_admin", password=PASSWORD, role="admin", merchant_id=merchant["id"]
    )
    owner = Actor(id=made["id"], role=Role.ADMIN, merchant_id=merchant["id"], name=f"m{provider.lower()}_admin")
    now = deps.clock.now()
    today = deps.local_date(now)
    signed = today - timedelta(days=2)
    payment = desk.Payment(route="wechat", paid_at=now - timedelta(days=5))
    inp = desk.DeviceInput(
        sn=sn, model="联迪 A8", merchant_id=merchant["id"], issued_on=signed - timedelta(days=5), price_fen=29_900,
        payment=payment, charge_kind="deposit", charge_fen=10_000, signed_on=signed, activated_on=signed,
    )  # fmt: skip
    desk.register_device(deps, boss, inp)
    return owner


def a_return(live: Live, provider: str = "P7", sn: str = SN, staff: dict[str, str] | None = None) -> str:
    """Provider P7's desk, a merchant of it, a terminal signed for two days ago and a return opened for it
    with every document: the return's id."""
    owner = a_desk(live, provider, sn, staff if staff is not None else {"p7_ops": "provider_operations"})
    return opened_for(live, owner, sn)


def opened_for(live: Live, owner: Actor, sn: str) -> str:
    """A return of terminal ``sn`` opened by the merchant's administrator with every document: its id."""
    ids = [
        str(documents.upload(live.deps, owner, sn=sn, kind=kind, filename=f"{kind}.jpg", content=content)["id"])
        for kind, content in MERCHANT_DOCS.items()
    ]
    return str(returns.open_return(live.deps, owner, returns.OpenInput(sn, "no_reason", tuple(ids)))["id"])


def sign_in_as(page: Page, live: Live, username: str, then: str = "/console/provider/returns") -> None:
    page.goto(live.url("/console/login"))
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/console/home")  # everyone lands on their overview first
    page.goto(live.url(then))


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


def test_operations_staff_open_a_return_for_a_merchant_and_take_it_to_a_decision(
    chromium: Browser, live: Live, tmp_path: Path
) -> None:
    """From the desk's dashboard: a return opened by phone for the merchant with its papers uploaded, then
    shipped, received and inspected, decided — screenshots 56–60."""
    sn = "SN-PHONE02"
    a_desk(live, "P9", sn, {"p9_ops": "provider_operations"})
    papers = {}
    for kind, given in {**MERCHANT_DOCS, "inspection_photo": JPEG}.items():
        content = photo_png() if given == JPEG else given
        papers[kind] = tmp_path / f"{kind}.{'pdf' if content.startswith(b'%PDF') else 'png'}"
        papers[kind].write_bytes(content)
    screen = "390"
    with watched_page(chromium, SCREENS[screen]) as page:
        sign_in_as(page, live, "p9_ops", then="/console/provider")
        expect(page.locator('[data-sla="not_started"] .n')).to_have_text("0")
        fits(page, screen, "56-provider-dashboard", live)
        page.get_by_role("link", name="机具发放", exact=True).first.click()
        expect(page.locator(f'tr[data-sn="{sn}"]')).to_contain_text("¥399.00")
        fits(page, screen, "57-provider-terminals", live)
        page.goto(live.url("/console/provider"))
        page.get_by_role("link", name="代商户提交退机").click()
        page.select_option("#f-sn", sn)
        for kind in MERCHANT_DOCS:
            page.set_input_files(f"#f-{kind}", str(papers[kind]))
        fits(page, screen, "58-provider-new-return", live)
        page.get_by_role("button", name="提交退机申请").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("已提交")
        expect(page.locator("ul.docs li")).to_have_count(len(MERCHANT_DOCS))
        expect(page.locator('li[data-document="device_photo"] img.preview')).to_be_visible()
        fits(page, screen, "59-provider-return-documents", live)
        page.fill("#f-address", "上海市浦东新区张江路 88 号 退机仓")
        page.fill("#f-courier", "顺丰速运")
        page.fill("#f-tracking_no", "SF1234567891")
        page.get_by_role("button", name="同意寄回").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("待寄回")
        page.check("#f-insp-intact")
        page.set_input_files("#f-photo", str(papers["inspection_photo"]))
        page.get_by_role("button", name="确认收货").click()
        expect(page.locator("dd.clock")).to_contain_text("计时中")
        page.check("#f-dec-full_refund")
        page.get_by_role("button", name="提交处理结果").click()
        expect(page.locator("dd.decision")).to_contain_text("全额退款")
        expect(page.locator("dd.decision")).to_contain_text("¥399.00")
        fits(page, screen, "60-provider-return-refunded", live)
        page.goto(live.url("/console/provider"))
        expect(page.locator('[data-sla="not_started"] .n')).to_have_text("0")
        expect(page.locator('[data-sla="on_time"] .n')).to_have_text("0")
