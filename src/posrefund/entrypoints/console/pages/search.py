"""The one search box in the header (退款单号、凭证号、订单号、手机后四位、卡号后四位＋金额), the sale's own
page it leads to, and "my refunds" (我的退款): the signed-in operator's own requests, by state.

What was typed is read here only for its shape (four digits, four digits and an amount, or a number); the
lookups are ``refund_search``'s, over the same merchant-scoped reads as every list."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.refund import RefundStatus
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import page_number, paging, signed_in
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, lang_of, render
from posrefund.ports import RefundQuery
from posrefund.service import refund_search, refunds, sales
from posrefund.service.deposits import desk as deposit_desk
from posrefund.service.refund_search import Found, Lookup
from posrefund.service.refunds import CaseView

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
PER_PAGE = 20
# "1234 88.00", "1234 ¥88", "1234＋88": a card's last four digits and the sale's amount.
_CARD_AND_AMOUNT = re.compile(r"^(\d{4})\s*[+＋ ]\s*[¥￥]?\s*(\S+)$")


def read_lookup(text: str) -> Lookup:
    """What the box holds, as a lookup: four digits are a phone's ending; four digits and an amount a card's."""
    value = " ".join(text.split())
    card = _CARD_AND_AMOUNT.match(value)
    if card:
        return Lookup(last4=card.group(1), amount_fen=fmt.parse_yuan(card.group(2), "q"))
    if len(value) == 4 and value.isascii() and value.isdigit():
        return Lookup(last4=value)
    return Lookup(text=value)


@router.get("/search")
async def search(request: Request) -> Response:
    """Results of the header's box; exactly one refund or sale found opens it at once."""
    actor, c = signed_in(request)
    q = request.query_params.get("q", "")[:100]
    errors = Errors(lang_of(request))
    found = Found()
    with errors.catch() as refused:
        found = await c.run(refund_search.find, c.deps, actor, read_lookup(q))
    if refused.error is None and found.total == 1:
        target = f"/cases/{found.cases[0].case.id}" if found.cases else f"/sales/{found.sales[0].id}"
        return RedirectResponse(PREFIX + target, status_code=303)
    status = 422 if refused.error is not None else 200
    return render(
        request, "search.html", status, q=q, search_q=q, found=found, errors=errors, searched=refused.error is None
    )


@router.get("/sales/{sale_id}")
async def sale_page(request: Request, sale_id: str) -> Response:
    """A sale with every refund of it, and the way to ask for another while some of it is refundable."""
    actor, c = signed_in(request)
    sale, lines = await c.run(sales.sale_lines, c.deps, actor, sale_id[:64])
    views, _total = await c.run(refunds.list_cases, c.deps, actor, RefundQuery(sale_id=sale.id, limit=100))
    deposit = await c.run(deposit_desk.of_sale, c.deps, actor, sale.id)
    return render(request, "sale.html", sale=sale, lines=lines, views=views, deposit=deposit)


@router.get("/mine")
async def my_refunds(request: Request) -> Response:
    """The refunds the signed-in operator asked for, newest first, one state or all."""
    actor, c = signed_in(request)
    errors = Errors(lang_of(request))
    status = request.query_params.get("status", "")[:20]
    page = page_number(request.query_params.get("page", ""), errors, last=10_000, place=errors.note)
    views: list[CaseView] = []
    total = 0
    with errors.catch(place=errors.note):
        offset = (page - 1) * PER_PAGE
        views, total = await c.run(refund_search.mine, c.deps, actor, status or None, PER_PAGE, offset)
    return render(
        request,
        "mine.html",
        422 if errors else 200,
        views=views,
        total=total,
        chosen=status,
        statuses=list(RefundStatus),
        errors=errors,
        **paging(page, total, PER_PAGE),
    )
