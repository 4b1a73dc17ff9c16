"""The signed-in operator's own account: change the password (also the way out of a temporary one)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import Invalid
from posrefund.entrypoints.console import session
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, actor_of, ctx_of, home_of, lang_of, render
from posrefund.service import accounts, sessions

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
FIELD_OF = {
    "user.wrong_password": "old_password",
    "user.weak_password": "new_password",
    "user.same_password": "new_password",
    "console.passwords_differ": "new_password_again",
}


@router.get("/password")
async def password_page(request: Request) -> Response:
    actor_of(request)
    return render(request, "account_password.html", forced=request.state.console_session.pwc)


@router.post("/password")
async def change_password(request: Request) -> Response:
    """Every other session of the operator ends; this one goes on with a fresh session of the new generation."""
    actor = actor_of(request)
    c = ctx_of(request)
    form = await request.form()
    old, new, again = (str(form.get(n) or "")[:256] for n in ("old_password", "new_password", "new_password_again"))
    errors = Errors(lang_of(request))
    with errors.catch(FIELD_OF, passing=("auth.forbidden",)):
        if new != again:
            raise Invalid("console.passwords_differ")
        await c.run(accounts.change_own_password, c.deps, actor, old, new)
    if errors:
        forced = request.state.console_session.pwc
        return render(request, "account_password.html", 422, errors=errors, forced=forced)
    c.tokens.generations.forget(actor.id)
    grant = await c.run(sessions.grant, c.deps, actor, None)
    request.state.console_session = session.signed_in(grant.actor, c.deps.clock.now(), grant.generation)
    return RedirectResponse(home_of(actor), status_code=303)
