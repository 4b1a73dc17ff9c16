"""Sign-in (service/auth.py through entrypoints/api/signin.py: Argon2 off the event loop, lock-out after repeated
failures, a notice of the failures since the last sign-in), sign-out, the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import Invalid
from posrefund.domain.roles import MERCHANT_STAFF, PROVIDER_DESK, Actor
from posrefund.entrypoints.api.signin import sign_in
from posrefund.entrypoints.console import fmt, session
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.web import (
    PREFIX,
    ConsoleRoute,
    ctx_of,
    home_of,
    lang_of,
    render,
    safe_next,
    session_of,
)
from posrefund.entrypoints.wording import message
from posrefund.service import sessions

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
# The site's root, where a person typing only the host name lands: a plain route, as the console's session
# (its cookie scoped to /console) is neither read nor written there.
root = APIRouter(include_in_schema=False)


@root.get("/")
async def site_root(_request: Request) -> Response:
    """Into the console (its session cookie is scoped to ``/console``, so only there is the operator known)."""
    return RedirectResponse(f"{PREFIX}/", status_code=302)


@router.get("")
@router.get("/")
async def home(request: Request) -> Response:
    """The operator's first page, or the sign-in page (302: where one lands may differ next time)."""
    current = session_of(request)
    return RedirectResponse(home_of(current.actor()) if current.signed_in else f"{PREFIX}/login", status_code=302)


@router.get("/login")
async def login_page(request: Request) -> Response:
    errors = Errors(lang_of(request))
    if request.query_params.get("idle"):
        errors.form.append(message("console.signed_out_idle", errors.lang))
    return render(request, "login.html", errors=errors, username="", next=safe_next(request.query_params.get("next")))


def console_user(actor: Actor) -> bool:
    """A merchant's staff in their merchant, or a provider's desk staff (their device returns) — never a
    terminal's key or a provider's staff inside a merchant."""
    if actor.role in PROVIDER_DESK:
        return actor.merchant_id is None
    return actor.role in MERCHANT_STAFF and actor.merchant_id is not None


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:256]
    target = safe_next(str(form.get("next") or ""))
    errors = Errors(lang_of(request))
    c = ctx_of(request)
    with errors.catch(passing=("server.busy",)):  # busy: an error page with 503, not a form error
        if not username.strip():
            raise Invalid("request.field_required", field="username")
        if not password:
            raise Invalid("request.field_required", field="password")
        signed_in = await sign_in(c, username.strip(), password)
        if not console_user(signed_in.actor):
            raise Invalid("console.staff_only")
    if errors:
        return render(request, "login.html", 401, errors=errors, username=username, next=target)
    actor, notice = signed_in.actor, signed_in.notice
    grant = await c.run(sessions.grant, c.deps, actor, None)  # the session carries the token generation
    now = c.deps.clock.now()
    request.state.console_session = session.signed_in(grant.actor, now, grant.generation, grant.must_change_password)
    if grant.must_change_password:
        return RedirectResponse(PREFIX + "/password", status_code=303)
    target = target if target != PREFIX + "/" else home_of(actor)
    if notice.failed_attempts:  # failures since the last sign-in: the user hears of them before going on
        last = fmt.local(notice.last_sign_in_at) or "—"
        text = message("auth.failed_since_sign_in", errors.lang, {"count": notice.failed_attempts, "last": last})
        return render(request, "signed_in_notice.html", text=text, target=target)
    return RedirectResponse(target, status_code=303)


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
