"""What one refund writes to PostgreSQL: WAL bytes, rows inserted and updated, transactions — the figures
docs/scale.md sizes a database by.

A throw-away database on ``--pg-url`` (migrated as `posrefund db upgrade` does), one merchant set up by the same
service calls the tests use, ``--sales`` sales; then ``--refunds`` refunds asked through the service (validation,
policy, reservation, audit, outbox), executed by the worker's sweep against a channel that answers at once, and
their audit events chained by the sequencer. Measured around that stretch only: ``pg_current_wal_lsn()`` before
and after (WAL is what a replica and the archive carry), and ``pg_stat_database`` / ``pg_stat_user_tables``
counters (flushed with ``pg_stat_force_next_flush()``). Divided by the refunds, and shown per table. WAL is
counted per server: run it on a server nothing else writes to (``scripts/pg start /tmp/pg-bench 55433``).

    .venv/bin/python bench/write_cost.py --pg-url postgresql+psycopg://postgres@127.0.0.1:55433/postgres
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "write_cost.json"


def _counters(c: Connection) -> dict[str, Any]:
    c.execute(text("SELECT pg_stat_force_next_flush()"))
    lsn = c.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
    db = c.execute(
        text(
            "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database"
            " WHERE datname = current_database()"
        )
    ).one()
    tables = {
        row.relname: (row.n_tup_ins, row.n_tup_upd, row.n_tup_del, row.n_tup_hot_upd)
        for row in c.execute(
            text("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd FROM pg_stat_user_tables")
        )
    }
    return {"lsn": lsn, "commits": db.xact_commit, "ins": db.tup_inserted, "upd": db.tup_updated, "tables": tables}


def _wal_bytes(c: Connection, before: str, after: str) -> int:
    return int(c.execute(text("SELECT pg_wal_lsn_diff(:a, :b)"), {"a": after, "b": before}).scalar_one())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--sales", type=int, default=2_000)
    ap.add_argument("--refunds", type=int, default=1_000)
    args = ap.parse_args()

    from tests.conftest import FixedClock, make_merchant
    from tests.support.fakes import FakeChannel
    from tests.support.helpers import new_sale

    from posrefund.adapters.calendar_cn import ChineseCalendar
    from posrefund.adapters.crypto import generate_key_spec
    from posrefund.adapters.db.engine import make_engine
    from posrefund.adapters.db.migrate import upgrade
    from posrefund.adapters.passwords import Argon2Hasher
    from posrefund.bootstrap import build
    from posrefund.config import Settings
    from posrefund.domain.roles import ANY_PROVIDER, Actor, Role
    from posrefund.service import admin, execution, refunds
    from posrefund.service.execution import Router
    from posrefund.service.refunds import RefundRequest

    name = f"posrefund_write_cost_{uuid.uuid4().hex[:8]}"
    server = create_engine(args.pg_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with server.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.pg_url.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        engine = make_engine(url)
        settings = Settings(
            database_url=url,
            secret_key="w" * 40,
            pii_key=generate_key_spec("k1"),
            audit_key=generate_key_spec("a1"),
            data_dir=Path("/tmp") / name,
        )
        deps = build(settings, engine=engine, clock=FixedClock(), hasher=Argon2Hasher(fast=True))
        host = Actor(id="host", role=Role.PROVIDER_ADMIN, merchant_id=None, name="host", provider_id=ANY_PROVIDER)
        made = admin.create_user(
            deps, host, username="provider_admin", password="bench-pass-2026", role="provider_admin"
        )
        provider = Actor(id=made["id"], role=Role.PROVIDER_ADMIN, merchant_id=None, name="provider")
        m = make_merchant(deps, provider, "WC")
        sale_ids = [new_sale(deps, m, amount_fen=100_000).id for _ in range(args.sales)]
        router = Router(channels={"wechat": FakeChannel()}, is_workday=ChineseCalendar().is_workday)
        cashier = m.actors["cashier"]
        with engine.connect() as c:
            before = _counters(c)
        began = time.perf_counter()
        for i in range(args.refunds):
            refunds.request_refund(deps, cashier, RefundRequest(sale_ids[i % len(sale_ids)], 1_000, "other"))
            if i % 50 == 49:
                execution.sweep(deps, router, limit=100)
        while execution.sweep(deps, router, limit=100):
            pass
        deps.uow.chain_audit(wait=True)  # type: ignore[attr-defined]  # the SQL unit of work's sequencer
        seconds = time.perf_counter() - began
        with engine.connect() as c:
            after = _counters(c)
            wal = _wal_bytes(c, before["lsn"], after["lsn"])
            succeeded = c.execute(text("SELECT count(*) FROM refunds WHERE status = 'succeeded'")).scalar_one()
        n = args.refunds
        zero = (0, 0, 0, 0)
        # "hot_updated": updates that wrote no index entry (the new version on the same page, no indexed column
        # changed); every other update writes one entry in each of the table's indexes.
        per_table = {
            t: {
                "inserted": round((ins - before["tables"].get(t, zero)[0]) / n, 2),
                "updated": round((upd - before["tables"].get(t, zero)[1]) / n, 2),
                "hot_updated": round((hot - before["tables"].get(t, zero)[3]) / n, 2),
            }
            for t, (ins, upd, _, hot) in sorted(after["tables"].items())
            if (ins, upd) != before["tables"].get(t, zero)[:2]
        }
        result = {
            "refunds": n,
            "succeeded": succeeded,
            "wal_bytes_per_refund": round(wal / n),
            "commits_per_refund": round((after["commits"] - before["commits"]) / n, 2),
            "rows_inserted_per_refund": round((after["ins"] - before["ins"]) / n, 2),
            "rows_updated_per_refund": round((after["upd"] - before["upd"]) / n, 2),
            "per_table": per_table,
            "seconds_in_process": round(seconds, 1),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        engine.dispose()
    finally:
        with server.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
