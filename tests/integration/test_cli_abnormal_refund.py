"""``posrefund refund to-card`` from the host: the card number and holder are asked for with hidden input (never an
argument, never echoed), and the use case's refusals exit 1 with their code."""

from __future__ import annotations

from posrefund.config import Settings
from tests.conftest import World
from tests.integration.test_cli import env, run

__all__ = ["env"]
ACCOUNT = "6222021234567890128"


def test_the_card_is_asked_for_hidden_and_a_refusal_names_its_code(env: Settings, world: World) -> None:
    result = run(
        "refund",
        "to-card",
        "-m",
        world.a.id,
        "rfd_missing",
        "--consent-by",
        "张三",
        "--consent-how",
        "phone",
        "--consent-at",
        "2026-11-20T09:30:00+08:00",
        "--reason",
        "原卡已注销",
        "--bank-type",
        "ICBC_DEBIT",
        ok=False,
        stdin=f"{ACCOUNT}\n张三\n",
    )
    assert result.exit_code == 1
    assert "refund.not_found" in result.output
    assert ACCOUNT not in result.output
