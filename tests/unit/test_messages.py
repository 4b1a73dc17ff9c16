"""Every error code raised anywhere has a Chinese and an English message."""

from __future__ import annotations

import re
from pathlib import Path

from posrefund.i18n import message, pick_language
from posrefund.i18n.messages import MESSAGES

SRC = Path(__file__).parents[2] / "src" / "posrefund"
RAISED = re.compile(
    r"(?:Invalid|Forbidden|NotFound|Conflict|IllegalTransition|Unauthorized|DomainError|Violation|error_body|"
    r'error_response|super\(\).__init__)\(\s*"([a-z_]+\.[a-z_.]+)"'
)


def test_every_raised_code_has_both_languages() -> None:
    codes = {m for f in SRC.rglob("*.py") for m in RAISED.findall(f.read_text(encoding="utf-8"))}
    assert len(codes) > 50
    missing = sorted(codes - set(MESSAGES))
    assert missing == []
    for code, (zh, en) in MESSAGES.items():
        assert zh and en and zh != en, code


def test_language_negotiation() -> None:
    assert pick_language(None) == "zh"
    assert pick_language("en-GB,en;q=0.8") == "en"
    assert pick_language("fr-FR,zh-CN;q=0.5,en;q=0.4") == "zh"
    assert pick_language("de") == "zh"
    assert message("refund.exceeds_refundable", "en", {"amount_fen": 5}) == (
        "Refund of 5 exceeds the refundable {refundable_fen}"
    )
