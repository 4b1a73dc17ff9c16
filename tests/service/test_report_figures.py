"""Every figure of the refund reports equals a direct count over the cases and sales, for random data — read
from the daily aggregates and from the cases themselves, also after cases changed once the aggregates had been
built (refunds that fail, are paid or are rerouted later), and never counting another merchant's cases."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from posrefund.adapters.db import tables
from posrefund.domain.refund import RefundStatus
from posrefund.domain.reports import REASON_CATEGORY, SALES_SHARE, WAIT_BOUNDS, By
from posrefund.domain.roles import Actor, Role
from posrefund.service import admin
from posrefund.service.deps import Deps
from posrefund.service.reports import upkeep
from posrefund.service.reports.figures import ReportRequest, refund_report
from tests.conftest import World
from tests.support.report_data import DAY0, Place, add_case, add_sale, move

CHINA = timezone(timedelta(hours=8))
STATUSES = [s.value for s in RefundStatus]
REASONS = sorted(REASON_CATEGORY)
CHANNELS = ["wechat", "alipay", "card"]
FIRST = DAY0.astimezone(CHINA).date()
COMPARED = ("refunds", "amount_fen", "paid", "paid_fen", "failed", "failed_fen", "abnormal", "abnormal_fen")
COMPARED += (
    "refused",
    "refused_fen",
    "in_progress",
    "in_progress_fen",
    "sales",
    "sales_fen",
    "wait_p50_seconds",
    "wait_p90_seconds",
)


@pytest.fixture
def places(deps: Deps, world: World) -> list[Place]:
    boss = Actor(id="setup", role=Role.ADMIN, merchant_id=world.a.id, name="setup")
    store = admin.create_store(deps, boss, name="二号店")
    term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no="MA02", device_sn="SNMA02")
    return [Place(world.a.id, world.a.store_id, world.a.terminal_id), Place(world.a.id, store["id"], term["id"])]


sale_specs = st.lists(
    st.tuples(
        st.integers(0, 20), st.integers(0, 1439), st.integers(0, 1), st.sampled_from(CHANNELS), st.integers(1, 10**6)
    ),
    min_size=1,
    max_size=10,
)
case_specs = st.lists(
    st.tuples(
        st.integers(0, 99),  # which sale
        st.integers(0, 3000),  # minutes after the sale
        st.integers(1, 100),  # percent of the sale
        st.sampled_from(REASONS),
        st.integers(0, 2),  # which cashier
        st.sampled_from(STATUSES),
        st.integers(0, 40 * 86400),  # seconds to money, when paid
        st.booleans(),  # rerouted
    ),
    max_size=14,
)
change_specs = st.lists(
    st.tuples(st.integers(0, 99), st.sampled_from(STATUSES), st.integers(0, 40 * 86400), st.booleans()), max_size=6
)


def _write(deps: Deps, world: World, places: list[Place], sales: list[Any], cases: list[Any]) -> list[Any]:
    cashiers = [world.a.actors[r].id for r in ("cashier", "supervisor", "customer_service")]
    written = []
    with deps.uow() as uow:
        made = [
            add_sale(uow, places[p], DAY0 + timedelta(days=d, minutes=m), amount, channel)
            for d, m, p, channel, amount in sales
        ]
        for pick, delay, percent, reason, who, status, wait, rerouted in cases:
            sale = made[pick % len(made)]
            created = sale.paid_at + timedelta(minutes=delay)
            case = add_case(uow, sale, created, max(1, sale.amount_fen * percent // 100), cashiers[who], reason)
            move(uow, case, status, created, paid_at=created + timedelta(seconds=wait), rerouted=rerouted)
            written.append(case)
        other = add_sale(uow, Place(world.b.id, world.b.store_id, world.b.terminal_id), DAY0, 5_000)
        move(uow, add_case(uow, other, DAY0, 5_000, world.b.actors["cashier"].id), "succeeded", DAY0, paid_at=DAY0)
        uow.commit()
    return written


def _change(deps: Deps, cases: list[Any], changes: list[Any]) -> None:
    with deps.uow() as uow:
        for pick, status, wait, rerouted in changes:
            if not cases:
                return
            case = uow.refunds.get_case(cases[0].merchant_id, cases[pick % len(cases)].id)
            assert case is not None
            at = case.created_at + timedelta(seconds=wait)
            move(uow, case, status, at, paid_at=at, rerouted=rerouted)
        uow.commit()


def _key_of(by: By) -> Callable[[dict[str, Any]], str]:
    def local(r: dict[str, Any]) -> date:
        return r["created_at"].astimezone(CHINA).date()

    return {
        By.DAY: lambda r: local(r).isoformat(),
        By.WEEK: lambda r: (local(r) - timedelta(days=local(r).weekday())).isoformat(),
        By.MONTH: lambda r: local(r).strftime("%Y-%m"),
        By.STORE: lambda r: r["store_id"],
        By.TERMINAL: lambda r: r["terminal_id"],
        By.CASHIER: lambda r: r["requested_by"],
        By.CHANNEL: lambda r: r["channel"],
        By.REASON: lambda r: r["reason"],
        By.REASON_CATEGORY: lambda r: REASON_CATEGORY[r["reason"]],
        By.ROUTE: lambda r: "alternative" if r["rerouted_by"] else "original",
        By.OUTCOME: lambda r: r["status"],
    }[by]


def _bound(seconds: float) -> int:
    return next((b for b in WAIT_BOUNDS if seconds <= b), -1)


def _nearest_rank(values: list[float], p: int) -> int | None:
    if not values:
        return None
    values = sorted(values)
    return _bound(values[-(-p * len(values) // 100) - 1])


def _expected(cases: list[dict[str, Any]], sales: tuple[int, int]) -> dict[str, Any]:
    def of(*statuses: str) -> list[dict[str, Any]]:
        return [c for c in cases if c["status"] in statuses]

    groups = {"paid": of("succeeded"), "failed": of("failed", "closed"), "abnormal": of("abnormal")}
    groups |= {"refused": of("rejected", "cancelled")}
    groups |= {"in_progress": of("requested", "pending_review", "approved", "processing", "unknown")}
    out: dict[str, Any] = {"refunds": len(cases), "amount_fen": sum(c["amount_fen"] for c in cases)}
    for name, members in groups.items():
        out[name] = len(members)
        out[f"{name}_fen"] = sum(c["amount_fen"] for c in members)
    waits = [(c["succeeded_at"] - c["created_at"]).total_seconds() for c in groups["paid"]]
    out |= {"wait_p50_seconds": _nearest_rank(waits, 50), "wait_p90_seconds": _nearest_rank(waits, 90)}
    return out | {"sales": sales[0], "sales_fen": sales[1]}


def _oracle(engine: Engine, deps: Deps, merchant_id: str, req: ReportRequest) -> dict[str, dict[str, Any]]:
    """Straight from the tables: the cases requested in the days, the sales paid in them, grouped by hand."""
    with engine.connect() as c:
        cases = [
            dict(r._mapping)
            for r in c.execute(select(tables.refunds).where(tables.refunds.c.merchant_id == merchant_id))
        ]
        sales = [
            dict(r._mapping) for r in c.execute(select(tables.sales).where(tables.sales.c.merchant_id == merchant_id))
        ]
    cases = [
        r
        for r in cases
        if req.first <= r["created_at"].astimezone(CHINA).date() <= req.last
        and req.store_id in (None, r["store_id"])
        and req.channel in (None, r["channel"])
    ]
    sales = [
        s
        for s in sales
        if req.first <= deps.local_date(s["paid_at"]) <= req.last
        and req.store_id in (None, s["store_id"])
        and req.channel in (None, s["channel"])
    ]
    key = _key_of(req.by)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in cases:
        groups[key(r)].append(r)
    sold: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in sales:
        k = key({**s, "created_at": s["paid_at"]}) if req.by in SALES_SHARE else ""
        sold[k][0] += 1
        sold[k][1] += s["amount_fen"]
    everything = (len(sales), sum(s["amount_fen"] for s in sales))
    out = {
        k: _expected(members, tuple(sold[k]) if req.by in SALES_SHARE else everything)  # type: ignore[arg-type]
        for k, members in groups.items()
    }
    out[""] = _expected(cases, everything)
    return out


def _check(engine: Engine, deps: Deps, world: World, req: ReportRequest) -> None:
    expected = _oracle(engine, deps, world.a.id, req)
    for raw in (False, True):
        got = refund_report(deps, world.a.actors["finance"], replace(req, raw=raw))
        rows = {
            row["key"]: {k: row["figures"][k] for k in COMPARED} for row in got["rows"] if row["figures"]["refunds"]
        }
        want = {k: v for k, v in expected.items() if k and v["refunds"]}
        assert rows == want, f"{req} {raw} {rows} {want}"
        assert {k: got["total"][k] for k in COMPARED} == expected[""], (req, raw)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sales=sale_specs,
    cases=case_specs,
    changes=change_specs,
    window=st.tuples(st.integers(0, 22), st.integers(0, 22)),
    filters=st.tuples(st.sampled_from([None, 0, 1]), st.sampled_from([None, *CHANNELS])),
)
def test_every_report_figure_is_a_count_over_the_cases(
    deps: Deps,
    engine: Engine,
    world: World,
    places: list[Place],
    sales: Any,
    cases: Any,
    changes: Any,
    window: Any,
    filters: Any,
) -> None:
    written = _write(deps, world, places, sales, cases)
    first, last = FIRST + timedelta(days=min(window)), FIRST + timedelta(days=max(window))
    store = None if filters[0] is None else places[filters[0]].store_id
    upkeep.catch_up_merchant(deps, world.a.id)  # the worker's pass: the aggregates are built here
    _change(deps, written, changes)
    stale = refund_report(deps, world.a.actors["finance"], ReportRequest(first, last))["pending_days"]
    changed = (
        {written[pick % len(written)].created_at.astimezone(CHINA).date() for pick, *_ in changes} if written else set()
    )
    span = (first - timedelta(days=last.toordinal() - first.toordinal() + 1), last)
    assert set(stale) == {d for d in changed if span[0] <= d <= span[1]}
    upkeep.catch_up_merchant(deps, world.a.id)
    for by in By:
        _check(engine, deps, world, ReportRequest(first, last, by=by, store_id=store, channel=filters[1]))


def test_the_aggregates_are_exact_over_the_whole_span(
    deps: Deps, engine: Engine, world: World, places: list[Place]
) -> None:
    """A fixed case of each outcome, before and after the paid one fails later (no hypothesis)."""
    cashier = world.a.actors["cashier"].id
    with deps.uow() as uow:
        sale = add_sale(uow, places[0], DAY0 + timedelta(hours=2), 10_000)
        paid = add_case(uow, sale, DAY0 + timedelta(hours=3), 4_000, cashier)
        move(uow, paid, "succeeded", DAY0, paid_at=DAY0 + timedelta(hours=4))
        uow.commit()
    req = ReportRequest(FIRST, FIRST + timedelta(days=30), by=By.OUTCOME)
    upkeep.catch_up_merchant(deps, world.a.id)
    assert refund_report(deps, world.a.actors["finance"], req)["total"]["paid_fen"] == 4_000
    _change(deps, [paid], [(0, "failed", 0, False)])
    before_the_pass = refund_report(deps, world.a.actors["finance"], req)
    assert (before_the_pass["total"]["paid_fen"], before_the_pass["pending_days"]) == (4_000, [FIRST])
    upkeep.catch_up_merchant(deps, world.a.id)
    _check(engine, deps, world, req)
    assert refund_report(deps, world.a.actors["finance"], req)["total"]["failed_fen"] == 4_000


def test_rows_written_outside_the_repositories_count_after_a_rebuild(
    deps: Deps, engine: Engine, world: World, places: list[Place]
) -> None:
    """A bulk load straight into the tables marks no day: the period is rebuilt by hand (CLI ``reports
    rebuild``), and the worker's pass (``catch_up_all``) then finds nothing left to do."""
    finance = world.a.actors["finance"]
    with deps.uow() as uow:
        sale = add_sale(uow, places[0], DAY0 + timedelta(hours=1), 10_000)
        uow.commit()
    req = ReportRequest(FIRST, FIRST)
    upkeep.catch_up_all(deps)
    assert refund_report(deps, finance, req)["total"]["sales"] == 1
    row = {c.name: getattr(sale, c.name) for c in tables.sales.c if hasattr(sale, c.name)}
    row |= {"id": "S-bulk", "voucher_no": "999999", "paid_date": FIRST, "card_last4": "", "created_at": sale.paid_at}
    row |= {"channel": "wechat", "kind": "sale", "settlement_status": "unsettled"}
    with engine.begin() as c:
        c.execute(tables.sales.insert().values(**row))
    assert refund_report(deps, finance, req)["total"]["sales"] == 1  # unmarked: the aggregates do not know it
    assert refund_report(deps, finance, replace(req, raw=True))["total"]["sales"] == 2  # the cases' path does
    assert upkeep.rebuild_period(deps, finance, FIRST, FIRST + timedelta(days=1)) == 2
    assert refund_report(deps, finance, req)["total"]["sales"] == 2
    assert upkeep.catch_up_all(deps) == 0


def test_two_rebuilds_of_one_merchant_take_turns(deps: Deps, world: World, places: list[Place]) -> None:
    """Concurrent rebuilds (the worker and a reader) of the same days neither fail nor count twice."""
    with deps.uow() as uow:
        for n in range(20):
            sale = add_sale(uow, places[n % 2], DAY0 + timedelta(hours=n), 1_000 + n)
            move(uow, add_case(uow, sale, sale.paid_at, 500, world.a.actors["cashier"].id), "succeeded", sale.paid_at)
        uow.commit()
    finance = world.a.actors["finance"]
    with ThreadPoolExecutor(4) as pool:
        done = list(
            pool.map(lambda _n: upkeep.rebuild_period(deps, finance, FIRST, FIRST + timedelta(days=1)), range(4))
        )
    assert sum(done) >= 2  # every mark taken by exactly one of them
    total = refund_report(deps, finance, ReportRequest(FIRST, FIRST + timedelta(days=1)))["total"]
    assert (total["refunds"], total["paid_fen"], total["sales"]) == (20, 10_000, 20)
