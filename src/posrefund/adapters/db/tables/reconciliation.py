"""Reconciliation: imported settlement files and their staged lines, fee rates, runs, the scratch tables of a
run, the discrepancies it found and the wrong charges handled from them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Index, Integer, String, Table, Text, UniqueConstraint

from posrefund.adapters.db.tables.columns import (
    ID,
    auto_id,
    blank_string,
    blank_text,
    changed_by,
    id_key,
    merchant_ref,
    metadata,
    moment,
)

settlement_files = Table(
    "settlement_files",
    metadata,
    id_key(),
    merchant_ref(),
    Column("source", String(16), nullable=False),  # card / wechat / alipay
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of its text: the same file in any copy is recognised
    Column("filename", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("bad_count", Integer, nullable=False),
    Column("first_date", Date, nullable=True),
    Column("last_date", Date, nullable=True),
    Column("imported_by", ID, nullable=False),
    moment("imported_at"),
    # An import stages its lines in batches: it is finished once checked whole and dated; until then each batch
    # marks ``heartbeat_at``, so an import whose process died (no batch for a while) is told from one running.
    moment("finished_at", nullable=True),
    moment("heartbeat_at", nullable=True),
    Column("overlap_count", Integer, nullable=False, server_default="0"),  # lines an earlier file already holds
    moment("withdrawn_at", nullable=True),  # withdrawn: its lines are gone, runs that read it are stale
    blank_string("withdrawn_by", 40),
    blank_text("withdraw_reason"),
    UniqueConstraint("merchant_id", "fingerprint"),
)

settlement_lines = Table(
    "settlement_lines",
    metadata,
    auto_id(),
    Column("file_id", ID, nullable=False),
    Column("merchant_id", ID, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("kind", String(8), nullable=False),  # sale / refund / void
    moment("occurred_at"),
    Column("occurred_epoch", BigInteger, nullable=False),  # seconds: the duplicate window is integer maths
    Column("local_date", Date, nullable=False),  # Asia/Shanghai settlement date
    Column("amount_fen", BigInteger, nullable=False),
    Column("fee_fen", BigInteger, nullable=False),
    # What the channel settles before its fee: the amount less the discounts the merchant funds (WeChat
    # 应结订单金额 / 退款金额, Alipay 商家实收); the base of the fee check.
    Column("settled_fen", BigInteger, nullable=False, server_default="0"),
    Column("currency", String(3), nullable=False),
    Column("merchant_no", String(32), nullable=False),
    Column("terminal_no", String(32), nullable=False),
    Column("voucher_no", String(16), nullable=False),
    Column("rrn", String(32), nullable=False),
    Column("channel_trade_no", String(64), nullable=False),
    Column("merchant_order_no", String(64), nullable=False),
    Column("channel_refund_no", String(64), nullable=False),
    Column("merchant_refund_no", String(64), nullable=False),
    Column("refund_status", String(16), nullable=False),
    Column("payer_masked", String(64), nullable=False),
    Column("batch_no", String(12), nullable=False),
    Column("raw_hash", String(64), nullable=False),
    # debit / credit / foreign / wallet as the file says it (acquirer 卡类型, WeChat 付款银行); "" when it does not
    blank_string("card_type", 8),
    # The line by the channel's own keys (e.g. wechat|refund|微信订单号|退款单号): one line counts once per
    # merchant, whichever files hold it. ``shadow`` is "" on the line that counts; a later file's copy of it
    # is kept with its own file's id there (so it can count when the earlier file is withdrawn) and is read
    # by no run.
    # ``occurrence`` numbers the lines of one file with the same keys (a sale the channel captured twice): the
    # n-th of them is the n-th such line of any other file.
    blank_string("line_key", 200),
    Column("occurrence", Integer, nullable=False, server_default="1"),
    blank_string("shadow", 40),
    Index("ix_settlement_lines_file_date", "file_id", "local_date"),
    Index("ix_settlement_lines_line_key", "merchant_id", "line_key", "occurrence", "shadow", unique=True),
    Index("ix_settlement_lines_rrn", "merchant_id", "rrn"),
    # Each index costs every staged line a write; one whose entries land at random places (an amount, a payer)
    # costs a page write per line once the table outgrows the cache. None on what no query filters by.
    Index("ix_settlement_lines_voucher", "merchant_id", "voucher_no", "terminal_no"),
    Index("ix_settlement_lines_refund_no", "merchant_id", "merchant_refund_no"),
)

settlement_bad_lines = Table(
    "settlement_bad_lines",
    metadata,
    auto_id(),
    Column("file_id", ID, nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("excerpt", String(200), nullable=False),  # card numbers already replaced by [PAN]
)

recon_fee_rates = Table(
    "recon_fee_rates",
    metadata,
    merchant_ref(primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("rate_bp", Integer, nullable=False),
    Column("large_rate_bp", Integer, nullable=True),
    Column("large_from_fen", BigInteger, nullable=True),
    *changed_by(),
)

recon_runs = Table(
    "recon_runs",
    metadata,
    id_key(),
    merchant_ref(),
    Column("source", String(16), nullable=False),
    Column("date_from", Date, nullable=False),
    Column("date_to", Date, nullable=False),
    Column("run_key", String(64), nullable=False),  # channel + date range + file set
    Column("file_ids", Text, nullable=False),  # JSON list
    Column("window_seconds", Integer, nullable=False),
    Column("totals", Text, nullable=False),  # JSON
    Column("created_by", ID, nullable=False),
    moment("created_at"),
    moment("updated_at"),
    moment("stale_at", nullable=True),  # a file it read was withdrawn: its findings are no longer to be trusted
    blank_text("stale_reason"),
    UniqueConstraint("merchant_id", "run_key"),
)

recon_found = Table(  # scratch: this run's findings before they are merged into recon_discrepancies
    "recon_found",
    metadata,
    Column("run_id", ID, nullable=False),
    Column("class", String(32), nullable=False),
    Column("line_id", BigInteger, nullable=False),
    Column("sale_id", ID, nullable=False),
    Column("refund_id", ID, nullable=False),
    Column("other_line_id", BigInteger, nullable=False),
    Column("ours_fen", BigInteger, nullable=True),
    Column("theirs_fen", BigInteger, nullable=True),
    Column("ours_status", String(20), nullable=False),
    Column("theirs_status", String(16), nullable=False),
    Index("ix_recon_found_key", "run_id", "class", "line_id", "sale_id", "refund_id"),
)

recon_discrepancies = Table(
    "recon_discrepancies",
    metadata,
    auto_id(),
    Column("run_id", ID, nullable=False),
    Column("merchant_id", ID, nullable=False),
    Column("class", String(32), nullable=False),
    Column("line_id", BigInteger, nullable=False),  # 0: none
    Column("sale_id", ID, nullable=False),  # "": none
    Column("refund_id", ID, nullable=False),  # "": none
    Column("other_line_id", BigInteger, nullable=False),  # the earlier twin of a duplicate charge
    Column("ours_fen", BigInteger, nullable=True),
    Column("theirs_fen", BigInteger, nullable=True),
    Column("ours_status", String(20), nullable=False),
    Column("theirs_status", String(16), nullable=False),
    moment("found_at"),
    moment("cleared_at", nullable=True),  # a later run no longer found it (fixed meanwhile)
    blank_string("resolution", 32),  # recovered / wrong_charge
    Column("wrong_charge_id", ID, nullable=False, server_default=""),
    UniqueConstraint("run_id", "class", "line_id", "sale_id", "refund_id"),
    Index("ix_recon_discrepancies_run_class", "run_id", "class", "id"),
)

wrong_charges = Table(
    "wrong_charges",
    metadata,
    id_key(),
    merchant_ref(index=True),
    Column("discrepancy_id", BigInteger, nullable=False, unique=True),
    Column("run_id", ID, nullable=False),
    Column("class", String(32), nullable=False),
    Column("sale_id", ID, nullable=False),
    Column("line_id", BigInteger, nullable=False),
    Column("evidence_ids", Text, nullable=False),  # JSON list of uploaded evidence (receipt, messages)
    Column("cause", String(32), nullable=False),
    Column("responsible", String(32), nullable=False),
    Column("analysis", Text, nullable=False),
    blank_string("contact_method", 16),
    blank_text("contact_note"),
    moment("contacted_at", nullable=True),
    Column("status", String(16), nullable=False),
    Column("correction_refund_id", ID, nullable=False, server_default=""),
    Column("created_by", ID, nullable=False),
    moment("created_at"),
    moment("updated_at"),
    Column("version", Integer, nullable=False),
)
