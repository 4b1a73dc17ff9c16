"""The operator CLI end to end, in-process, against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from posrefund.adapters.crypto import generate_key_spec
from posrefund.adapters.db.engine import make_engine
from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("POSREFUND_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("POSREFUND_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("POSREFUND_PII_KEY", settings.pii_key)
    monkeypatch.setenv("POSREFUND_AUDIT_KEY", generate_key_spec("a1"))
    monkeypatch.setenv("POSREFUND_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POSREFUND_LOG_FILE", str(settings.log_file))
    return settings


def run(*args: str, ok: bool = True, stdin: str | None = None) -> Any:
    result = runner.invoke(app, list(args), input=stdin)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def js(*args: str) -> Any:
    return json.loads(run(*args, "--json").stdout)


def test_setting_up_a_merchant_from_the_cli(env: Settings, tmp_path: Path) -> None:
    run("db", "upgrade")
    m = js("merchant", "create", "--code", "SHOP1", "--name", "一号商户")
    assert m["code"] == "SHOP1" and m["id"].startswith("mch_")
    dup = run("merchant", "create", "--code", "SHOP1", "--name", "x", ok=False)
    assert dup.exit_code == 1 and "merchant.code_taken" in dup.output
    store = js("store", "create", "-m", "SHOP1", "--name", "旗舰店")
    term = js("terminal", "create", "--store", store["id"], "--sn", "SN001", "--terminal-no", "T001")
    assert term["api_key"].startswith(term["api_key_id"] + ".")  # shown this once
    generated = js("merchant", "create", "--name", "二号商户")
    assert generated["code"].startswith("M") and generated["id"].startswith("mch_")
    user = js(
        "user", "create", "-m", "SHOP1", "--username", "shop1_admin", "--role", "admin", "--password", "long-enough-1"
    )
    assert user["role"] == "admin" and "password_hash" not in user
    r = runner.invoke(
        app,
        ["user", "create", "-m", "SHOP1", "--username", "shop1_cashier", "--role", "cashier", "--json"],
        input="from-stdin-pw\n",
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["username"] == "shop1_cashier"
    key = js("apikey", "create", "-m", "SHOP1", "--terminal", term["id"])
    assert key["key"].startswith(key["id"] + ".")

    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(
        "[policy]\nrefund_window_days = 15\nauto_approve_limit_fen = 5000\n"
        '[policy.evidence_required]\ngoods_quality = ["receipt"]\n',
        encoding="utf-8",
    )
    loaded = js("policy", "load", "-m", "SHOP1", str(policy_file))
    assert loaded["version"] == 1 and loaded["refund_window_days"] == 15
    assert js("policy", "show", "-m", "SHOP1")["evidence_required"] == {"goods_quality": ["receipt"]}
    bad = tmp_path / "bad.toml"
    bad.write_text("refund_window_dayz = 3\n", encoding="utf-8")
    assert "policy.unknown_field" in run("policy", "load", "-m", "SHOP1", str(bad), ok=False).output

    csv_file = tmp_path / "sales.csv"
    header = "terminal_id,voucher_no,rrn,batch_no,auth_code,order_no,channel,kind,amount_fen,fee_fen,currency,paid_at,payer_masked"
    rows = [
        f"T001,{i:06d},{i:012d},000001,AB12CD,ORD{i},card,sale,{1000 + i},6,CNY,2026-11-19T10:00:00+08:00,622202******1234"
        for i in range(1, 121)
    ]
    rows.append("T001,000001,000000000001,000001,AB12CD,ORD1,card,sale,1001,6,CNY,2026-11-19T10:00:00+08:00,")
    rows.append("T001,000999,000000000999,000001,,ORD999,card,sale,not-a-number,6,CNY,2026-11-19T10:00:00+08:00,")
    rows.append(
        "T001,000998,000000000998,000001,,ORD998,card,sale,100,0,CNY,2026-11-19T10:00:00+08:00,4111111111111111"
    )
    csv_file.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = run("sales", "import", "-m", "SHOP1", str(csv_file), "--json", ok=False)
    assert result.exit_code == 1  # some lines were refused: scripts must notice
    report = json.loads(result.stdout)
    assert (report["imported"], report["duplicates"]) == (120, 1)
    assert [(e["line"], e["code"]) for e in report["errors"]] == [
        (123, "import.bad_line"),
        (124, "pan_detected"),
    ]
    assert "4111111111111111" not in csv_text_of_db(env)


def csv_text_of_db(settings: Settings) -> str:
    eng = make_engine(settings.database_url)
    with eng.connect() as c:
        rows = c.execute(text("SELECT * FROM sales")).all()
    eng.dispose()
    return " ".join(str(r) for r in rows)


def test_demo_refunds_and_audit_verify_catches_one_changed_byte(env: Settings) -> None:
    demo = js("demo")
    assert demo["sales"] == 300 and demo["refunds"] >= 20 and len(demo["users"]) == 9
    again = run("demo", "--if-empty")
    assert "already" in again.output
    listed = js("refund", "list", "-m", "DEMO", "--limit", "5")
    assert listed["total"] >= 20 and len(listed["items"]) == 5
    shown = js("refund", "show", "-m", "DEMO", listed["items"][0]["id"])
    assert shown["events"][0]["action"] == "refund.requested"
    by_number = js("refund", "show", "-m", "DEMO", listed["items"][0]["refund_no"])  # as on the slip
    assert by_number["id"] == listed["items"][0]["id"] and by_number["events"] == shown["events"]
    ok = js("audit", "verify")
    assert ok["ok"] is True and ok["checked"] > 300

    eng = make_engine(env.database_url)
    with eng.begin() as c:
        victim = c.execute(
            text("SELECT id, reason FROM audit_events WHERE reason <> '' ORDER BY id LIMIT 1 OFFSET 3")
        ).one()
        changed = victim.reason[:-1] + ("x" if victim.reason[-1] != "x" else "y")  # one character differs
        c.execute(text("UPDATE audit_events SET reason = :r WHERE id = :i"), {"r": changed, "i": victim.id})
    eng.dispose()
    resumed = js("audit", "verify")  # from the checkpoints just signed: an earlier event changed in place is not read
    assert resumed["ok"] is True and resumed["checked"] == 0 and resumed["resumed"] >= 1
    broken = run("audit", "verify", "--full", "--json", ok=False)
    assert broken.exit_code == 1
    report = json.loads(broken.stdout)
    assert report["ok"] is False and report["event_id"] == victim.id and report["problem"] == "hash_mismatch"
    human = run("audit", "verify", "--full", ok=False)
    assert f"#{victim.id}" in human.output


def test_setting_a_merchants_wechat_sub_mchid_from_the_cli(env: Settings) -> None:
    run("db", "upgrade")
    js("merchant", "create", "--code", "SUBM1", "--name", "子商户")
    row = js(
        "merchant", "channel-account", "-m", "SUBM1", "--sub-mchid", "1900000109", "--sub-appid", "wx8888888888888888"
    )
    assert (row["channel"], row["sub_mchid"], row["sub_appid"], row["updated_by"]) == (
        "wechat",
        "1900000109",
        "wx8888888888888888",
        "cli",
    )
    bad = run("merchant", "channel-account", "-m", "SUBM1", "--sub-mchid", "not-digits", ok=False)
    assert bad.exit_code == 1 and "channel_account.invalid_sub_mchid" in bad.output


def test_a_merchant_onboarded_from_the_cli_keeps_its_account_as_last_four(env: Settings) -> None:
    run("db", "upgrade")
    made = run(
        "merchant", "create", "--code", "SHOP9", "--name", "九号商户", "--licence-no", "91440300708461136T",
        "--settlement-bank", "招商银行", "--settlement-holder", "九号商户", "--json",
        stdin="6222021234567890128\n",
    )  # fmt: skip
    row = json.loads(made.stdout[made.stdout.index("{") :])
    assert (row["licence_no"], row["settlement_account_masked"]) == ("91440300708461136T", "****0128")
    assert "6222021234567890128" not in made.stdout
    wrong = run("merchant", "create", "--name", "x", "--licence-no", "91440300708461136X", ok=False)
    assert wrong.exit_code == 1 and "merchant.invalid_licence_no" in wrong.output
