"""The sales import alone at scale: N sales written as a POS export (half card sales with their keys and an aware
time, half wallet sales keyed by order no. with a naive local time), imported the way ``posrefund sales import``
does it into a fresh database; wall time, CPU time of the process and rows/s of each. No refund traffic and no
reconciliation beside it (``bench/reconcile.py`` measures the import among those).

    .venv/bin/python bench/sales_import.py                       # 1,000,000 rows, SQLite
    .venv/bin/python bench/sales_import.py --rows 100000 --database postgres
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

HEADER = (
    "terminal_id,voucher_no,rrn,batch_no,auth_code,order_no,channel,kind,amount_fen,fee_fen,currency,paid_at,"
    "payer_masked,settlement_status\n"
)


def write_file(path: Path, rows: int, terminals: int) -> None:
    base = datetime(2026, 11, 19, 8)
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER)
        for i in range(rows):
            t = base + timedelta(seconds=i % 50_000)
            term = f"T{i % terminals:03d}"
            if i % 2:
                out.write(
                    f"{term},,,,,W{i:010d},wechat,sale,{1000 + i % 900},6,CNY,{t:%Y-%m-%d %H:%M:%S},o***ab,unsettled\n"
                )
            else:
                out.write(
                    f"{term},{i % 999_999:06d},R{i:011d},{i // 999_999:06d},AB12,C{i:010d},card,sale,"
                    f"{1000 + i % 900},6,"
                    f"CNY,{t:%Y-%m-%dT%H:%M:%S}+08:00,622202******{i % 10_000:04d},unsettled\n"
                )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("POSREFUND_TEST_PG_URL", ""))
    ap.add_argument("--out", type=Path, default=RESULTS / "recon.json", help="results, merged by run key")
    args = ap.parse_args()
    from posrefund.adapters.db.migrate import upgrade
    from posrefund.adapters.sales_table import read_sale_batches
    from posrefund.domain.roles import Actor, Role
    from posrefund.service import admin, sales_import
    from posrefund.service.sales import FIELD_RULES

    work = Path(tempfile.mkdtemp(prefix="sales-import-bench-"))
    url, drop = database(args.database, args.pg_url, work)
    try:
        upgrade(url)
        deps = _deps(url, work)
        m = admin.create_merchant(deps, Actor("bench", Role.PROVIDER_ADMIN, None), code="QK", name="bench")
        boss = Actor("bench", Role.ADMIN, m["id"])
        store = admin.create_store(deps, boss, name="store")
        for k in range(20):
            admin.create_terminal(deps, boss, store_id=store["id"], terminal_no=f"T{k:03d}", device_sn=f"S{k}")
        path = work / "sales.csv"
        write_file(path, args.rows, 20)
        zone = ZoneInfo("Asia/Shanghai")
        t0, c0 = time.perf_counter(), time.process_time()
        scope = sales_import.import_scope(deps, boss)
        report = sales_import.import_table(
            deps, boss, scope, read_sale_batches(path, scope, FIELD_RULES, zone, deps.clock.now), zone
        )
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        result = {
            "benchmark": "sales_import",
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
        }
        print(json.dumps(result, indent=2))
        runs = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
        runs[f"sales-import-{args.database}-{args.rows}"] = result
        args.out.write_text(json.dumps(runs, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        return 0 if report.imported == args.rows else 1
    finally:
        drop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
