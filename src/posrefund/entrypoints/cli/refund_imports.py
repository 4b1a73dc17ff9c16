"""``posrefund refund import``: the refunds the channel made without posrefund (at the terminal, in the WeChat Pay
or Alipay merchant platform), so reconciliation and the sales know them."""

from __future__ import annotations

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
    refund_app,
    settings,
)
from posrefund.entrypoints.wording import message


@refund_app.command("import")
def refund_import(merchant: MerchantOpt, file: Path, as_json: JsonOpt = False) -> None:
    """Import refunds made on the channel from CSV or XLSX: refund_no, channel, amount_fen, refunded_at, the sale
    (order_no; or terminal_id with batch_no and voucher_no; or rrn), optional currency, channel_refund_id, kind
    (refund|void), note. Every row is checked first; with any bad row nothing is imported and each is listed."""
    from posrefund.adapters.refund_table import read_refund_table
    from posrefund.adapters.tabular import count_rows
    from posrefund.service.reconciliation import refund_imports

    deps = build_deps()
    actor = acting_as(deps, merchant)
    zone_name = settings().timezone
    with progress_bar("[bold]导入渠道退款 importing", as_json) as progress:
        task = progress.add_task("import", total=count_rows(file))
        zone = ZoneInfo(zone_name)
        terminals = refund_imports.refund_terminals(deps, actor)
        table = read_refund_table(file, refund_imports.REFUND_RULES, terminals, zone, deps.clock.now())
        report = refund_imports.import_refund_table(
            deps, actor, table, zone, file.name, lambda n: progress.advance(task, n)
        )
    result = {
        "rows": report.rows,
        "imported": report.imported,
        "duplicates": report.duplicates,
        "errors": [{"line": ln, "code": code, "params": params} for ln, code, params in report.errors],
        "naive_times": report.naive_times,
        "time_zone": zone_name,
    }
    if as_json:
        emit(result, True)
    else:
        out.print(f"imported {report.imported}, duplicates {report.duplicates}, errors {len(report.errors)}")
        if report.errors:
            count = len(report.errors)
            out.print(message("refund_import.rows_refused", LANG, {"count": count}))
        for ln, code, params in report.errors[:50]:
            out.print(f"  line {ln}: {code} {message(code, LANG, params)}")
    if report.errors:
        raise typer.Exit(1)
