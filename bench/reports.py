"""Refund reports at scale: a month view over N refunds and M sales (all inside the month), read from the daily
aggregates through the real service, beside the same report read from the cases and sales themselves (the raw
path) in the same run, on SQLite.

The data is bulk-written straight into ``sales`` / ``refunds`` with the raw driver (one merchant, 50 stores,
4 terminals and 3 cashiers a store, four channels, every reason and outcome, 1 % paid by another route), with
the secondary indexes built after the load; then every day of the month is marked and the aggregates are built
(timed: this is what the worker and the first read do for changed days). Reported: load, build, each month
view (median of 3 reads, including the read's own check for changed days, the previous period and the wrong
charges and disputes beside), the raw path (1 read), their ratio, and that both paths give the same figures.

With ``--risk``, the risk picture of the same month too: the twelve rules run over the month straight from the
refunds and sales (the raw path, what a back-test does and the first half of a scan), the second half of the scan
that keeps those findings as alerts (service/risk/alerts.keep: one transaction a rule, holds set-based), and the
month view that reads the kept alerts and the report aggregates by cashier (service/risk/month.py; median of 3),
which is what a person waits for, checked to count exactly the findings of the raw rules.

    .venv/bin/python bench/reports.py                            # 1,000,000 refunds / 10,000,000 sales
    .venv/bin/python bench/reports.py --refunds 100000 --sales 1000000
    .venv/bin/python bench/reports.py --refunds 100000 --sales 1000000 --risk --views month --raw-views month
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
from bench.reconcile import _deps  # noqa: E402 - the one way a bench builds its service over a file database

RESULTS = ROOT / "bench" / "results"
FIRST = date(2026, 11, 1)
DAYS = 30
START = datetime(2026, 10, 31, 16, tzinfo=UTC)  # local midnight of FIRST
CHANNELS = ("wechat", "alipay", "card", "unionpay_qr")
REASONS = ("goods_quality", "service_issue", "customer_cancelled", "deposit_return", "transaction_error")
REASONS += ("wrong_amount", "duplicate_charge", "system_fault", "other")
STATUSES = ("succeeded",) * 80 + ("failed",) * 5 + ("closed",) * 2 + ("abnormal",) * 2 + ("rejected",) * 4
STATUSES += ("cancelled",) * 2 + ("processing",) * 3 + ("pending_review", "unknown")
STORES, TERMINALS, CASHIERS = 50, 4, 3
CHUNK = 50_000


def _places(deps: Any) -> tuple[str, list[tuple[str, str]]]:
    from posrefund.domain.roles import Actor, Role
    from posrefund.service import admin

    m = admin.create_merchant(deps, Actor("bench", Role.PROVIDER_ADMIN, None), code="BENCH", name="bench")
    boss = Actor("bench", Role.ADMIN, m["id"])
    places = []
    for s in range(STORES):
        store = admin.create_store(deps, boss, name=f"门店 {s:02d}")
        for k in range(TERMINALS):
            no = f"T{s:03d}{k}"
            term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no=no, device_sn=f"SN{no}")
            places.append((str(store["id"]), str(term["id"])))
    return str(m["id"]), places


def _stamp(at: datetime) -> str:
    """How SQLAlchemy stores an aware instant on SQLite: naive UTC text with microseconds."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


SALE_SQL = (
    "INSERT INTO sales (id, merchant_id, store_id, terminal_id, voucher_no, rrn, batch_no, auth_code, order_no,"
    " channel, kind, amount_fen, fee_fen, currency, paid_at, paid_date, settlement_status, payer_masked,"
    " card_last4, refunded_fen, reserved_fen, refund_count, created_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,'sale',?,0,'CNY',?,?,'settled',?,'',0,0,0,?)"
)
REFUND_SQL = (
    "INSERT INTO refunds (id, merchant_id, store_id, terminal_id, sale_id, refund_no, amount_fen, currency, reason,"
    " note, status, channel, requested_by, requested_role, required_approvals, approved_by, review_reason,"
    " evidence_ids, customer_phone_masked, customer_name_masked, customer_id_no_masked, version, created_at,"
    " updated_at, method, attempts, submitted, channel_refund_id, last_code, checks, succeeded_at, rerouted_by,"
    " fence) VALUES (?,?,?,?,?,?,?,'CNY',?,'',?,?,?,'cashier',1,'[]','','[]','','','',1,?,?,'',0,0,'','',0,?,?,0)"
)


def _payer(rng: random.Random) -> str:
    """A payer as the sale keeps it (first six, last four): about 300,000 cards, so a card comes back now and
    then, as a customer does (the risk rules group by it)."""
    card = rng.randrange(300_000)
    return f"62{card % 10_000:04d}******{card // 30:04d}"[:16]


def _sale(n: int, mid: str, places: list[tuple[str, str]], rng: random.Random) -> tuple[Any, ...]:
    store, term = places[n % len(places)]
    at = START + timedelta(seconds=rng.randrange(DAYS * 86400))
    local = (at + timedelta(hours=8)).date().isoformat()
    amount = rng.randrange(100, 200_000)
    return (f"s{n}", mid, store, term, f"{n % 1_000_000:06d}", f"{n:012d}", f"{n // 1_000_000:06d}", "A1B2C3",
            f"O{n}", CHANNELS[n % 4], amount, _stamp(at), local, _payer(rng), _stamp(at))  # fmt: skip


def _refund(n: int, mid: str, sale: tuple[Any, ...], rng: random.Random) -> tuple[Any, ...]:
    created = datetime.fromisoformat(sale[11]).replace(tzinfo=UTC) + timedelta(minutes=rng.randrange(1, 600))
    created = min(created, START + timedelta(days=DAYS, seconds=-1))
    status = rng.choice(STATUSES)
    paid = _stamp(created + timedelta(seconds=int(rng.expovariate(1 / 7200)))) if status == "succeeded" else None
    cashier = f"cashier-{sale[2][-6:]}-{n % CASHIERS}"
    rerouted = "reviewer" if rng.random() < 0.01 else ""
    return (f"r{n}", mid, sale[2], sale[3], sale[0], f"RN{n:012d}", max(1, sale[10] // 2), REASONS[n % 9], status,
            sale[9], cashier, _stamp(created), _stamp(created), paid, rerouted)  # fmt: skip


def load(db: Path, mid: str, places: list[tuple[str, str]], n_sales: int, n_refunds: int) -> float:
    """Bulk load with the secondary indexes of sales and refunds dropped, then built again (as they were)."""
    t0 = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name IN ('sales','refunds') AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        con.execute(f'DROP INDEX "{name}"')
    rng = random.Random(7)
    share = min(1.0, 1.02 * n_refunds / max(1, n_sales))
    refunds = 0
    for lo in range(0, n_sales, CHUNK):
        sales = [_sale(n, mid, places, rng) for n in range(lo, min(n_sales, lo + CHUNK))]
        con.executemany(SALE_SQL, sales)
        picked = [s for s in sales if rng.random() < share][: max(0, n_refunds - refunds)]
        con.executemany(REFUND_SQL, [_refund(refunds + i, mid, s, rng) for i, s in enumerate(picked)])
        refunds += len(picked)
        con.commit()
    for _name, sql in indexes:
        con.execute(sql)
    con.execute("ANALYZE")
    con.commit()
    con.close()
    return time.perf_counter() - t0


def _loaded(db: Path) -> str:
    """The bench merchant of a database kept by an earlier run (its data is not loaded again)."""
    with sqlite3.connect(db) as con:
        return str(con.execute("SELECT id FROM merchants WHERE code = 'BENCH'").fetchone()[0])


def _timed(fn: Any, *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def measure(deps: Any, mid: str, views: list[str], raw_views: list[str]) -> dict[str, Any]:
    from posrefund.domain.reports import By
    from posrefund.domain.roles import Actor, Role
    from posrefund.service.reports import upkeep
    from posrefund.service.reports.figures import ReportRequest, refund_report

    finance = Actor("bench-finance", Role.FINANCE, mid)
    last = FIRST + timedelta(days=DAYS - 1)
    with deps.uow() as uow:
        uow.reports.mark_days(mid, FIRST, last)
        uow.commit()
    build_s, days = _timed(upkeep.catch_up_merchant, deps, mid)
    out: dict[str, Any] = {"build_aggregates_s": round(build_s, 2), "days_built": days, "views": {}}
    for by in map(By, views):
        runs = [_timed(refund_report, deps, finance, ReportRequest(FIRST, last, by=by)) for _ in range(3)]
        report = runs[0][1]
        view: dict[str, Any] = {"aggregates_s": round(statistics.median(t for t, _ in runs), 3)}
        view |= {"rows": len(report["rows"]), "refunds": report["total"]["refunds"], "sales": report["total"]["sales"]}
        if by.value in raw_views:
            raw_s, raw = _timed(refund_report, deps, finance, ReportRequest(FIRST, last, by=by, raw=True))
            view |= {"raw_s": round(raw_s, 3), "raw_over_aggregates": round(raw_s / view["aggregates_s"], 1)}
            view["same_figures"] = report["rows"] == raw["rows"] and report["total"] == raw["total"]
        out["views"][by.value] = view
        print(by.value, view, flush=True)
    return out


def measure_risk(deps: Any, mid: str) -> dict[str, Any]:
    """The rules over the month read raw (timed), their findings kept as alerts (timed: the rest of a scan), and
    the month view over what is kept, with the check that it counts exactly what the rules found raw."""
    from posrefund.domain.card_method import SHANGHAI
    from posrefund.domain.roles import Actor, Role
    from posrefund.ports.risk import Window
    from posrefund.service.risk import alerts
    from posrefund.service.risk.month import month_view
    from posrefund.service.risk.rules import merge

    risk = Actor("bench-risk", Role.RISK, mid)
    start = datetime.combine(FIRST, datetime.min.time(), SHANGHAI)
    end = start + timedelta(days=DAYS)
    with deps.uow(readonly=True) as uow:
        raw_s, found = _timed(alerts.findings, uow, mid, start, end, merge(None))
    print(f"risk rules raw over the month: {raw_s:.1f} s, {len(found)} findings", flush=True)
    keep_s, kept = _timed(alerts.keep, deps, risk, Window(mid, start, end), found)
    last = FIRST + timedelta(days=DAYS - 1)
    runs = [_timed(month_view, deps, risk, FIRST, last) for _ in range(3)]
    view = runs[0][1]
    counted = {(rule, sev): n for rule, parts in view["alerts"].items() for sev, n in parts["severity"].items()}
    out = {
        "rules_raw_s": round(raw_s, 2),
        "findings": len(found),
        "cases_named": sum(len(f.case_ids) for f in found),
        "keep_alerts_s": round(keep_s, 2),
        "scan_s": round(raw_s + keep_s, 2),
        "alerts_raised": kept.raised,
        "month_view_s": round(statistics.median(t for t, _ in runs), 3),
        "month_view_rules": len(view["alerts"]),
        "month_view_source": view["source"],
        "same_as_raw": counted == dict(Counter((f.rule, f.severity) for f in found)),
    }
    out["raw_over_month_view"] = round(raw_s / max(out["month_view_s"], 1e-6), 1)
    print("risk", out, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--refunds", type=int, default=1_000_000)
    ap.add_argument("--sales", type=int, default=10_000_000)
    ap.add_argument("--keep", type=Path, help="build the database here and keep it")
    ap.add_argument("--views", default="day,week,month,store,terminal,cashier,channel,reason_category,route,outcome")
    ap.add_argument("--raw-views", default="day,store,cashier", help="also read these from the cases (slow)")
    ap.add_argument("--reuse", action="store_true", help="with --keep: measure the database kept by an earlier run")
    ap.add_argument("--risk", action="store_true", help="also the risk rules raw, the scan, and the month view")
    args = ap.parse_args()
    from posrefund.adapters.db.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="reports-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        db = work / "posrefund.db"
        reuse = args.reuse and db.exists()
        if not reuse:
            upgrade(f"sqlite:///{db}")
        deps = _deps(f"sqlite:///{db}", work)
        if reuse:
            mid, load_s = _loaded(db), 0.0
        else:
            mid, places = _places(deps)
            load_s = load(db, mid, places, args.sales, args.refunds)
        done = "kept from before" if reuse else f"loaded in {load_s:.0f} s"
        print(f"{args.refunds:,} refunds / {args.sales:,} sales {done}", flush=True)
        result = {
            "refunds": args.refunds,
            "sales": args.sales,
            "days": DAYS,
            "load_s": None if reuse else round(load_s, 1),  # None: measured over a database loaded before
            **measure(deps, mid, args.views.split(","), args.raw_views.split(",")),
            **({"risk": measure_risk(deps, mid)} if args.risk else {}),
            "db_bytes": db.stat().st_size,
            "machine": platform.platform(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
        }
    RESULTS.mkdir(exist_ok=True)
    name = f"{'risk-' if args.risk else ''}reports-{args.refunds}-{args.sales}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
