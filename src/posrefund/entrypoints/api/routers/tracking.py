"""The customer's tracking page behind a signed link (``/t/{token}``): no login, refused clearly when the
link is forged, changed or expired. Not part of the JSON API (not in the OpenAPI description)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from posrefund.domain.errors import Conflict, NotFound
from posrefund.entrypoints.api.context import Ctx
from posrefund.entrypoints.api.tracking_page import render_page
from posrefund.service.notifications import tracking
from posrefund.service.notifications.tracking_links import LinkRefused

router = APIRouter(prefix="/t", include_in_schema=False)

LangQ = Annotated[str, Query(max_length=5)]
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
REFUSED_STATUS = {"invalid": 403, "expired": 410, "not_found": 404, "state": 409}


def _lang(value: str) -> str:
    return "en" if value.lower().startswith("en") else "zh"


def _refused(lang: str, token: str, reason: str) -> HTMLResponse:
    html = render_page(lang, f"/t/{token}", None, refused=reason)
    return HTMLResponse(html, status_code=REFUSED_STATUS[reason], headers=HEADERS)


async def _show(c: Ctx, token: str, lang: str, notice: str = "") -> HTMLResponse:
    try:
        view = await c.run(tracking.page, c.deps, token, lang)
    except LinkRefused as exc:
        return _refused(lang, token, exc.reason)
    except NotFound:
        return _refused(lang, token, "not_found")
    return HTMLResponse(render_page(lang, f"/t/{token}", view, notice=notice), headers=HEADERS)


@router.get("/{token}", response_class=HTMLResponse)
async def page(token: str, c: Ctx, lang: LangQ = "zh") -> HTMLResponse:
    return await _show(c, token, _lang(lang))


@router.post("/{token}/confirm", response_class=HTMLResponse)
async def confirm(token: str, c: Ctx, lang: LangQ = "zh") -> HTMLResponse:
    lang = _lang(lang)
    try:
        await c.run(tracking.confirm, c.deps, token)
    except LinkRefused as exc:
        return _refused(lang, token, exc.reason)
    except NotFound:
        return _refused(lang, token, "not_found")
    except Conflict:
        return _refused(lang, token, "state")
    return await _show(c, token, lang, "received")


@router.post("/{token}/stop", response_class=HTMLResponse)
async def stop(token: str, c: Ctx, lang: LangQ = "zh") -> HTMLResponse:
    lang = _lang(lang)
    try:
        await c.run(tracking.stop_messages, c.deps, token)
    except LinkRefused as exc:
        return _refused(lang, token, exc.reason)
    except NotFound:
        return _refused(lang, token, "not_found")
    return await _show(c, token, lang, "stopped")
