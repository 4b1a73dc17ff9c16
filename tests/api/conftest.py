"""The HTTP layer for real: the app factory with the real service layer and database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.entrypoints.api.app import create_app
from posrefund.entrypoints.api.context import AppContext
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.support.limits import RELAXED


@pytest.fixture
def app(deps: Deps, backend: str) -> FastAPI:
    # On SQLite the service runs inline on the event loop (as in production); on PostgreSQL on threads.
    return create_app(deps, inline=backend == "sqlite", rate_limits=RELAXED)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


class Auth:
    """Bearer headers for every operator of the world, minted the way /v1/auth/token mints them."""

    def __init__(self, app: FastAPI, world: World) -> None:
        ctx: AppContext = app.state.ctx
        self.headers: dict[str, dict[str, str]] = {}
        for prefix, m in (("a", world.a), ("b", world.b)):
            for role, actor in m.actors.items():
                if role == "terminal":
                    token = str(m.extra["terminal_key"])
                else:
                    token, _ = ctx.issue_token(actor)
                self.headers[f"{prefix}.{role}"] = {"Authorization": f"Bearer {token}"}
        token, _ = ctx.issue_token(world.provider)
        self.headers["provider"] = {"Authorization": f"Bearer {token}"}

    def __call__(self, who: str, **extra: str) -> dict[str, str]:
        return {**self.headers[who], **extra}


@pytest.fixture
def auth(app: FastAPI, world: World) -> Auth:
    return Auth(app, world)


def refund_body(sale_id: str, amount: int = 1_000, **kw: Any) -> dict[str, Any]:
    return {"sale_id": sale_id, "amount_fen": amount, "reason": "customer_cancelled", **kw}
