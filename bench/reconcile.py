"""Reconciliation at scale: N settlement lines against N ledger rows, with ≥1,000 faults of every kind.

Generates a settlement file (WeChat Pay's bill by default: it is the format with refunds still PROCESSING)
and the matching ledger — bulk-inserted straight into ``sales`` / ``refunds``, and also written as a CSV — with
faults injected; then, in a child process (so its peak memory is its own), imports the file through the real
service (``open_settlement_file``, as the CLI and the API read it: encoding, fingerprint, card-data screening,
summary check; batched staging) and runs the reconciliation; then checks that every injected fault
is reported with its class and nothing else. The baseline, measured in the same run in its own child process,
is a plain DuckDB full outer join of the same two files (settlement CSV × ledger CSV) on the order number,
counting the rows missing on either side and the amount mismatches. Reported: both times, their ratio, and
each process's peak RSS (``ru_maxrss``).

    .venv/bin/python bench/reconcile.py                      # 1,000,000 × 1,000,000, SQLite
    .venv/bin/python bench/reconcile.py --rows 100000 --faults 200 --source card
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import recon_live  # noqa: E402 - after the path is set

RESULTS = ROOT / "bench" / "results"
DAY = date(2026, 11, 19)


def _deps(url: str, work: Path, **settings_too: Any) -> Any:
    """posrefund built on the bench's database, with the work folder for its files (``settings_too``: any other
    setting, e.g. an audit key for a bench that verifies the chain)."""
    from posrefund import bootstrap
    from posrefund.adapters.crypto import generate_key_spec
    from posrefund.adapters.passwords import Argon2Hasher
    from posrefund.config import Settings

    settings = Settings(
        database_url=url,
        secret_key="b" * 40,
        pii_key=generate_key_spec("k1"),
        data_dir=work / "data",
        log_file=work / "posrefund.log",
        **settings_too,
    )
    return bootstrap.build(settings, hasher=Argon2Hasher(fast=True))


def generate(work: Path, url: str, source: str, n_sales: int, faults: int, n_refunds: int) -> dict[str, Any]:
    from posrefund.adapters.db import tables as t
    from posrefund.adapters.db.migrate import upgrade
    from posrefund.demo.settlement import Faults, Ledger, synthetic
    from posrefund.domain.reconciliation import FeeRate
    from posrefund.domain.roles import Actor, Role
    from posrefund.service import admin, reconciliation

    upgrade(url)
    deps = _deps(url, work)
    provider = Actor("bench", Role.PROVIDER_ADMIN, None)
    m = admin.create_merchant(deps, provider, code="BENCH", name="bench")
    boss = Actor("bench", Role.ADMIN, m["id"])
    store = admin.create_store(deps, boss, name="store")
    terms = []
    for k in range(100):
        row = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no=f"T{k:05d}", device_sn=f"SN{k}")
        terms.append((str(row["id"]), str(row["terminal_no"])))
    live = recon_live.seed(deps, provider, [no for _, no in terms])
    sales_csv = recon_live.SalesCsv(work / "sales-import.csv", dict(terms))
    rate = FeeRate("wechat", 38, 55, 100_000) if source != "card" else FeeRate("card", 60)
    if source == "alipay":
        rate = FeeRate("alipay", 38)
    reconciliation.put_fee_rate(deps, boss, rate.channel, rate.rate_bp, rate.large_rate_bp, rate.large_from_fen)
    engine = deps.uow.engine
    ledger_csv = work / "ledger.csv"
    out = open(ledger_csv, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    writer = csv.writer(out)
    writer.writerow(["kind", "id", "order_no", "rrn", "refund_no", "amount_fen", "status"])

    def put_sales(rows: list[dict[str, Any]]) -> None:
        with engine.begin() as c:
            c.execute(insert(t.sales), rows)
        writer.writerows(["sale", r["id"], r["order_no"], r["rrn"], "", r["amount_fen"], ""] for r in rows)
        sales_csv.add(rows)

    def put_refunds(rows: list[dict[str, Any]]) -> None:
        with engine.begin() as c:
            c.execute(insert(t.refunds), rows)
        writer.writerows(
            ["refund", r["id"], "", r["channel_refund_id"], r["refund_no"], r["amount_fen"], r["status"]] for r in rows
        )

    plan = Faults(faults, faults, faults, faults, faults, faults, processing=faults)
    t0 = time.perf_counter()
    path = work / f"{source}-{DAY}.csv"
    truth = synthetic(
        path,
        source,
        DAY,
        n_sales,
        n_refunds,
        plan,
        Ledger(m["id"], store["id"], terms, put_sales, put_refunds, chunk=20_000),
        rate,
        now=datetime(2026, 11, 20, 1, tzinfo=UTC),
    )
    out.close()
    sales_csv.close()
    with engine.begin() as c:
        c.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {
        **live,
        "merchant_id": m["id"],
        "file": str(path),
        "ledger_csv": str(ledger_csv),
        "sales_csv": str(sales_csv.path),
        "url": url,
        "work": str(work),
        "lines": truth.lines,
        "ledger_sales": truth.sales,
        "ledger_refunds": truth.refunds,
        "processing_refunds": len(truth.processing),
        "expected": sorted(truth.expected),
        "generate_s": round(time.perf_counter() - t0, 1),
        "file_bytes": path.stat().st_size,
    }


def _phase_peak() -> float | None:
    """The process's resident peak (MiB) since the last call, which starts the next phase's (Linux: ``VmHWM``,
    reset by writing 5 to ``clear_refs``); None where there is no such file. Which step sets the peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            peak_kib = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except (OSError, StopIteration):
        return None
    return round(peak_kib / 1024, 1)


def run_posrefund(info: dict[str, Any], source: str, queue: Any) -> None:
    """Child process: import (parse + stage) and reconcile through the real service; report timings and RSS."""
    from posrefund.adapters.db import tables as t
    from posrefund.adapters.settlement import open_settlement_file
    from posrefund.domain.roles import Actor, Role
    from posrefund.entrypoints import heap
    from posrefund.service import reconciliation

    deps = _deps(info["url"], Path(info["work"]))
    finance = Actor("bench-finance", Role.FINANCE, info["merchant_id"])
    path = Path(info["file"])
    traffic = recon_live.RefundTraffic(deps, inline=info["url"].startswith("sqlite"))
    traffic.start()
    time.sleep(2)  # signed in and refunding before the heavy work starts
    # This process serves refunds while it imports, as the API server does: its heap is settled the same way once
    # built (entrypoints/heap.py). Unsettled, the collector's full passes walked the app's start-up objects 48 times
    # in a 1,000,000-line run: 15 s of its time.
    heap.settle()
    peaks = {"start": _phase_peak()}
    sales_import = recon_live.import_sales_file(deps, info["import_merchant"], Path(info["sales_csv"]))
    peaks["sales_import"] = _phase_peak()
    t0 = time.perf_counter()
    # The way the CLI, the API and the console read a file: its encoding, fingerprint, card-data screening and
    # the check that its summary agrees with its lines are part of the import.
    report = reconciliation.import_file(deps, finance, **open_settlement_file(source, path).import_arguments())
    t1 = time.perf_counter()
    peaks["settlement_import"] = _phase_peak()
    run = reconciliation.reconcile(deps, finance, source=source, date_from=DAY, date_to=DAY)
    t2 = time.perf_counter()
    peaks["run"] = _phase_peak()
    again = reconciliation.reconcile(deps, finance, source=source, date_from=DAY, date_to=DAY)
    t3 = time.perf_counter()
    peaks["rerun"] = _phase_peak()
    refunds_meanwhile = traffic.stop()
    line_no = {}
    with deps.uow.engine.connect() as c:
        q = select(t.settlement_lines.c.id, t.settlement_lines.c.line_no).where(
            t.recon_discrepancies.c.line_id == t.settlement_lines.c.id
        )
        line_no = dict(c.execute(q).all())
    found = []
    for d in reconciliation.export_discrepancies(deps, finance, run["id"]):
        key = (
            f"refund:{d['refund_id']}"
            if d["refund_id"]
            else f"sale:{d['sale_id']}"
            if d["sale_id"]
            else f"line:{line_no[d['line_id']]}"
        )
        found.append([d["class"], key])
    queue.put(
        {
            "import_s": round(t1 - t0, 2),
            "reconcile_s": round(t2 - t1, 2),
            "rerun_s": round(t3 - t2, 2),
            "rerun_changed": again["changed"],
            "rerun_same_totals": again["totals"] == run["totals"],
            "staged_lines": report.lines,
            "bad_lines": report.bad_lines,
            "totals": run["totals"],
            "found": found,
            # The phases' peaks, and what came after the last (reading the findings back): resetting the high-water
            # mark per phase also resets what ``ru_maxrss`` reports.
            "peak_rss_mb": max(v for v in (*peaks.values(), _phase_peak(), 0.0) if v is not None)
            or round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_rss_mb_by_phase": peaks,
            "sales_import": sales_import,
            "refunds_meanwhile": refunds_meanwhile,
        }
    )


def run_duckdb(info: dict[str, Any], source: str, queue: Any, ledger_from_database: bool = False) -> None:
    """Child process: the plain baseline — DuckDB reads both files and full-outer-joins them on the key.

    With ``ledger_from_database`` it is the floor of any run that keeps its sales in the operational database,
    as posrefund must (refunds are checked against them): the same join, the ledger's key and amount read from
    the database instead of its CSV — more cheaply than the run reads them (SQLite: one ``fetchall`` into Arrow
    arrays, where the run goes through polars a batch at a time; PostgreSQL: one ``COPY`` read whole and parsed by
    Arrow at once, where the run streams it), so a lower bound — and nothing of the file kept, checked or written
    back."""
    import duckdb

    key_col = {"card": "参考号", "wechat": "商户订单号", "alipay": "商户订单号"}[source]
    amount_col = {"card": "交易金额", "wechat": "应结订单金额", "alipay": "订单金额（元）"}[source]
    ledger_key = "rrn" if source == "card" else "order_no"
    t0 = time.perf_counter()
    con = duckdb.connect()
    ledger = _ledger_from_database(info, ledger_key) if ledger_from_database else None
    if source == "alipay":
        # DuckDB reads UTF-8 only: the GBK bill is transcoded on the fly (counted in the baseline's time).
        utf8 = Path(info["file"]).with_suffix(".utf8.csv")
        with open(info["file"], encoding="gbk") as src, open(utf8, "w", encoding="utf-8") as dst:
            for line in src:
                if not line.startswith("#"):
                    dst.write(line)
        settle = str(utf8)
    else:
        settle = info["file"]
    con.execute(
        f"""CREATE TABLE s AS SELECT trim(replace("{key_col}", '`', '')) AS k,
        CAST(round(abs(CAST(trim(replace(replace("{amount_col}", '`', ''), chr(9), ''))
                   AS DECIMAL(18,2))) * 100) AS BIGINT) AS amount
        FROM read_csv('{settle}', all_varchar=true, ignore_errors=true, header=true)"""
    )
    if ledger is None:
        con.execute(
            f"CREATE TABLE l AS SELECT {ledger_key} AS k, amount_fen "
            f"FROM read_csv('{info['ledger_csv']}', all_varchar=false) WHERE kind = 'sale'"
        )
    else:
        con.register("ledger", ledger)
        con.execute("CREATE TABLE l AS SELECT k, amount_fen FROM ledger")
    row = con.execute(
        """SELECT count(*) FILTER (WHERE l.k IS NULL), count(*) FILTER (WHERE s.k IS NULL),
                  count(*) FILTER (WHERE s.k IS NOT NULL AND l.k IS NOT NULL AND s.amount <> l.amount_fen)
           FROM s FULL OUTER JOIN l ON s.k = l.k"""
    ).fetchone()
    elapsed = time.perf_counter() - t0
    assert row is not None
    queue.put(
        {
            "duckdb_s": round(elapsed, 2),
            "only_in_file": row[0],
            "only_in_ledger": row[1],
            "amount_diff": row[2],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    )


def run_floor(info: dict[str, Any], source: str, queue: Any) -> None:
    """Child process: the baseline with the ledger read from the database (``run_duckdb``)."""
    run_duckdb(info, source, queue, ledger_from_database=True)


def _ledger_from_database(info: dict[str, Any], key: str) -> Any:
    """The merchant's sales' key and amount as an Arrow table, read the cheapest way each database allows."""
    import pyarrow as pa

    url = info["url"]
    sql = f"SELECT {key} AS k, amount_fen FROM sales WHERE merchant_id = '{info['merchant_id']}'"
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            keys, amounts = zip(*conn.execute(sql).fetchall(), strict=True)
        finally:
            conn.close()
        return pa.table({"k": pa.array(keys, pa.string()), "amount_fen": pa.array(amounts, pa.int64())})
    import psycopg
    from pyarrow import csv

    buffer = bytearray()
    with (
        psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn,
        conn.cursor() as cur,
        cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy,
    ):
        for block in copy:
            buffer += block
    names = csv.ReadOptions(column_names=["k", "amount_fen"])
    types = csv.ConvertOptions(column_types={"k": pa.string(), "amount_fen": pa.int64()})
    return csv.read_csv(pa.BufferReader(bytes(buffer)), read_options=names, convert_options=types)


def database(kind: str, server: str, work: Path) -> tuple[str, Any]:
    """The database the run uses, and how to get rid of it: a file in the work folder, or a database of its own
    on the PostgreSQL server (dropped at the end)."""
    if kind == "sqlite":
        return f"sqlite:///{work / 'posrefund.db'}", lambda: None
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"posrefund_recon_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        c.exec_driver_sql(f"CREATE DATABASE {name}")

    def drop() -> None:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()

    return make_url(server).set(database=name).render_as_string(hide_password=False), drop


def child(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    result: dict[str, Any] = q.get()
    p.join()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--rows", "--sales", dest="sales", type=int, default=1_000_000, help="sales (and about as many lines)"
    )
    ap.add_argument("--faults", type=int, default=1_000, help="of every kind")
    ap.add_argument("--refunds", type=int, default=None, help="default: one sale in fifty, at most 20,000")
    ap.add_argument("--source", choices=["card", "wechat", "alipay"], default="wechat")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--out", type=Path, default=RESULTS / "recon.json", help="results, merged by run key")
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument(
        "--pg-url", default=os.environ.get("POSREFUND_TEST_PG_URL", ""), help="a server to make a database on"
    )
    args = ap.parse_args()
    if args.refunds is None:
        args.refunds = min(20_000, args.sales // 50)
    if not 0 <= args.refunds <= args.sales or args.faults * 7 > args.sales:
        ap.error("need 0 <= --refunds <= --sales and --faults small beside --sales (seven kinds of fault)")
    if args.database == "postgres" and not args.pg_url:
        ap.error("--database postgres needs --pg-url or POSREFUND_TEST_PG_URL")
    work = Path(tempfile.mkdtemp(prefix="recon-bench-"))
    url, drop = database(args.database, args.pg_url, work)
    try:
        print(f"generating {args.sales:,} sales + {args.refunds:,} refunds with {args.faults:,} faults of each kind…")
        info = generate(work, url, args.source, args.sales, args.faults, args.refunds)
        print(f"  {info['lines']:,} lines, {info['file_bytes'] / 1e6:.0f} MB, {info['generate_s']} s")
        ours = child(run_posrefund, info, args.source)
        base = child(run_duckdb, info, args.source)
        floor = child(run_floor, info, args.source)
        expected = {tuple(e) for e in info["expected"]}
        found = {tuple(f) for f in ours.pop("found")}
        missed = sorted(expected - found)
        extra = sorted(found - expected)
        per_class: dict[str, int] = {}
        for cls, _ in expected:
            per_class[cls] = per_class.get(cls, 0) + 1
        ours_s = ours["import_s"] + ours["reconcile_s"]
        ratio = round(ours_s / base["duckdb_s"], 2)
        result = {
            "benchmark": "reconcile",
            "database": args.database,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"python": platform.python_version(), "cpus": mp.cpu_count(), "platform": platform.platform()},
            "source": args.source,
            "settlement_lines": info["lines"],
            "ledger_sales": info["ledger_sales"],
            "ledger_refunds": info["ledger_refunds"],
            "injected_per_class": per_class,
            "processing_refunds_not_discrepancies": info["processing_refunds"],
            "missed": len(missed),
            "false_positives": len(extra),
            "all_faults_found_no_false_positive": not missed and not extra,
            "posrefund": ours,
            "duckdb": base,
            "ratio_import_and_reconcile_vs_duckdb": ratio,
            "ratio_reconcile_only_vs_duckdb": round(ours["reconcile_s"] / base["duckdb_s"], 2),
            # The same join with the ledger read from the database: what no run over the operational database
            # can go under, before it keeps, checks or writes anything.
            "floor_ledger_from_database": floor,
            "ratio_floor_vs_duckdb": round(floor["duckdb_s"] / base["duckdb_s"], 2),
            "targets": {
                "ratio_at_most_1_5": ratio <= 1.5,
                "peak_rss_at_most_600_mib": ours["peak_rss_mb"] <= 600,
                "sales_import_at_least_50000_rows_s": (ours["sales_import"]["rows_per_second"] or 0) >= 50_000,
                "refunds_meanwhile_all_succeeded": ours["refunds_meanwhile"]["failed"] == 0,
            },
            "load_average_after": os.getloadavg()[0],
            "generate_s": info["generate_s"],
        }
        if missed or extra:
            result["examples"] = {"missed": missed[:10], "extra": extra[:10]}
        text = json.dumps(result, indent=2, ensure_ascii=False)
        print(text)
        out = args.out
        out.parent.mkdir(parents=True, exist_ok=True)
        runs = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
        runs[f"{args.database}-{args.source}-{args.sales}"] = result
        out.write_text(json.dumps(runs, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        print(f"written to {out}")
        return 0 if not missed and not extra else 1
    finally:
        drop()
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
