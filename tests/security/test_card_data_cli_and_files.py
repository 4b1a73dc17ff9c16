"""A full card number written any way, given to the CLI or inside an imported settlement file, is refused
(CLI: exit 2 with the Chinese and English message, nothing written) or quarantined as a bad line (file),
and afterwards neither the database nor the log holds it."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from posrefund.adapters.db import tables
from posrefund.adapters.settlement import BadLine, SettlementLine, open_settlement_file, parse_card_settlement
from posrefund.adapters.settlement.reading import screened
from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app
from posrefund.service import reconciliation
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.integration.test_cli import env
from tests.security.probes import PAN, WRITTEN, rows, stored_nowhere

__all__ = ["env"]
FORMS = sorted(WRITTEN)
HEADER = "交易日期,交易时间,商户号,终端号,卡号,交易类型,交易金额,手续费,凭证号,参考号,批次号,授权码"
GOOD = "20261120,093015,898310058120001,10000001,622202******0128,消费,128.00,0.77,000101,093015123456,000012,A1B2C3"
FOOTER = "合计,,,,,,256.00,1.54,,,,"  # a whole file ends with its totals (with a bad line only its presence is checked)


@pytest.mark.parametrize("form", FORMS)
def test_cli_argument(form: str, env: Settings, deps: Deps, backend: str, engine: Engine) -> None:
    before = rows(engine, tables.merchants), rows(engine, tables.audit_events)
    result = CliRunner().invoke(app, ["merchant", "create", "--name", WRITTEN[form], "--code", "CARDX"])
    assert result.exit_code == 2, result.output
    assert "pan_detected" in result.output and "请勿提交完整银行卡号" in result.output
    assert "give only its last four digits (field: --name)" in " ".join(result.output.split())
    assert (rows(engine, tables.merchants), rows(engine, tables.audit_events)) == before
    stored_nowhere(deps, env, backend, WRITTEN[form])


def _import(deps: Deps, world: World, path: Path) -> reconciliation.ImportReport:
    arguments = open_settlement_file("card", path).import_arguments()
    return reconciliation.import_file(deps, world.a.actors["finance"], **arguments)


@pytest.mark.parametrize("form", FORMS)
def test_settlement_file_line(
    form: str, tmp_path: Path, deps: Deps, world: World, settings: Settings, backend: str, engine: Engine
) -> None:
    """A card number in a column the parser keeps as written (here the reference no.) is not stored: the
    line becomes a bad line that names the column; the other lines are imported."""
    line = GOOD.replace("093015123456", WRITTEN[form]).replace("000101", "000102")
    path = tmp_path / "acquirer.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n{line}\n{FOOTER}\n", encoding="utf-8")
    report = _import(deps, world, path)
    assert (report.lines, report.bad_lines) == (1, 1)
    assert [(b["line_no"], b["reason"]) for b in report.bad] == [(3, "pan_detected in rrn")]
    assert rows(engine, tables.settlement_lines) == 1 and rows(engine, tables.settlement_bad_lines) == 1
    stored_nowhere(deps, settings, backend, WRITTEN[form])


def test_settlement_bad_line_reason_quoting_a_card_number_is_redacted(
    tmp_path: Path, deps: Deps, world: World, settings: Settings, backend: str
) -> None:
    """A parser's reason quotes the value it could not read (``unknown transaction type '…'``): redacted."""
    path = tmp_path / "acquirer.csv"
    path.write_text(f"{HEADER}\n{GOOD.replace('消费', WRITTEN['dots'])}\n{FOOTER}\n", encoding="utf-8")
    report = _import(deps, world, path)
    assert [b["reason"] for b in report.bad] == ["unknown transaction type '[PAN]'"]
    stored_nowhere(deps, settings, backend, WRITTEN["dots"])


def test_a_channel_number_that_looks_like_a_card_is_kept_but_track_data_in_it_is_not() -> None:
    """The channel's own long numbers (trade no., merchant no.) are not searched for a PAN: a Luhn-valid one
    would quarantine real lines. Track data has sentinels no such number has, and is searched everywhere."""
    (line,) = parse_card_settlement(io.BytesIO(f"{HEADER}\n{GOOD}\n".encode()))
    assert isinstance(line, SettlementLine)
    kept = replace(line, channel_trade_no=PAN, merchant_no=PAN)
    track = replace(line, channel_trade_no=f";{PAN}=28121010000000000000?")
    typed = replace(line, merchant_order_no=f"ORD {PAN}")
    out = list(screened(iter([kept, track, typed])))
    assert out[0] == kept
    assert out[1] == BadLine(line.line_no, "track_data_detected in channel_trade_no", "")
    assert out[2] == BadLine(line.line_no, "pan_detected in merchant_order_no", "")
