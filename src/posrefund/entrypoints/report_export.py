"""The refund report as a file for spreadsheets: CSV (one writer for every download, entrypoints/csv_export.py)
or XLSX. Each column titled in Chinese (English on request), each row's label in words with its code in a
column of its own, amounts in yuan with two decimals, shares in percent. Nothing a reader typed (a store's
name) can run as a formula: CSV cells get the leading ``'``, XLSX cells are written as text, never as formulas."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from starlette.responses import Response

from posrefund.domain.reports import By
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.texts import label
from posrefund.entrypoints.csv_export import csv_response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "route": {"original": ("原路退回", "Original route"), "alternative": ("其他方式退回", "Alternative route")},
    "reason_category": {
        "merchant": ("商户原因（质量、服务）", "Merchant's side (quality, service)"),
        "customer": ("顾客原因（取消、退定金）", "Customer's side (cancelled, deposit)"),
        "error": ("差错与故障", "Errors and faults"),
        "other": ("其他", "Other"),
    },
}
BY_TITLES: dict[str, tuple[str, str]] = {
    "day": ("日期", "Day"),
    "week": ("周（周一）", "Week (Monday)"),
    "month": ("月份", "Month"),
    "store": ("门店", "Store"),
    "terminal": ("终端", "Terminal"),
    "cashier": ("收银员", "Cashier"),
    "channel": ("支付渠道", "Channel"),
    "reason": ("退款原因", "Reason"),
    "reason_category": ("原因类别", "Reason category"),
    "route": ("退款路径", "Route"),
    "outcome": ("退款结果", "Outcome"),
}
_KIND_OF = {By.CHANNEL: "channel", By.REASON: "reason", By.OUTCOME: "status"}


def _yuan(fen: int) -> str:
    return fmt.yuan_input(fen)


def _percent(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.2f}%"


def _wait(seconds: int | None, lang: str) -> str:
    if seconds is None:
        return ""
    if seconds < 0:
        return "> 30 days" if lang == "en" else "超过 30 天"
    for size, zh, en in ((86400, "天", "days"), (3600, "小时", "hours"), (60, "分钟", "minutes")):
        if seconds >= size and seconds % size == 0:
            return f"≤ {seconds // size} {en if lang == 'en' else zh}"
    return f"≤ {seconds} s"


Column = tuple[str, str, Callable[[dict[str, Any], str], Any]]
FIGURE_COLUMNS: tuple[Column, ...] = (
    ("退款笔数", "Refunds", lambda f, _l: f["refunds"]),
    ("退款金额（元）", "Refund amount (yuan)", lambda f, _l: _yuan(f["amount_fen"])),
    ("退款成功笔数", "Paid", lambda f, _l: f["paid"]),
    ("退款成功金额（元）", "Paid amount (yuan)", lambda f, _l: _yuan(f["paid_fen"])),
    ("失败笔数", "Failed", lambda f, _l: f["failed"]),
    ("失败金额（元）", "Failed amount (yuan)", lambda f, _l: _yuan(f["failed_fen"])),
    ("异常笔数", "Abnormal", lambda f, _l: f["abnormal"]),
    ("异常金额（元）", "Abnormal amount (yuan)", lambda f, _l: _yuan(f["abnormal_fen"])),
    ("驳回 / 撤回笔数", "Rejected or cancelled", lambda f, _l: f["refused"]),
    ("处理中笔数", "In progress", lambda f, _l: f["in_progress"]),
    ("销售笔数", "Sales", lambda f, _l: f["sales"]),
    ("销售金额（元）", "Sales amount (yuan)", lambda f, _l: _yuan(f["sales_fen"])),
    ("退款率（笔数）", "Refund rate (count)", lambda f, _l: _percent(f["rate_count"])),
    ("退款率（金额）", "Refund rate (amount)", lambda f, _l: _percent(f["rate_amount"])),
    ("失败占比", "Failed share", lambda f, _l: _percent(f["failed_share"])),
    ("异常占比", "Abnormal share", lambda f, _l: _percent(f["abnormal_share"])),
    ("到账时长中位数", "Time to money, median", lambda f, lang: _wait(f["wait_p50_seconds"], lang)),
    ("到账时长 90 分位", "Time to money, 90th percentile", lambda f, lang: _wait(f["wait_p90_seconds"], lang)),
)


def row_label(by: By, row: dict[str, Any], lang: str) -> str:
    """What a person reads for a row: a name, a label in words, or the day / week / month itself."""
    if row.get("name"):
        return str(row["name"])
    if by in _KIND_OF:
        return label(_KIND_OF[by], row["key"], lang)
    pair = REPORT_LABELS.get(by.value, {}).get(row["key"])
    if pair is not None:
        return pair[1] if lang == "en" else pair[0]
    return str(row["key"])


def header(by: By, lang: str) -> list[str]:
    en = lang == "en"
    titles = [en_title if en else zh for zh, en_title, _value in FIGURE_COLUMNS]
    previous = (
        ["Previous period: refunds", "Previous period: amount (yuan)"] if en else ["上期退款笔数", "上期退款金额（元）"]
    )
    return [BY_TITLES[by.value][1 if en else 0], "Code" if en else "代码", *titles, *previous]


def rows(report: dict[str, Any], lang: str) -> Iterator[list[Any]]:
    """The report's rows, then its total (labelled 合计 / Total) with the previous period's total."""
    by = By(report["by"])
    for row in report["rows"]:
        before = row.get("previous")
        yield [
            row_label(by, row, lang),
            row["key"],
            *(value(row["figures"], lang) for _zh, _en, value in FIGURE_COLUMNS),
            "" if before is None else before["refunds"],
            "" if before is None else _yuan(before["amount_fen"]),
        ]
    total, before = report["total"], report["previous_total"]
    yield [
        "Total" if lang == "en" else "合计",
        "",
        *(value(total, lang) for _zh, _en, value in FIGURE_COLUMNS),
        before["refunds"],
        _yuan(before["amount_fen"]),
    ]


def filename(report: dict[str, Any], ext: str) -> str:
    first: date = report["period"]["from"]
    last: date = report["period"]["to"]
    return f"refunds-{report['by']}-{first.isoformat()}-{last.isoformat()}.{ext}"


def csv_file(report: dict[str, Any], lang: str) -> Response:
    return csv_response(header(By(report["by"]), lang), list(rows(report, lang)), filename(report, "csv"))


def xlsx_bytes(head: Sequence[str], body: Sequence[Sequence[Any]], title: str) -> bytes:
    """One sheet; every text cell is typed as text, so ``=…`` in a name stays words and never runs."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    for values in (head, *body):
        sheet.append([None] * len(values))
        for n, value in enumerate(values, 1):
            cell = sheet.cell(row=sheet.max_row, column=n)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = TYPE_STRING
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_file(report: dict[str, Any], lang: str) -> Response:
    title = "Refunds" if lang == "en" else "退款报表"
    data = xlsx_bytes(header(By(report["by"]), lang), list(rows(report, lang)), title)
    disposition = f'attachment; filename="{filename(report, "xlsx")}"'
    return Response(data, media_type=XLSX, headers={"Content-Disposition": disposition})
