"""What runs beside the reconciliation benchmark: the sales import measured on the same sales, and a cashier
whose refund requests go through the HTTP API (the ASGI app in a thread) the whole time, counted.

The import goes to a merchant of its own (``IMPORT``, terminals ``I<no>``) so the reconciled merchant's ledger
and its answer key stay as generated; the refund traffic too (``LIVE``): what matters is that the one database
keeps answering refunds while a million lines are staged and reconciled, not whose refunds they are.
"""

from __future__ import annotations

import csv
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.refund_api import POLICY

SHANGHAI = timezone(timedelta(hours=8))
SALE_COLUMNS = [
    "terminal_id",
    "voucher_no",
    "rrn",
    "batch_no",
    "auth_code",
    "order_no",
    "channel",
    "kind",
    "amount_fen",
    "fee_fen",
    "currency",
    "paid_at",
    "payer_masked",
    "settlement_status",
]
PASSWORD = "bench-live-2026"
LIVE_SALES = 300
SALES_REFUNDED = 50
AMOUNT = 10**8


class SalesCsv:
    """The generated ledger's sales, also written as an import file: terminal numbers, naive local times (read
    back in Asia/Shanghai by the import)."""

    def __init__(self, path: Path, terminal_nos: dict[str, str]) -> None:
        self.path = path
        self._nos = terminal_nos
        self._fh = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._out = csv.writer(self._fh)
        self._out.writerow(SALE_COLUMNS)
        self.rows = 0

    def add(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            local = r["paid_at"].astimezone(SHANGHAI).replace(tzinfo=None)
            self._out.writerow(
                [
                    "I" + self._nos[r["terminal_id"]],
                    *(r[k] for k in SALE_COLUMNS[1:11]),
                    local.isoformat(sep=" "),
                    r["payer_masked"],
                    r["settlement_status"],
                ]
            )
        self.rows += len(rows)

    def close(self) -> None:
        self._fh.close()


def seed(deps: Any, provider: Any, terminal_nos: list[str]) -> dict[str, Any]:
    """The ``IMPORT`` merchant (the same terminal numbers, ``I`` before them) and the ``LIVE`` merchant: a cashier,
    a policy that approves at once, and sales to refund."""
    from posrefund.domain.roles import Actor, Role
    from posrefund.service import admin, policies, sales_import
    from posrefund.service.sales import SaleInput

    target = admin.create_merchant(deps, provider, code="IMPORT", name="import")
    boss = Actor("bench", Role.ADMIN, target["id"])
    store = admin.create_store(deps, boss, name="store")
    for no in terminal_nos:
        admin.create_terminal(deps, boss, store_id=store["id"], terminal_no=f"I{no}", device_sn=f"SNI{no}")
    live = admin.create_merchant(deps, provider, code="LIVE", name="live")
    live_boss = Actor("bench", Role.ADMIN, live["id"])
    live_store = admin.create_store(deps, live_boss, name="store")
    term = admin.create_terminal(deps, live_boss, store_id=live_store["id"], terminal_no="LIVE01", device_sn="SNL")
    admin.create_user(
        deps, provider, username="live_cashier", password=PASSWORD, role="cashier", merchant_id=live["id"]
    )
    policies.put_policy(deps, live_boss, dict(POLICY))
    paid = datetime.now(UTC) - timedelta(days=1)
    rows = (
        (
            i,
            SaleInput(
                term["id"],
                f"{i:06d}",
                f"L{i:011d}",
                "000001",
                "",
                f"LIVE{i}",
                "card",
                "sale",
                10**8,
                0,
                "CNY",
                paid,
                "",
            ),
        )
        for i in range(1, LIVE_SALES + 1)
    )
    sales_import.import_sales(deps, live_boss, rows)
    return {"import_merchant": target["id"], "live_merchant": live["id"]}


def import_sales_file(deps: Any, merchant_id: str, path: Path) -> dict[str, Any]:
    """The sales import as ``posrefund sales import`` runs it (polars reads and checks the file a batch of
    columns at a time, the rest row by row; each batch written in one short transaction): timed."""
    from zoneinfo import ZoneInfo

    from posrefund.adapters.sales_table import read_sale_batches
    from posrefund.domain.roles import Actor, Role
    from posrefund.service import sales_import
    from posrefund.service.sales import FIELD_RULES

    actor = Actor("bench-import", Role.ADMIN, merchant_id)
    zone = ZoneInfo("Asia/Shanghai")
    t0, c0, own0 = time.perf_counter(), time.process_time(), time.thread_time()
    scope = sales_import.import_scope(deps, actor)
    batches = read_sale_batches(path, scope, FIELD_RULES, zone, deps.clock.now)
    report = sales_import.import_table(deps, actor, scope, batches, zone)
    seconds, cpu, own = time.perf_counter() - t0, time.process_time() - c0, time.thread_time() - own0
    return {
        "rows": report.rows,
        "imported": report.imported,
        "errors": len(report.errors),
        "first_errors": report.errors[:3],
        "naive_times_read_as_shanghai": report.naive_times,
        "seconds": round(seconds, 2),
        "rows_per_second": round(report.rows / seconds) if seconds else None,
        # The process's CPU time: what the import costs when it does not wait for a busy machine's cores. It also
        # counts the cashier's refunds served meanwhile when they run in this process (SQLite), so it is a floor.
        "cpu_seconds": round(cpu, 2),
        "rows_per_cpu_second": round(report.rows / cpu) if cpu else None,
        # The importing thread alone (Python, the driver, SQLite; not polars' worker threads).
        "import_thread_cpu_seconds": round(own, 2),
    }


class RefundTraffic(threading.Thread):
    """A cashier asking for small refunds through the HTTP API, one every ``pause`` seconds, until stopped:
    counts of answers by status, failures' codes (``database is locked`` would be a 500 or 503 here), latency."""

    def __init__(self, deps: Any, inline: bool, pause: float = 0.05) -> None:
        super().__init__(name="refund-traffic", daemon=True)
        self._deps, self._inline, self._pause = deps, inline, pause
        self._stop_event = threading.Event()
        self.statuses: Counter[int] = Counter()
        self.codes: Counter[str] = Counter()
        self.latencies: list[float] = []

    def run(self) -> None:
        from starlette.testclient import TestClient

        from posrefund.config import RateLimits
        from posrefund.entrypoints.api.app import create_app

        off = RateLimits(
            signin_per_ip="", signin_per_account="", api_per_key="", api_per_user="", tracking_per_token=""
        )
        app = create_app(self._deps, inline=self._inline, rate_limits=off)
        with TestClient(app, raise_server_exceptions=False) as client:
            token = client.post("/v1/auth/token", json={"username": "live_cashier", "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            sale_ids = []
            for k in range(1, SALES_REFUNDED + 1):  # round robin: no sale reaches the policy's partial limit
                found = client.get("/v1/sales", params={"order_no": f"LIVE{k}"}, headers=headers).json()
                sale_ids.append(found["items"][0]["id"])
            n = 0
            while not self._stop_event.is_set():
                n += 1
                body = {"sale_id": sale_ids[n % len(sale_ids)], "amount_fen": 1, "reason": "customer_cancelled"}
                t0 = time.perf_counter()
                r = client.post("/v1/refunds", json=body, headers={**headers, "Idempotency-Key": f"live-{n}"})
                self.latencies.append(time.perf_counter() - t0)
                self.statuses[r.status_code] += 1
                if r.status_code != 201:
                    self.codes[str(r.json().get("code", r.status_code))] += 1
                self._stop_event.wait(self._pause)

    def stop(self) -> dict[str, Any]:
        self._stop_event.set()
        self.join(60)
        ordered = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1) if ordered else None

        return {
            "requests": sum(self.statuses.values()),
            "succeeded_201": self.statuses[201],
            "failed": sum(v for k, v in self.statuses.items() if k != 201),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failure_codes": dict(self.codes),
            "p50_ms": pct(0.5),
            "p99_ms": pct(0.99),
            "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
        }
