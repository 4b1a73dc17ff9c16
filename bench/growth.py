"""Do the hot reads stay flat as a merchant's history grows? p50/p99 of each, at several sizes, on SQLite.

For each size N: a fresh SQLite database (``db upgrade``, which also gathers the planner's statistics), one
merchant with N sales, N refunds spread over them and an audit chain of 6 events for each of N/10 cases,
bulk-inserted (tests/support/refund_rows.py), statistics gathered again as the worker does hourly; then each hot
read runs ``--repeat`` times through the repositories, as the service runs them, with a different key each
time. Reported per read and size: p50 and p99 in milliseconds. The deep offset page is there to show what a
cursor saves, not as a hot read.

    .venv/bin/python bench/growth.py                         # 10,000 and 1,000,000 sales
    .venv/bin/python bench/growth.py --sizes 10000 200000 --repeat 100
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
START = datetime(2025, 1, 1, tzinfo=UTC)

Read = Callable[[Connection, int], object]  # a read given the connection and a random row number


def _reads(merchant: str, n: int) -> dict[str, Read]:
    from posrefund.adapters.db.repositories.audit import AuditSql
    from posrefund.adapters.db.repositories.refunds import GET_CASE, RefundSql
    from posrefund.adapters.db.repositories.sales import SaleSql
    from posrefund.ports import RefundQuery, SaleQuery

    def page(**kw: Any) -> Callable[[Connection, int], object]:
        return lambda c, i: RefundSql(c).find_cases(merchant, RefundQuery(limit=51, **kw))

    def after(c: Connection, i: int) -> object:  # a page deep in the history, by cursor
        at = START + timedelta(seconds=i // 2)
        return RefundSql(c).find_cases(merchant, RefundQuery(limit=51, after=(at, f"GR{i:07d}")))

    return {
        "refund by id": lambda c, i: c.execute(GET_CASE.stmt, {"b_id": f"GR{i:07d}", "b_mid": merchant}).first(),
        "list, first page": page(),
        "list, page by cursor": after,
        "list, by status": page(status="processing"),
        "refunds of a sale": lambda c, i: page(sale_id=f"G{i:06d}")(c, i),
        "refunds by phone": lambda c, i: page(phone_index=f"phone{i % 3000}")(c, i),
        "my refunds": lambda c, i: page(requested_by=f"cashier{i % 200}")(c, i),
        "a refund's events": lambda c, i: AuditSql(c).case_events(merchant, f"GR{i % max(1, n // 10):07d}"),
        "sale by voucher": lambda c, i: SaleSql(c, lambda t: t.date()).find_sales(
            merchant, SaleQuery(voucher_no=f"{i:06d}")
        ),
        "list, offset n/4 (old clients)": lambda c, i: RefundSql(c).find_cases(
            merchant, RefundQuery(limit=51, offset=n // 4)
        ),
        "list, count=true": lambda c, i: RefundSql(c).count_cases(merchant, RefundQuery()),
    }


def _seed(work: Path, n: int) -> tuple[Engine, str]:
    from tests.support.refund_rows import Growth, grow

    from posrefund import bootstrap
    from posrefund.adapters.db.migrate import upgrade
    from posrefund.adapters.db.statistics import refresh_statistics
    from posrefund.domain.roles import Actor, Role
    from posrefund.service import admin

    sys.path.insert(0, str(ROOT / "bench"))
    from reconcile import _deps

    db = work / "posrefund.db"
    upgrade(f"sqlite:///{db}")
    deps = _deps(db)
    m = admin.create_merchant(deps, Actor("bench", Role.PROVIDER_ADMIN, None), code="GROW", name="growth")
    boss = Actor("bench", Role.ADMIN, m["id"])
    store = admin.create_store(deps, boss, name="store")
    term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no="T00001", device_sn="SN1")
    engine = bootstrap.engine_of(deps)
    grow(engine, (m["id"], store["id"], term["id"]), "G", Growth(n, n, max(1, n // 10), START))
    refresh_statistics(engine)
    return engine, str(m["id"])


def measure(n: int, repeat: int) -> dict[str, dict[str, float]]:
    work = Path(tempfile.mkdtemp(prefix="posrefund-growth-"))
    try:
        t0 = time.perf_counter()
        engine, merchant = _seed(work, n)
        print(f"{n:>9,} sales: seeded in {time.perf_counter() - t0:.0f} s", flush=True)
        out: dict[str, dict[str, float]] = {}
        rng = random.Random(n)
        with engine.connect() as conn:
            for name, read in _reads(merchant, n).items():
                times = []
                for _ in range(repeat):
                    i = rng.randrange(n)
                    t = time.perf_counter()
                    read(conn, i)
                    times.append((time.perf_counter() - t) * 1000)
                times.sort()
                out[name] = {"p50_ms": statistics.median(times), "p99_ms": times[int(len(times) * 0.99) - 1]}
                print(f"  {name:<32} p50 {out[name]['p50_ms']:8.2f} ms   p99 {out[name]['p99_ms']:8.2f} ms", flush=True)
        engine.dispose()
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    results = {str(n): measure(n, args.repeat) for n in args.sizes}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "growth.json"
    path.write_text(json.dumps({"sizes": args.sizes, "repeat": args.repeat, "results": results}, indent=2))
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
