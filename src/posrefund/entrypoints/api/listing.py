"""A route that only lists: the caller's rows of one kind, under ``items``, with no parameter.

Stores, terminals, operators, notification templates and gateways are all listed this way; one function
declares such a route, so each listing is one line that names its path, answer, service query and
permission."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, answers

Row = Mapping[str, Any]


def _as_stored(row: Row) -> Row:
    return row


def add_listing(
    router: APIRouter,
    path: str,
    answer: type[BaseModel],
    query: Callable[..., Sequence[Row]],
    permission: str,
    *,
    name: str,
    summary: str,
    row: Callable[[Row], Row] = _as_stored,
) -> None:
    """``GET path``: ``{"items": [row(r) for r in query(deps, actor)]}``; the service checks ``permission``."""

    async def listing(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
        return {"items": [row(r) for r in await c.run(query, c.deps, actor)]}

    router.add_api_route(
        path,
        listing,
        methods=["GET"],
        name=name,
        summary=summary,
        **answers(answer, *SIGNED_IN, permission=permission),
    )
