"""Sales (消费): recorded by terminals, found the way a cashier does."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from posrefund.domain.sale_items import numbered
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, SaleList, SaleOut, answers
from posrefund.entrypoints.api.schemas import SaleIn
from posrefund.entrypoints.api.views import line_view, sale_view
from posrefund.service import sales
from posrefund.service.sales import SaleInput

router = APIRouter(prefix="/v1/sales", tags=["sales"])


@router.post(
    "",
    summary="Record a sale",
    **answers(SaleOut, *SIGNED_IN, *WITH_BODY, 404, 409, status=201, permission="sale.create"),
)
async def create_sale(body: SaleIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    fields = body.model_dump(exclude={"items"})
    lines = numbered((i.name, i.quantity, i.unit_price_fen, i.amount_fen) for i in body.items)
    sale = await c.run(sales.record_sale, c.deps, actor, SaleInput(**fields, items=lines))
    return JSONResponse(sale_view(sale) | {"items": [line_view(line) for line in lines]}, status_code=201)


@router.get("/{sale_id}", summary="One sale", **answers(SaleOut, *SIGNED_IN, 404, permission="sale.read"))
async def get_sale(sale_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    sale, lines = await c.run(sales.sale_lines, c.deps, actor, sale_id)
    return sale_view(sale) | {"items": [line_view(line) for line in lines]}


@router.get("", summary="Find sales the way a cashier does", **answers(SaleList, *SIGNED_IN, permission="sale.read"))
async def find_sales(
    actor: CurrentActor,
    c: Ctx,
    voucher_no: Annotated[str | None, Query(max_length=12)] = None,
    order_no: Annotated[str | None, Query(max_length=64)] = None,
    last4: Annotated[str | None, Query(max_length=4)] = None,
    amount_fen: Annotated[int | None, Query(ge=0, le=10**13)] = None,
    date: Annotated[date | None, Query(description="local date (Asia/Shanghai) of the payment")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    found = await c.run(
        sales.find_sales,
        c.deps,
        actor,
        voucher_no=voucher_no,
        order_no=order_no,
        last4=last4,
        amount_fen=amount_fen,
        on=date,
        limit=limit,
    )
    return {"items": [sale_view(s) for s in found]}
