"""Evidence uploads (multipart) and their download by the merchant's staff."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response

from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, Evidence, answers
from posrefund.entrypoints.api.views import plain
from posrefund.service import evidence
from posrefund.service.evidence import MAX_BYTES

router = APIRouter(prefix="/v1/evidence", tags=["evidence"])


@router.post(
    "",
    summary="Upload evidence (photo or PDF)",
    **answers(Evidence, *SIGNED_IN, *WITH_BODY, 503, status=201, permission="evidence.upload"),
)
async def upload(
    actor: CurrentActor,
    c: Ctx,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP or PDF, at most 10 MiB")],
    kind: Annotated[str, Form(max_length=32)] = "receipt",
) -> JSONResponse:
    actor.require("evidence.upload")
    content = await file.read(MAX_BYTES + 1)
    row = await c.run(evidence.upload, c.deps, actor, content=content, filename=file.filename or "", kind=kind)
    return JSONResponse(plain(row), status_code=201)


@router.get(
    "/{evidence_id}",
    summary="An evidence file's description",
    **answers(Evidence, *SIGNED_IN, 404, permission="evidence.read"),
)
async def meta(evidence_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return plain(await c.run(evidence.describe, c.deps, actor, evidence_id))


@router.get(
    "/{evidence_id}/content",
    summary="An evidence file's bytes",
    response_class=Response,
    **answers(
        None,
        *SIGNED_IN,
        404,
        502,
        503,
        media_type="application/octet-stream",
        description="the file as uploaded, with its own content type",
        permission="evidence.read",
    ),
)
async def content(evidence_id: str, actor: CurrentActor, c: Ctx) -> Response:
    row, data = await c.run(evidence.get, c.deps, actor, evidence_id)
    return Response(
        data,
        media_type=row["content_type"],
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"},
    )
