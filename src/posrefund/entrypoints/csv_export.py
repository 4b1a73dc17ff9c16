"""CSV for spreadsheet programs, written one way for every download (the console's reports and
reconciliation exports; the API's export can use it too).

Two things make a CSV safe to open in a spreadsheet program: a byte-order mark, so the Chinese in it is
read as UTF-8 and not as the local code page; and no cell that the program would run as a formula (text
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is quoted with a leading ``'``).

The rows are read while the file is sent: ``csv_response`` hands Starlette a plain iterator, which it
runs on its thread pool, so the database reads of a long export never hold the event loop.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from starlette.responses import StreamingResponse

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500

# Finance opens the console's exports in a spreadsheet, so each column is titled in the reader's language
# (Chinese, or English with the console's English switch); the API keeps its machine column names.
COLUMN_TITLES: dict[str, tuple[str, str]] = {
    "refund_no": ("退款单号", "Refund no."),
    "case_id": ("退款案件编号", "Case ID"),
    "created_at": ("创建时间", "Created at"),
    "status": ("状态代码", "Status code"),
    "status_label": ("状态", "Status"),
    "amount_fen": ("金额（分）", "Amount (fen)"),
    "amount": ("金额（元）", "Amount (yuan)"),
    "currency": ("币种", "Currency"),
    "reason": ("退款原因", "Reason"),
    "channel": ("支付渠道", "Channel"),
    "method": ("退款方式", "Method"),
    "store_id": ("门店编号", "Store ID"),
    "terminal_id": ("终端编号", "Terminal ID"),
    "sale_id": ("销售单号", "Sale ID"),
    "customer_phone_masked": ("顾客手机号（脱敏）", "Customer phone (masked)"),
    "expected_arrival": ("预计到账", "Expected arrival"),
    "succeeded_at": ("退款成功时间", "Succeeded at"),
    "discrepancy_id": ("差错编号", "Discrepancy ID"),
    "class": ("差错类别代码", "Class code"),
    "class_label": ("差错类别", "Class"),
    "line_no": ("对账文件行号", "File line no."),
    "kind": ("交易类型", "Kind"),
    "occurred_at": ("交易时间", "Occurred at"),
    "terminal_no": ("终端号", "Terminal no."),
    "voucher_no": ("凭证号", "Voucher no."),
    "rrn": ("参考号", "RRN"),
    "merchant_order_no": ("商户订单号", "Merchant order no."),
    "merchant_refund_no": ("商户退款单号", "Merchant refund no."),
    "payer_masked": ("付款人（脱敏）", "Payer (masked)"),
    "refund_id": ("退款编号", "Refund ID"),
    "ours_fen": ("我方金额（分）", "Ours (fen)"),
    "ours": ("我方金额（元）", "Ours (yuan)"),
    "theirs_fen": ("对方金额（分）", "Theirs (fen)"),
    "theirs": ("对方金额（元）", "Theirs (yuan)"),
    "ours_status": ("我方状态", "Our status"),
    "theirs_status": ("对方状态", "Their status"),
    "resolution": ("处理结果", "Resolution"),
    "wrong_charge_id": ("错收案件编号", "Wrong-charge case ID"),
}


def titled(columns: Sequence[str], lang: str) -> list[str]:
    """The header row a person reads: each column's title in ``lang`` (English for "en", else Chinese)."""
    pick = 1 if lang == "en" else 0
    return [COLUMN_TITLES[c][pick] if c in COLUMN_TITLES else c for c in columns]


def safe_cell(value: Any) -> str:
    """A cell's text, quoted with a leading ``'`` where a spreadsheet program would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The byte-order mark and the header, then the rows, a few hundred at a time."""
    buf = io.StringIO()
    buf.write(BOM)
    out = csv.writer(buf)
    out.writerow(header)
    for n, row in enumerate(rows, 1):
        out.writerow([safe_cell(v) for v in row])
        if n % ROWS_PER_CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> StreamingResponse:
    """A download named ``filename``; ``rows`` is read on a worker thread while the file is sent."""
    return StreamingResponse(
        csv_chunks(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
