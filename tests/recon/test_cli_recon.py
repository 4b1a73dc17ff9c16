"""`posrefund demo settlement` writes a file with chosen faults; `posrefund reconcile FILE` finds exactly them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from posrefund.adapters.db.engine import make_engine
from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("POSREFUND_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("POSREFUND_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("POSREFUND_PII_KEY", settings.pii_key)
    monkeypatch.setenv("POSREFUND_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POSREFUND_LOG_FILE", str(settings.log_file))
    return settings


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_demo_settlement_then_reconcile_finds_the_injected_faults(env: Settings, tmp_path: Path) -> None:
    run("demo", "--if-empty", "--json")
    eng = make_engine(env.database_url)
    with eng.connect() as c:
        day = c.execute(
            text(
                "SELECT paid_date FROM sales WHERE channel = 'card' GROUP BY paid_date ORDER BY count(*) DESC, paid_date"
            )
        ).scalar()
    eng.dispose()
    day = str(day)
    made = json.loads(
        run(
            "demo", "settlement", "--channel", "card", "--date", day, "--out", str(tmp_path),
            "--missing-here", "2", "--missing-at-channel", "1", "--amount-mismatch", "1", "--fee-mismatch", "0",
            "--duplicate-charge", "1", "--refund-status-mismatch", "0", "--json",
        )
    )  # fmt: skip
    injected = Counter(f["class"] for f in made["injected"])
    assert injected == {"missing_here": 2, "missing_at_channel": 1, "amount_mismatch": 1, "duplicate_charge": 1}
    args = ["reconcile", made["file"], "-m", "DEMO", "--channel", "card", "--date", day]
    result = json.loads(run(*args, "--json"))
    found = {k: v for k, v in result["run"]["totals"]["discrepancies"].items() if v}
    assert found == dict(injected)
    assert result["file"]["duplicate"] is False
    table = run(*args)
    assert "duplicate_charge" in table and "重复扣款" in table and "结果未变 unchanged" in table
    assert "此前已导入" in table  # the same file, recognised
    # The file withdrawn (its run stale), then imported again for another day: its lines are not of it, refused.
    refused = runner.invoke(app, ["settlement-withdraw", result["file"]["file_id"], "-m", "DEMO", "--reason", " "])
    assert refused.exit_code == 1 and "recon.reason_required" in refused.output
    withdrawn = json.loads(
        run("settlement-withdraw", result["file"]["file_id"], "-m", "DEMO", "--reason", "收单机构重发了文件", "--json")
    )
    assert [r["id"] for r in withdrawn["stale_runs"]] == [result["run"]["id"]]
    assert withdrawn["lines_removed"] == result["file"]["lines"]
    again = runner.invoke(app, ["settlement-withdraw", result["file"]["file_id"], "-m", "DEMO", "--reason", "x"])
    assert again.exit_code == 1 and "recon.file_withdrawn" in again.output
    other_day = runner.invoke(
        app, ["reconcile", made["file"], "-m", "DEMO", "--channel", "card", "--date", "2020-01-01"]
    )
    assert other_day.exit_code == 1 and "recon.file_out_of_range" in other_day.output
    back = json.loads(run(*args, "--json"))
    assert (back["file"]["file_id"], back["file"]["duplicate"]) == (result["file"]["file_id"], False)
