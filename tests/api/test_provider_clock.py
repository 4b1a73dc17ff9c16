"""The provider's 3-working-day decision clock through the API and the worker, on a fixed clock across
National Day 2026 (1–7 Oct off, Sat 10 Oct worked): the days left skip the holiday, the make-up Saturday is
the last day, the worker escalates to the provider's administrators that day (notice + audit, once) and
marks the breach the day after, which the breaches list reports."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select
from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.entrypoints.worker import loop
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.api import test_provider_returns as returns_tests
from tests.conftest import FixedClock
from tests.support.provider import ProviderWorld, device_body, register

app = returns_tests.app  # the API on the real Chinese calendar
pw = returns_tests.pw


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def worker_round(deps: Deps) -> None:
    router = Router(channels={}, is_workday=ChineseCalendar().is_workday)
    loop.run(deps, router, threading.Event(), once=True)


def audit_actions(deps: Deps, return_id: str) -> list[str]:
    e = tables.audit_events.c
    with engine_of(deps).connect() as c:
        rows = c.execute(select(e.action, e.data).order_by(e.id)).all()
    return [str(a) for a, data in rows if return_id in str(data)]


def test_the_clock_runs_across_national_day_and_escalates_before_the_breach(
    client: TestClient, pw: ProviderWorld, deps: Deps, clock: FixedClock
) -> None:
    clock.at = at(9, 29)
    register(client, pw, device_body(pw.merchants["m1"], "SN-HOL01", clock.now()))
    clock.at = at(9, 30)
    rid = returns_tests.to_decision(client, pw, "SN-HOL01")
    view = lambda: client.get(f"/v1/provider/returns/{rid}", headers=pw("p1.provider_operations")).json()  # noqa: E731
    first = view()
    assert (first["due_on"], first["due_at"], first["working_days_left"]) == (
        "2026-10-10",
        "2026-10-10T23:59:59+08:00",
        3,
    )
    seen = {}
    admin = pw("p1.provider_admin")
    for day in ((10, 5), (10, 8), (10, 9)):
        clock.at = at(*day)
        worker_round(deps)
        seen[day] = (view()["working_days_left"], view()["clock"])
        assert client.get("/v1/provider/notices", headers=admin).json()["items"] == []
    assert seen == {(10, 5): (3, "running"), (10, 8): (2, "running"), (10, 9): (1, "running")}
    clock.at = at(10, 10)  # the make-up Saturday: the last working day
    worker_round(deps)
    worker_round(deps)
    assert (view()["working_days_left"], view()["clock"]) == (0, "last_day")
    assert view()["escalated_at"] is not None and view()["breached_at"] is None
    told = client.get("/v1/provider/notices", headers=admin).json()["items"]
    assert [(n["kind"], n["return_id"], n["params"]["working_days_left"]) for n in told] == [("escalated", rid, 0)]
    assert client.get("/v1/provider/breaches", headers=admin).json()["items"] == []
    clock.at = at(10, 12)
    worker_round(deps)
    assert (view()["working_days_left"], view()["clock"]) == (-1, "breached")
    assert [b["id"] for b in client.get("/v1/provider/breaches", headers=admin).json()["items"]] == [rid]
    assert [n["kind"] for n in client.get("/v1/provider/notices", headers=admin).json()["items"]] == [
        "breached",
        "escalated",
    ]
    assert audit_actions(deps, rid).count("device_return.escalated") == 1
    assert audit_actions(deps, rid).count("device_return.breached") == 1
    dash = client.get("/v1/provider/dashboard", headers=admin).json()
    assert (dash["open_by_clock"]["breached"], dash["breached"]) == (1, 1)
    assert dash["open_by_working_days_left"] == {"-1": 1}
    # the merchant is not told of the provider's internal escalation
    assert [n["kind"] for n in client.get("/v1/provider/notices", headers=pw("m1")).json()["items"]] == [
        "received",
        "shipping_approved",
        "opened",
    ]
