"""The refund report routes with exact figures over a small hand-made month: five cases of merchant A over
three days (each outcome, both routes, two stores), one case in the previous period, one of merchant B that A
never sees; the cases behind a row; the CSV and XLSX exports; who may read and whose figures they get."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from starlette.testclient import TestClient

from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints.worker.loop import report_round
from posrefund.service import admin, disputes
from posrefund.service.deps import Deps
from posrefund.service.reports import upkeep
from tests.api.conftest import Auth
from tests.conftest import FixedClock, World
from tests.support.report_data import DAY0, Place, add_case, add_sale, move

HYPERLINK = '=HYPERLINK("http://evil.example","点我")'
MONTH = "/v1/reports/refunds?from=2026-11-01&to=2026-11-03"


@dataclass
class Month:
    store1: str
    store2: str
    cases: dict[str, str]


def at(day: int, hour: float) -> Any:
    """Local (Shanghai) time on 2026-11-``day``."""
    return DAY0 + timedelta(days=day - 1, hours=hour)


@pytest.fixture
def month(deps: Deps, world: World, clock: FixedClock) -> Month:
    boss = Actor(id="setup", role=Role.ADMIN, merchant_id=world.a.id, name="setup")
    store = admin.create_store(deps, boss, name=HYPERLINK)
    term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no="MA02", device_sn="SNMA02")
    one = Place(world.a.id, world.a.store_id, world.a.terminal_id)
    two = Place(world.a.id, store["id"], term["id"])
    cashier, supervisor = world.a.actors["cashier"].id, world.a.actors["supervisor"].id
    with deps.uow() as uow:
        s1 = add_sale(uow, one, at(1, 10), 10_000, "wechat")
        s2 = add_sale(uow, one, at(1, 11), 20_000, "card")
        s3 = add_sale(uow, one, at(2, 9), 5_000, "alipay")
        s4 = add_sale(uow, two, at(3, 8), 30_000, "wechat")
        r1 = add_case(uow, s1, at(1, 12), 4_000, cashier, "goods_quality")
        move(uow, r1, "succeeded", at(1, 12.5), paid_at=at(1, 12.5))  # 30 minutes to money
        r2 = add_case(uow, s2, at(1, 13), 20_000, cashier, "wrong_amount")
        move(uow, r2, "failed", at(1, 14))
        r3 = add_case(uow, s3, at(2, 10), 5_000, supervisor, "customer_cancelled")
        move(uow, r3, "succeeded", at(4, 10), paid_at=at(4, 10), rerouted=True)  # two days, paid in cash
        r4 = add_case(uow, s4, at(3, 9), 1_000, cashier, "other")
        move(uow, r4, "abnormal", at(3, 10))
        r5 = add_case(uow, s1, at(3, 10), 1_000, cashier, "customer_cancelled")
        move(uow, r5, "rejected", at(3, 11))
        s0 = add_sale(uow, one, at(-2, 10), 8_000, "wechat")  # 2026-10-30: the previous period
        r0 = add_case(uow, s0, at(-2, 11), 2_000, cashier, "other")
        move(uow, r0, "succeeded", at(-2, 11), paid_at=at(-2, 11) + timedelta(seconds=60))
        sb = add_sale(uow, Place(world.b.id, world.b.store_id, world.b.terminal_id), at(1, 10), 9_900)
        add_case(uow, sb, at(1, 10), 9_900, world.b.actors["cashier"].id)
        uow.commit()
    clock.at = at(2, 15)
    disputes.open_dispute(deps, world.a.actors["customer_service"], r1.id, "没收到", 500, [])
    upkeep.catch_up_all(deps)  # the worker's pass
    cases = {"r0": r0.id, "r1": r1.id, "r2": r2.id, "r3": r3.id, "r4": r4.id, "r5": r5.id}
    return Month(world.a.store_id, store["id"], cases)


def get(client: TestClient, auth: Auth, url: str, who: str = "a.finance", **headers: str) -> Any:
    r = client.get(url, headers=auth(who, **headers))
    assert r.status_code == 200, r.text
    return r.json()


def test_the_month_by_day_with_every_figure(client: TestClient, auth: Auth, month: Month) -> None:
    body = get(client, auth, MONTH)
    assert body["period"] == {"from": "2026-11-01", "to": "2026-11-03", "days": 3}
    assert body["previous_period"] == {"from": "2026-10-29", "to": "2026-10-31"}
    assert (body["source"], body["pending_days"]) == ("aggregates", [])
    assert body["total"] == {
        "refunds": 5,
        "amount_fen": 31_000,
        "paid": 2,
        "paid_fen": 9_000,
        "failed": 1,
        "failed_fen": 20_000,
        "abnormal": 1,
        "abnormal_fen": 1_000,
        "refused": 1,
        "refused_fen": 1_000,
        "in_progress": 0,
        "in_progress_fen": 0,
        "sales": 4,
        "sales_fen": 65_000,
        "rate_count": 1.25,
        "rate_amount": 0.476923,
        "paid_rate_amount": 0.138462,
        "failed_share": 0.2,
        "abnormal_share": 0.2,
        "wait_p50_seconds": 1800,
        "wait_p90_seconds": 172_800,
    }
    before = body["previous_total"]
    assert (before["refunds"], before["paid_fen"], before["sales"], before["wait_p50_seconds"]) == (1, 2_000, 1, 60)
    days = {row["key"]: row["figures"] for row in body["rows"]}
    assert list(days) == ["2026-11-01", "2026-11-02", "2026-11-03"]
    pick = ("refunds", "amount_fen", "sales", "sales_fen", "rate_count", "rate_amount")
    assert [tuple(days[d][k] for k in pick) for d in days] == [
        (2, 24_000, 2, 30_000, 1.0, 0.8),
        (1, 5_000, 1, 5_000, 1.0, 1.0),
        (2, 2_000, 1, 30_000, 2.0, 0.066667),
    ]
    assert body["wrong_charges"] == {}
    assert body["disputes"] == {"by_status": {"open": 1}, "claimed_fen": 500}


@pytest.mark.parametrize("source", ["aggregates", "cases"])
def test_dimensions_with_their_previous_period(client: TestClient, auth: Auth, month: Month, source: str) -> None:
    by_store = get(client, auth, f"{MONTH}&by=store&source={source}")
    rows = {r["key"]: r for r in by_store["rows"]}
    assert list(rows) == [month.store1, month.store2]
    one, two = rows[month.store1], rows[month.store2]
    assert (one["name"], two["name"]) == ("一号店", HYPERLINK)
    assert (one["figures"]["refunds"], one["figures"]["sales"], one["figures"]["rate_count"]) == (4, 3, 1.333333)
    assert (two["figures"]["amount_fen"], two["figures"]["rate_amount"]) == (1_000, 0.033333)
    assert (one["previous"]["refunds"], one["previous"]["amount_fen"], two["previous"]["refunds"]) == (1, 2_000, 0)
    category = {
        r["key"]: r["figures"] for r in get(client, auth, f"{MONTH}&by=reason_category&source={source}")["rows"]
    }
    assert {k: (f["refunds"], f["amount_fen"], f["sales_fen"]) for k, f in category.items()} == {
        "customer": (2, 6_000, 65_000),
        "error": (1, 20_000, 65_000),
        "merchant": (1, 4_000, 65_000),
        "other": (1, 1_000, 65_000),
    }
    route = {r["key"]: r["figures"]["refunds"] for r in get(client, auth, f"{MONTH}&by=route&source={source}")["rows"]}
    assert route == {"original": 4, "alternative": 1}
    outcome = get(client, auth, f"{MONTH}&by=outcome&source={source}")["rows"]
    assert {r["key"]: r["figures"]["amount_fen"] for r in outcome} == {
        "succeeded": 9_000,
        "failed": 20_000,
        "abnormal": 1_000,
        "rejected": 1_000,
    }


def test_filters_read_the_cases_when_the_aggregates_do_not_hold_them(
    client: TestClient, auth: Auth, month: Month
) -> None:
    by_store = get(client, auth, f"{MONTH}&by=channel&store_id={month.store1}")
    assert by_store["source"] == "aggregates"
    assert {r["key"]: r["figures"]["refunds"] for r in by_store["rows"]} == {"wechat": 2, "card": 1, "alipay": 1}
    only_cash = get(client, auth, f"{MONTH}&by=day&route=alternative")
    assert only_cash["source"] == "cases"
    assert only_cash["total"]["refunds"] == 1 and only_cash["total"]["sales"] == 4


def test_the_cases_behind_a_row(client: TestClient, auth: Auth, month: Month) -> None:
    body = get(client, auth, MONTH)
    link = body["rows"][0]["cases"]
    assert link == "/v1/reports/refunds/cases?from=2026-11-01&to=2026-11-03&by=day&currency=CNY&key=2026-11-01"
    cases = get(client, auth, link)
    assert [c["id"] for c in cases["items"]] == [month.cases["r1"], month.cases["r2"]]
    assert cases["total"] == 2 and cases["items"][0]["href"] == f"/v1/refunds/{month.cases['r1']}"
    week = get(client, auth, "/v1/reports/refunds/cases?from=2026-11-01&to=2026-11-03&by=week&key=2026-10-26")
    assert week["total"] == 2  # the week of 26 October holds only 1 November of the period: r1 and r2
    cash = get(client, auth, "/v1/reports/refunds/cases?from=2026-11-01&to=2026-11-03&by=route&key=alternative")
    assert [c["id"] for c in cash["items"]] == [month.cases["r3"]]
    other_store = f"/v1/reports/refunds/cases?from=2026-11-01&to=2026-11-03&by=store&key={month.store1}"
    assert get(client, auth, other_store + f"&store_id={month.store2}")["total"] == 0


def test_refusals(client: TestClient, auth: Auth, month: Month) -> None:
    for url, code in (
        ("/v1/reports/refunds?from=2026-11-03&to=2026-11-01", "report.bad_range"),
        ("/v1/reports/refunds?from=2025-01-01&to=2026-11-01", "report.bad_range"),
        ("/v1/reports/refunds?from=2026-11-01&to=2026-11-03&by=year", "request.invalid"),
        ("/v1/reports/refunds/cases?from=2026-11-01&to=2026-11-03&by=week&key=2026-10-27", "report.bad_key"),
        ("/v1/reports/refunds/cases?from=2026-11-01&to=2026-11-03&by=month&key=2026-13", "report.bad_key"),
    ):
        r = client.get(url, headers=auth("a.finance"))
        assert (r.status_code, r.json()["code"]) == (422, code), (url, r.text)
    r = client.get(
        "/v1/reports/refunds?from=2026-11-03&to=2026-11-01", headers=auth("a.finance", **{"Accept-Language": "en"})
    )
    assert r.json()["message"].startswith("The report's dates are not valid")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("a.finance", 200),
        ("a.auditor", 200),
        ("a.supervisor", 200),
        ("a.admin", 200),
        ("a.risk", 200),
        ("a.cashier", 403),
        ("a.customer_service", 403),
        ("a.terminal", 403),
        ("provider", 403),
    ],
)
def test_who_reads_reports(client: TestClient, auth: Auth, month: Month, who: str, status: int) -> None:
    for url in (
        MONTH,
        f"{MONTH}&by=store",
        "/v1/reports/refunds/cases?from=2026-11-01&to=2026-11-03&by=day&key=2026-11-01",
    ):
        for path in (url, url.replace("/refunds?", "/refunds/export.csv?")):
            r = client.get(path, headers=auth(who))
            assert r.status_code == status, (who, path, r.text)
            if status == 403:
                assert r.json()["code"] == "auth.forbidden"


def test_another_merchant_sees_only_its_own(client: TestClient, auth: Auth, month: Month) -> None:
    own = get(client, auth, MONTH, "b.finance")
    assert (own["total"]["refunds"], own["total"]["amount_fen"], own["total"]["sales"]) == (1, 9_900, 1)
    assert own["disputes"] == {"by_status": {}, "claimed_fen": 0}
    a_store = get(client, auth, f"{MONTH}&by=store&store_id={month.store1}", "b.finance")
    assert a_store["rows"] == [] and a_store["total"]["refunds"] == 0
    a_cases = get(
        client,
        auth,
        f"/v1/reports/refunds/cases?from=2026-11-01&to=2026-11-03&by=store&key={month.store1}",
        "b.finance",
    )
    assert a_cases == {"items": [], "total": 0}
    names = get(client, auth, f"{MONTH}&by=store", "b.finance")
    assert [r["name"] for r in names["rows"]] == ["一号店"]  # B's own store, never A's names


def test_csv_in_chinese_with_codes_and_no_formula(client: TestClient, auth: Auth, month: Month) -> None:
    r = client.get(MONTH.replace("/refunds?", "/refunds/export.csv?") + "&by=store", headers=auth("a.finance"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="refunds-store-2026-11-01-2026-11-03.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["门店", "代码", "退款笔数", "退款金额（元）", "退款成功笔数", "退款成功金额（元）"]
    assert rows[1][:4] == ["一号店", month.store1, "4", "300.00"]
    assert rows[2][0] == "'" + HYPERLINK  # a store's name never runs as a formula
    assert rows[-1][:4] == ["合计", "", "5", "310.00"]
    reasons = client.get(MONTH.replace("/refunds?", "/refunds/export.csv?") + "&by=reason", headers=auth("a.finance"))
    labelled = {row[1]: row[0] for row in csv.reader(io.StringIO(reasons.content.decode("utf-8-sig")))}
    assert labelled["goods_quality"] == "商品质量问题" and labelled["wrong_amount"] == "错收金额"
    english = client.get(
        MONTH.replace("/refunds?", "/refunds/export.csv?"), headers=auth("a.finance", **{"Accept-Language": "en"})
    )
    assert english.content.decode("utf-8-sig").splitlines()[0].startswith("Day,Code,Refunds,Refund amount (yuan)")


def test_xlsx_in_chinese_with_text_cells(client: TestClient, auth: Auth, month: Month) -> None:
    r = client.get(MONTH.replace("/refunds?", "/refunds/export.xlsx?") + "&by=store", headers=auth("a.finance"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None and sheet.title == "退款报表"
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["门店", "代码", "退款笔数"]
    assert values[1][:4] == ["一号店", month.store1, 4, "300.00"]
    hostile = sheet.cell(row=3, column=1)
    assert (hostile.value, hostile.data_type) == (HYPERLINK, "s")  # text, not a formula
    assert values[-1][:3] == ["合计", None, 5]


def test_a_change_shows_after_the_workers_pass_and_its_day_is_named_until_then(
    client: TestClient, auth: Auth, deps: Deps, month: Month
) -> None:
    with deps.uow() as uow:
        case = uow.refunds.get_case(_merchant_of(deps, month), month.cases["r4"])
        assert case is not None
        move(uow, case, "succeeded", at(3, 12), paid_at=at(3, 12))
        uow.commit()
    stale = get(client, auth, MONTH)
    assert (stale["total"]["paid"], stale["pending_days"]) == (2, ["2026-11-03"])
    assert get(client, auth, MONTH + "&source=cases")["total"]["paid"] == 3  # the cases are always current
    report_round(deps)  # the worker's minute pass
    fresh = get(client, auth, MONTH)
    assert (fresh["total"]["paid"], fresh["total"]["abnormal"], fresh["pending_days"]) == (3, 0, [])


def _merchant_of(deps: Deps, month: Month) -> str:
    with deps.uow(readonly=True) as uow:
        merchant = uow.refunds.case_merchant(month.cases["r4"])
    assert merchant is not None
    return merchant
