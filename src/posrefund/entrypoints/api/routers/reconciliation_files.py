"""Settlement files of the reconciliation API: import one (refused whole when it is cut short, does not add up,
is another merchant's or outside the dates asked for; answered with the existing file when its content was
imported before), read one, withdraw one found wrong."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from posrefund.adapters.settlement import open_settlement_file
from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.responses_recon import ImportReport, SettlementFile, Withdrawal
from posrefund.entrypoints.api.schemas_recon import SourceName, WithdrawIn
from posrefund.entrypoints.api.views import iso, plain
from posrefund.entrypoints.mapping_files import card_mapping_named
from posrefund.entrypoints.wording import message
from posrefund.i18n import pick_language
from posrefund.service import reconciliation
from posrefund.service.deps import Deps

router = APIRouter(prefix="/v1/reconciliation", tags=["reconciliation"])
ON_OBJECT = (*SIGNED_IN, 404)
MAX_UPLOAD = 12 * 1024 * 1024  # the API's body cap; larger files go through `posrefund reconcile FILE`


def _report(r: reconciliation.ImportReport, lang: str) -> dict[str, Any]:
    notice = None
    if r.notice is not None:
        notice = {**r.notice, "message": message(r.notice["code"], lang, r.notice["params"])}
    return {
        "file_id": r.file_id,
        "fingerprint": r.fingerprint,
        "duplicate": r.duplicate,
        "lines": r.lines,
        "bad_lines": r.bad_lines,
        "overlap_lines": r.overlap_lines,
        "first_date": r.first_date.isoformat() if r.first_date else None,
        "last_date": r.last_date.isoformat() if r.last_date else None,
        "bad": r.bad,
        "notice": notice,
    }


@router.post(
    "/files",
    summary="Import a settlement file",
    **answers(
        ImportReport,
        *SIGNED_IN,
        *WITH_BODY,
        404,
        409,
        status=201,
        description="imported",
        again="the same content was imported before (in any copy): the file it is, `notice.code` "
        "`recon.file_duplicate`, nothing changed",
        permission="recon.import",
    ),
)
async def import_file(
    request: Request,
    actor: CurrentActor,
    c: Ctx,
    source: Annotated[SourceName, Query()],
    file: Annotated[UploadFile, File(description="the settlement file as the channel sent it (≤ 12 MiB)")],
    date_from: Annotated[date | None, Query(description="every line must be dated on or after this day")] = None,
    date_to: Annotated[date | None, Query(description="every line must be dated on or before this day")] = None,
    mapping: Annotated[str | None, Query(max_length=40, description="a stored acquirer layout (card files)")] = None,
) -> JSONResponse:
    actor.require("recon.import")
    with tempfile.TemporaryDirectory(prefix="posrefund-settlement-") as tmp:
        path = await saved_upload(file, Path(tmp))
        name = (file.filename or "upload")[:200]

        def stage(deps: Deps, actor: Actor) -> reconciliation.ImportReport:
            # Fingerprinting reads the whole file, so it runs with the import (off the event loop where the
            # engine allows), and afresh on each try: a replay after a concurrent upload needs unread lines.
            layout = card_mapping_named(deps, actor, source, mapping)
            settlement = open_settlement_file(source, path, filename=name, mapping=layout)
            return reconciliation.import_file(
                deps, actor, **settlement.import_arguments(), date_from=date_from, date_to=date_to
            )

        report = await c.run_once(stage, c.deps, actor)
    lang = pick_language(request.headers.get("accept-language"))
    return JSONResponse(_report(report, lang), status_code=200 if report.duplicate else 201)


async def saved_upload(file: UploadFile, folder: Path, name: str = "upload", empty: str = "recon.bad_file") -> Path:
    """The upload written to ``folder``/``name`` a MiB at a time (refused past ``MAX_UPLOAD``, or as ``empty``)."""
    path = folder / name
    size = 0
    with open(path, "wb") as out:
        while chunk := await file.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise Invalid("recon.file_too_large", max_bytes=MAX_UPLOAD)
            out.write(chunk)
    if size == 0:
        raise Invalid(empty, detail="empty file")
    return path


@router.get(
    "/files/{file_id}",
    summary="An imported settlement file",
    **answers(SettlementFile, *ON_OBJECT, permission="recon.read"),
)
async def get_file(file_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return plain(await c.run(reconciliation.get_file, c.deps, actor, file_id))


@router.post(
    "/files/{file_id}/withdraw",
    summary="Withdraw an imported settlement file",
    **answers(
        Withdrawal,
        *ON_OBJECT,
        *WITH_BODY,
        409,
        description="withdrawn: its lines no longer count; the runs that read it are marked stale",
        permission="recon.import",
    ),
)
async def withdraw_file(file_id: str, body: WithdrawIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    done = await c.run(reconciliation.withdraw_file, c.deps, actor, file_id, body.reason)
    runs = [
        {**r, "date_from": r["date_from"].isoformat(), "date_to": r["date_to"].isoformat()} for r in done["stale_runs"]
    ]
    return {**done, "withdrawn_at": iso(done["withdrawn_at"]), "stale_runs": runs}
