"""A realistic day of each channel (a few thousand lines, ``tests/support/recon_plan.py``): every planted fault is
reported once, with its class, and nothing else — not the repeat purchases, coupon orders, same-day voids,
partial and multiple refunds or refunds still processing a real day always holds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from posrefund.adapters.settlement import SettlementLine
from posrefund.domain.fees import FeePeriod, FeeRule
from posrefund.domain.reconciliation import DiscrepancyClass
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.recon.helpers import DAY, PARSERS, import_and_run, realistic_day, reported
from tests.support.recon_files import ENCODINGS, card_footer, yuan
from tests.support.recon_plan import build_day

# The merchant's contract (domain/fees.py): credit 0.60 %, debit 0.50 % capped at 20 yuan, and the wallets'
# 0.38 % below 1 000 yuan and 0.55 % from it; the acquirer's lines say debit or credit, or nothing.
CONTRACT = [
    FeePeriod(
        DAY.replace(day=1),
        (
            FeeRule("card", "credit", 6_000),
            FeeRule("card", "debit", 5_000, cap_fen=2_000),
            FeeRule("wechat", "any", 3_800),
            FeeRule("wechat", "any", 5_500, band_from_fen=100_000),
            FeeRule("alipay", "any", 3_800),
            FeeRule("alipay", "any", 5_500, band_from_fen=100_000),
        ),
        consented_on=DAY.replace(day=1),
        consent_ref="HT-2026-001",
    )
]


def test_the_same_seed_writes_the_same_day(tmp_path: Path) -> None:
    terms = [("trm1", "T00001"), ("trm2", "T00002")]
    days = [
        build_day(tmp_path / f"{n}.csv", "wechat", DAY, ("mer", "sto"), terms, CONTRACT, seed=7, n_sales=300)
        for n in (1, 2)
    ]
    assert days[0].path.read_bytes() == days[1].path.read_bytes()
    assert (days[0].expected, days[0].sales, days[0].refunds) == (days[1].expected, days[1].sales, days[1].refunds)


@pytest.mark.parametrize("source", ["card", "wechat", "alipay"])
def test_every_planted_fault_found_once_and_no_false_finding(
    source: str, deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    m, finance = world.a, world.a.actors["finance"]
    day = realistic_day(deps, engine, m, tmp_path / f"{source}.csv", source, CONTRACT)
    report, run = import_and_run(deps, finance, day.path, source)
    assert (report.bad_lines, report.lines) == (0, day.lines)
    found = reported(deps, engine, finance, run["id"])
    _print_counts(source, day.lines, day.planted, day.lookalikes, found, day.expected)

    assert found - day.expected == set(), "false findings"
    assert day.expected - found == set(), "planted faults not found"
    assert run["totals"]["discrepancies"] == {c.value: day.planted[c.value] for c in DiscrepancyClass}
    assert sum(day.planted.values()) == len(day.expected)  # each fault reported once, on its own key
    assert report.lines >= 2_000


def _print_counts(
    source: str,
    lines: int,
    planted: Counter[str],
    lookalikes: Counter[str],
    found: set[tuple[str, str]],
    expected: set[tuple[str, str]],
) -> None:
    by_class: Counter[str] = Counter(cls for cls, _ in found)
    right: Counter[str] = Counter(cls for cls, _ in found & expected)
    print(f"\n{source}: {lines} lines")
    for cls in DiscrepancyClass:
        n = planted[cls.value]
        print(
            f"  {cls.value:24} planted {n:3}  found {right[cls.value]:3}  false {by_class[cls.value] - right[cls.value]}"
        )
    looks: Any = ", ".join(f"{k} {v}" for k, v in sorted(lookalikes.items()))
    print(f"  look-alikes (must be nothing): {looks}")


@pytest.mark.parametrize("source", ["card", "wechat", "alipay"])
def test_the_files_totals_add_up_to_their_lines(source: str, tmp_path: Path) -> None:
    """The summary (WeChat), footer (Alipay) and 合计 line (card) repeat what the parsed lines add up to."""
    terms = [("trm1", "T00001"), ("trm2", "T00002")]
    day = build_day(tmp_path / "f.csv", source, DAY, ("mer", "sto"), terms, CONTRACT, n_sales=400)
    lines = [x for x in PARSERS[source](day.path) if isinstance(x, SettlementLine)]
    assert len(lines) == day.lines
    text = day.path.read_text(encoding=ENCODINGS[source]).splitlines()
    sales = [x for x in lines if x.kind == "sale"]
    back = [x for x in lines if x.kind != "sale"]

    def settled(xs: list[SettlementLine]) -> int:
        return sum(x.amount_fen if x.settled_fen is None else x.settled_fen for x in xs)

    if source == "card":
        net = sum(x.amount_fen for x in sales) - sum(x.amount_fen for x in back)
        assert text[-1] == card_footer(yuan(net), yuan(sum(x.fee_fen for x in lines)))
    elif source == "wechat":
        figures = [f.lstrip("`") for f in text[-1].split(",")]
        done = [x for x in back if x.refund_status == "SUCCESS"]
        assert (int(figures[0]), figures[2], figures[4], figures[6]) == (
            len(lines),
            yuan(settled(done)),
            yuan(sum(x.fee_fen for x in lines)),
            yuan(sum(x.amount_fen for x in back)),
        )
    else:
        assert text[-3:-1] == [
            f"#交易合计：{len(sales)}笔，商家实收共{yuan(settled(sales))}元",
            f"#退款合计：{len(back)}笔，商家实收共{yuan(-settled(back))}元",
        ]


@pytest.mark.parametrize("source", ["card", "wechat", "alipay"])
def test_the_day_holds_every_kind_of_fee_the_contract_prices(source: str, tmp_path: Path) -> None:
    """Card days charge debit (some at the cap), credit and unprinted card types; wallet days small and large
    payments on both sides of the 1 000-yuan threshold — each line's fee the contract's for it."""
    terms = [("trm1", "T00001"), ("trm2", "T00002")]
    day = build_day(tmp_path / "f.csv", source, DAY, ("mer", "sto"), terms, CONTRACT, n_sales=400)
    sales = [x for x in PARSERS[source](day.path) if isinstance(x, SettlementLine) and x.kind == "sale"]
    kinds: Counter[str] = Counter()
    for x in sales:
        base = x.amount_fen if x.settled_fen is None else x.settled_fen
        if source == "card":
            capped = x.card_type == "debit" and x.fee_fen == 2_000 and base * 5_000 // 1_000_000 > 2_000
            kinds["capped" if capped else x.card_type or "unprinted"] += 1
        else:
            kinds["large" if base >= 100_000 else "small"] += 1
    wanted = {"capped", "debit", "credit", "unprinted"} if source == "card" else {"large", "small"}
    assert set(kinds) == wanted and min(kinds.values()) >= 5, kinds
