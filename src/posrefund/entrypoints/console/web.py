"""The console's plumbing: templates in two languages, the session around every route, errors as pages.

Every console route goes through ``ConsoleRoute``: it reads the signed session (signing out after idle),
checks the CSRF token of every POST, turns a domain error that escapes a page into an HTML page with the
right status (404 for another merchant's case, as if it did not exist), and re-issues the session cookie.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from posrefund.domain.errors import DomainError, Invalid, NotFound
from posrefund.domain.roles import PERMISSIONS, Actor
from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.api.errors import status_of
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import NOT_MINE, Errors, FieldOf
from posrefund.entrypoints.console.session import LANG_COOKIE, Session, Sessions, anonymous
from posrefund.entrypoints.console.texts import EN, label
from posrefund.entrypoints.wording import message
from posrefund.ports import ConcurrentUpdate

PREFIX = "/console"
LONE_PERCENT = re.compile(r"%(?![(%])")


def _env(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("posrefund.entrypoints.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )

    def gettext(text: str) -> str:
        """The text in the page's language. Jinja formats what this returns with the call's named values
        (``%(n)s``), so a percent sign that is only a percent sign ("Rate (%)") is doubled to stay one."""
        return LONE_PERCENT.sub("%%", EN.get(text, text) if lang == "en" else text)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return gettext(singular if n == 1 else plural)

    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        yuan=fmt.yuan,
        local=fmt.local,
        label=lambda kind, value: label(kind, value, lang),
        msg=lambda code, params=None: message(code, lang, params),
        lang=lang,
        P=PREFIX,
    )
    return env


ENVS = {"zh": _env("zh"), "en": _env("en")}


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


class NotSignedIn(Exception):
    def __init__(self, idle: bool = False) -> None:
        self.idle = idle


class PasswordChangeFirst(Exception):
    """Signed in with a temporary password: the password page comes before any other."""


# The pages one may reach while a temporary password waits to be changed.
PASSWORD_PAGES = frozenset({PREFIX + "/password", PREFIX + "/logout", PREFIX + "/login", PREFIX + "/lang"})


async def live_session(request: Request, c: AppContext, session: Session) -> Session:
    """The session, if its user still holds it: same token generation, still active (the check the API's
    tokens make, through the same few-seconds cache); otherwise an anonymous one."""
    if not session.signed_in:
        return session
    generations = c.tokens.generations
    state, fresh = generations.get(session.uid)
    if not fresh:
        state = await c.token_state(session.uid)
        generations.put(session.uid, state)
    if state is None or not state[1] or state[0] != session.gen:
        return anonymous(c.deps.clock.now())
    if session.pwc and request.url.path not in PASSWORD_PAGES:
        raise PasswordChangeFirst()
    return session


# The menu: each entry is shown only to the roles the PERMISSIONS table allows its action.
MENU: tuple[tuple[str, str, str], ...] = (
    ("退款台", "/desk", "refund.request"),
    ("我的退款", "/mine", "refund.request"),
    ("待审核", "/review", "refund.review"),
    ("客服查询", "/service", "refund.reveal_pii"),
    ("退款报表", "/reports", "report.read"),
    ("原因周报", "/reports/summary", "report.read"),
    ("退款图表", "/reports/charts", "report.read"),
    ("风险预警", "/risk", "risk.read"),
    ("门店", "/admin/stores", "store.manage"),
    ("终端", "/admin/terminals", "terminal.manage"),
    ("操作员", "/admin/users", "user.manage"),
    ("退款政策", "/admin/policy", "policy.write"),
    ("手续费", "/fees", "fees.read"),
    ("服务台", "/provider", "provider.dashboard"),
    ("退机处理", "/provider/returns", "device_return.read"),
    ("定金押金", "/deposits", "deposit.read"),
    ("机具发放", "/provider/terminals", "provider.terminal.read"),
    ("服务商户", "/provider/merchants", "provider.merchants.read"),
)


def may(actor: Actor, action: str) -> bool:
    return actor.role in PERMISSIONS[action]


def menu_for(actor: Actor) -> list[tuple[str, str]]:
    return [(text, PREFIX + path) for text, path, action in MENU if may(actor, action)]


def home_of(actor: Actor) -> str:
    """The overview of what waits for this person (pages/home.py), whatever the role."""
    return PREFIX + "/home"


def ctx_of(request: Request) -> AppContext:
    c = request.app.state.ctx
    assert isinstance(c, AppContext)
    return c


def session_of(request: Request) -> Session:
    s = request.state.console_session
    assert isinstance(s, Session)
    return s


def actor_of(request: Request) -> Actor:
    session = session_of(request)
    if not session.signed_in:
        raise NotSignedIn()
    return session.actor()


def allowed(request: Request, action: str) -> tuple[Actor, AppContext]:
    """The signed-in operator, refused before any work unless their role may do ``action``, and the app."""
    actor = actor_of(request)
    actor.require(action)
    return actor, ctx_of(request)


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = lang_of(request)
    session = session_of(request)
    actor = session.actor() if session.signed_in else None
    page = (
        ENVS[lang]
        .get_template(template)
        .render(
            request_path=request.url.path,
            csrf=session.csrf,
            actor=actor,
            menu=menu_for(actor) if actor else [],
            may=(lambda action: may(actor, action)) if actor else (lambda _a: False),
            errors=values.pop("errors", None) or Errors(lang),
            idle_minutes=int(request.app.state.console_sessions.idle.total_seconds() // 60),
            demo_inbox=getattr(request.app.state, "demo_inbox", None) is not None,  # the demo's SMS sink runs
            **values,
        )
    )
    return HTMLResponse(page, status_code=status)


def error_page(request: Request, err: DomainError, status: int | None = None) -> HTMLResponse:
    lang = lang_of(request)
    code = status or status_of(err)
    return render(request, "error.html", code, http_status=code, text=message(err.code, lang, err.params))


async def submit(
    request: Request,
    step: Callable[[], Awaitable[object]],
    again: Callable[[Errors], Awaitable[Response]],
    done: str,
    field_of: FieldOf | None = None,
    *,
    passing: Collection[str] = NOT_MINE,
    only: Collection[str] | None = None,
) -> Response:
    """One form's step: done, on to ``done`` (303, so reloading the next page does not post again); refused,
    the page ``again`` with each message beside its field (see ``Errors.catch`` for ``passing`` and ``only``)."""
    errors = Errors(lang_of(request))
    with errors.catch(field_of, passing=passing, only=only):
        await step()
    if errors:
        return await again(errors)
    return RedirectResponse(done, status_code=303)


def safe_next(value: str | None) -> str:
    """Only our own console pages are followed after a redirect: never another site."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            c = ctx_of(request)
            sessions: Sessions = request.app.state.console_sessions
            session, ran_out = sessions.read(request, c.deps.clock.now())
            request.state.console_session = session
            try:
                if ran_out:
                    raise NotSignedIn(idle=True)
                request.state.console_session = session = await live_session(request, c, session)
                if request.method == "POST":
                    form = await request.form()
                    token = request.headers.get("x-csrf-token") or form.get("csrf")
                    if not session.csrf_ok(token if isinstance(token, str) else None):
                        response: Response = error_page(request, Invalid("console.csrf"), 403)
                        sessions.write(request, response, session)
                        return response
                response = await inner(request)
            except PasswordChangeFirst:
                response = RedirectResponse(f"{PREFIX}/password", status_code=303)
            except NotSignedIn as out:
                target = f"{PREFIX}/login?next={quote(request.url.path)}" + ("&idle=1" if out.idle else "")
                response = RedirectResponse(target, status_code=303)
                if request.headers.get("hx-request"):
                    response = Response(status_code=204, headers={"HX-Redirect": target})
            except DomainError as err:
                response = error_page(request, err)
            except ConcurrentUpdate:
                response = error_page(request, Invalid("refund.concurrent_update"), 409)
            except RequestValidationError:
                response = error_page(request, NotFound("request.not_found"), 404)
            except StarletteHTTPException as exc:
                response = error_page(request, Invalid("error.unknown"), exc.status_code)
            current = request.state.console_session
            assert isinstance(current, Session)
            sessions.write(request, response, current)
            response.headers.setdefault("Cache-Control", "no-store")  # the framing and CSP rules: SecurityHeaders
            return response

        return handler
