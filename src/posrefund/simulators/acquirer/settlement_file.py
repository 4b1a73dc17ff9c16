"""The acquirer's settlement file (对账文件) as the simulated host would send it to the merchant: one CSV line per
sale it captured and per void or refund it executed (reversed ones are not listed), each 预授权完成 as a sale
and each 预授权完成撤销 as a void, in the columns of posrefund's
default card mapping, plus 原参考号 (the original sale's RRN) so a refund line names the sale it refunds.

A void or refund line carries its own terminal, batch (批次号) and trace (凭证号) number, the host's RRN for it
(参考号) and the original RRN; amounts are in yuan, negative for money going back."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Final

from posrefund.simulators.acquirer.ledger import COMPLETION_VOID, COMPLETIONS, REFUND, SHANGHAI, VOID, HostLedger

HEADER: Final = (
    "交易日期", "交易时间", "商户号", "终端号", "卡号", "交易类型", "交易金额", "手续费", "凭证号", "参考号", "批次号",
    "授权码", "原参考号",
)  # fmt: skip


# The money-back lines and their 交易类型; a 预授权 and its release move no money and are not listed, a completion
# is listed as the sale it became (预授权完成, its own RRN) while it stands.
LISTED_CREDITS: Final = {VOID: "消费撤销", REFUND: "退货", COMPLETION_VOID: "预授权完成撤销"}


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def settlement_rows(book: HostLedger, day: date | None = None) -> list[list[str]]:
    """The file's lines after its header, for one Shanghai day (or every day), sales first, then voids and refunds."""
    with book.lock:
        rows = []
        completed = {e.rrn for e in book.live() if e.kind in COMPLETIONS}
        for p in book.payments.values():
            local = p.paid_at.astimezone(SHANGHAI)
            if (day is None or local.date() == day) and (not p.from_completion or p.rrn in completed):
                rows.append([
                    f"{local:%Y%m%d}", f"{local:%H%M%S}", p.merchant_no, p.terminal_no, "",
                    "预授权完成" if p.from_completion else "消费", _yuan(p.amount_fen), "0.00", p.voucher_no, p.rrn,
                    p.batch_no, p.auth_code, "",
                ])  # fmt: skip
        for e in book.live():
            local = e.executed_at.astimezone(SHANGHAI)
            if e.kind in LISTED_CREDITS and (day is None or local.date() == day):
                rows.append([
                    f"{local:%Y%m%d}", f"{local:%H%M%S}", e.merchant_no, e.terminal_no, "",
                    LISTED_CREDITS[e.kind], _yuan(-e.amount_fen), "0.00", e.trace_no, e.rrn,
                    e.batch_no, e.auth_code, e.original_rrn,
                ])  # fmt: skip
        return rows


def settlement_csv(book: HostLedger, day: date | None = None) -> str:
    """The whole file as text: header, lines, and a 合计 line with the net amount."""
    rows = settlement_rows(book, day)
    total = sum(round(float(r[6]) * 100) for r in rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    writer.writerow(["合计", "", "", "", "", "", _yuan(total), "0.00", "", "", "", "", ""])
    return out.getvalue()


def write_settlement_file(book: HostLedger, path: Path, day: date | None = None) -> Path:
    path.write_text(settlement_csv(book, day), encoding="utf-8")
    return path
