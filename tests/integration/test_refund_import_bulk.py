"""The refunds import's bulk reader and match (polars columns, one join per kind of key) against the row-by-row
reading and look-ups: on files drawn from awkward values of every column, both ways must refuse the same rows
with the same codes, and record the same refunds when the file is good."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.refund_table import read_refund_table
from posrefund.adapters.tabular import read_rows
from posrefund.domain.roles import Actor
from posrefund.service import sales_import
from posrefund.service.deps import Deps
from posrefund.service.reconciliation import refund_imports
from tests.conftest import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
SALES = "terminal_id,voucher_no,rrn,batch_no,order_no,channel,amount_fen,currency,paid_at,payer_masked"
GOOD = {
    "channel": ["wechat", "alipay"],
    "order_no": [f"W{n}" for n in range(1, 31)],
    "amount_fen": ["100", "50", "7"],
    "refunded_at": ["2026-11-19 15:00:00", "2026-11-19T08:00:00Z", "2026-11-19T16:00:00.123456+08:00"],
    "note": ["", "退货", "退货 2 件", "customer asked", "①②"],
}
VALUES: dict[str, list[str]] = {
    "refund_no": ["", "r 1", "A" * 65, "RF|x@y-*", "退款1", "R1", "R2"],
    "channel": ["wechat", "alipay", "card", "cash", " wechat ", "WECHAT", ""],
    "order_no": ["W1", "W2", "W31", "", "ZZ9", "4111111111111111", "ab cd", "C1"],
    "terminal_id": ["", "MA01", "ZZ99", " MA01 "],
    "batch_no": ["", "000001", "1234567"],
    "voucher_no": ["", "000001", "000002", "１２３", "12a"],
    "rrn": ["", "000000000001", "000000000002", "ab-12", "R000000000001"],
    "amount_fen": ["100", "50", "0", "-5", "+100", " 100", "1e3", "10000000001", "abc", "", "600"],
    "refunded_at": [
        "2026-11-19 10:05:00",
        "2026-11-19T02:06:00+00:00",
        "2026-11-19T10:00:00.123456+08:00",
        "2026-11-19T10:00:00-05:30",
        "2026/11/19 10:00",
        "2026-02-30 10:00:00",
        "2099-01-01 00:00:00",
        "",
        " 2026-11-19 10:05:00 ",
        "2026-11-19T10:00:00+24:00",
    ],
    "channel_refund_id": ["", "50300000001", "4111111111111111", "x y"],
    "kind": ["", "refund", "void", "x"],
    "note": [
        "",
        "退货",
        "退货 12 件 345",
        "card 4111111111111111",
        "cvv 123",
        "ｃｖｖ １２３",
        "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬",
        "\u3000退货\u3000",
        "a\tb",
        "x" * 600,
        "4111 1111 1111 1111",
        "４１１１１１１１１１１１１１１１",
        "安全码 987",
    ],
    "currency": ["", "CNY", "usd", "HKD"],
}


def _sales(deps: Deps, world: World, tmp_path: Path) -> None:
    """30 wallet sales W1…W30 of ¥50 and two card sales (C1, C2 on MA01, batch 000001, vouchers 1 and 2)."""
    lines = [SALES]
    lines += [
        f"MA01,,,,W{n},{'wechat' if n % 2 else 'alipay'},5000,CNY,2026-11-19 10:00:00,o***ab" for n in range(1, 31)
    ]
    lines += [
        f"MA01,00000{n},00000000000{n},000001,C{n},card,1000,CNY,2026-11-19 10:00:00,6222****1234" for n in (1, 2)
    ]
    path = tmp_path / "sales.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = sales_import.read_sales(read_rows(path), {"MA01": world.a.terminal_id}, SHANGHAI)
    report = sales_import.import_sales(deps, world.a.actors["admin"], rows)
    assert (report.imported, report.errors) == (32, [])


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(list(VALUES))
        for row in rows:
            out.writerow([row.get(name, "") for name in VALUES])


def _bulk(deps: Deps, actor: Actor, path: Path) -> tuple[Any, refund_imports.RefundImportReport]:
    """The CLI's and the API's way: the file read by polars, the rows it clears matched in one join."""
    terminals = refund_imports.refund_terminals(deps, actor)
    table = read_refund_table(path, refund_imports.REFUND_RULES, terminals, SHANGHAI, deps.clock.now())
    return table, refund_imports.import_refund_table(deps, actor, table, SHANGHAI, path.name)


def test_both_ways_refuse_the_same_rows_with_the_same_codes(
    deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    _sales(deps, world, tmp_path)
    pick = random.Random(20261205)
    rows = []
    for n in range(600):  # a good row, or a good row with one field drawn from the awkward values
        row = {name: pick.choice(values) for name, values in GOOD.items()}
        sale = pick.randrange(1, 31)
        row |= {"refund_no": f"G{n}", "order_no": f"W{sale}", "channel": "wechat" if sale % 2 else "alipay"}
        if pick.random() < 0.6:
            name = pick.choice(list(VALUES))
            row[name] = pick.choice(VALUES[name])
        rows.append(row)
    path = tmp_path / "refunds.csv"
    _write(path, rows)
    finance = world.a.actors["finance"]
    one_by_one = refund_imports.import_refunds(deps, finance, read_rows(path), SHANGHAI, path.name)
    table, bulk = _bulk(deps, finance, path)
    assert table.clean_rows > 300  # the bulk reader cleared most rows
    assert len(one_by_one.errors) > 150
    assert bulk.errors == one_by_one.errors
    assert (bulk.rows, bulk.imported, bulk.naive_times) == (one_by_one.rows, 0, one_by_one.naive_times)
    with engine.connect() as c:
        assert c.execute(select(tables.refunds.c.id).where(tables.refunds.c.merchant_id == world.a.id)).all() == []


def _recorded(engine: Engine, merchant_id: str) -> list[tuple[Any, ...]]:
    r, s = tables.refunds.c, tables.sales.c
    keep = [c for c in tables.refunds.columns if c.name not in ("id", "updated_at")]
    with engine.connect() as c:
        cases = c.execute(select(*keep).where(r.merchant_id == merchant_id)).all()
        sales = c.execute(select(s.order_no, s.refunded_fen, s.refund_count).where(s.merchant_id == merchant_id)).all()
    return sorted(tuple(x) for x in cases) + sorted(tuple(x) for x in sales)


def test_both_ways_record_the_same_refunds_of_a_good_file(
    deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    _sales(deps, world, tmp_path)
    pick = random.Random(1119)
    rows = []
    for n in range(300):
        row = {name: pick.choice(values) for name, values in GOOD.items()}
        sale = pick.randrange(1, 31)
        row |= {"refund_no": f"G{n}", "order_no": f"W{sale}", "channel": "wechat" if sale % 2 else "alipay"}
        rows.append(row)
        if pick.random() < 0.1:
            rows.append(dict(row))  # the same refund twice in the file: recorded once
    rows.append(
        {
            "refund_no": "K1",
            "channel": "card",
            "terminal_id": "MA01",
            "voucher_no": "000002",
            "amount_fen": "30",
            "refunded_at": "2026-11-19 15:00:00",
        }
    )
    rows.append(
        {
            "refund_no": "K2",
            "channel": "card",
            "rrn": "000000000001",
            "amount_fen": "40",
            "refunded_at": "2026-11-19 15:00:00",
            "kind": "void",
        }
    )
    path = tmp_path / "refunds.csv"
    _write(path, rows)
    finance = world.a.actors["finance"]
    one_by_one = refund_imports.import_refunds(deps, finance, read_rows(path), SHANGHAI, path.name)
    assert (one_by_one.imported, one_by_one.errors) == (302, [])
    recorded = _recorded(engine, world.a.id)
    with engine.begin() as c:
        c.execute(delete(tables.refunds).where(tables.refunds.c.merchant_id == world.a.id))
        c.execute(
            update(tables.sales).where(tables.sales.c.merchant_id == world.a.id).values(refunded_fen=0, refund_count=0)
        )
    table, bulk = _bulk(deps, finance, path)
    assert table.clean_rows == len(rows)
    assert (bulk.rows, bulk.imported, bulk.duplicates, bulk.errors) == (
        one_by_one.rows,
        302,
        one_by_one.duplicates,
        [],
    )
    assert bulk.naive_times == one_by_one.naive_times
    assert _recorded(engine, world.a.id) == recorded
    # A refund no. already recorded, alone in a file: the same sale and amount a duplicate; another amount, or
    # another sale, refused by both ways with the same code (the bulk match must not clear it).
    other = "W30" if rows[2]["order_no"] != "W30" else "W28"
    for row, code in (
        (rows[0], None),
        (dict(rows[1], amount_fen="1"), "refund_import.refund_no_taken"),
        (dict(rows[2], order_no=other, channel="alipay"), "refund_import.refund_no_taken"),
    ):
        _write(path, [row])
        one_by_one = refund_imports.import_refunds(deps, finance, read_rows(path), SHANGHAI, path.name)
        table, bulk = _bulk(deps, finance, path)
        assert [c for _, c, _ in one_by_one.errors] == ([code] if code else [])
        assert (bulk.errors, bulk.duplicates) == (one_by_one.errors, one_by_one.duplicates)
    assert _recorded(engine, world.a.id) == recorded
