"""The engine's fee step (one DuckDB statement over the contract's pieces) finds exactly what judging each matched
sale in Python by domain/fees.py finds (``fee_mismatches``: ``fee_accepted``, then ``fee_due``): the same
findings, the same fee due and fee taken, on random contracts and sales; and worked examples by hand."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from unittest import mock

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posrefund.adapters.db.recon_engine import fees as fee_step
from posrefund.adapters.db.recon_engine.fees import insert_fee_mismatches
from posrefund.adapters.db.recon_engine.load import INT, SCHEMAS, TEXT, append, create_tables
from posrefund.adapters.db.recon_engine.rules import F_COLUMNS, MATCHED_SALE_FEES
from posrefund.adapters.db.repositories.fee_findings import fee_mismatches
from posrefund.domain.fee_pieces import LINE_CARD_TYPES, fee_pieces
from posrefund.domain.fees import FEE_CHANNELS, CardType, FeePeriod, FeeRule, fee_due, flat_contract
from posrefund.domain.reconciliation import FeeRate
from tests.support.fee_contract import CONTRACT, RAISE

D = date
START = D(2026, 1, 1)
_M = pa.schema([("line_id", INT), ("sale_id", TEXT), ("refund_id", TEXT)])


@dataclass(frozen=True)
class Sale:
    """A matched sale as the fee step reads it; ``amount_off``: the line's amount is not the sale's (no fee
    check); ``twice``: the line matched a second sale too."""

    channel: str
    card_type: str
    day: date
    base: int
    fee: int
    amount_off: bool = False
    twice: bool = False


@functools.cache
def _engine() -> duckdb.DuckDBPyConnection:
    """One DuckDB for every example (opening one costs more than judging an example's sales)."""
    return duckdb.connect()


def _matched(sales: list[Sale]) -> duckdb.DuckDBPyConnection:
    """A run's DuckDB tables holding ``sales`` matched one line to one sale (two for ``twice``), made anew."""
    duck = _engine()
    for name in (*SCHEMAS, "f", "m"):
        duck.execute(f"DROP TABLE IF EXISTS {name}")
    create_tables(duck)
    lines, ours, pairs = [], [], []
    for n, x in enumerate(sales, 1):
        amount = 10_000 + n
        lines.append((n, "sale", 0, amount, x.fee, x.base, "", "", "", "", "", "", "", x.card_type, x.day))
        ours.append((f"s{n}", x.channel, amount + (1 if x.amount_off else 0), "", "", "", "", 0, 0))
        pairs.append((n, f"s{n}", ""))
        if x.twice:
            ours.append((f"t{n}", x.channel, amount, "", "", "", "", 0, 0))
            pairs.append((n, f"t{n}", ""))
    append(duck, "l", pa.schema(SCHEMAS["l"]), lines)
    append(duck, "s", pa.schema(SCHEMAS["s"]), ours)
    append(duck, "m", _M, pairs)
    return duck


def findings(contract: list[FeePeriod], sales: list[Sale]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The engine's fee findings, and what the fee step found before on the same matched rows: each judged in
    Python."""
    duck = _matched(sales)
    rows = duck.execute(
        f"SELECT line_id, sale_id, channel, card_type, day, base, fee FROM ({MATCHED_SALE_FEES}) ORDER BY line_id"
    ).fetchall()
    insert_fee_mismatches(duck, contract)
    ours = sorted(duck.execute(f"SELECT {F_COLUMNS} FROM f").fetchall())
    python = sorted(
        ("fee_mismatch", line_id, sale_id, "", 0, due, fee, "", "")
        for line_id, sale_id, due, fee in fee_mismatches(contract, rows)
    )
    return ours, python


# ---- worked by hand ---------------------------------------------------------------------------------------------
# sale, the finding's (fee due, fee taken), or None: accepted
BY_HAND = [
    (Sale("card", "debit", D(2026, 1, 10), 1_000_000, 5_000), (2_000, 5_000)),  # 50 yuan, the cap is 20
    (Sale("card", "debit", D(2026, 1, 10), 1_000_000, 2_001), None),  # at the cap, within 1 fen
    (Sale("card", "debit", D(2026, 1, 10), 1_000_000, 2_002), (2_000, 2_002)),
    (Sale("card", "", D(2026, 1, 10), 1_000_000, 2_000), None),  # card type not said: a debit card's fee
    (Sale("card", "", D(2026, 1, 10), 1_000_000, 4_000), (6_000, 4_000)),  # neither kind's: the highest is due
    (Sale("card", "credit", D(2026, 1, 10), 1_250, 10), (8, 10)),  # 7.5 fen, half up → 8
    (Sale("card", "credit", D(2026, 1, 10), 1_250, 9), None),  # 1 fen over: within the tolerance
    (Sale("alipay", "", D(2026, 1, 12), 100, 25), (10, 25)),  # 0.38 fen → 0, raised to the 0.10 minimum
    (Sale("alipay", "", D(2026, 1, 12), 100, 11), None),
    (Sale("wechat", "", D(2026, 1, 11), 99_999, 550), (380, 550)),  # the large band's rate on a small payment
    (Sale("wechat", "wallet", D(2026, 1, 11), 100_000, 550), None),  # a wallet priced as any: the large band
    (Sale("card", "credit", D(2026, 3, 10), 10_000, 65), (60, 65)),  # the raise, not consented yet: 0.60 %
    (Sale("card", "credit", D(2026, 3, 10), 10_000, 60), None),
    (Sale("card", "credit", D(2026, 3, 15), 10_000, 65), None),  # consented that day
    (Sale("card", "credit", D(2026, 3, 15), 10_000, 60), (65, 60)),  # then 0.65 % is due, 0.60 % undercharges
    (Sale("card", "credit", D(2025, 12, 31), 10_000, 999), None),  # before the contract: nothing to compare
    (Sale("unionpay_qr", "", D(2026, 1, 10), 10_000, 999), None),  # a channel the contract does not price
]


@pytest.mark.parametrize(("sale", "found"), BY_HAND)
def test_fee_findings_worked_by_hand(sale: Sale, found: tuple[int, int] | None) -> None:
    expected = [] if found is None else [("fee_mismatch", 1, "s1", "", 0, *found, "", "")]
    assert findings([CONTRACT, RAISE], [sale]) == (expected, expected)


# From 1 March WeChat costs 0.60 % whatever the amount, never consented: the old rate of each band binds (0.38 %
# below 1 000 yuan, 0.55 % from it), though the new period has no band at 1 000 yuan.
ONE_RATE = FeePeriod(D(2026, 3, 1), (FeeRule("wechat", "any", 6_000),))
BANDS_HELD = [
    (Sale("wechat", "", D(2026, 3, 10), 100_000, 550), None),
    (Sale("wechat", "", D(2026, 3, 10), 100_000, 600), (550, 600)),
    (Sale("wechat", "", D(2026, 3, 10), 99_999, 550), (380, 550)),
    (Sale("wechat", "", D(2026, 3, 10), 99_999, 380), None),
]


@pytest.mark.parametrize(("sale", "found"), BANDS_HELD)
def test_an_unconsented_raise_keeps_the_old_bands(sale: Sale, found: tuple[int, int] | None) -> None:
    expected = [] if found is None else [("fee_mismatch", 1, "s1", "", 0, *found, "", "")]
    assert findings([CONTRACT, ONE_RATE], [sale]) == (expected, expected)


def test_flat_rates_are_a_contract_on_every_day() -> None:
    flat = flat_contract([FeeRate("wechat", 38, 55, 100_000)])
    sales = [
        Sale("wechat", "", D(1999, 1, 1), 99_999, 380),
        Sale("wechat", "", D(2999, 1, 1), 100_000, 380),  # the large rate: 550
        Sale("alipay", "", D(2026, 1, 1), 100_000, 7),  # no rate for the channel
    ]
    expected = [("fee_mismatch", 2, "s2", "", 0, 550, 380, "", "")]
    assert findings(flat, sales) == (expected, expected)


def test_no_contract_no_fee_findings() -> None:
    assert findings([], [Sale("card", "debit", D(2026, 1, 10), 1_000_000, 5_000)]) == ([], [])


# ---- random contracts and sales --------------------------------------------------------------------------------
KINDS = [k.value for k in CardType]
# A line's card type: not said, each kind, and words no rule uses.
LINE_TYPES = [*LINE_CARD_TYPES, "prepaid", "DEBIT"]
BANDS = [0, 100_000, 1_000_000]


def mostly(common: list[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of ``common`` four times in five, else ``rare``."""
    return st.integers(0, 4).flatmap(lambda n: rare if n == 0 else st.sampled_from(common))


@st.composite
def rules(draw: st.DrawFn, channel: str | None = None, card_type: str | None = None) -> FeeRule:
    minimum = draw(mostly([0, 0, 10, 100], st.integers(0, 5_000)))
    extra = draw(st.one_of(st.none(), mostly([1_900, 5_000], st.integers(0, 10**5))))
    return FeeRule(
        channel or draw(st.sampled_from(FEE_CHANNELS)),
        card_type or draw(mostly(["any", "debit", "credit"], st.sampled_from(KINDS))),
        draw(mostly([0, 3_800, 5_000, 5_500, 6_000, 6_500], st.integers(0, 100_000))),
        draw(mostly([0, 0, *BANDS], st.integers(0, 10**7))),
        None if extra is None else minimum + extra,
        minimum,
    )


@st.composite
def revised(draw: st.DrawFn, before: tuple[FeeRule, ...]) -> tuple[FeeRule, ...]:
    """A later period's rules: the earlier ones each kept, raised, repriced, moved to another band or dropped, and a
    few new ones."""
    out: dict[tuple[str, str, int], FeeRule] = {}
    for r in before:
        change = draw(st.sampled_from(["keep", "raise", "reprice", "move", "drop"]))
        if change == "keep":
            out[(r.channel, r.card_type, r.band_from_fen)] = r
        elif change == "raise":
            rate = min(r.rate_ppm + draw(mostly([500, 1_000], st.integers(1, 10_000))), 100_000)
            out[(r.channel, r.card_type, r.band_from_fen)] = FeeRule(
                r.channel, r.card_type, rate, r.band_from_fen, r.cap_fen, r.min_fen
            )
        elif change == "reprice":
            new = draw(rules(r.channel, r.card_type))
            out[(r.channel, r.card_type, r.band_from_fen)] = FeeRule(
                r.channel, r.card_type, new.rate_ppm, r.band_from_fen, new.cap_fen, new.min_fen
            )
        elif change == "move":
            band = draw(st.sampled_from([b for b in (*BANDS, 10_000) if b != r.band_from_fen]))
            out[(r.channel, r.card_type, band)] = FeeRule(
                r.channel, r.card_type, r.rate_ppm, band, r.cap_fen, r.min_fen
            )
    for r in draw(st.lists(rules(), max_size=3 if out else 4, min_size=0 if out else 1)):
        out.setdefault((r.channel, r.card_type, r.band_from_fen), r)
    return tuple(out.values())


def _after(day: date, days: int | None) -> date | None:
    return None if days is None else day + timedelta(days=days)


@st.composite
def periods(draw: st.DrawFn) -> list[FeePeriod]:
    """Up to four periods from ``START`` on, each repricing the one before; starts and ends in any order (even
    overlapping: the contract's functions say which is in force), each consented before, at, after its start or
    never."""
    out: list[FeePeriod] = []
    chosen: tuple[FeeRule, ...] = ()
    for _ in range(draw(st.integers(1, 4))):
        start = START + timedelta(days=draw(st.integers(0, 120)))
        end, consent = draw(st.one_of(st.none(), st.integers(0, 90))), draw(st.one_of(st.none(), st.integers(-30, 60)))
        chosen = draw(revised(chosen))
        out.append(FeePeriod(start, chosen, _after(start, end), _after(start, consent)))
    return sorted(out, key=lambda p: p.effective_from) if draw(st.booleans()) else out


large = st.one_of(st.just((None, None)), st.tuples(st.integers(0, 1_000), st.sampled_from([1, *BANDS[1:]])))
flat = st.lists(
    st.builds(
        lambda channel, rate, tier: FeeRate(channel, rate, *tier),
        st.sampled_from(FEE_CHANNELS),
        st.integers(0, 1_000),
        large,
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda r: r.channel,
).map(flat_contract)

contracts = st.one_of(periods(), periods(), flat)


@st.composite
def sales(draw: st.DrawFn, contract: list[FeePeriod]) -> Sale:
    """A sale of a channel the contract prices (mostly), on a day around a period's start, end or consent, of a
    base near a band or anywhere, charged near a fee some card type is due (the highest or the lowest, before a
    raise or after) or anything."""
    priced = sorted({r.channel for p in contract for r in p.rules}) or ["card"]
    channel = draw(mostly(priced, st.sampled_from([*FEE_CHANNELS, "cash"])))
    card_type = draw(st.sampled_from(LINE_TYPES))
    marks = [d for p in contract for d in (p.effective_from, p.effective_to, p.consented_on) if d and d > START]
    mark = draw(st.sampled_from(marks or [START]))
    day = mark + timedelta(days=draw(mostly([-1, 0, 1], st.integers(-20, 60))))
    bands = sorted({b + d for p in contract for r in p.rules for b in (r.band_from_fen,) for d in (-1, 0, 1)})
    base = draw(
        mostly(
            [*bands, 1_249, 1_250, 10_000, 1_000_000],
            st.one_of(st.integers(0, 10**9), st.integers(-10_000, -1), st.integers(10**12, 10**14)),
        )
    )
    aim, highest, off = draw(st.sampled_from(LINE_TYPES)), draw(st.booleans()), draw(st.integers(-3, 3))
    due = fee_due(contract, channel, aim, day, base, highest=highest).fee_fen
    fee = draw(st.integers(0, 10**6)) if due is None or draw(st.integers(0, 9)) == 0 else max(due + off, 0)
    return Sale(channel, card_type, day, base, fee, draw(st.integers(0, 19)) == 0, draw(st.integers(0, 19)) == 0)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), contract=contracts)
def test_engine_finds_what_python_finds(data: st.DataObject, contract: list[FeePeriod]) -> None:
    chosen = data.draw(st.lists(sales(contract), min_size=5, max_size=40))
    ours, python = findings(contract, chosen)
    assert ours == python


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), contract=contracts)
def test_judged_a_few_sales_at_a_time_the_findings_are_the_same(data: st.DataObject, contract: list[FeePeriod]) -> None:
    """A large run is judged a range of matched sales per statement: ranges of three here."""
    chosen = data.draw(st.lists(sales(contract), min_size=5, max_size=40))
    with mock.patch.object(fee_step, "PAIRS_PER_STATEMENT", 3):
        ours, python = findings(contract, chosen)
    assert ours == python


@settings(max_examples=200, deadline=None)
@given(contract=periods())
def test_pieces_do_not_overlap(contract: list[FeePeriod]) -> None:
    """A line falls in at most one piece per kind: the statement counts each kind once."""
    found = fee_pieces(contract)
    seen: dict[tuple[str, str, str], list[tuple[date, date | None, int, int | None]]] = {}
    for p in found:
        for day_from, day_to, base_from, base_to in seen.get((p.channel, p.card_type, p.kind), []):
            days_apart = (day_to is not None and day_to < p.day_from) or (p.day_to is not None and p.day_to < day_from)
            bases_apart = (base_to is not None and base_to <= p.base_from) or (
                p.base_to is not None and p.base_to <= base_from
            )
            assert days_apart or bases_apart
        seen.setdefault((p.channel, p.card_type, p.kind), []).append((p.day_from, p.day_to, p.base_from, p.base_to))
