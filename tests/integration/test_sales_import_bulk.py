"""The bulk reader of the sales import (polars, whole columns at once) records exactly what the row-at-a-time
reader records, and reports exactly the same bad rows with the same codes and parameters: on a file of rows
drawn from awkward values of every column (full-width digits, spaces, signs, card numbers, CVV labels, times in
other forms, unknown terminals, item lists, the same sale twice), imported both ways into the same merchant."""

from __future__ import annotations

import csv
import random
import sqlite3
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, select

from posrefund.adapters.db import tables
from posrefund.adapters.sales_table import read_sale_batches
from posrefund.adapters.tabular import read_rows
from posrefund.config import Settings
from posrefund.service import sales_import
from posrefund.service.deps import Deps
from posrefund.service.sales import FIELD_RULES
from tests.conftest import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = "terminal_id,voucher_no,rrn,batch_no,auth_code,order_no,channel,kind,amount_fen,fee_fen,currency,paid_at,payer_masked"
VALUES: dict[str, list[str]] = {
    "terminal_id": ["MA01", "MA01", "MA01", "", "ZZ99", " MA01 "],
    "voucher_no": ["", "", "000123", "000124", " 000125", "１２３", "12a", "1234567890123"],
    "rrn": ["", "R00000000001", "R00000000002", "ab-12", "R000000000001"],
    "batch_no": ["", "000001", "000002", "1234567"],
    "auth_code": ["", "AB12CD", "AB12CDE", "ab 1"],
    "order_no": [
        "W1",
        "W2",
        "W3",
        "",
        "4111111111111111",
        "cvv123",
        "ab cd",
        "订单1",
        "A" * 65,
        "ord_1|x@y-*",
        "SO20261119000000001",
        "SO4111111111111111",
        "4111111111111111D2512",
        "62-2202-1234-5612-34",
        "X" + "7" * 25,
    ],
    "channel": ["card", "wechat", "alipay", "wechat", " wechat ", "WECHAT", "cash", ""],
    "kind": ["", "sale", "sale", "refund", "x"],
    "amount_fen": ["100", "2500", "0", "-5", "+100", " 100", "1e3", "10000000001", "abc", ""],
    "fee_fen": ["", "0", "5", "200000000000", " 3", "-1"],
    "currency": ["", "CNY", "usd", "HKD", "JPY"],
    "paid_at": [
        "2026-11-19 10:05:00",
        "2026-11-19T02:06:00+00:00",
        "2026-11-19T10:00:00+08:00",
        "2026-11-19T10:00:00Z",
        "2026-11-19T10:00:00.123456+08:00",
        "2026-11-19T10:00:00-05:30",
        "2026/11/19 10:00",
        "2026-02-30 10:00:00",
        "2099-01-01 00:00:00",
        "",
        " 2026-11-19 10:05:00 ",
        "2026-11-19T10:00:00+24:00",
        "2026-11-19 10:00",
    ],
    "payer_masked": ["", "o***ab", "622202******1234", "6222021234561234", "张*", "1234567", "cvc 123", 'a"b', "12,34"],
    "settlement_status": ["", "unsettled", "settled", "voided", "x"],
    "items": ["", "", "", "咖啡:1:100", ";", "茶:x:1"],
}


def _write(path: Path, n: int, seed: int) -> None:
    pick = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(list(VALUES))
        for _ in range(n):
            row = {name: pick.choice(values) for name, values in VALUES.items()}
            if pick.random() < 0.5:  # mostly good rows, so both kinds are many
                row |= {"channel": "wechat", "voucher_no": "", "kind": "", "currency": "", "items": ""}
                row |= {"amount_fen": "100", "fee_fen": "", "settlement_status": ""}
                row |= {"order_no": f"G{pick.randrange(n // 3)}", "payer_masked": "o***ab", "terminal_id": "MA01"}
                row |= {"paid_at": pick.choice(VALUES["paid_at"][:6]), "auth_code": "", "rrn": "", "batch_no": ""}
            out.writerow(list(row.values()))


def _recorded(engine: Engine, merchant_id: str) -> list[tuple[Any, ...]]:
    s = tables.sales.c
    keep = [c for c in tables.sales.columns if c.name not in ("id", "created_at")]
    with engine.connect() as c:
        rows = c.execute(select(*keep).where(s.merchant_id == merchant_id)).all()
        items = c.execute(
            select(s.order_no, tables.sale_items.c.line, tables.sale_items.c.name)
            .join_from(tables.sale_items, tables.sales, s.id == tables.sale_items.c.sale_id)
            .where(s.merchant_id == merchant_id)
        ).all()
    return sorted(tuple(r) for r in rows) + sorted(tuple(r) for r in items)


def _forget(engine: Engine, merchant_id: str) -> None:
    with engine.begin() as c:
        ids = select(tables.sales.c.id).where(tables.sales.c.merchant_id == merchant_id)
        c.execute(delete(tables.sale_items).where(tables.sale_items.c.sale_id.in_(ids)))
        c.execute(delete(tables.sales).where(tables.sales.c.merchant_id == merchant_id))


def test_both_readers_record_and_report_the_same(deps: Deps, engine: Engine, world: World, tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    _write(path, 600, seed=20261119)
    admin = world.a.actors["admin"]
    naive = [0]

    def saw() -> None:
        naive[0] += 1

    rows = sales_import.read_sales(read_rows(path), {"MA01": world.a.terminal_id}, SHANGHAI, saw)
    one_by_one = sales_import.import_sales(deps, admin, rows, batch=64)
    recorded_one_by_one = _recorded(engine, world.a.id)
    _forget(engine, world.a.id)

    scope = sales_import.import_scope(deps, admin)
    batches = list(read_sale_batches(path, scope, FIELD_RULES, SHANGHAI, deps.clock.now, batch=64))
    assert sum(b.clean_rows for b in batches) > 200  # the bulk path did most of the work
    bulk = sales_import.import_table(deps, admin, scope, batches, SHANGHAI)

    assert bulk.errors == one_by_one.errors
    assert len(one_by_one.errors) > 100
    assert (bulk.rows, bulk.imported, bulk.duplicates) == (one_by_one.rows, one_by_one.imported, one_by_one.duplicates)
    assert bulk.naive_times == naive[0]
    assert _recorded(engine, world.a.id) == recorded_one_by_one


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_refunds_get_the_write_lock_between_the_batches(
    deps: Deps, world: World, settings: Settings, tmp_path: Path
) -> None:
    """Each batch is one short transaction: after each, another writer (a refund request) takes SQLite's
    write lock at once instead of waiting for the whole file."""
    path = tmp_path / "sales.csv"
    rows = [f"MA01,,,,,L{i},wechat,sale,100,,CNY,2026-11-19 10:05:00,o***ab" for i in range(200)]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    admin = world.a.actors["admin"]
    db_file = settings.database_url.removeprefix("sqlite:///")
    locks: list[int] = []

    def a_refund_writes(n: int) -> None:
        other = sqlite3.connect(db_file, timeout=0.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" after 0.5 s if the import held the lock
            other.execute("ROLLBACK")
            locks.append(n)
        finally:
            other.close()

    scope = sales_import.import_scope(deps, admin)
    batches = read_sale_batches(path, scope, FIELD_RULES, SHANGHAI, deps.clock.now, batch=50)
    report = sales_import.import_table(deps, admin, scope, batches, SHANGHAI, a_refund_writes)
    assert (report.imported, locks) == (200, [50, 50, 50, 50])


def test_a_sale_twice_in_the_file_is_recorded_from_its_first_line_by_any_number_of_writers(
    deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    """PostgreSQL writes batches side by side (``uow.writers``); a batch holding a sale of one still being
    written waits for it, so the sale keeps its first line's amount, as with one writer."""
    rows = [f"MA01,,,,,W{i},wechat,sale,{100 + i},,CNY,2026-11-19 10:05:00,o***ab" for i in range(200)]
    rows[60] = "MA01,,,,,W3,wechat,sale,9999,,CNY,2026-11-19 10:05:00,o***ab"  # batch 2 repeats batch 1's W3
    rows[130] = "MA01,,,,,W70,wechat,sale,8888,,CNY,2026-11-19 10:05:00,o***ab"  # batch 3 repeats batch 2's W70
    path = tmp_path / "sales.csv"
    path.write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="utf-8")
    admin = world.a.actors["admin"]
    scope = sales_import.import_scope(deps, admin)
    batches = read_sale_batches(path, scope, FIELD_RULES, SHANGHAI, deps.clock.now, batch=50)
    report = sales_import.import_table(deps, admin, scope, batches, SHANGHAI)
    assert (report.rows, report.imported, report.duplicates, report.errors) == (200, 198, 2, [])
    with engine.connect() as c:
        amounts = dict(
            c.execute(
                select(tables.sales.c.order_no, tables.sales.c.amount_fen).where(
                    tables.sales.c.merchant_id == world.a.id
                )
            ).all()
        )
    assert (len(amounts), amounts["W3"], amounts["W70"]) == (198, 103, 170)
    assert deps.uow.writers == (1 if engine.dialect.name == "sqlite" else 2)
