"""The matching rules of a reconciliation run, as DuckDB SQL over the run's two sides loaded by ``load``.

This is the one definition of what matches and what is a finding (docs/reconciliation.md, "Matching" and
"Classes"). The tables: ``l`` the run's settlement lines, ``s`` its ledger sales (``hold``: the sale a hold's
completion became), ``r`` the merchant's online refunds of the channel (with the references of the sale each
refunds), ``h`` our completions of holds the channel has not confirmed. Matching fills ``m`` (line, sale,
refund) strongest key first, each side at most once per pass (the lowest line id wins); the findings go to
``f`` one class a statement, in this order (a line found as a duplicate charge is not also missing here). The
fee check is its own step (``recon_engine.fees``): it joins ``MATCHED_SALE_FEES`` to the pieces of the merchant's
contract (``domain.fee_pieces``).
"""

# The statements are put together from the constants of this module only, never from data: S608 does not apply.
# ruff: noqa: S608
from __future__ import annotations

LINE_FREE = "NOT EXISTS (SELECT 1 FROM m WHERE m.line_id = l.id)"
SALE_FREE = "NOT EXISTS (SELECT 1 FROM m WHERE m.sale_id = s.id)"
REFUND_FREE = "NOT EXISTS (SELECT 1 FROM m WHERE m.refund_id = r.id)"
REFUND_KINDS = "l.kind IN ('refund', 'void')"

# Sales by the channel's reference: the RRN on card files, our order no. on the wallets' bills.
SALES_BY_REFERENCE = {
    True: "l.rrn = s.rrn AND l.rrn <> ''",
    False: "l.order_no = s.order_no AND l.order_no <> ''",
}

# A void line names the sale it voids: its RRN or voucher no. (card), our order no. (WeChat's REVOKED order).
VOID_NAMES_SALE = {
    True: """r.sale_terminal_no IS NOT NULL AND (
        (l.rrn <> '' AND l.rrn = r.sale_rrn)
        OR (l.voucher_no <> '' AND l.voucher_no = r.sale_voucher_no AND l.terminal_no = r.sale_terminal_no))""",
    False: "l.order_no <> '' AND l.order_no = r.sale_order_no",
}


def matching(card: bool) -> list[str]:
    """The passes, in order; the card-only ones only for the acquirer's file."""
    passes = [
        f"""INSERT INTO m SELECT min(l.id), s.id, '' FROM s JOIN l ON {SALES_BY_REFERENCE[card]}
            WHERE l.kind = 'sale' GROUP BY s.id""",
    ]
    if card:  # a card sale without its RRN: voucher no. on the same terminal for the same amount
        passes.append(
            f"""INSERT INTO m SELECT min(l.id), s.id, '' FROM s JOIN l
                ON l.voucher_no = s.voucher_no AND l.terminal_no = s.terminal_no AND l.amount = s.amount
                WHERE l.kind = 'sale' AND l.voucher_no <> '' AND {SALE_FREE} AND {LINE_FREE} GROUP BY s.id"""
        )
    passes.append(  # refunds by our refund no.
        f"""INSERT INTO m SELECT min(l.id), '', r.id FROM r JOIN l ON l.refund_no = r.refund_no
            WHERE {REFUND_KINDS} AND l.refund_no <> '' GROUP BY r.id"""
    )
    if card:  # then by the channel's reference of the refund (its RRN)
        passes.append(
            f"""INSERT INTO m SELECT min(l.id), '', r.id FROM r JOIN l ON l.rrn = r.channel_refund_id
                WHERE {REFUND_KINDS} AND r.channel_refund_id <> '' AND l.rrn <> '' AND {REFUND_FREE} AND {LINE_FREE}
                GROUP BY r.id"""
        )
    passes.append(  # void lines still free ↔ refunds still free of the sale the line names, same amount
        f"""INSERT INTO m
            WITH pairs AS (
                SELECT l.id AS line_id, min(r.id) AS refund_id FROM r JOIN l ON l.amount = r.amount
                WHERE l.kind = 'void' AND {VOID_NAMES_SALE[card]} AND {REFUND_FREE} AND {LINE_FREE}
                GROUP BY l.id)
            SELECT min(line_id), '', refund_id FROM pairs GROUP BY refund_id"""
    )
    if card:
        passes.append(COMPLETION_CANCELS)
    return passes


def _twin(*same: str) -> str:
    """The earliest other sale line of the run that is the same charge as ``l`` by ``same``: the one that
    matched our sale first, else the earliest in time (then by id)."""
    return f"""(SELECT min(l1.id) FROM l AS l1 WHERE l1.kind = 'sale' AND l1.id <> l.id
        AND (l1.id IN (SELECT line_id FROM m) OR l1.epoch < l.epoch OR (l1.epoch = l.epoch AND l1.id < l.id))
        AND {" AND ".join(same)})"""


def twins(card: bool) -> list[str]:
    """The keys that make two sale lines one charge, strongest first. Card: the same RRN, or the same voucher
    no. on the same terminal for the same amount within the run's window (``$window`` seconds: voucher nos.
    recur in later batches). Wallets: our order no., or on a line without it the channel's trade no."""
    if card:
        return [
            _twin("l.rrn <> ''", "l1.rrn = l.rrn"),
            _twin(
                "l.voucher_no <> ''",
                "l1.voucher_no = l.voucher_no",
                "l1.terminal_no = l.terminal_no",
                "l1.amount = l.amount",
                "l1.epoch >= l.epoch - $window",
                "l1.epoch <= l.epoch + $window",
            ),
        ]
    return [
        _twin("l.order_no <> ''", "l1.order_no = l.order_no"),
        _twin("l.order_no = ''", "l.trade_no <> ''", "l1.trade_no = l.trade_no"),
    ]


# The status of a refund or void line as reconciliation reads it: a line without one (card, Alipay, any void)
# is done; WeChat says its own.
STATUS = "CASE WHEN l.status = '' THEN 'SUCCESS' ELSE l.status END"
F_COLUMNS = "class, line_id, sale_id, refund_id, other_line_id, ours_fen, theirs_fen, ours_status, theirs_status"
ALL_FINDINGS = f"SELECT {F_COLUMNS} FROM f ORDER BY class, line_id, sale_id, refund_id"


def duplicate_charges(card: bool) -> str:
    """A sale line that matched nothing of ours while another sale line is the same charge: reported once, on
    this line, with its twin and the sale the twin matched."""
    return f"""INSERT INTO f ({F_COLUMNS})
        WITH dup AS (
            SELECT l.id AS line_id, l.amount AS amount, coalesce({", ".join(twins(card))}) AS twin
            FROM l WHERE l.kind = 'sale' AND {LINE_FREE})
        SELECT 'duplicate_charge', dup.line_id, coalesce(md.sale_id, ''), '', dup.twin, NULL, dup.amount, '', ''
        FROM dup LEFT JOIN m AS md ON md.line_id = dup.twin WHERE dup.twin IS NOT NULL"""


# A completion line of a hold (预授权完成 on the acquirer's file, the trade paid out of a freeze on Alipay's bill)
# matches the sale our completion became, as any sale. A sale line free after matching that names one of our
# completions the channel never confirmed to us (``h``: unanswered, unresolved, refused) is the channel's
# completion we do not have: on Alipay by its out_trade_no (our operation's number), on cards by the RRN the
# terminal was told or by the message's trace (凭证号) on the hold's terminal, for the same amount.
COMPLETION_NAMED = {
    True: """h.amount = l.amount AND ((h.rrn <> '' AND h.rrn = l.rrn)
        OR (h.voucher_no <> '' AND h.voucher_no = l.voucher_no AND h.terminal_no = l.terminal_no))""",
    False: "h.order_no <> '' AND h.order_no = l.order_no",
}
# A void line that is a completion cancel (预授权完成撤销) of ours the acquirer executed: matched to nothing of the
# ledger (the cancelled completion's sale is voided by the channel's word), so it is no finding.
COMPLETION_CANCELS = f"""INSERT INTO m SELECT min(l.id), '', '' FROM l JOIN h ON {COMPLETION_NAMED[True]}
    WHERE l.kind = 'void' AND h.step = 'cancel_completion' AND {LINE_FREE} GROUP BY h.id"""


def completions_missing_here(card: bool) -> str:
    return f"""INSERT INTO f ({F_COLUMNS})
        SELECT 'completion_missing_here', l.id, '', '', 0, NULL, l.amount, min(h.status), 'SUCCESS'
        FROM l JOIN h ON {COMPLETION_NAMED[card]}
        WHERE l.kind = 'sale' AND h.step = 'complete' AND {LINE_FREE}
          AND NOT EXISTS (SELECT 1 FROM f WHERE f.line_id = l.id AND f.class = 'duplicate_charge')
        GROUP BY l.id, l.amount"""


MISSING_HERE = f"""INSERT INTO f ({F_COLUMNS})
    SELECT 'missing_here', l.id, '', '', 0, NULL, l.amount, '', {STATUS} FROM l
    WHERE {LINE_FREE}
      AND NOT EXISTS (SELECT 1 FROM f WHERE f.line_id = l.id
                      AND f.class IN ('duplicate_charge', 'completion_missing_here'))
      AND (l.kind = 'sale' OR {STATUS} = 'SUCCESS')"""

# A sale of ours in no line, unless a successful void cancelled it (acquirers drop the pair); the sale of a hold's
# completion is a completion the channel does not have.
SALES_MISSING_AT_CHANNEL = f"""INSERT INTO f ({F_COLUMNS})
    SELECT CASE WHEN s.hold = 1 THEN 'completion_missing_at_channel' ELSE 'missing_at_channel' END,
        0, s.id, '', 0, s.amount, NULL, 'recorded', '' FROM s
    WHERE {SALE_FREE} AND s.voided = 0"""

# A refund of ours that succeeded in the run's days and is in no line; a same-day void may leave the file
# together with its sale.
REFUNDS_MISSING_AT_CHANNEL = f"""INSERT INTO f ({F_COLUMNS})
    SELECT 'missing_at_channel', 0, '', r.id, 0, r.amount, NULL, r.status, '' FROM r
    WHERE r.status = 'succeeded' AND r.method IN ('refund', 'void') AND r.in_run = 1 AND {REFUND_FREE}
      AND (r.method <> 'void' OR EXISTS (SELECT 1 FROM m WHERE m.sale_id = r.sale_id))"""

SALE_AMOUNT_MISMATCHES = f"""INSERT INTO f ({F_COLUMNS})
    SELECT 'amount_mismatch', l.id, s.id, '', 0, s.amount, l.amount, '', ''
    FROM m JOIN s ON s.id = m.sale_id JOIN l ON l.id = m.line_id WHERE l.amount <> s.amount"""

# The fee step's input: each matched sale of the right amount (``pair``: its row of ``m``) with what its fee
# depends on (the sale's channel, the line's card type and day, what the channel settled: the base) and the fee
# taken. The contract's rules are not written here: the fee step joins these rows to the contract's pieces.
MATCHED_SALE_FEES = """SELECT m.rowid AS pair, l.id AS line_id, s.id AS sale_id, s.channel, l.card_type, l.day,
        l.settled AS base, l.fee
    FROM m JOIN s ON s.id = m.sale_id JOIN l ON l.id = m.line_id WHERE l.amount = s.amount"""

_MATCHED_REFUNDS = f"""SELECT l.id, '', r.id, 0, r.amount, l.amount, r.status, {STATUS}
    FROM m JOIN r ON r.id = m.refund_id JOIN l ON l.id = m.line_id"""

REFUND_AMOUNT_MISMATCHES = f"""INSERT INTO f ({F_COLUMNS}) SELECT 'amount_mismatch', * FROM (
    {_MATCHED_REFUNDS} WHERE {STATUS} = 'SUCCESS' AND l.amount <> r.amount)"""

# The channel says done and we do not, or it says failed and we say succeeded; a refund the channel still
# shows PROCESSING is no finding, whatever our status: the next day's file tells.
REFUND_STATUS_MISMATCHES = f"""INSERT INTO f ({F_COLUMNS}) SELECT 'refund_status_mismatch', * FROM (
    {_MATCHED_REFUNDS} WHERE ({STATUS} = 'SUCCESS' AND r.status <> 'succeeded')
        OR ({STATUS} NOT IN ('SUCCESS', 'PROCESSING') AND r.status = 'succeeded'))"""


def findings(card: bool) -> list[str]:
    """The finding statements, in the order they must run."""
    return [
        duplicate_charges(card),
        completions_missing_here(card),
        MISSING_HERE,
        SALES_MISSING_AT_CHANNEL,
        REFUNDS_MISSING_AT_CHANNEL,
        SALE_AMOUNT_MISMATCHES,
        REFUND_AMOUNT_MISMATCHES,
        REFUND_STATUS_MISMATCHES,
    ]
