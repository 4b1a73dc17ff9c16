"""The start every console handler shares: who is signed in, the app that serves them, what they posted,
and which page of a long list they asked for.

Session and app lookup stay in ``web``; this only puts the pieces a handler needs in one call, so each page
reads its own fields and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from starlette.datastructures import FormData

from posrefund.domain.errors import DomainError
from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.web import actor_of, allowed, ctx_of


def signed_in(request: Request) -> tuple[Actor, AppContext]:
    """The operator (a signed-out visitor is sent to the login page) and the app; each step checks its role."""
    return actor_of(request), ctx_of(request)


async def posted(request: Request, action: str | None = None) -> tuple[Actor, AppContext, FormData]:
    """A form sent by a signed-in operator: nobody's form is read before they are known, nor before their role
    is found to allow ``action`` when the whole form is for one."""
    actor, c = allowed(request, action) if action else signed_in(request)
    return actor, c, await request.form()


def texts(form: FormData, *names: str) -> dict[str, str]:
    """The named fields as typed (a missing one is ""), to check and to show again beside an error."""
    return {name: str(form.get(name) or "") for name in names}


def page_number(text: str, errors: Errors, *, last: int, place: Callable[[DomainError], None] | None = None) -> int:
    """The page asked for, 1 when none is; one that is not a number from 1 to ``last`` is said on the form
    (at ``place`` when the page has no field for it) and the first page is shown."""
    if not text:
        return 1
    with errors.catch(place=place):
        return fmt.parse_count(text, "page", low=1, high=last)
    return 1


def paging(page: int, total: int, per_page: int) -> dict[str, int]:
    """The pager's values for a list of ``total`` rows shown ``per_page`` at a time (always one page at least)."""
    return {"page": page, "pages": max(1, -(-total // per_page))}
