"""``posrefund deposits …`` in-process against the test database: a terms template, a 定金 attached to its
payment, a proposal for the merchant's breach, its acceptance (refund plus penalty transfer), and a refusal."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.integration.test_cli import env  # noqa: F401 - the fixture that points the CLI at the test database
from tests.support.helpers import new_sale

runner = CliRunner()


def js(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_terms_attach_propose_accept(env: Settings, deps: Deps, world: World) -> None:  # noqa: F811
    m = world.a.id
    terms = js("deposits", "terms-add", "-m", m, "--name", "婚宴定金", "--kind", "deposit", "--hold-days", "60")
    assert (terms["kind"], terms["hold_days"]) == ("deposit", 60)
    assert [t["id"] for t in js("deposits", "terms", "-m", m)["items"]] == [terms["id"]]
    sale = new_sale(deps, world.a, kind="deposit", amount_fen=300_000)
    deposit = js(
        "deposits", "attach", "-m", m, "--sale", sale.id, "--terms", terms["id"], "--contract-value-fen", "1000000"
    )
    assert (deposit["amount_fen"], deposit["status"]) == (300_000, "held")

    shown = runner.invoke(app, ["deposits", "propose", "-m", m, deposit["id"], "--ending", "merchant_breach"])
    assert shown.exit_code == 0, shown.output
    assert "定金上限 ¥2,000.00" in shown.output and "罚金 penalty ¥2,000.00" in shown.output
    proposal = js("deposits", "propose", "-m", m, deposit["id"], "--ending", "merchant_breach")
    done = js("deposits", "accept", "-m", m, deposit["id"], proposal["id"])
    assert (done["refund"]["amount_fen"], done["payout"]["amount_fen"]) == (300_000, 200_000)
    assert done["payout"]["refund_id"] == done["refund"]["id"]

    refused = runner.invoke(app, ["deposits", "propose", "-m", m, deposit["id"], "--ending", "item_returned"])
    assert refused.exit_code == 1 and "deposit.ending_not_for_kind" in refused.output
    assert js("deposits", "overdue", "-m", m)["items"] == []
    assert [d["status"] for d in js("deposits", "list", "-m", m)["items"]] == ["settling"]
