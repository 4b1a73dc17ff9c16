"""Sign-in (service/auth.py: Argon2, lock-out after repeated failures), sign-out, the language switch."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import DomainError, Invalid
from posrefund.domain.roles import MERCHANT_STAFF
from posrefund.entrypoints.console import fmt, session
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.web import (
    PREFIX,
    ConsoleRoute,
    actor_of,
    ctx_of,
    home_of,
    lang_of,
    render,
    safe_next,
)
from posrefund.i18n import message
from posrefund.service import auth

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


@router.get("")
@router.get("/")
async def home(request: Request) -> Response:
    return RedirectResponse(home_of(actor_of(request)), status_code=303)


@router.get("/login")
async def login_page(request: Request) -> Response:
    errors = Errors(lang_of(request))
    if request.query_params.get("idle"):
        errors.form.append(message("console.signed_out_idle", errors.lang))
    return render(request, "login.html", errors=errors, username="", next=safe_next(request.query_params.get("next")))


def _on_shop_clock(err: DomainError) -> DomainError:
    """A lock-out says until when on the shop's clock, not in UTC."""
    if err.code == "auth.locked":
        err.params["until"] = fmt.local(datetime.fromisoformat(str(err.params["until"])))
    return err


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:256]
    target = safe_next(str(form.get("next") or ""))
    errors = Errors(lang_of(request))
    c = ctx_of(request)
    with errors.catch(place=lambda err: errors.add(_on_shop_clock(err))):
        if not username.strip():
            raise Invalid("request.field_required", field="username")
        if not password:
            raise Invalid("request.field_required", field="password")
        actor = await c.run(auth.login, c.deps, username.strip(), password)
        if actor.role not in MERCHANT_STAFF or actor.merchant_id is None:
            raise Invalid("console.staff_only")
    if errors:
        return render(request, "login.html", 401, errors=errors, username=username, next=target)
    request.state.console_session = session.signed_in(actor, c.deps.clock.now())
    return RedirectResponse(target if target != PREFIX + "/" else home_of(actor), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    request.state.console_session = session.anonymous(ctx_of(request).deps.clock.now())
    return RedirectResponse(PREFIX + "/login", status_code=303)


@router.get("/lang")
async def switch_language(request: Request) -> Response:
    to = "en" if request.query_params.get("to") == "en" else "zh"
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    secure = request.app.state.console_sessions.secure(request)
    response.set_cookie(
        session.LANG_COOKIE, to, httponly=True, samesite="strict", secure=secure, path=PREFIX, max_age=365 * 24 * 3600
    )
    return response
