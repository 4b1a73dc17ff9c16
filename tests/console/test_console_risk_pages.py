"""The console's home overview per role, the report charts with their tables and drill-down, the risk queue
(confirm, dismiss with a reason, assign; audited by the service) and the second review of a held refund from the
case page — over the real app and database."""

from __future__ import annotations

from typing import Any

from posrefund.service.deps import Deps
from posrefund.service.reports.upkeep import catch_up_all
from tests.api.risk_routes import after_hours_alert, held_refunds
from tests.conftest import World


def test_sign_in_lands_on_the_overview_of_each_role(as_user: Any, deps: Deps, world: World) -> None:
    held_refunds(deps, world)
    expected = {
        "cashier": ("我今天的退款", "审核与复核"),
        "supervisor": ("审核与复核", "未处理的风险预警"),
        "finance": ("资金", "审核与复核"),
        "risk": ("未处理的风险预警", "资金"),
    }
    for role, (shown, hidden) in expected.items():
        page = as_user(f"a.{role}").get("/console/")
        assert page.status_code == 200
        assert page.url.path == "/console/home"
        assert shown in page.text and hidden not in page.text, role
    risk = as_user("a.risk").get("/console/home").text
    assert '<span class="n sev-high">1</span>高' in risk
    assert "笔被风险预警拦下，等待复核" in as_user("a.supervisor").get("/console/home").text


def test_report_charts_carry_their_tables_and_link_each_day_to_its_cases(
    as_user: Any, deps: Deps, world: World
) -> None:
    _, cases = held_refunds(deps, world)
    catch_up_all(deps)  # the worker's pass over the days that changed
    day = deps.local_date(deps.clock.now()).isoformat()
    b = as_user("a.finance")
    page = b.get(f"/console/reports/charts?from={day}&to={day}")
    assert page.status_code == 200
    for part in ('id="chart-trend"', 'id="table-trend"', 'id="table-category"', 'id="table-heat"', "echarts.min.js"):
        assert part in page.text
    assert f'/console/reports/drill?from={day}&amp;to={day}&amp;by=day&amp;key={day}">2</a>' in page.text
    drill = b.get(f"/console/reports/drill?from={day}&to={day}&by=day&key={day}")
    assert drill.status_code == 200
    assert all(f"/console/cases/{k}" in drill.text for k in cases)
    bad = b.get("/console/reports/charts?channel=bitcoin&from=2026-13-01")
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.text
    assert as_user("a.cashier").get("/console/reports/charts").status_code == 403


def test_the_risk_queue_confirms_and_dismisses_with_a_reason(as_user: Any, deps: Deps, world: World) -> None:
    first, second = after_hours_alert(deps, world), after_hours_alert(deps, world)
    b = as_user("a.risk")
    queue = b.get("/console/risk")
    assert queue.status_code == 200
    assert f"/console/risk/alerts/{first}" in queue.text and "营业时间外退款" in queue.text
    assert b.get(f"/console/risk/alerts/{first}").status_code == 200
    done = b.post(f"/console/risk/alerts/{first}/decide", {"status": "confirmed"}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"/console/risk/alerts/{first}")
    assert "已确认" in b.get(f"/console/risk/alerts/{first}").text
    refused = b.post(f"/console/risk/alerts/{second}/decide", {"status": "dismissed", "reason": ""})
    assert refused.status_code == 422 and "排除预警须说明理由" in refused.text
    ok = b.post(f"/console/risk/alerts/{second}/decide", {"status": "dismissed", "reason": "盘点加班"})
    assert ok.status_code == 200 and "盘点加班" in ok.text
    assigned = b.post(f"/console/risk/alerts/{second}/assign", {"user_id": "nobody-here"})
    assert assigned.status_code in (200, 422)
    assert as_user("a.cashier").get("/console/risk").status_code == 403
    assert as_user("b.risk").get(f"/console/risk/alerts/{first}").status_code == 404


def test_a_held_refund_is_released_from_its_case_page_by_a_second_person(
    as_user: Any, deps: Deps, world: World
) -> None:
    _, (first, second) = held_refunds(deps, world)
    part = as_user("a.cashier").get(f"/console/cases/{first}/hold")
    assert "等待复核" in part.text and "放行" not in part.text  # a cashier sees it, cannot decide it
    same = as_user("a.supervisor").post(f"/console/risk/holds/{first}/release", {"reason": ""})
    assert same.status_code == 403 and "复核须由另一人进行" in same.text
    b = as_user("a.risk")
    assert "拦截并撤销退款" in b.get(f"/console/cases/{first}/hold").text
    r = b.post(f"/console/risk/holds/{first}/release", {"reason": "已核实"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/console/cases/{first}")
    assert "复核后已放行" in b.get(f"/console/cases/{first}/hold").text
    stop = b.post(f"/console/risk/holds/{second}/reject", {"reason": ""})
    assert stop.status_code == 422
    assert b.get(f"/console/cases/{first}").status_code == 200
