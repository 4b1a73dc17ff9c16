"""The refunds import alone at scale (渠道侧退款导入): N sales recorded by the sales import, then a file of N refunds
the channel made (half wallet refunds naming their sale by order no., half card refunds by terminal, batch and
voucher no., every fourth by RRN; times half naive, half with an offset) imported the way ``posrefund refund
import`` does it; wall time, CPU time of the process and rows/s of the refunds import; and, measured just
before on the same data, the database's own least work for the same refunds (``refund_write_floor``).

    .venv/bin/python bench/refund_import.py                        # 200,000 refunds, SQLite
    .venv/bin/python bench/refund_import.py --rows 100000 --database postgres
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.reconcile import RESULTS, _deps, database  # noqa: E402 - after the path is set
from bench.refund_write_floor import write_floor  # noqa: E402 - after the path is set
from bench.sales_import import write_file  # noqa: E402 - after the path is set

HEADER = (
    "refund_no,channel,order_no,terminal_id,batch_no,voucher_no,rrn,amount_fen,refunded_at,channel_refund_id,kind,"
    "note\n"
)


def write_refunds(path: Path, rows: int, terminals: int) -> None:
    """One refund of each sale ``write_file`` wrote, of part of its amount, an hour after it."""
    base = datetime(2026, 11, 19, 9)
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER)
        for i in range(rows):
            t = base + timedelta(seconds=i % 50_000)
            amount = 500 + i % 400
            if i % 2:
                out.write(f"RW{i:010d},wechat,W{i:010d},,,,,{amount},{t:%Y-%m-%d %H:%M:%S},5030{i:010d},refund,\n")
            elif i % 4 == 0:
                out.write(f"RC{i:010d},card,,,,,R{i:011d},{amount},{t:%Y-%m-%dT%H:%M:%S}+08:00,,refund,退货\n")
            else:
                term = f"T{i % terminals:03d}"
                keys = f"{term},{i // 999_999:06d},{i % 999_999:06d}"
                out.write(f"RC{i:010d},card,,{keys},,{amount},{t:%Y-%m-%dT%H:%M:%S}+08:00,,refund,\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("POSREFUND_TEST_PG_URL", ""))
    ap.add_argument("--out", type=Path, default=RESULTS / "recon.json", help="results, merged by run key")
    args = ap.parse_args()
    from posrefund.adapters.db.migrate import upgrade
    from posrefund.adapters.sales_table import read_sale_batches
    from posrefund.adapters.tabular import read_rows
    from posrefund.domain.roles import Actor, Role
    from posrefund.service import admin, sales_import
    from posrefund.service.reconciliation import refund_imports
    from posrefund.service.sales import FIELD_RULES

    work = Path(tempfile.mkdtemp(prefix="refund-import-bench-"))
    url, drop = database(args.database, args.pg_url, work)
    try:
        upgrade(url)
        deps = _deps(url, work)
        m = admin.create_merchant(deps, Actor("bench", Role.PROVIDER_ADMIN, None), code="QK", name="bench")
        boss = Actor("bench", Role.ADMIN, m["id"])
        store = admin.create_store(deps, boss, name="store")
        for k in range(20):
            admin.create_terminal(deps, boss, store_id=store["id"], terminal_no=f"T{k:03d}", device_sn=f"S{k}")
        sales, refunds = work / "sales.csv", work / "refunds.csv"
        write_file(sales, args.rows, 20)
        write_refunds(refunds, args.rows, 20)
        zone = ZoneInfo("Asia/Shanghai")
        scope = sales_import.import_scope(deps, boss)
        sales_import.import_table(
            deps, boss, scope, read_sale_batches(sales, scope, FIELD_RULES, zone, deps.clock.now), zone
        )
        floor = write_floor(url, m["id"], args.rows)
        t0, c0 = time.perf_counter(), time.process_time()
        if hasattr(refund_imports, "import_refund_table"):
            from posrefund.adapters.refund_table import read_refund_table

            terminals = refund_imports.refund_terminals(deps, boss)
            table = read_refund_table(refunds, refund_imports.REFUND_RULES, terminals, zone, deps.clock.now())
            report = refund_imports.import_refund_table(deps, boss, table, zone, refunds.name)
        else:  # the code before the bulk reader, for a before/after figure
            report = refund_imports.import_refunds(deps, boss, read_rows(refunds), zone, refunds.name)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        result = {
            "benchmark": "refund_import",
            "database": args.database,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": report.rows,
            "imported": report.imported,
            "errors": len(report.errors),
            "naive_times": report.naive_times,
            "seconds": round(wall, 2),
            "rows_per_second": round(report.rows / wall),
            "cpu_seconds": round(cpu, 2),
            "rows_per_cpu_second": round(report.rows / cpu),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "load_average_after": os.getloadavg()[0],
            "targets": {"at_least_50000_rows_s": report.rows / wall >= 50_000},
            # the database's own least work for the same refunds, measured on the same data just before
            "floor_writes_only": floor,
        }
        print(json.dumps(result, indent=2))
        if report.errors:
            print(report.errors[:5])
        runs = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
        runs[f"refund-import-{args.database}-{args.rows}"] = result
        args.out.write_text(json.dumps(runs, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        return 0 if report.imported == args.rows else 1
    finally:
        drop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
