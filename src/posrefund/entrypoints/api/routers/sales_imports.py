"""Sales imported by finance from a file (CSV or XLSX: a POS export, a back-office table), so refunds and
reconciliation can refer to them: the same bulk import as ``posrefund sales import`` and the console's (see
``service/sales_import.py``). A bad row is refused with its line and the rest imported; a file that is no table,
or lacks a required column, is refused whole before anything is written."""

from __future__ import annotations

import csv
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse
from openpyxl.utils.exceptions import InvalidFileException

from posrefund.adapters.sales_table import REQUIRED, read_sale_batches
from posrefund.adapters.tabular import header_of, is_xlsx
from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.responses_recon import SaleImportReport
from posrefund.entrypoints.api.routers.reconciliation_files import saved_upload
from posrefund.entrypoints.api.routers.refund_imports import row_error
from posrefund.i18n import pick_language
from posrefund.service import sales_import
from posrefund.service.deps import Deps
from posrefund.service.sales import FIELD_RULES

router = APIRouter(prefix="/v1/reconciliation", tags=["reconciliation"])
# What a file that is no table raises when it is opened: not a workbook, not a zip, a CSV field past the limit.
_UNREADABLE = (zipfile.BadZipFile, InvalidFileException, KeyError, csv.Error, OSError, ValueError)


@router.post(
    "/sales-imports",
    summary="Import sales (a POS export, a back-office table)",
    **answers(
        SaleImportReport,
        *SIGNED_IN,
        *WITH_BODY,
        status=201,
        description="imported: `errors` lists each refused row's line, code and message (the other rows are "
        "recorded; a sale already recorded is counted in `duplicates`). A file that cannot be read, or lacks "
        "`paid_at`, `channel` or `amount_fen`, is refused whole: 422 `sale_import.bad_file` / "
        "`sale_import.missing_columns`",
        permission="sale.import",
    ),
)
async def import_sales(
    request: Request,
    actor: CurrentActor,
    c: Ctx,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GBK) or XLSX, ≤ 12 MiB")],
) -> JSONResponse:
    actor.require("sale.import")
    lang = pick_language(request.headers.get("accept-language"))
    name = (file.filename or "upload")[:200]
    with tempfile.TemporaryDirectory(prefix="posrefund-sales-") as tmp:
        kind = "upload.xlsx" if is_xlsx(Path(name)) else "upload.csv"
        path = await saved_upload(file, Path(tmp), kind, empty="sale_import.bad_file")
        try:
            header = header_of(path)
        except _UNREADABLE as exc:
            raise Invalid("sale_import.bad_file", detail=type(exc).__name__) from None
        missing = [column for column in REQUIRED if column not in {h.strip() for h in header}]
        if missing:
            raise Invalid("sale_import.missing_columns", columns=", ".join(missing))

        def run(deps: Deps, actor: Actor) -> sales_import.ImportReport:
            zone = ZoneInfo(deps.time_zone)
            scope = sales_import.import_scope(deps, actor)
            batches = read_sale_batches(path, scope, FIELD_RULES, zone, deps.clock.now)
            return sales_import.import_table(deps, actor, scope, batches, zone)

        # On a thread, in transactions of its own: in the inline group commit (SQLite) a file's import would hold
        # the event loop and make its batches one transaction.
        report = await c.run_apart(run, c.deps, actor)
    body = {
        "rows": report.rows,
        "imported": report.imported,
        "duplicates": report.duplicates,
        "naive_times": report.naive_times,
        "errors": [row_error(line, code, params, lang) for line, code, params in report.errors],
    }
    return JSONResponse(body, status_code=201)
