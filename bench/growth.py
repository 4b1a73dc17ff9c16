"""Do the hot requests stay flat as a merchant's history grows? p50/p99 of each, at several sizes, on SQLite or
PostgreSQL.

For each size N: a fresh database (``db upgrade``, which also gathers the planner's statistics), one merchant with
N sales, N refunds spread over them and an audit chain of 6 events for each of N/10 cases, bulk-inserted
(tests/support/refund_rows.py; COPY on PostgreSQL), statistics gathered again as the worker does hourly, and the
chain's end signed as the worker's checkpoint would have signed it. Then each hot read runs ``--repeat`` times
through the repositories, as the service runs them, with a different key each time; and ``--repeat`` times a
refund is asked through the service (its transaction, its audit events chained) and an incremental audit verify
runs (from the newest checkpoint: only the events since). Every size is seeded before any is timed, and each
request is then timed at the sizes in turn (paired, as the other benches measure against a baseline in the same
run): a machine busy for a moment slows every size alike. Reported per request and size: p50 and p99 in
milliseconds, and for each request its p99 at the largest size against the smallest (target ≤ 1.5). The deep
offset page and the exact count are there to show what a cursor saves, not as hot requests.

    .venv/bin/python bench/growth.py                                  # 10,000 and 1,000,000 sales, SQLite
    .venv/bin/python bench/growth.py --database postgres --sizes 10000 1000000 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.reconcile import _deps, database  # noqa: E402 - after the path is set

RESULTS = ROOT / "bench" / "results"
GROWTH_LIMIT = 1.5  # p99 at the largest size against the smallest
RECENT = 1_000_000  # the newest sales (11.6 days at one a second) are the ones refunded
NOT_HOT = ("list, offset n/4 (old clients)", "list, count=true")

Read = Callable[[Connection, int], object]  # a read given the connection and a random row number


def start_of(n: int) -> datetime:
    """The first sale of a history of ``n``, one a second: the newest end lies within the refund window."""
    return (datetime.now(UTC) - timedelta(seconds=n, hours=1)).replace(microsecond=0)


def _reads(merchant: str, n: int, start: datetime) -> dict[str, Read]:
    from posrefund.adapters.db.repositories.audit import AuditSql
    from posrefund.adapters.db.repositories.refunds import GET_CASE, RefundSql
    from posrefund.adapters.db.repositories.sales import SaleSql
    from posrefund.ports import RefundQuery, SaleQuery

    def page(**kw: Any) -> Callable[[Connection, int], object]:
        return lambda c, i: RefundSql(c).find_cases(merchant, RefundQuery(limit=51, **kw))

    def after(c: Connection, i: int) -> object:  # a page deep in the history, by cursor
        at = start + timedelta(seconds=i // 2)
        return RefundSql(c).find_cases(merchant, RefundQuery(limit=51, after=(at, f"GR{i:07d}")))

    return {
        "refund by id": lambda c, i: c.execute(GET_CASE.stmt, {"b_id": f"GR{i:07d}", "b_mid": merchant}).first(),
        "list, first page": page(),
        "list, page by cursor": after,
        "list, last page": lambda c, i: RefundSql(c).find_cases(
            merchant, RefundQuery(limit=51, after=(start + timedelta(seconds=25), "GR0000051"))
        ),
        "list, by status": page(status="processing"),
        "refunds of a sale": lambda c, i: page(sale_id=f"G{i:06d}")(c, i),
        "refunds by phone": lambda c, i: page(phone_index=f"phone{i % max(3_000, n // 3)}")(c, i),
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


@dataclass(frozen=True)
class Grown:
    deps: Any
    engine: Engine
    merchant: str
    start: datetime
    cashier: Any
    auditor: Any


def _seed(url: str, work: Path, n: int) -> Grown:
    from tests.support.refund_rows import Growth, grow

    from posrefund import bootstrap
    from posrefund.adapters.crypto import generate_key_spec
    from posrefund.adapters.db.migrate import upgrade
    from posrefund.adapters.db.statistics import refresh_statistics
    from posrefund.domain.roles import Actor, Role
    from posrefund.service import admin

    upgrade(url)
    deps = _deps(url, work, audit_key=generate_key_spec("a1"))  # the incremental verify checks signed checkpoints
    m = admin.create_merchant(deps, Actor("bench", Role.PROVIDER_ADMIN, None), code="GROW", name="growth")
    boss = Actor("bench", Role.ADMIN, m["id"])
    store = admin.create_store(deps, boss, name="store")
    term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no="T00001", device_sn="SN1")
    engine = bootstrap.engine_of(deps)
    size = Growth(n, n, max(1, n // 10), start_of(n))
    grow(engine, (m["id"], store["id"], term["id"]), "G", size)
    _sign_the_grown_chain(deps, engine, m["id"], 1_000 + size.cases_with_events * size.events_per_case - 1)
    refresh_statistics(engine)
    cashier = Actor("bench-cashier", Role.CASHIER, m["id"], "cashier")
    auditor = Actor("bench-auditor", Role.AUDITOR, m["id"], "auditor")
    return Grown(deps, engine, m["id"], size.start, cashier, auditor)


def _sign_the_grown_chain(deps: Any, engine: Engine, chain: str, last: int) -> None:
    """The grown events carry a placeholder hash: put the chain's head at the last of them and sign it, as the
    worker's checkpoint would have, so that new events link to it and an incremental verify starts there."""
    from sqlalchemy import update

    from posrefund.adapters.db import tables
    from posrefund.service.audit_checkpoints import sign_heads

    deps.uow.chain_audit(wait=True)
    with engine.begin() as c:
        c.execute(update(tables.audit_heads).where(tables.audit_heads.c.chain == chain).values(seq=last, hash="0" * 64))
    sign_heads(deps, {chain: (last, "0" * 64)})


def _timed(times: list[float], work: Callable[..., object], *args: Any) -> None:
    t = time.perf_counter()
    work(*args)
    times.append((time.perf_counter() - t) * 1000)


def _summary(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"p50_ms": round(statistics.median(times), 3), "p99_ms": round(times[int(len(times) * 0.99) - 1], 3)}


def _writes(grown: Grown, n: int, rng: random.Random) -> dict[str, Callable[[], object]]:
    """A refund asked through the service (within the refund window), and the auditor's incremental verify."""
    from posrefund.adapters.db.repositories.audit import audit_fields
    from posrefund.service import audit, refunds
    from posrefund.service.refunds import RefundRequest

    def ask() -> object:
        sale = f"G{n - 1 - rng.randrange(min(n, RECENT)):06d}"
        ask = RefundRequest(sale_id=sale, amount_fen=100, reason="customer_cancelled")
        return refunds.request_refund(grown.deps, grown.cashier, ask)

    return {
        "refund, asked": ask,
        "audit verify, incremental": lambda: audit.verify(grown.deps, grown.auditor, audit_fields),
    }


def measure(kind: str, server: str, sizes: list[int], repeat: int) -> dict[str, dict[str, dict[str, float]]]:
    """Every size seeded first, then each request timed at every size in turn (in a shuffled order each round):
    the sizes share whatever else the machine does meanwhile, so a busy moment cannot favour one of them."""
    grown: dict[int, Grown] = {}
    drops: list[Callable[[], None]] = []
    works: list[Path] = []
    try:
        for n in sizes:
            work = Path(tempfile.mkdtemp(prefix="posrefund-growth-"))
            works.append(work)
            url, drop = database(kind, server, work)
            drops.append(drop)
            t0 = time.perf_counter()
            grown[n] = _seed(url, work, n)
            print(f"{n:>11,} sales on {kind}: seeded in {time.perf_counter() - t0:.0f} s", flush=True)
        return _interleaved(grown, repeat)
    finally:
        for g in grown.values():
            g.engine.dispose()
        for drop in drops:
            drop()
        for work in works:
            shutil.rmtree(work, ignore_errors=True)


def _interleaved(grown: dict[int, Grown], repeat: int) -> dict[str, dict[str, dict[str, float]]]:
    """p50/p99 of each request at each size, the sizes taking turns: the reads on one read-only connection per
    size (as before, one transaction), then the writes through the service once those are closed."""
    rng = random.Random(len(grown))
    times: dict[str, dict[int, list[float]]] = {}
    conns = {n: g.engine.connect().execution_options(posrefund_readonly=True) for n, g in grown.items()}
    try:
        reads: dict[str, dict[int, Callable[[], object]]] = {}
        for n, g in grown.items():
            for name, read in _reads(g.merchant, n, g.start).items():
                reads.setdefault(name, {})[n] = lambda read=read, c=conns[n], n=n: read(c, rng.randrange(n))
        _take_turns(reads, repeat, rng, times)
    finally:
        for c in conns.values():
            c.close()
    writes: dict[str, dict[int, Callable[[], object]]] = {}
    for n, g in grown.items():
        for name, write in _writes(g, n, rng).items():
            writes.setdefault(name, {})[n] = write
    _take_turns(writes, repeat, rng, times)
    return {str(n): {name: _summary(times[name][n]) for name in times} for n in sorted(grown)}


def _take_turns(
    calls: dict[str, dict[int, Callable[[], object]]],
    repeat: int,
    rng: random.Random,
    times: dict[str, dict[int, list[float]]],
) -> None:
    for name, by_size in calls.items():
        order = list(by_size)
        times[name] = {n: [] for n in by_size}
        for _ in range(repeat):
            rng.shuffle(order)
            for n in order:
                _timed(times[name][n], by_size[n])
        for n in sorted(by_size):
            s = _summary(times[name][n])
            print(f"  {n:>11,}  {name:<32} p50 {s['p50_ms']:8.2f} ms   p99 {s['p99_ms']:8.2f} ms", flush=True)


def growth(results: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, Any]]:
    """Each hot request's p99 at the largest size against the smallest."""
    sizes = sorted(results, key=int)
    small, large = results[sizes[0]], results[sizes[-1]]
    return {
        name: {
            "p99_ratio": round(large[name]["p99_ms"] / small[name]["p99_ms"], 2),
            "within": large[name]["p99_ms"] <= GROWTH_LIMIT * small[name]["p99_ms"],
        }
        for name in small
        if name not in NOT_HOT
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--server",
        default=os.environ.get("POSREFUND_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"),
        help="the PostgreSQL server (a database of its own is created for each size, and dropped)",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    results = measure(args.database, args.server, args.sizes, args.repeat)
    ratios = growth(results)
    for name, r in ratios.items():
        print(f"  {name:<32} p99 x{r['p99_ratio']:<6} {'ok' if r['within'] else 'ABOVE ' + str(GROWTH_LIMIT)}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"growth-{args.database}.json"
    report = {
        "benchmark": "growth",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": args.database,
        "sizes": args.sizes,
        "repeat": args.repeat,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "results": results,
        "p99_largest_vs_smallest": ratios,
    }
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
