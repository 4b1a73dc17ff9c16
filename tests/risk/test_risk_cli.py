"""``posrefund risk …`` in-process against the test database: rules shown and set, a back-test, a scan that keeps
alerts, the list, and a decision refused without a reason then taken with one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app
from posrefund.service.deps import Deps
from tests.api.risk_routes import after_hours_alert
from tests.conftest import World
from tests.integration.test_cli import env  # noqa: F401 - the fixture that points the CLI at the test database

runner = CliRunner()


def js(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_rules_scan_alerts_and_a_decision(env: Settings, deps: Deps, world: World, tmp_path: Path) -> None:  # noqa: F811
    m = world.a.id
    alert_id = after_hours_alert(deps, world)
    day = "2026-11-20"
    found = js("risk", "backtest", "-m", m, "--since", day, "--until", day)
    assert [f["rule"] for f in found["findings"]] == ["after_hours"]
    assert js("risk", "scan", "-m", m, "--since", day, "--until", day) == {"raised": 0, "updated": 0, "unchanged": 1}
    listed = js("risk", "alerts", "-m", m, "--status", "new")
    assert [a["id"] for a in listed["items"]] == [alert_id]

    refused = runner.invoke(app, ["risk", "decide", "-m", m, alert_id, "--status", "dismissed"])
    assert refused.exit_code == 1 and "risk.reason_required" in refused.output
    done = js("risk", "decide", "-m", m, alert_id, "--status", "dismissed", "--reason", "盘点夜班，店长批准")
    assert (done["status"], done["decided_by"]) == ("dismissed", "cli")

    settings = tmp_path / "rules.json"
    settings.write_text(json.dumps({"after_hours": {"close_minute": 1_410}}), encoding="utf-8")
    view = js("risk", "rules", "-m", m, "--set", str(settings))
    after_hours = next(r for r in view["rules"] if r["code"] == "after_hours")
    assert after_hours["settings"]["close_minute"] == 1_410
    assert after_hours["feedback"]["dismissed"] == 1
    assert js("risk", "backtest", "-m", m, "--since", day, "--until", day)["findings"] == []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"after_hours": {"close_minute": 5_000}}), encoding="utf-8")
    refused = runner.invoke(app, ["risk", "rules", "-m", m, "--set", str(bad)])
    assert refused.exit_code == 1 and "risk.invalid_setting" in refused.output
