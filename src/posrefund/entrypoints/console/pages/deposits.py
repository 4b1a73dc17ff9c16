"""The store's page of money taken before the service (定金、订金和押金): a lookup by voucher or order number
for the counter, the deposits narrowed by store, kind and state, those held beyond their terms, proposals
waiting for acceptance and penalty transfers to confirm; and the merchant's terms templates.

The page is a list of sections (``SECTIONS``), each with its heading, template, permission and loader, so
another kind of money held for a customer (a card pre-authorisation, a wallet's fund freeze) joins the page
as one more entry. Every rule is ``service.deposits``'s; this module reads forms by shape and renders."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.deposits import FULL_BP, DepositKind
from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, texts
from posrefund.entrypoints.console.pages.holds import find_holds, open_holds
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, may, render
from posrefund.ports.deposits import DeskFilter
from posrefund.service import admin
from posrefund.service.deposits import desk, terms

router = APIRouter(prefix=PREFIX + "/deposits", route_class=ConsoleRoute, include_in_schema=False)
KINDS = tuple(k.value for k in DepositKind)
TERMS_FIELDS = ("name", "kind", "hold_days", "costs_deductible", "max_deduction", "text")
_PERCENT = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?$", re.ASCII)

Loader = Callable[[Actor, AppContext, DeskFilter], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Section:
    """One part of the page: its heading (Chinese, translated by the page), the template that shows it, the
    permission a role needs to see it, and what it loads for the filters chosen."""

    title: str
    template: str
    action: str
    load: Loader


async def _deposits(actor: Actor, c: AppContext, chosen: DeskFilter) -> dict[str, Any]:
    return {"desk": await c.run(desk.desk, c.deps, actor, chosen)}


# The page's sections in order: money taken before the service, then money only held (预授权和资金冻结).
SECTIONS: list[Section] = [
    Section("定金、订金和押金", "_deposits_held.html", "deposit.read", _deposits),
    Section("预授权和资金冻结", "_holds_open.html", "hold.read", open_holds),
]


def _chosen(request: Request) -> DeskFilter:
    q = request.query_params
    return DeskFilter(q.get("store_id", "")[:64], q.get("kind", "")[:16], q.get("status", "")[:16])


async def _stores(actor: Actor, c: AppContext) -> list[dict[str, Any]]:
    return [dict(s) for s in await c.run(admin.list_stores, c.deps, actor)] if may(actor, "merchant.read") else []


@router.get("")
async def deposits_page(request: Request) -> Response:
    """The lookup (one deposit found opens it at once), the filters and each section the role may see."""
    actor, c = allowed(request, "deposit.read")
    errors = Errors(lang_of(request))
    q = request.query_params.get("q", "")[:100]
    found: list[Any] | None = None
    named, holds = 0, []
    if q.strip():
        with errors.catch():
            found, named = await c.run(desk.find, c.deps, actor, q)
        if found is not None and len(found) == 1:
            return RedirectResponse(f"{PREFIX}/deposits/{found[0]['id']}", status_code=303)
        holds = await find_holds(actor, c, q) if not found else []  # a 预授权's voucher is on no sale
        if len(holds) == 1:
            return RedirectResponse(f"{PREFIX}/holds/{holds[0].id}", status_code=303)
    chosen = _chosen(request)
    parts = []
    with errors.catch(place=errors.note):
        parts = [(s, await s.load(actor, c, chosen)) for s in SECTIONS if may(actor, s.action)]
    return render(
        request, "deposits.html", 422 if errors else 200, errors=errors, q=q, found=found, named=named, holds=holds,
        parts=parts, chosen=chosen, kinds=KINDS, statuses=desk.STATUSES, stores=await _stores(actor, c),
    )  # fmt: skip


def parse_percent(text: str, field: str) -> int:
    """``30`` / ``12.5`` (% of what was paid) → basis points, exactly; at most 100 %."""
    m = _PERCENT.match(text.strip().translate(str.maketrans("０１２３４５６７８９．", "0123456789.")).rstrip("%"))
    if not m:
        raise Invalid("console.invalid_number", field=field)
    bp = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    if bp > FULL_BP:
        raise Invalid("console.invalid_number", field=field)
    return bp


async def _terms_page(request: Request, status: int = 200, **extra: Any) -> Response:
    actor, c = allowed(request, "deposit.read")
    rows = await c.run(terms.list_terms, c.deps, actor)
    form = {"kind": "deposit", "hold_days": "30", "max_deduction": "100"} | extra.pop("form", {})
    return render(request, "deposit_terms.html", status, rows=rows, kinds=KINDS, form=form, **extra)


@router.get("/terms")
async def terms_page(request: Request) -> Response:
    return await _terms_page(request)


@router.post("/terms")
async def create_terms(request: Request) -> Response:
    """A new template (supervisor, admin); a refused one shows the form again as typed, nothing saved."""
    actor, c, form = await posted(request, "deposit.terms")
    text = texts(form, *TERMS_FIELDS)
    errors = Errors(lang_of(request))
    field_of = {"deposit.invalid_kind": "kind", "deposit.terms_duplicate": "name"}
    with errors.catch(field_of):
        if not text["hold_days"].strip().isdigit() or len(text["hold_days"].strip()) > 5:
            raise Invalid("console.invalid_number", field="hold_days")
        await c.run(
            terms.create_terms, c.deps, actor, name=text["name"][:200], kind=text["kind"][:16],
            hold_days=int(text["hold_days"]), costs_deductible=text["costs_deductible"] == "yes",
            max_deduction_bp=parse_percent(text["max_deduction"], "max_deduction"), text=text["text"][:4000],
        )  # fmt: skip
    if errors:
        return await _terms_page(request, 422, form=text, errors=errors)
    return RedirectResponse(f"{PREFIX}/deposits/terms", status_code=303)
