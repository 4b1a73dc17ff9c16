"""Builds a synthetic ledger (bulk-inserted, as the benchmark does) and its settlement file with known faults."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from posrefund.adapters.db import tables
from posrefund.adapters.settlement import file_fingerprint, parse_alipay_bill, parse_card_settlement, parse_wechat_bill
from posrefund.demo.settlement import Faults, Ledger, Synthetic, synthetic
from posrefund.domain.fees import FeePeriod
from posrefund.domain.reconciliation import FeeRate
from posrefund.domain.roles import Actor, Role
from posrefund.service import admin, fees, reconciliation
from posrefund.service.deps import Deps
from tests.conftest import Merchant
from tests.support.recon_day import Day
from tests.support.recon_plan import build_day

DAY = date(2026, 11, 19)
RATES = {"card": FeeRate("card", 60), "wechat": FeeRate("wechat", 38, 55, 100_000), "alipay": FeeRate("alipay", 38)}
PARSERS: dict[str, Any] = {"card": parse_card_settlement, "wechat": parse_wechat_bill, "alipay": parse_alipay_bill}


def terminals(deps: Deps, m: Merchant, n: int) -> list[tuple[str, str]]:
    boss = Actor("setup", Role.ADMIN, m.id)
    out = []
    for k in range(n):
        row = admin.create_terminal(deps, boss, store_id=m.store_id, terminal_no=f"T{k:05d}", device_sn=f"SN-R{k}")
        out.append((str(row["id"]), str(row["terminal_no"])))
    return out


def build_set(
    deps: Deps,
    engine: Engine,
    m: Merchant,
    tmp: Path,
    source: str,
    n_sales: int,
    n_refunds: int,
    faults: Faults,
    n_terminals: int = 10,
) -> tuple[Path, Synthetic]:
    terms = terminals(deps, m, n_terminals)
    rate = RATES[source]
    reconciliation.put_fee_rate(
        deps, m.actors["admin"], rate.channel, rate.rate_bp, rate.large_rate_bp, rate.large_from_fen
    )

    def put(table: Any) -> Any:
        def write(rows: list[dict[str, Any]]) -> None:
            with engine.begin() as c:
                c.execute(insert(table), rows)

        return write

    ledger = Ledger(m.id, m.store_id, terms, put(tables.sales), put(tables.refunds))
    path = tmp / f"{source}-{DAY}.csv"
    now = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    return path, synthetic(path, source, DAY, n_sales, n_refunds, faults, ledger, rate, now=now)


def realistic_day(deps: Deps, engine: Engine, m: Merchant, path: Path, source: str, contract: list[FeePeriod]) -> Day:
    """A realistic day of ``source`` (``tests/support/recon_plan.py``) under ``contract``: the contract in force,
    the day's sales and refunds in the ledger, its file written to ``path``."""
    fees.add_period(deps, m.actors["admin"], m.id, contract[0])
    day = build_day(path, source, DAY, (m.id, m.store_id), terminals(deps, m, 8), contract)
    with engine.begin() as c:
        c.execute(insert(tables.sales), day.sales)
        c.execute(insert(tables.refunds), day.refunds)
    return day


def import_and_run(
    deps: Deps, actor: Actor, path: Path, source: str
) -> tuple[reconciliation.ImportReport, dict[str, Any]]:
    report = reconciliation.import_file(
        deps,
        actor,
        source=source,
        filename=path.name,
        fingerprint=file_fingerprint(path),
        size=path.stat().st_size,
        lines=PARSERS[source](path),
    )
    run = reconciliation.reconcile(deps, actor, source=source, date_from=DAY, date_to=DAY)
    return report, run


def reported(deps: Deps, engine: Engine, actor: Actor, run_id: str) -> set[tuple[str, str]]:
    """The run's open discrepancies as (class, "refund:<id>" | "sale:<id>" | "line:<line no.>")."""
    line_no = {}
    with engine.connect() as c:
        for lid, no in c.execute(select(tables.settlement_lines.c.id, tables.settlement_lines.c.line_no)):
            line_no[lid] = no
    out = set()
    for d in reconciliation.export_discrepancies(deps, actor, run_id):
        if d["refund_id"]:
            key = f"refund:{d['refund_id']}"
        elif d["sale_id"]:
            key = f"sale:{d['sale_id']}"
        else:
            key = f"line:{line_no[d['line_id']]}"
        out.add((d["class"], key))
    return out
