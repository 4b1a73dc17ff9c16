"""The console over HTTP for real: the app factory, the real service layer and database, a browser-like client."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.entrypoints.api.app import create_app
from posrefund.service.deps import Deps
from tests.conftest import PASSWORD, World
from tests.support.limits import RELAXED

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def app(deps: Deps, backend: str) -> FastAPI:
    return create_app(deps, inline=backend == "sqlite", rate_limits=RELAXED)


class Browser:
    """A TestClient that keeps cookies and reads the CSRF token off the last page, as a browser would."""

    def __init__(self, app: FastAPI) -> None:
        self.client = TestClient(app, raise_server_exceptions=False, base_url="http://testserver")
        self.csrf = ""

    def get(self, path: str, **kw: object):  # type: ignore[no-untyped-def]
        r = self.client.get(path, **kw)  # type: ignore[arg-type]
        m = CSRF.search(r.text)
        if m:
            self.csrf = m.group(1)
        return r

    def post(self, path: str, data: dict[str, object] | None = None, **kw: object):  # type: ignore[no-untyped-def]
        body = {"csrf": self.csrf, **(data or {})}
        r = self.client.post(path, data=body, **kw)  # type: ignore[arg-type]
        m = CSRF.search(r.text)
        if m:
            self.csrf = m.group(1)
        return r

    def sign_in(self, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        self.get("/console/login")
        r = self.post("/console/login", {"username": username, "password": password}, follow_redirects=False)
        if r.status_code == 303:
            self.get(r.headers["location"])  # a new session has a new CSRF token: pick it up as a browser would
        return r


@pytest.fixture
def browser(app: FastAPI) -> Iterator[Browser]:
    b = Browser(app)
    with b.client:
        yield b


@pytest.fixture
def as_user(app: FastAPI, world: World) -> Iterator[object]:
    """``as_user("a.cashier")`` → a signed-in Browser for that operator of merchant A or B."""
    made: list[Browser] = []

    def sign(who: str) -> Browser:
        prefix, role = who.split(".")
        m = world.a if prefix == "a" else world.b
        b = Browser(app)
        b.client.__enter__()
        made.append(b)
        r = b.sign_in(m.usernames[role])
        assert r.status_code == 303, r.text
        return b

    yield sign
    for b in made:
        b.client.__exit__(None, None, None)
