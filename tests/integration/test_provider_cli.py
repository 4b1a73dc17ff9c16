"""``posrefund provider …`` in-process against the test database: open a provider's desk, list its terminals
and returns, run the decision clock, show the dashboard; a second desk for the same provider is refused."""

from __future__ import annotations

from posrefund.config import Settings
from tests.integration.test_cli import env, js, run  # noqa: F401  (the CLI's environment)


def test_a_provider_desk_from_the_cli(env: Settings) -> None:  # noqa: F811
    run("db", "upgrade")
    desk = js("provider", "setup", "-p", "P9", "--name", "联动优势（机具）", "--code", "P9SELLER")
    assert desk["provider_id"] == "P9" and desk["seller_merchant_id"].startswith("mch_")
    again = run("provider", "setup", "-p", "P9", "--name", "x", "--code", "P9OTHER", ok=False)
    assert again.exit_code == 1 and "provider.desk_exists" in again.output
    assert js("provider", "terminals", "-p", "P9") == []
    assert js("provider", "returns", "-p", "P9", "--open") == []
    assert js("provider", "clock") == {"escalated": 0, "breached": 0}
    board = js("provider", "dashboard", "-p", "P9")
    assert (board["open_returns"], board["refunded_this_month_fen"]) == (0, 0)
    assert "服务商" in run("provider", "--help").output
