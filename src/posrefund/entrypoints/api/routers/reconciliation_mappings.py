"""Acquirer layouts of the reconciliation API (对账单映射): list the built-in and stored ones, read one, store one
(create, or change with the stored version), and preview a file's first lines read with one before importing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi import Path as FastPath

from posrefund.domain.errors import Invalid
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.schemas_desk import Mapping, MappingIn, MappingList, NewMappingIn, Preview
from posrefund.entrypoints.api.views import plain
from posrefund.entrypoints.mapping_files import preview_of, preview_view
from posrefund.i18n import pick_language
from posrefund.service.reconciliation import mappings

router = APIRouter(prefix="/v1/reconciliation/mappings", tags=["reconciliation"])
MAX_PREVIEW = 12 * 1024 * 1024
MappingName = Annotated[str, FastPath(max_length=40)]


@router.get("", summary="Acquirer layouts", **answers(MappingList, *SIGNED_IN, permission="recon.read"))
async def list_mappings(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"items": [plain(m) for m in await c.run(mappings.list_mappings, c.deps, actor)]}


@router.post(
    "",
    summary="Store a new acquirer layout",
    **answers(Mapping, *SIGNED_IN, *WITH_BODY, 409, status=201, permission="recon.mapping"),
)
async def add_mapping(body: NewMappingIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return plain(await c.run(mappings.put_mapping, c.deps, actor, body.name, body.spec, channel=body.channel))


@router.post(
    "/preview",
    summary="Preview a file read with a layout",
    **answers(Preview, *SIGNED_IN, *WITH_BODY, 404, permission="recon.import"),
)
async def preview(
    request: Request,
    actor: CurrentActor,
    c: Ctx,
    file: Annotated[UploadFile, File(description="the acquirer's file (its first lines are read)")],
    name: Annotated[str | None, Form(max_length=40, description="a stored or built-in layout")] = None,
    spec: Annotated[str | None, Form(max_length=20_000, description="an unsaved layout, as JSON")] = None,
) -> dict[str, Any]:
    data = await file.read(MAX_PREVIEW + 1)
    if len(data) > MAX_PREVIEW:
        raise Invalid("recon.file_too_large", max_bytes=MAX_PREVIEW)
    if not data:
        raise Invalid("recon.bad_file", detail="empty file")
    result = await c.run(preview_of, c.deps, actor, data, name=name, spec=spec)
    return preview_view(result, pick_language(request.headers.get("accept-language")))


@router.get("/{name}", summary="One acquirer layout", **answers(Mapping, *SIGNED_IN, 404, permission="recon.read"))
async def get_mapping(name: MappingName, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return plain(await c.run(mappings.get_mapping, c.deps, actor, name))


@router.put(
    "/{name}",
    summary="Change a stored acquirer layout",
    **answers(Mapping, *SIGNED_IN, *WITH_BODY, 404, 409, permission="recon.mapping"),
)
async def put_mapping(name: MappingName, body: MappingIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    saved = await c.run(
        mappings.put_mapping, c.deps, actor, name, body.spec, channel=body.channel, version=body.version
    )
    return plain(saved)
