"""Printable documents' pure rules and edges: the periods a summary covers and which is due, the prevention
rules' thresholds, a stored card never printed beyond first six / last four, and a missing CJK font refused
with a message that says what to install."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from posrefund.adapters.pdf import FontMissing, FpdfRenderer
from posrefund.bootstrap import pdf_renderer
from posrefund.domain.bank_application import masked_card
from posrefund.domain.cause_rules import change, growing, last_complete, suggestions
from posrefund.domain.errors import Invalid
from posrefund.ports.documents import Document, Heading
from posrefund.service.documents.summary import period_of


def test_periods() -> None:
    cadence, p = period_of("2026-02")
    assert (cadence, p.first, p.last) == ("monthly", date(2026, 2, 1), date(2026, 2, 28))
    cadence, p = period_of("2026-11-23")
    assert (cadence, p.first, p.last) == ("weekly", date(2026, 11, 23), date(2026, 11, 29))
    for bad in ("2026-11-24", "2026-13", "11-2026", "2026-11-23x"):
        with pytest.raises(Invalid) as exc:
            period_of(bad)
        assert exc.value.code == "summary.bad_period"
    # 2 December (a Wednesday): November and the week of 23 November are the last whole ones.
    assert (last_complete("monthly", date(2026, 12, 2)), last_complete("weekly", date(2026, 12, 2))) == (
        "2026-11",
        "2026-11-23",
    )
    assert last_complete("weekly", date(2026, 11, 30)) == "2026-11-23"  # a Monday: last week just ended
    assert last_complete("monthly", date(2026, 1, 1)) == "2025-12"


def test_prevention_rules() -> None:
    counts = {
        ("terminal", "t1"): {"wrong_amount": 3, "goods_quality": 7},  # 30 %: keyed amounts at one terminal
        ("terminal", "t2"): {"wrong_amount": 2, "goods_quality": 8},  # only two: not yet a pattern
        ("terminal", "t3"): {"wrong_amount": 3, "goods_quality": 40},  # 7 %: below the share
        ("store", "s1"): {"customer_cancelled": 12, "goods_quality": 8},  # 60 % cancelled: stock checks
    }
    found = [(s.rule, s.place_id, s.count) for s in suggestions(counts)]
    assert found == [("cancelled", "s1", 12), ("keyed_amount", "t1", 3)]
    advice = {s.rule: s.advice for s in suggestions(counts)}
    assert "确认步骤" in advice["keyed_amount"] and "库存" in advice["cancelled"]
    assert (change(15, 10), change(3, 0), growing(10, 4), growing(10, 6), growing(4, 0)) == (
        0.5,
        None,
        True,
        False,
        False,
    )


def test_card_masked_on_every_form() -> None:
    assert masked_card("622202******1234") == "622202******1234"
    assert masked_card("6222021234567890123") == "622202******0123"  # never stored; masked again if it were
    assert masked_card("6222 0212 3456 7890") == "622202******7890"
    assert masked_card("") == ""


def test_missing_font_is_said_plainly(tmp_path: Path) -> None:
    missing = tmp_path / "no-font.ttc"
    with pytest.raises(FontMissing) as exc:
        FpdfRenderer(missing).render(Document("t", (Heading("标题"),)))
    assert str(missing) in str(exc.value) and "fonts-wqy-microhei" in str(exc.value)
    assert "POSREFUND_DOCUMENTS__FONT_PATH" in str(exc.value)
    assert pdf_renderer(missing) is None
