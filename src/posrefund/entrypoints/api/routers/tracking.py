"""The customer's tracking page behind a signed link (``/t/{token}``): no login, refused clearly when the
link is forged, changed or expired. Not part of the JSON API (not in the OpenAPI description)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from posrefund.domain.errors import Conflict, NotFound
from posrefund.entrypoints.api.context import Ctx
from posrefund.entrypoints.api.errors import LINK_REFUSED_STATUS
from posrefund.entrypoints.api.tracking_page import render_page
from posrefund.service.deps import Deps
from posrefund.service.notifications import tracking
from posrefund.service.notifications.tracking_links import LinkRefused

router = APIRouter(prefix="/t", include_in_schema=False)

LangQ = Annotated[str, Query(max_length=5)]
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}  # the browser rules: SecurityHeaders


def _lang(value: str) -> str:
    return "en" if value.lower().startswith("en") else "zh"


def _refused(lang: str, token: str, reason: str) -> HTMLResponse:
    html = render_page(lang, f"/t/{token}", None, refused=reason)
    return HTMLResponse(html, status_code=LINK_REFUSED_STATUS[reason], headers=HEADERS)


async def _answer(
    c: Ctx, token: str, lang: str, step: Callable[[Deps, str], object] | None, notice: str
) -> HTMLResponse:
    """Take the customer's step (or only read, when ``step`` is None), then show the page; a refused link,
    an unknown case or a case past the step is answered with the page that says so."""
    try:
        if step is not None:
            await c.run(step, c.deps, token)
        view = await c.run(tracking.page, c.deps, token, lang)
    except LinkRefused as exc:
        return _refused(lang, token, exc.reason)
    except NotFound:
        return _refused(lang, token, "not_found")
    except Conflict:
        return _refused(lang, token, "state")
    return HTMLResponse(render_page(lang, f"/t/{token}", view, notice=notice), headers=HEADERS)


@router.get("/{token}", response_class=HTMLResponse)
async def page(token: str, c: Ctx, lang: LangQ = "zh") -> HTMLResponse:
    return await _answer(c, token, _lang(lang), None, "")


@router.post("/{token}/confirm", response_class=HTMLResponse)
async def confirm(token: str, c: Ctx, lang: LangQ = "zh") -> HTMLResponse:
    return await _answer(c, token, _lang(lang), tracking.confirm, "received")


@router.post("/{token}/stop", response_class=HTMLResponse)
async def stop(token: str, c: Ctx, lang: LangQ = "zh") -> HTMLResponse:
    return await _answer(c, token, _lang(lang), tracking.stop_messages, "stopped")
