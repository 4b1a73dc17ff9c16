"""``posrefund sales import``: a POS export or a back-office CSV of sales, so refunds can refer to them."""

from __future__ import annotations

import time
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from posrefund.entrypoints.cli.common import (
    LANG,
    JsonOpt,
    MerchantOpt,
    acting_as,
    build_deps,
    emit,
    out,
    progress_bar,
    sales_app,
    settings,
)
from posrefund.entrypoints.wording import message


@sales_app.command("import")
def sales_import(merchant: MerchantOpt, file: Path, as_json: JsonOpt = False) -> None:
    """Import sales from CSV or XLSX (columns as POST /v1/sales; terminal_id may be the 终端号; a WeChat Pay or
    Alipay sale may leave voucher, batch and RRN empty: it is its order no.). A time without an offset is read in
    the merchant's time zone (POSREFUND_TIMEZONE, Asia/Shanghai) and the output says how many were. Bad lines
    are listed; the rest is imported."""
    from posrefund.adapters.sales_table import read_sale_batches
    from posrefund.adapters.tabular import count_rows
    from posrefund.service import sales_import
    from posrefund.service.sales import FIELD_RULES

    deps = build_deps()
    actor = acting_as(deps, merchant)
    zone_name = settings().timezone
    zone = ZoneInfo(zone_name)
    scope = sales_import.import_scope(deps, actor)
    started = time.perf_counter()
    batches = read_sale_batches(file, scope, FIELD_RULES, zone, deps.clock.now)
    with progress_bar("[bold]导入消费记录 importing", as_json) as progress:
        task = progress.add_task("import", total=count_rows(file))
        report = sales_import.import_table(deps, actor, scope, batches, zone, lambda n: progress.advance(task, n))
    seconds = time.perf_counter() - started
    naive = [report.naive_times]
    result = {
        "imported": report.imported,
        "duplicates": report.duplicates,
        "errors": [{"line": ln, "code": code, "params": params} for ln, code, params in report.errors],
        "naive_times": naive[0],
        "time_zone": zone_name,
        "rows_per_second": round(report.rows / seconds) if seconds else None,
    }
    if as_json:
        emit(result, True)
    else:
        out.print(f"imported {report.imported}, duplicates {report.duplicates}, errors {len(report.errors)}")
        if naive[0]:
            out.print(f"{naive[0]} 行时间未带时区，按 {zone_name} 读取 / times without an offset read as {zone_name}")
        for ln, code, params in report.errors[:50]:
            out.print(f"  line {ln}: {code} {message(code, LANG, params)}")
    if report.errors:
        raise typer.Exit(1)
