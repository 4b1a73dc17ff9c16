"""The refund list pages by an opaque cursor: every refund once, in order, whatever the depth; a cursor made up,
altered or sealed for another merchant is refused with 422, never a way into another merchant's refunds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from posrefund.bootstrap import engine_of
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import Merchant, World
from tests.support.helpers import new_sale
from tests.support.refund_rows import refund_rows, store_refunds

START = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def _store(deps: Deps, m: Merchant, count: int, prefix: str) -> list[str]:
    """``count`` refunds of a new sale of ``m``; their ids newest first (ties on the time: larger id first)."""
    sale = new_sale(deps, m)
    rows = list(refund_rows((m.id, m.store_id, m.terminal_id), sale.id, count, START, prefix))
    store_refunds(engine_of(deps), rows)
    return [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)]


def _walk(client: TestClient, headers: dict[str, str], query: str) -> tuple[list[str], list[dict[str, Any]]]:
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    cursor = ""
    while True:
        r = client.get(f"/v1/refunds?{query}{cursor}", headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page)
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            return seen, pages
        cursor = f"&cursor={page['next_cursor']}"


def test_walking_every_page_shows_each_refund_once_in_order(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    expected = _store(deps, world.a, 250, "pa")
    _store(deps, world.b, 20, "pb")
    seen, pages = _walk(client, auth("a.finance"), "limit=100")
    assert seen == expected
    assert [len(p["items"]) for p in pages] == [100, 100, 50]
    assert [p["total"] for p in pages] == [None, None, None]  # counted only on request
    counted = client.get("/v1/refunds?limit=100&count=true", headers=auth("a.finance")).json()
    assert (counted["total"], len(counted["items"])) == (250, 100)


def test_a_page_of_exactly_the_rest_has_no_next_cursor(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    expected = _store(deps, world.a, 200, "pa")
    seen, pages = _walk(client, auth("a.finance"), "limit=100")
    assert seen == expected
    assert [len(p["items"]) for p in pages] == [100, 100]


def test_the_cursor_keeps_the_filters_it_is_given(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    _store(deps, world.a, 30, "px")
    wanted = _store(deps, world.a, 25, "py")
    sale_id = client.get(f"/v1/refunds/{wanted[0]}", headers=auth("a.finance")).json()["sale_id"]
    seen, _pages = _walk(client, auth("a.finance"), f"limit=10&sale_id={sale_id}")
    assert seen == wanted


@pytest.mark.parametrize(
    "cursor",
    ["nonsense", "a.b", "W10.AAAAAAAAAAAAAAAAAAAAAA", "x" * 300],
)
def test_a_made_up_cursor_is_refused(client: TestClient, auth: Auth, cursor: str) -> None:
    r = client.get(f"/v1/refunds?cursor={cursor}", headers=auth("a.finance", **{"Accept-Language": "en"}))
    assert (r.status_code, r.json()["code"]) == (422, "request.bad_cursor")
    assert r.json()["message"] == "The page cursor is not valid or was altered; start again from the first page"
    zh = client.get(f"/v1/refunds?cursor={cursor}", headers=auth("a.finance")).json()
    assert zh["message"] == "翻页游标无效或已被改动，请从第一页重新查询"


def test_an_altered_cursor_is_refused(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    _store(deps, world.a, 5, "pa")
    cursor = client.get("/v1/refunds?limit=2", headers=auth("a.finance")).json()["next_cursor"]
    body, mac = cursor.split(".")
    altered = ("B" if body[0] != "B" else "C") + body[1:] + "." + mac
    r = client.get(f"/v1/refunds?cursor={altered}", headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"]) == (422, "request.bad_cursor")
    r = client.get(f"/v1/refunds?cursor={cursor}&offset=2", headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"]) == (422, "request.cursor_with_offset")


def test_another_merchants_cursor_gets_nothing_of_theirs(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    _store(deps, world.a, 5, "pa")
    _store(deps, world.b, 5, "pb")
    theirs = client.get("/v1/refunds?limit=2", headers=auth("b.finance")).json()["next_cursor"]
    r = client.get(f"/v1/refunds?cursor={theirs}", headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"]) == (422, "request.bad_cursor")
    ours = client.get("/v1/refunds?limit=2", headers=auth("a.finance")).json()["next_cursor"]
    r = client.get(f"/v1/refunds?cursor={ours}", headers=auth("b.finance"))
    assert (r.status_code, r.json()["code"]) == (422, "request.bad_cursor")


def test_offset_still_pages_for_old_clients(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    expected = _store(deps, world.a, 7, "pa")
    page = client.get("/v1/refunds?limit=3&offset=3&count=true", headers=auth("a.finance")).json()
    assert ([i["id"] for i in page["items"]], page["total"], page["offset"]) == (expected[3:6], 7, 3)
