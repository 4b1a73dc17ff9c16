"""One way to page a listing: ``limit`` and ``offset`` in the query, ``{items, total, limit, offset}`` back."""

# No ``from __future__ import annotations``: the dependency's parameters name the ceilings of the closure,
# which FastAPI could not resolve from strings.
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    offset: int

    def page(self, items: list[Any], total: int) -> dict[str, Any]:
        return {"items": items, "total": total, "limit": self.limit, "offset": self.offset}


def paging(max_limit: int, max_offset: int) -> Callable[..., Paging]:
    """The dependency of a paged listing; each listing keeps its own ceilings."""

    def dependency(
        limit: Annotated[int, Query(ge=1, le=max_limit)] = 50,
        offset: Annotated[int, Query(ge=0, le=max_offset)] = 0,
    ) -> Paging:
        return Paging(limit, offset)

    return dependency
