"""Refunds the channel made without posrefund (at the terminal, in the wallet's merchant platform), imported so
reconciliation and the sales know them: each row finds its sale by the channel's keys, the sale's refunded
amount grows, a refund no. already recorded is skipped, and a file with any bad row changes nothing at all while
every bad row is reported with its line and code (CLI, API)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from posrefund.adapters.db import tables
from posrefund.adapters.tabular import read_rows
from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app as cli
from posrefund.service.deps import Deps
from posrefund.service.reconciliation import refund_imports
from tests.conftest import World
from tests.support.channel_refunds import BAD, GOOD, file_of, seed_sales
from tests.support.desk import cli_env

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _state(engine: Engine, merchant_id: str) -> dict[str, Any]:
    s, r = tables.sales.c, tables.refunds.c
    with engine.connect() as c:
        return {
            "sales": sorted(
                c.execute(select(s.order_no, s.refunded_fen, s.refund_count).where(s.merchant_id == merchant_id)).all()
            ),
            "refunds": sorted(
                c.execute(
                    select(r.refund_no, r.status, r.amount_fen, r.method, r.channel_refund_id, r.requested_by).where(
                        r.merchant_id == merchant_id
                    )
                ).all()
            ),
            "audit": c.scalar(select(func.count()).select_from(tables.audit_events)),
        }


def test_channel_refunds_are_recorded_once_and_a_bad_file_changes_nothing(
    deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    seed_sales(deps, world, tmp_path)
    path = file_of(tmp_path / "refunds.csv", GOOD)
    report = refund_imports.import_refunds(deps, finance, read_rows(path), SHANGHAI, "refunds.csv")
    assert (report.rows, report.imported, report.duplicates, report.errors, report.naive_times) == (2, 2, 0, [], 1)
    after = _state(engine, world.a.id)
    assert after["sales"] == [("C1", 400, 1), ("W1", 2000, 1)]
    assert after["refunds"] == [
        ("RT1", "succeeded", 400, "refund", "000000000091", finance.id),
        ("RW1", "succeeded", 2000, "refund", "50300000001", finance.id),
    ]
    again = refund_imports.import_refunds(deps, finance, read_rows(path), SHANGHAI, "refunds.csv")
    assert (again.imported, again.duplicates, again.errors) == (0, 2, [])
    assert _state(engine, world.a.id) == after  # nothing written, nothing audited

    bad = file_of(tmp_path / "bad.csv", BAD)
    refused = refund_imports.import_refunds(deps, finance, read_rows(bad), SHANGHAI, "bad.csv")
    assert [(line, code) for line, code, _ in refused.errors] == [
        (3, "refund_import.sale_not_found"),
        (4, "refund_import.over_refund"),
        (5, "refund_import.refund_no_taken"),
        (6, "import.bad_line"),
        (7, "pan_detected"),
        (8, "refund_import.invalid_field"),
    ]
    assert refused.errors[1][2]["refundable_fen"] == 300
    assert refused.imported == 0
    assert _state(engine, world.a.id) == after  # the good row RT2 was not written either


def test_the_cli_lists_every_refused_row_and_exits_1(
    settings: Settings, deps: Deps, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_sales(deps, world, tmp_path)
    cli_env(settings, monkeypatch)
    result = CliRunner().invoke(cli, ["refund", "import", "-m", "MA", str(file_of(tmp_path / "b.csv", BAD)), "--json"])
    assert result.exit_code == 1, result.output
    assert [e["line"] for e in json.loads(result.stdout)["errors"]] == [3, 5, 6, 7, 8]  # no RT1 before it here
    result = CliRunner().invoke(cli, ["refund", "import", "-m", "MA", str(file_of(tmp_path / "g.csv", GOOD)), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 2
