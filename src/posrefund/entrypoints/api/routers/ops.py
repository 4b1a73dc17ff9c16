"""Running the service as a fleet: liveness, readiness and the metrics scrape (docs/operations.md).

None of them needs a sign-in or counts against a rate limit, and the access log writes them only when they
fail. ``/healthz`` touches nothing (the process answers); ``/readyz`` asks the database, its schema and the
evidence store; ``/metrics`` is the Prometheus text, open to this host or to the metrics token."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from posrefund import __version__
from posrefund.entrypoints.api.errors import ErrorBody, error_response
from posrefund.entrypoints.api.observability import Operations
from posrefund.entrypoints.api.responses import Health, Ready, answers

router = APIRouter(tags=["ops"])


def _ops(request: Request) -> Operations:
    ops = request.app.state.ops
    assert isinstance(ops, Operations)
    return ops


@router.get("/healthz", summary="Liveness and version (touches no database)", **answers(Health))
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


_NOT_READY = {
    503: {
        "model": ErrorBody,
        "description": "not ready: `ready.database_unreachable`, `ready.schema_not_at_head` or "
        "`ready.evidence_unreachable`; `params.checks` gives each check's result",
    }
}


def _with_not_ready(keywords: dict[str, Any]) -> dict[str, Any]:
    return {**keywords, "responses": {**keywords["responses"], **_NOT_READY}}


@router.get(
    "/readyz",
    summary="Readiness: the database answers at the newest schema and the evidence store works",
    **_with_not_ready(answers(Ready)),
)
async def readyz(request: Request) -> Response:
    verdict = await _ops(request).readiness.verdict()
    if not verdict.ready:
        return error_response(request, verdict.code, 503, verdict.params)
    return JSONResponse({"status": "ready", "checks": verdict.checks})


@router.get(
    "/metrics",
    summary="Prometheus metrics (this host, or `Authorization: Bearer` with the metrics token)",
    response_class=Response,  # the Prometheus text format; refusals are JSON
    **answers(None, 401, 403, media_type="text/plain"),
)
async def metrics(request: Request) -> Response:
    ops = _ops(request)
    refused = ops.metrics_refusal(request)
    if refused is not None:
        return error_response(request, refused, 401 if refused == "metrics.token_required" else 403)
    body: bytes = await anyio.to_thread.run_sync(generate_latest, ops.registry)  # reads the database
    return Response(body, media_type=CONTENT_TYPE_LATEST)
