"""Sales imported in bulk (CSV and XLSX): checked like a sale through the API, written in batches, a sale already
recorded skipped by its keys (a card's terminal, batch and voucher no.; a wallet sale's order no.), naive times
read in the merchant's time zone and counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from posrefund.adapters.db import tables
from posrefund.adapters.sales_table import read_sale_batches
from posrefund.adapters.tabular import read_rows
from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app
from posrefund.service import sales_import
from posrefund.service.deps import Deps
from posrefund.service.sales import FIELD_RULES
from tests.conftest import World
from tests.support.desk import cli_env

HEADER = "terminal_id,voucher_no,rrn,batch_no,auth_code,order_no,channel,kind,amount_fen,fee_fen,currency,paid_at,payer_masked"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _rows(terminal_no: str) -> list[str]:
    return [
        f"{terminal_no},000001,000000000001,000001,AB12CD,C1,card,sale,1000,6,CNY,2026-11-19T10:00:00+08:00,622202******1234",
        f"{terminal_no},,,,,W1,wechat,sale,2000,8,CNY,2026-11-19 10:05:00,o***ab",  # wallet: its order no.
        f"{terminal_no},,,,,W2,alipay,sale,3000,11,CNY,2026-11-19T02:06:00+00:00,159****5620",
        f"{terminal_no},,,,,W1,wechat,sale,2000,8,CNY,2026-11-19 10:05:00,o***ab",  # the same wallet sale again
        f"{terminal_no},,,,,,wechat,sale,2000,8,CNY,2026-11-19 10:05:00,o***ab",  # a wallet sale needs its order no.
        f"{terminal_no},,,,,X1,card,sale,2000,8,CNY,2026-11-19 10:05:00,",  # a card sale needs its voucher no.
    ]


def _import(deps: Deps, world: World, path: Path, door: str = "rows") -> tuple[sales_import.ImportReport, int]:
    """``rows``: every row read and checked one at a time; ``table``: the CLI's way, the file read in batches by
    polars and the rows it clears in bulk written as they are (the answers must be the same)."""
    finance = world.a.actors["admin"]
    if door == "table":
        scope = sales_import.import_scope(deps, finance)
        batches = read_sale_batches(path, scope, FIELD_RULES, SHANGHAI, deps.clock.now, batch=2)
        report = sales_import.import_table(deps, finance, scope, batches, SHANGHAI)
        return report, report.naive_times
    naive = [0]

    def saw() -> None:
        naive[0] += 1

    rows = sales_import.read_sales(read_rows(path), {"MA01": world.a.terminal_id}, SHANGHAI, saw)
    return sales_import.import_sales(deps, finance, rows, batch=2), naive[0]


@pytest.mark.parametrize("door", ["rows", "table"])
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_wallet_sales_are_their_order_no_and_naive_times_are_shanghai(
    kind: str, door: str, deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    path = tmp_path / f"sales.{kind}"
    if kind == "csv":
        path.write_text("\n".join([HEADER, *_rows("MA01")]) + "\n", encoding="utf-8")
    else:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        for line in [HEADER, *_rows("MA01")]:
            sheet.append(line.split(","))
        book.save(path)
    report, naive = _import(deps, world, path, door)
    assert (report.imported, report.duplicates, report.rows) == (3, 1, 6)
    assert [(line, code, params.get("field")) for line, code, params in report.errors] == [
        (6, "sale.invalid_field", "order_no"),
        (7, "sale.invalid_field", "voucher_no"),
    ]
    assert naive == 4
    with engine.connect() as c:
        got = {r.order_no: r for r in c.execute(select(tables.sales).where(tables.sales.c.merchant_id == world.a.id))}
    assert sorted(got) == ["C1", "W1", "W2"]
    assert (got["W1"].voucher_no, got["W1"].batch_no, got["W1"].rrn) == ("", "", "")
    assert got["W1"].paid_at.astimezone(UTC) == datetime(2026, 11, 19, 2, 5, tzinfo=UTC)
    again, _ = _import(deps, world, path, door)  # the whole file again: every sale is already recorded
    assert (again.imported, again.duplicates) == (0, 4)


def test_the_cli_says_how_it_read_naive_times(
    settings: Settings, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_env(settings, monkeypatch)
    path = tmp_path / "sales.csv"
    path.write_text("\n".join([HEADER, *_rows("MA01")[:3]]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["sales", "import", "-m", "MA", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["imported"], report["duplicates"], report["errors"]) == (3, 0, [])
    assert (report["naive_times"], report["time_zone"]) == (1, "Asia/Shanghai")


@pytest.mark.parametrize("door", ["rows", "table"])
def test_item_lines_are_kept_for_the_sales_recorded_and_not_added_to_a_known_one(
    door: str, deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "sales.csv"
    rows = [
        "MA01,,,,,I1,wechat,sale,2500,8,CNY,2026-11-19 10:05:00,o***ab,咖啡:2:1000;蛋糕:1:500",
        "MA01,,,,,I2,wechat,sale,900,3,CNY,2026-11-19 10:06:00,o***ab,",  # an amount only: no lines
        "MA01,,,,,I3,wechat,sale,900,3,CNY,2026-11-19 10:07:00,o***ab,茶:1:800",  # lines short of the amount
        "MA01,,,,,I4,wechat,sale,900,3,CNY,2026-11-19 10:08:00,o***ab,茶:x:800",  # not a quantity
    ]
    path.write_text("\n".join([HEADER + ",items", *rows]) + "\n", encoding="utf-8")
    report, _ = _import(deps, world, path, door)
    assert (report.imported, report.duplicates) == (2, 0)
    assert [(line, code) for line, code, _ in report.errors] == [(4, "sale.items_sum_mismatch"), (5, "import.bad_line")]
    path.write_text("\n".join([HEADER + ",items", rows[0].replace("咖啡:2:1000", "咖啡:1:2000")]) + "\n", "utf-8")
    again, _ = _import(deps, world, path, door)  # the same order again, with other lines: skipped, lines untouched
    assert (again.imported, again.duplicates) == (0, 1)
    s, i = tables.sales.c, tables.sale_items.c
    with engine.connect() as c:
        got = c.execute(
            select(s.order_no, i.line, i.name, i.quantity, i.unit_price_fen, i.amount_fen)
            .join_from(tables.sale_items, tables.sales, s.id == i.sale_id)
            .where(s.merchant_id == world.a.id)
            .order_by(s.order_no, i.line)
        ).all()
    assert [tuple(r) for r in got] == [("I1", 1, "咖啡", 2, 1000, 2000), ("I1", 2, "蛋糕", 1, 500, 500)]
