"""``posrefund fees …`` in-process against the test database: a contract loaded from TOML, an overlapping one
refused, the check over an imported acquirer file with its statement, approval and transfer by two other people,
and the 299-yuan charge asked back too early."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app
from posrefund.service.deps import Deps
from tests.api.test_fees_api import import_card_file
from tests.conftest import World
from tests.integration.test_cli import env  # noqa: F401 - the fixture that points the CLI at the test database

runner = CliRunner()
CONTRACT = """
effective_from = 2026-11-01
consented_on = 2026-10-25
consent_ref = "HT-2026-118"

[[rules]]
channel = "card"
card_type = "credit"
rate_ppm = 6000

[[rules]]
channel = "card"
card_type = "debit"
rate_ppm = 5000
cap_fen = 2000
"""


def js(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_contract_check_approve_pay(env: Settings, deps: Deps, world: World, tmp_path: Path) -> None:  # noqa: F811
    m = world.a.id
    toml = tmp_path / "contract.toml"
    toml.write_text(CONTRACT, encoding="utf-8")
    assert js("fees", "contract-add", "-m", m, str(toml), "--operator", "王会计")["rules"] == 2
    again = runner.invoke(app, ["fees", "contract-add", "-m", m, str(toml)])
    assert again.exit_code == 1 and "fees.period_overlap" in again.output
    shown = js("fees", "contract", "-m", m)
    assert shown[0]["rules"] == ["银行卡 贷记卡 0.60%", "银行卡 借记卡 0.50%，封顶 20.00 元"]

    import_card_file(deps, world, tmp_path)
    checked = js("fees", "check", "-m", m, "--from", "2026-11-01", "--to", "2026-11-30", "--operator", "王会计")
    assert [s["difference_fen"] for s in checked["statement"]] == [3_000, 60, 5]
    case_id = checked["case"]["id"]
    own = runner.invoke(app, ["fees", "approve", "-m", m, case_id, "--operator", "王会计"])
    assert own.exit_code == 1 and "fees.self_approval" in own.output
    assert runner.invoke(app, ["fees", "approve", "-m", m, case_id, "--operator", "李经理"]).exit_code == 0
    paid = runner.invoke(app, ["fees", "pay", "-m", m, case_id, "--transfer-ref", "CMB001", "--operator", "赵出纳"])
    assert paid.exit_code == 0 and "已付款：30.65 元" in paid.output
    assert js("fees", "case", "-m", m, case_id)["case"]["status"] == "paid"

    charge = js("fees", "charge-add", "-m", m, "--kind", "activation", "--amount-fen", "29900",
                "--charged-on", "2026-11-01", "--terms", "volume", "--volume-fen", "5000000", "--within-days", "90")  # fmt: skip
    asked = runner.invoke(app, ["fees", "charge-refund", "-m", m, charge["id"]])
    assert asked.exit_code == 0, asked.output
    assert "不予退还" in asked.output and "尚差 38,800.00 元" in asked.output
