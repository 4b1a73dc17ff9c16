"""The operators page on a 390 px phone: every action reachable, nothing scrolls sideways."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Live, sign_in

PHONE = {"width": 390, "height": 844}


def test_an_admin_deactivates_an_operator_on_a_phone(chromium: Browser, live: Live) -> None:
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, live, "a.admin")
        page.goto(live.url("/console/admin/users"))
        row = page.locator("ul.users > li", has_text=live.world.a.usernames["risk"])
        row.locator("summary").click()
        for name in ("停用账户", "在所有设备退出", "修改角色", "重置密码"):
            expect(row.get_by_role("button", name=name)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width  # no sideways scrolling on the phone
        live.shot(page, "30-phone-operators")
        row.get_by_role("button", name="停用账户").click()
        expect(page.get_by_role("status")).to_have_text("已完成：停用账户")
        with live.deps.uow(readonly=True) as uow:
            user = uow.users.by_username(live.world.a.usernames["risk"])
        assert user is not None and user["active"] is False
    finally:
        context.close()
