"""How long the risk rules take over a large history: one merchant with N refunds (default 100,000, each of
its own sale, spread over 90 days, 20 cashiers in four stores), then a back-test of every rule over the last
30 and the last 90 days, timed rule by rule. SQLite in a temporary folder by default; ``--pg URL`` for a
PostgreSQL database (its tables must be empty: the schema is built by the migrations).

    .venv/bin/python bench/risk_rules.py [--refunds 100000] [--pg postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from posrefund import bootstrap
from posrefund.adapters.crypto import generate_key_spec
from posrefund.adapters.db.migrate import upgrade
from posrefund.adapters.passwords import Argon2Hasher
from posrefund.config import Settings
from posrefund.demo.risk_load import load_month
from posrefund.demo.risk_month import Cashier, Planner
from posrefund.ports.risk import Window
from posrefund.service.refunds import policy_of
from posrefund.service.risk.evaluate import RUNNERS, Context
from posrefund.service.risk.rules import merge

END = datetime(2026, 11, 20, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return END


def history(n: int, days: int, stores: int) -> Planner:
    """``n`` refunds, each of its own sale, by the cashiers (five a store) of ``stores`` stores over ``days``
    days; a customer for every five refunds, most of them at their home store."""
    p = Planner(END, seed=7, days=days, sales_per_shift=0)
    p.people()
    rng = p.rng
    p.m.cashiers = [
        Cashier(f"c{i + 1:03d}", i // 5, f"t{i // 5}{'ab'[i % 2]}", rng.randint(60, 900), i % 2 == 1)
        for i in range(stores * 5)
    ]
    p.m.customers = [dict(c, n=k, store=k % stores) for k, c in enumerate(p.m.customers * max(1, n // 5 // 3_000))]
    for k, c in enumerate(p.m.customers):
        if c["payer"]:
            c["payer"] = c["payer"][:-4] + f"{k % 10_000:04d}"
        if c["phone"]:
            c["phone"] = f"1{3 + k % 6}{k:09d}"
    home = {s: [c for c in p.m.customers if c["store"] == s] for s in range(stores)}
    for _ in range(n):
        c = rng.choice(p.m.cashiers)
        day = rng.randrange(days)
        hour = rng.uniform(9, 21.9)
        customer = rng.choice(home[c.store] if rng.random() < 0.9 else p.m.customers)
        sale = p.sale(c, p.at(day, hour), customer, p.amount())
        later = min(days - 1, day + rng.randint(0, 5))
        by = rng.choice([x for x in p.m.cashiers if x.store == c.store])
        p.refund(
            sale, by, p.at(later, rng.uniform(9, 21.9)), sale["amount_fen"], rng.choice(["goods_quality", "other"])
        )
    return p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--refunds", type=int, default=100_000)
    ap.add_argument("--stores", type=int, default=80)
    ap.add_argument("--pg", default="")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="risk-bench-"))
    url = args.pg or f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url,
        secret_key="b" * 40,
        pii_key=generate_key_spec("k1"),
        audit_key=generate_key_spec("a1"),
        data_dir=folder / "data",
        log_file=folder / "bench.log",
    )
    deps = bootstrap.build(settings, clock=Clock(), hasher=Argon2Hasher(fast=True))
    started = time.perf_counter()
    plan = history(args.refunds, 90, args.stores)
    key = load_month(deps, plan.m, "BENCH")
    took = time.perf_counter() - started
    with bootstrap.engine_of(deps).begin() as conn:  # fresh statistics, as autovacuum / a nightly ANALYZE gives
        conn.execute(text("ANALYZE"))
    print(f"{key['refunds']} refunds, {key['sales']} sales written in {took:.1f} s ({url.split(':')[0]})")
    for days in (30, 90):
        w = Window(key["merchant_id"], END - timedelta(days=days), END)
        total = 0.0
        line = []
        with deps.uow(readonly=True) as uow:
            ctx = Context(uow.risk_facts, w, policy_of(uow, w.merchant_id), merge(None))
            for code, run in RUNNERS.items():
                t = time.perf_counter()
                found = run(ctx, ctx.settings[code])
                took = time.perf_counter() - t
                total += took
                line.append(f"{code} {took:.2f}s/{len(found)}")
        print(f"window {days} days: all rules {total:.2f} s — " + ", ".join(line))


if __name__ == "__main__":
    main()
