"""A terminal's keys on the console's terminals page: listed, revoked after a confirmation, refused to a
cashier — the revoked key fails on its very next API request with the exact code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from posrefund.adapters.db import tables
from tests.conftest import World
from tests.console.test_console_pages import count

PAGE = "/console/admin/terminals"
ME = "/v1/auth/me"


def _revoke(world: World) -> str:
    return f"{PAGE}/keys/{world.a.actors['terminal'].id}/revoke"


def _key_works(browser: Any, key: str) -> int:
    return int(browser.client.get(ME, headers={"Authorization": f"Bearer {key}"}).status_code)


def test_admin_sees_each_terminals_key_with_a_confirm_step(as_user: Any, world: World) -> None:
    page = as_user("a.admin").get(PAGE)
    assert page.status_code == 200
    assert world.a.actors["terminal"].id in page.text
    assert "确认吊销" in page.text and "有效" in page.text
    assert "onclick" not in page.text and "<script>" not in page.text


def test_revoke_through_the_console_ends_the_key_at_once(as_user: Any, world: World, engine: Engine) -> None:
    admin = as_user("a.admin")
    key = str(world.a.extra["terminal_key"])
    assert _key_works(admin, key) == 200
    admin.get(PAGE)
    r = admin.post(_revoke(world), follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"{PAGE}?done=revoked")
    page = admin.get(r.headers["location"])
    assert "终端密钥已吊销" in page.text and "已吊销" in page.text
    after = admin.client.get(ME, headers={"Authorization": f"Bearer {key}"})
    assert (after.status_code, after.json()["code"]) == (401, "auth.invalid_token")
    assert count(engine, tables.audit_events, tables.audit_events.c.action == "apikey.revoked") == 1


def test_revoking_twice_is_told_on_the_page(as_user: Any, world: World, engine: Engine) -> None:
    admin = as_user("a.admin")
    admin.get(PAGE)
    assert admin.post(_revoke(world), follow_redirects=False).status_code == 303
    admin.get(PAGE)
    r = admin.post(_revoke(world), follow_redirects=False)
    assert r.status_code == 409 and "终端密钥已被吊销" in r.text
    assert count(engine, tables.audit_events, tables.audit_events.c.action == "apikey.revoked") == 1


def test_cashier_can_neither_see_nor_revoke_a_key(as_user: Any, world: World, engine: Engine) -> None:
    cashier = as_user("a.cashier")
    page = cashier.get(PAGE)
    assert page.status_code == 403 and world.a.actors["terminal"].id not in page.text
    cashier.get("/console/desk")  # a CSRF token of the cashier's own session
    r = cashier.post(_revoke(world), follow_redirects=False)
    assert r.status_code == 403
    assert _key_works(cashier, str(world.a.extra["terminal_key"])) == 200
    assert count(engine, tables.audit_events, tables.audit_events.c.action == "apikey.revoked") == 0


def test_another_merchants_admin_cannot_revoke_the_key(as_user: Any, world: World, engine: Engine) -> None:
    other = as_user("b.admin")
    other.get(PAGE)
    assert world.a.actors["terminal"].id not in other.get(PAGE).text
    r = other.post(_revoke(world), follow_redirects=False)
    assert r.status_code == 404
    assert _key_works(other, str(world.a.extra["terminal_key"])) == 200


def test_revoke_without_the_csrf_token_is_refused(as_user: Any, world: World) -> None:
    admin = as_user("a.admin")
    r = admin.client.post(_revoke(world), data={}, follow_redirects=False)
    assert r.status_code == 403
    assert _key_works(admin, str(world.a.extra["terminal_key"])) == 200


def test_the_keys_read_in_english_too(as_user: Any, world: World) -> None:
    admin = as_user("a.admin")
    admin.client.cookies.set("prc_lang", "en", path="/console")
    page = admin.get(PAGE).text
    for text in ("Key ID: ", "Last used: ", "Not recorded", "Status: ", "Active", "Revoke", "Confirm revoke"):
        assert text in page, text
    assert "确认吊销" not in page and "密钥编号" not in page
