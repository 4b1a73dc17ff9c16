"""Screen text in both languages, and the console's formatting of money, dates and typed amounts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from posrefund.domain.errors import Invalid
from posrefund.domain.policy import EvidenceKind, Reason
from posrefund.domain.refund import RefundStatus
from posrefund.domain.roles import MERCHANT_STAFF
from posrefund.domain.sale import Channel
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.texts import EN, LABELS
from posrefund.entrypoints.console.web import ENVS, MENU

TEMPLATES = Path(__file__).parents[2] / "src" / "posrefund" / "entrypoints" / "console" / "templates"


def test_every_screen_text_has_an_english_line() -> None:
    env = ENVS["zh"]
    texts = {m for p in TEMPLATES.glob("*.html") for _l, _f, m in env.extract_translations(p.read_text()) if m}
    texts |= {text for text, _path, _action in MENU}
    assert len(texts) > 100
    assert sorted(t for t in texts if t not in EN) == []
    assert sorted(set(EN) - texts) == []  # no stale lines either


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("reason", Reason),
        ("status", RefundStatus),
        ("channel", Channel),
        ("evidence", EvidenceKind),
        ("role", [r.value for r in MERCHANT_STAFF]),
    ],
)
def test_every_domain_value_has_a_label_in_both_languages(kind: str, values: object) -> None:
    for v in values:  # type: ignore[attr-defined]
        key = getattr(v, "value", v)
        zh, en = LABELS[kind][key]
        assert zh and en and zh != en


def test_money_and_time_formatting() -> None:
    assert fmt.yuan(123_456) == "¥1,234.56" and fmt.yuan(5) == "¥0.05" and fmt.yuan(-100) == "-¥1.00"
    assert fmt.yuan_input(123_450) == "1234.50"
    assert fmt.local(datetime(2026, 11, 20, 16, 30, tzinfo=UTC)) == "2026-11-21 00:30"  # Shanghai is UTC+8
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert fmt.age(start, datetime(2026, 11, 22, 5, 7, tzinfo=UTC), "zh") == "2 天 3 小时"
    assert fmt.age(start, datetime(2026, 11, 20, 2, 45, tzinfo=UTC), "en") == "45 min"


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("12", 1200),
        ("12.3", 1230),
        ("12.34", 1234),
        ("1,234.50", 123_450),
        ("¥0.01", 1),
        (" 7 ", 700),
        ("１２．５", 1250),
    ],
)
def test_typed_amounts_become_exact_fen(typed: str, fen: int) -> None:
    assert fmt.parse_yuan(typed, "amount") == fen


@pytest.mark.parametrize("typed", ["", "abc", "12.345", "-1", "1e3", "0x10", "1.2.3", "12345678901", "NaN", "١٢"])
def test_bad_amounts_are_refused_by_shape(typed: str) -> None:
    with pytest.raises(Invalid) as err:
        fmt.parse_yuan(typed, "amount")
    assert err.value.code == "console.invalid_amount" and err.value.params["field"] == "amount"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_screen_text_renders_in_both_languages_percent_signs_and_all(lang: str) -> None:
    """Jinja formats a translated text with the call's named values, so a lone "%" ("Rate (%)") once turned the
    English fee desk into a 500; every text must come out as itself, with its placeholders filled."""
    env = ENVS[lang]
    for zh, en in EN.items():
        if "%(" in zh:
            continue  # filled by the call's values: the pages render those with them
        assert env.from_string("{{ _(text) }}").render(text=zh) == (en if lang == "en" else zh), zh
    assert env.from_string('{{ _("费率（百分比）") }}').render() == ("Rate (%)" if lang == "en" else "费率（百分比）")
