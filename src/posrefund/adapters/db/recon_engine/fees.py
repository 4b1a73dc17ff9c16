"""The fee step of a run in the engine: each matched sale of the right amount whose fee the merchant's contract
does not accept becomes a ``fee_mismatch`` finding, judged in DuckDB by one statement.

The contract stays defined once, in domain/fees.py (the fee-refund check uses it too). What the statement needs
of it is the contract's pieces (``domain.fee_pieces``: ranges of days and bases over which the rules that apply
are fixed, found by asking domain/fees.py itself), a table of a few hundred rows built in Python; the statement
only joins each sale to its pieces and does a rule's arithmetic on the base (``FeeRule.fee``: half up to the fen,
then the minimum, then the cap). No row of the run goes through Python: at a million matched sales judging each
distinct fee in Python took about a third of the run. tests/recon/test_engine_fees.py holds the statement to
``repositories.fee_findings.fee_mismatches`` (the row-by-row judgement by ``fee_accepted`` and ``fee_due``) on
random contracts and sales."""

# The statement is put together from the constants of this module and domain/fees.py only, never from data.
# ruff: noqa: S608
from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa
from sqlalchemy import Connection

from posrefund.adapters.db.recon_engine.load import DAY, INT, TEXT
from posrefund.adapters.db.recon_engine.rules import F_COLUMNS, MATCHED_SALE_FEES
from posrefund.adapters.db.repositories.fee_findings import fee_contract
from posrefund.domain.fee_pieces import LINE_CARD_TYPES, FeePiece, fee_pieces
from posrefund.domain.fees import PPM, TOLERANCE_FEN, FeePeriod, FeeRule
from posrefund.domain.reconciliation import DiscrepancyClass

PIECES = pa.schema(
    [
        ("day_from", DAY),
        ("day_to", DAY),
        ("channel", TEXT),
        ("card_type", TEXT),
        ("kind", TEXT),
        ("base_from", INT),
        ("base_to", INT),
        ("rate_ppm", INT),
        ("min_fen", INT),
        ("cap_fen", INT),
        ("held_rate_ppm", INT),
        ("held_min_fen", INT),
        ("held_cap_fen", INT),
    ]
)


def _terms(rule: FeeRule | None) -> tuple[int | None, int | None, int | None]:
    return (None, None, None) if rule is None else (rule.rate_ppm, rule.min_fen, rule.cap_fen)


def pieces_table(pieces: Sequence[FeePiece]) -> pa.Table:
    """The pieces as Arrow, a rule as its rate, minimum and cap (all NULL: no rule)."""
    rows = [
        (p.day_from, p.day_to, p.channel, p.card_type, p.kind, p.base_from, p.base_to, *_terms(p.rule), *_terms(p.held))
        for p in pieces
    ]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in PIECES]
    return pa.table([pa.array(c, type=field.type) for c, field in zip(columns, PIECES, strict=True)], schema=PIECES)


def _fee(prefix: str) -> str:
    """``FeeRule.fee`` of the piece's rule (``prefix`` "" or "held_") on the sale's base; NULL without a rule.
    Multiplied as HUGEINT, so no base overflows. ``//`` truncates where Python floors, but the numerator is never
    negative: a piece's bases start at a band, and bands start at 0 or above."""
    rate, minimum, cap = (f"p.{prefix}{name}" for name in ("rate_ppm", "min_fen", "cap_fen"))
    fee = f"greatest((sale.base::HUGEINT * {rate} + {PPM // 2}) // {PPM}, {minimum})"
    return f"CASE WHEN {rate} IS NULL THEN NULL WHEN {cap} IS NULL THEN {fee} ELSE least({fee}, {cap}) END"


_SAID = ", ".join(f"'{kind}'" for kind in LINE_CARD_TYPES)

# The matched sales the fee step judges, written once (``pair``: the sale's row of ``m``) and judged a range of
# pairs at a time.
FEE_SALES = f"""CREATE OR REPLACE TABLE fee_sales AS
    SELECT pair, line_id, sale_id, channel, day, base, fee,
        CASE WHEN card_type IN ({_SAID}) THEN card_type ELSE 'any' END AS card_type
    FROM ({MATCHED_SALE_FEES})"""

# Per sale (``pair``: its row of ``m``), per kind the fee is weighed for: the kind's fee due is the held rule's
# when lower (``fee_accepted``); the fee taken is accepted within the tolerance of any kind's. The fee reported due
# is ``fee_due``'s: the highest kind's fee, or the highest before the raise when that is lower. A sale in no piece
# is accepted (nothing priced), so an inner join leaves it out.
FEE_MISMATCHES = f"""INSERT INTO f ({F_COLUMNS})
    WITH sale AS (SELECT * FROM fee_sales WHERE pair >= $first AND pair < $end),
    day_pieces AS (
        SELECT d.day, fp.* FROM (SELECT DISTINCT day FROM l) AS d
        JOIN fee_pieces AS fp ON d.day >= fp.day_from AND (fp.day_to IS NULL OR d.day <= fp.day_to)),
    weighed AS (
        SELECT sale.pair, sale.line_id, sale.sale_id, sale.fee, {_fee("")} AS due, {_fee("held_")} AS held
        FROM sale JOIN day_pieces AS p
            ON p.day = sale.day AND p.channel = sale.channel AND p.card_type = sale.card_type
            AND sale.base >= p.base_from AND (p.base_to IS NULL OR sale.base < p.base_to)),
    judged AS (
        SELECT any_value(line_id) AS line_id, any_value(sale_id) AS sale_id, any_value(fee) AS fee,
            max(due) AS due, max(held) AS held,
            bool_or(abs(fee - CASE WHEN held < due THEN held ELSE due END) <= {TOLERANCE_FEN}) AS accepted
        FROM weighed GROUP BY pair)
    SELECT '{DiscrepancyClass.FEE_MISMATCH.value}', line_id, sale_id, '', 0,
        CASE WHEN held < due THEN held ELSE due END, fee, '', ''
    FROM judged WHERE due IS NOT NULL AND NOT coalesce(accepted, false)"""

# Matched sales judged per statement: the join to the pieces and the grouping per sale hold a range's rows at
# once, and DuckDB could not spill them (a million in one statement ran out of 160 MB); a range of this size runs
# in a few tens of MB whatever the size of the run.
PAIRS_PER_STATEMENT = 200_000


def insert_fee_mismatches(duck: duckdb.DuckDBPyConnection, contract: Sequence[FeePeriod]) -> None:
    """Add to ``f`` a finding for each matched sale whose fee ``contract`` does not accept (the fee due as ours,
    the fee taken as theirs)."""
    duck.register("fee_pieces", pieces_table(fee_pieces(contract)))
    try:
        duck.execute(FEE_SALES)
        found = duck.execute("SELECT max(pair) FROM fee_sales").fetchone()
        last = -1 if found is None or found[0] is None else int(found[0])
        for first in range(0, last + 1, PAIRS_PER_STATEMENT):
            duck.execute(FEE_MISMATCHES, {"first": first, "end": first + PAIRS_PER_STATEMENT})
        duck.execute("DROP TABLE fee_sales")
    finally:
        duck.unregister("fee_pieces")


def find_fee_mismatches(conn: Connection, duck: duckdb.DuckDBPyConnection, merchant_id: str) -> None:
    """The fee step: by the merchant's contract, or its flat rates read as one; nothing when it has neither."""
    contract = fee_contract(conn, merchant_id)
    if contract:
        insert_fee_mismatches(duck, contract)
