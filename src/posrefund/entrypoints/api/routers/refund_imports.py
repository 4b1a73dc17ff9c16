"""Refunds the channel made without posrefund, imported by finance from a file (CSV or XLSX) so reconciliation
and the sales know them: all rows or none (see ``service/reconciliation/refund_imports.py``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse

from posrefund.adapters.refund_table import read_refund_table
from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.responses_recon import RefundImportReport
from posrefund.entrypoints.api.routers.reconciliation_files import saved_upload
from posrefund.entrypoints.wording import message
from posrefund.i18n import pick_language
from posrefund.service.deps import Deps
from posrefund.service.reconciliation import refund_imports

router = APIRouter(prefix="/v1/reconciliation", tags=["reconciliation"])


@router.post(
    "/refund-imports",
    summary="Import the refunds made on the channel (terminal, merchant platform)",
    **answers(
        RefundImportReport,
        *SIGNED_IN,
        *WITH_BODY,
        status=201,
        description="imported (or every row already was: `imported` 0, `duplicates` all). With any bad row "
        "nothing is imported: 422 `refund_import.rows_refused`, `params.errors` lists each row's line, code and "
        "message",
        permission="recon.import",
    ),
)
async def import_refunds(
    request: Request,
    actor: CurrentActor,
    c: Ctx,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GBK) or XLSX, ≤ 12 MiB")],
) -> JSONResponse:
    actor.require("recon.import")
    lang = pick_language(request.headers.get("accept-language"))
    name = (file.filename or "upload")[:200]
    with tempfile.TemporaryDirectory(prefix="posrefund-refunds-") as tmp:
        path = await saved_upload(file, Path(tmp))
        if name.lower().endswith((".xlsx", ".xlsm")):
            path = path.rename(path.with_suffix(".xlsx"))

        def run(deps: Deps, actor: Actor) -> refund_imports.RefundImportReport:
            zone = ZoneInfo(deps.time_zone)
            terminals = refund_imports.refund_terminals(deps, actor)
            table = read_refund_table(path, refund_imports.REFUND_RULES, terminals, zone, deps.clock.now())
            return refund_imports.import_refund_table(deps, actor, table, zone, name)

        # On a thread, in transactions of its own: in the inline group commit (SQLite) a file's import would hold
        # the event loop and make its batches one transaction.
        report = await c.run_apart(run, c.deps, actor)
    if report.errors:
        errors = [row_error(line, code, params, lang) for line, code, params in report.errors]
        raise Invalid("refund_import.rows_refused", count=len(errors), errors=errors)
    body = {
        "rows": report.rows,
        "imported": report.imported,
        "duplicates": report.duplicates,
        "naive_times": report.naive_times,
        "refund_ids": report.refund_ids,
    }
    return JSONResponse(body, status_code=201)


def row_error(line: int, code: str, params: dict[str, Any], lang: str) -> dict[str, Any]:
    """A refused row of an import as the API answers it: its line, code, parameters and message."""
    return {"line": line, "code": code, "params": params, "message": message(code, lang, params)}
