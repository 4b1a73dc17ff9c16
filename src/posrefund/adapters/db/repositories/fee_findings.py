"""The fee check of a reconciliation run: every matched sale of the right amount whose fee is not what the
merchant's fee contract says for its day, channel and card type (domain/fees.py: the same rules the fee-refund
check applies, one computation). A merchant without a contract is checked against its flat rates per channel,
read as a contract in force on every day.

The engine judges a run's sales in DuckDB over the contract's pieces (``recon_engine.fees``); ``fee_mismatches``
is the same check a row at a time, by ``fee_accepted`` and ``fee_due`` themselves: what the engine's statement is
held to (tests/recon/test_engine_fees.py) and what the oracle of the engine's findings uses."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from sqlalchemy import Connection, select

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.fee_contracts import FeeContractSql
from posrefund.domain.fees import FeePeriod, fee_accepted, fee_due, flat_contract
from posrefund.domain.reconciliation import FeeRate

# A matched sale line as the fee step reads it: line id, sale id, the sale's channel, the line's card type and
# local day, what the channel settled (the fee's base: a coupon the merchant funds is not settled, so it is not
# charged for) and the fee the channel took.
MatchedFee = tuple[int, str, str, str, date, int, int]


def fee_contract(conn: Connection, merchant_id: str) -> list[FeePeriod]:
    """The merchant's contract, or its flat rates read as one; empty when it has neither (no fee check)."""
    periods = FeeContractSql(conn).periods(merchant_id)
    if periods:
        return periods
    fr = t.recon_fee_rates.c
    flat = conn.execute(select(t.recon_fee_rates).where(fr.merchant_id == merchant_id))
    return flat_contract([FeeRate(r.channel, r.rate_bp, r.large_rate_bp, r.large_from_fen) for r in flat])


def fee_mismatches(contract: list[FeePeriod], rows: Iterable[MatchedFee]) -> Iterator[tuple[int, str, int | None, int]]:
    """``(line id, sale id, fee due, fee taken)`` of each matched sale whose fee the contract does not accept.

    The verdict depends only on the contract and (channel, card type, day, base, fee), and a day's sales repeat
    the same few thousand of those: each is judged once (the contract is the same for the whole run)."""
    judged: dict[tuple[str, str, date, int, int], tuple[bool, int | None]] = {}  # → (accepted, the fee due)
    for line_id, sale_id, channel, card_type, day, base, fee in rows:
        key = (channel, card_type, day, base, fee)
        verdict = judged.get(key)
        if verdict is None:
            accepted = fee_accepted(contract, channel, card_type, day, base, fee)
            due = None if accepted else fee_due(contract, channel, card_type, day, base).fee_fen
            verdict = judged[key] = (accepted, due)
        if not verdict[0]:
            yield line_id, sale_id, verdict[1], fee
