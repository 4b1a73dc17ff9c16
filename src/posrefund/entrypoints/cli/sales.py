"""``posrefund sales import``: a POS export or a back-office CSV of sales, so refunds can refer to them."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

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
)
from posrefund.entrypoints.wording import message


def _read_sales(path: Path, terminals: dict[str, str]) -> Iterator[tuple[int, Any]]:
    """``(line number, SaleInput)`` per CSV row, or ``(line number, Invalid)`` for a row that cannot be read,
    so one bad row is listed with its line number and never stops the import."""
    from posrefund.domain.errors import Invalid
    from posrefund.domain.sale_items import parse_items_text
    from posrefund.service.sales import SaleInput

    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for line, rec in enumerate(reader, start=2):
            try:
                term = rec.get("terminal_id") or ""
                paid_at = datetime.fromisoformat(rec["paid_at"])
                yield (
                    line,
                    SaleInput(
                        terminal_id=terminals.get(term, term),
                        voucher_no=rec["voucher_no"],
                        rrn=rec["rrn"],
                        batch_no=rec["batch_no"],
                        auth_code=rec.get("auth_code") or "",
                        order_no=rec.get("order_no") or "",
                        channel=rec["channel"],
                        kind=rec.get("kind") or "sale",
                        amount_fen=int(rec["amount_fen"]),
                        fee_fen=int(rec.get("fee_fen") or 0),
                        currency=rec.get("currency") or "CNY",
                        paid_at=paid_at,
                        payer_masked=rec.get("payer_masked") or "",
                        settlement_status=rec.get("settlement_status") or "unsettled",
                        items=parse_items_text(rec.get("items") or ""),
                    ),
                )
            except (KeyError, ValueError, TypeError) as exc:
                yield line, Invalid("import.bad_line", detail=type(exc).__name__ + ": " + str(exc)[:80])


@sales_app.command("import")
def sales_import(merchant: MerchantOpt, file: Path, as_json: JsonOpt = False) -> None:
    """Import sales from CSV (columns as POST /v1/sales; terminal_id may be the 终端号). Bad lines are listed."""
    from posrefund.service import sales

    deps = build_deps()
    actor = acting_as(deps, merchant)
    with deps.uow(readonly=True) as uow:
        terminals = {t["terminal_no"]: t["id"] for t in uow.merchants.list_terminals(actor.merchant_id or "")}
    with open(file, encoding="utf-8-sig") as fh:
        total = max(sum(1 for _ in fh) - 1, 0)
    with progress_bar("[bold]导入消费记录 importing", as_json) as progress:
        task = progress.add_task("import", total=total)
        report = sales.import_sales(
            deps, actor, _read_sales(file, terminals), progress=lambda n: progress.advance(task, n)
        )
    result = {
        "imported": report.imported,
        "duplicates": report.duplicates,
        "errors": [{"line": ln, "code": code, "params": params} for ln, code, params in report.errors],
    }
    if as_json:
        emit(result, True)
    else:
        out.print(f"imported {report.imported}, duplicates {report.duplicates}, errors {len(report.errors)}")
        for ln, code, params in report.errors[:50]:
            out.print(f"  line {ln}: {code} {message(code, LANG, params)}")
    if report.errors:
        raise typer.Exit(1)
