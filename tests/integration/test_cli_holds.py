"""``posrefund holds …`` in-process against the test database: a card hold recorded from the terminal, listed,
shown among those nearing expiry, a release asked for, and a completion above the tolerance refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from typer.testing import CliRunner

from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app
from posrefund.service import fund_holds
from posrefund.service.deps import Deps
from posrefund.service.fund_holds import CardHoldInput
from tests.conftest import FixedClock, World
from tests.integration.test_cli import env  # noqa: F401 - the fixture that points the CLI at the test database

runner = CliRunner()


def js(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_expiring_release_and_a_refusal(env: Settings, deps: Deps, world: World, clock: FixedClock) -> None:  # noqa: F811
    clock.at = datetime.now(UTC)  # the CLI reads the real clock
    slip = CardHoldInput(
        world.a.terminal_id, 10_000, clock.now() - timedelta(days=28), "112000000001", "A1B2C3", "11", "1"
    )
    hold = fund_holds.record_card_hold(deps, world.a.actors["terminal"], slip)
    m = world.a.id
    listed = js("holds", "list", "-m", m)
    assert [(h["id"], h["state"], h["held_fen"]) for h in listed] == [(hold.id, "held", 10_000)]
    assert [h["id"] for h in js("holds", "expiring", "-m", m, "--days", "3")] == [hold.id]
    refused = runner.invoke(app, ["holds", "complete", "-m", m, hold.id, "--amount", "115.01"])
    assert refused.exit_code == 1 and "hold.above_ceiling" in refused.output
    asked = runner.invoke(app, ["holds", "release", "-m", m, hold.id, "--reason", "退房"])
    assert asked.exit_code == 0, asked.output
    assert "¥100.00" in asked.output
    ops = fund_holds.get_hold(deps, world.a.actors["auditor"], hold.id)[1]
    assert [(o.step.value, o.status.value, o.amount_fen) for o in ops] == [("release", "pending", 10_000)]
