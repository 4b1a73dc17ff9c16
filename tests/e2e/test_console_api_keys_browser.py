"""A terminal's key revoked from a 390 px phone: the confirm step is a fold (no script), nothing scrolls
sideways, the page breaks no Content-Security-Policy rule, and the key fails on its next API request."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Live, assert_no_csp_violation, csp_violations, sign_in

PHONE = {"width": 390, "height": 844}


def test_an_admin_revokes_a_terminal_key_on_a_phone(chromium: Browser, live: Live) -> None:
    context = chromium.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    seen = csp_violations(page)
    key_id = live.world.a.actors["terminal"].id
    key = str(live.world.a.extra["terminal_key"])
    me = live.url("/v1/auth/me")
    try:
        assert httpx.get(me, headers={"Authorization": f"Bearer {key}"}).status_code == 200
        sign_in(page, live, "a.admin")
        page.goto(live.url("/console/admin/terminals"))
        row = page.locator("ul.terminals > li").filter(has=page.locator(f"code:text-is('{key_id}')"))
        row.locator("summary", has_text="管理").click()
        confirm = row.get_by_role("button", name="确认吊销")
        expect(confirm).to_be_hidden()  # one tap on 吊销 is not enough: the real button is behind the fold
        row.locator("summary", has_text="吊销").click()
        expect(confirm).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width  # no sideways scrolling on the phone
        live.shot(page, "31-phone-terminal-keys")
        confirm.click()
        expect(page.get_by_role("status")).to_have_text("已完成：终端密钥已吊销")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        after = httpx.get(me, headers={"Authorization": f"Bearer {key}"})
        assert (after.status_code, after.json()["code"]) == (401, "auth.invalid_token")
        with live.deps.uow(readonly=True) as uow:
            row_after = uow.users.api_key(key_id)
        assert row_after is not None and row_after["revoked_at"] is not None
    finally:
        context.close()
    assert_no_csp_violation(seen)
