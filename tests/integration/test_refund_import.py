"""Refunds the channel made without posrefund (at the terminal, in the wallet's merchant platform), imported so
reconciliation and the sales know them: each row finds its sale by the channel's keys, the sale's refunded
amount grows, a refund no. already recorded is skipped, and a file with any bad row changes nothing at all while
every bad row is reported with its line and code (CLI, API)."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from posrefund.adapters.db import tables
from posrefund.adapters.refund_table import read_refund_table
from posrefund.adapters.tabular import read_rows
from posrefund.config import Settings
from posrefund.domain.roles import Actor
from posrefund.entrypoints.cli.main import app as cli
from posrefund.service.deps import Deps
from posrefund.service.reconciliation import refund_imports
from posrefund.service.reconciliation.refund_imports import NOTE
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


def _import(deps: Deps, actor: Actor, path: Path, door: str) -> refund_imports.RefundImportReport:
    """``rows``: every row read and checked one at a time; ``table``: the CLI's and the API's way, the file read
    by polars, the rows it clears in bulk matched to their sales in one join (the answers must be the same)."""
    if door == "rows":
        return refund_imports.import_refunds(deps, actor, read_rows(path), SHANGHAI, path.name)
    terminals = refund_imports.refund_terminals(deps, actor)
    table = read_refund_table(path, refund_imports.REFUND_RULES, terminals, SHANGHAI, deps.clock.now())
    return refund_imports.import_refund_table(deps, actor, table, SHANGHAI, path.name)


def _cases(engine: Engine, merchant_id: str) -> list[tuple[Any, ...]]:
    """What a recorded case holds beside its amounts, by refund no.: its note, reason, terminal, currency, whether
    it was sent, and its times (requested, sent and succeeded all at the channel's time)."""
    r, t = tables.refunds.c, tables.terminals.c
    q = (
        select(r.note, r.reason, t.terminal_no, r.currency, r.submitted, r.created_at, r.sent_at, r.succeeded_at)
        .join(tables.terminals, t.id == r.terminal_id)
        .where(r.merchant_id == merchant_id)
        .order_by(r.refund_no)
    )
    with engine.connect() as c:
        rows = c.execute(q).all()
    assert all(row.created_at == row.sent_at == row.succeeded_at for row in rows)
    return [(*row[:4], bool(row.submitted), row.created_at.astimezone(UTC).isoformat()) for row in rows]


@pytest.mark.parametrize("door", ["rows", "table"])
def test_clean_rows_and_rows_read_one_at_a_time_are_matched_together(
    door: str, deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    """A note with digits in Chinese is read on its own, the others in bulk: one file, one answer; a refund no.
    twice in the file for the same sale and amount is recorded once; two refunds of one sale may not together
    pass what it holds."""
    finance = world.a.actors["finance"]
    seed_sales(deps, world, tmp_path)
    rows = [
        "RT1,card,,MA01,000001,000001,,400,2026-11-19 15:00:00,000000000091,refund,退货 12 件 345",
        "RT2,card,,,,,000000000001,300,2026-11-19 16:00:00,,refund,",
        "RT2,card,,,,,000000000001,300,2026-11-19 16:00:00,,refund,",
        "RW1,wechat,W1,,,,,2000,2026-11-19T08:00:00Z,50300000001,refund,",
    ]
    report = _import(deps, finance, file_of(tmp_path / "mixed.csv", rows), door)
    assert (report.rows, report.imported, report.duplicates, report.errors, report.naive_times) == (4, 3, 1, [], 3)
    assert len(report.refund_ids) == 3
    assert _state(engine, world.a.id)["sales"] == [("C1", 700, 2), ("W1", 2000, 1)]
    assert _cases(engine, world.a.id)[0][0] == NOTE + ": 退货 12 件 345"
    over = [
        "RT3,card,,MA01,,000001,,200,2026-11-19 16:00:00,,refund,",
        "RT4,card,,,,,000000000001,200,2026-11-19 16:00:00,,refund,",
    ]
    refused = _import(deps, finance, file_of(tmp_path / "over.csv", over), door)
    assert [(line, code, params) for line, code, params in refused.errors] == [
        (3, "refund_import.over_refund", {"line": 3, "refundable_fen": 100})
    ]
    assert _state(engine, world.a.id)["sales"] == [("C1", 700, 2), ("W1", 2000, 1)]


@pytest.mark.parametrize("door", ["rows", "table"])
def test_channel_refunds_are_recorded_once_and_a_bad_file_changes_nothing(
    door: str, deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    seed_sales(deps, world, tmp_path)
    path = file_of(tmp_path / "refunds.csv", GOOD)
    report = _import(deps, finance, path, door)
    assert (report.rows, report.imported, report.duplicates, report.errors, report.naive_times) == (2, 2, 0, [], 1)
    after = _state(engine, world.a.id)
    assert after["sales"] == [("C1", 400, 1), ("W1", 2000, 1)]
    assert after["refunds"] == [
        ("RT1", "succeeded", 400, "refund", "000000000091", finance.id),
        ("RW1", "succeeded", 2000, "refund", "50300000001", finance.id),
    ]
    assert _cases(engine, world.a.id) == [
        (NOTE + ": 退货 at the till", "other", "MA01", "CNY", True, "2026-11-19T07:00:00+00:00"),
        (NOTE, "other", "MA01", "CNY", True, "2026-11-19T08:00:00+00:00"),
    ]
    again = _import(deps, finance, path, door)
    assert (again.imported, again.duplicates, again.errors) == (0, 2, [])
    assert _state(engine, world.a.id) == after  # nothing written, nothing audited

    bad = file_of(tmp_path / "bad.csv", BAD)
    refused = _import(deps, finance, bad, door)
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
