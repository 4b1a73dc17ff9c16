"""Several server processes count against one limit when they share a Redis (``POSREFUND_RATE_LIMITS__STORAGE``):
two apps built apart, as two processes would be, each refuse once the count they share is past the limit, where
memory storage would let each have the whole limit (twice the limit in all). And a Redis that goes away turns
no request into a 500: each process counts on its own until the store is back (still 429 past the limit)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.adapters import rate_limit
from posrefund.adapters.rate_limit import Quotas
from posrefund.config import RateLimits
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import PASSWORD, World
from tests.security.conftest import app_for
from tests.support.limits import RELAXED, refused

TOKEN = "/v1/auth/token"
REDIS_URL = os.environ.get("POSREFUND_TEST_REDIS_URL")
REDIS_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "redis"


@pytest.fixture
def redis_url() -> str:
    """The Redis that `make test` starts (scripts/redis); never skipped on CI."""
    if not REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("POSREFUND_TEST_REDIS_URL is not set: run the suite with `make test`")
        pytest.skip("Redis not started (use `make test`)")
    return REDIS_URL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gone_redis_url() -> str:
    """A Redis URL where nothing listens: the store has gone away."""
    return f"redis://127.0.0.1:{_free_port()}/0"


def _address() -> str:
    """A source address of this test alone: the shared Redis outlives a test and serves other workers."""
    return "10.{}.{}.{}".format(*secrets.token_bytes(3))


def _two_apps(deps: Deps, backend: str, limits: RateLimits) -> tuple[FastAPI, FastAPI]:
    return app_for(deps, backend, limits), app_for(deps, backend, limits)


@pytest.fixture
def clients() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def _from(stack: ExitStack, app: FastAPI, address: str) -> TestClient:
    return stack.enter_context(TestClient(app, client=(address, 40000), raise_server_exceptions=False))


def _wrong(username: str) -> dict[str, str]:
    return {"username": username, "password": "wrong-password"}


def test_sign_in_per_address_is_counted_once_across_processes(
    deps: Deps, backend: str, redis_url: str, clients: ExitStack
) -> None:
    limits = RELAXED.model_copy(update={"storage": redis_url, "signin_per_ip": "4/minute"})
    first, second = _two_apps(deps, backend, limits)
    address = _address()
    one, two = _from(clients, first, address), _from(clients, second, address)
    statuses = [client.post(TOKEN, json=_wrong(f"guess-{n}")).status_code for n, client in enumerate([one, two] * 2)]
    assert statuses == [401, 401, 401, 401]
    refused(one.post(TOKEN, json=_wrong("guess-4")))  # memory storage: each process would allow 4 of its own
    refused(two.post(TOKEN, json=_wrong("guess-5")))


def test_sign_in_per_account_is_counted_once_across_processes(
    deps: Deps, backend: str, redis_url: str, clients: ExitStack
) -> None:
    limits = RELAXED.model_copy(update={"storage": redis_url, "signin_per_account": "3/minute"})
    first, second = _two_apps(deps, backend, limits)
    account = f"nobody-{secrets.token_hex(6)}"
    one, two = _from(clients, first, _address()), _from(clients, second, _address())
    assert [c.post(TOKEN, json=_wrong(account)).status_code for c in (one, two, one)] == [401, 401, 401]
    refused(two.post(TOKEN, json=_wrong(account)))
    refused(one.post("/console/login", data=_wrong(account)))


def test_the_progressive_delay_is_counted_once_across_processes(
    deps: Deps, backend: str, redis_url: str, clients: ExitStack
) -> None:
    limits = RELAXED.model_copy(update={"storage": redis_url, "signin_free_attempts": 2})
    first, second = _two_apps(deps, backend, limits)
    address = _address()
    one, two = _from(clients, first, address), _from(clients, second, address)
    assert [one.post(TOKEN, json=_wrong("a")).status_code, two.post(TOKEN, json=_wrong("b")).status_code] == [401, 401]
    refused(one.post(TOKEN, json=_wrong("c")))  # the delay the other process set holds here too


def test_the_api_per_key_is_counted_once_across_processes(
    deps: Deps, backend: str, world: World, redis_url: str, clients: ExitStack
) -> None:
    limits = RELAXED.model_copy(update={"storage": redis_url, "api_per_key": "2/minute"})
    first, second = _two_apps(deps, backend, limits)
    one, two = _from(clients, first, _address()), _from(clients, second, _address())
    terminal = Auth(first, world)("a.terminal")
    assert [c.get("/v1/auth/me", headers=terminal).status_code for c in (one, two)] == [200, 200]
    refused(one.get("/v1/auth/me", headers=terminal))
    refused(two.get("/v1/auth/me", headers=terminal))


def test_sign_in_without_its_redis_still_answers_and_still_limits(
    deps: Deps, backend: str, world: World, gone_redis_url: str, clients: ExitStack
) -> None:
    limits = RELAXED.model_copy(update={"storage": gone_redis_url, "signin_per_ip": "2/minute"})
    client = _from(clients, app_for(deps, backend, limits), _address())
    assert client.post(TOKEN, json=_wrong(world.a.usernames["admin"])).status_code == 401
    assert client.post(TOKEN, json={"username": world.a.usernames["admin"], "password": PASSWORD}).status_code == 200
    refused(client.post(TOKEN, json=_wrong(world.a.usernames["admin"])))  # this process's own count


def test_the_api_without_its_redis_still_answers_and_still_limits(
    deps: Deps, backend: str, world: World, gone_redis_url: str, clients: ExitStack
) -> None:
    limits = RELAXED.model_copy(update={"storage": gone_redis_url, "api_per_key": "2/minute"})
    app = app_for(deps, backend, limits)
    client = _from(clients, app, _address())
    terminal = Auth(app, world)("a.terminal")
    assert [client.get("/v1/auth/me", headers=terminal).status_code for _ in range(2)] == [200, 200]
    refused(client.get("/v1/auth/me", headers=terminal))


def test_a_redis_that_does_not_answer_holds_no_request(
    deps: Deps, backend: str, world: World, clients: ExitStack
) -> None:
    """A store that takes the connection and never answers (a hung or black-holed Redis) counts as away."""
    with socket.socket() as silent, ThreadPoolExecutor(1) as pool:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        limits = RELAXED.model_copy(update={"storage": f"redis://127.0.0.1:{silent.getsockname()[1]}/0"})
        app = app_for(deps, backend, limits.model_copy(update={"api_per_key": "2/minute"}))
        client = _from(clients, app, _address())
        terminal = Auth(app, world)("a.terminal")
        started = time.monotonic()
        answered = pool.submit(lambda: [client.get("/v1/auth/me", headers=terminal).status_code for _ in range(3)])
        try:
            assert answered.result(timeout=10) == [200, 200, 429]
        finally:
            silent.close()  # lets a request stuck on it go
        assert time.monotonic() - started < 3  # one wait of the store's timeout, then this process's own count


def test_counting_goes_back_to_redis_once_it_is_back(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Redis of this test's own (scripts/redis, as `make test` starts one), stopped and started again."""
    monkeypatch.setattr(rate_limit, "_RETRY_SHARED_AFTER", 0.0)  # tries the store again at every request
    port = _free_port()
    subprocess.run([REDIS_SCRIPT, "start", tmp_path, str(port)], check=True)
    try:
        store = f"redis://127.0.0.1:{port}/0"
        one, two = (Quotas({"signin_per_ip": "2/minute"}, storage=store) for _ in range(2))
        assert [one.take([("signin_per_ip", "a")]), two.take([("signin_per_ip", "a")])] == [0.0, 0.0]
        assert one.take([("signin_per_ip", "a")]) > 0  # counted together
        subprocess.run([REDIS_SCRIPT, "stop", tmp_path], check=True)
        assert [two.take([("signin_per_ip", "b")]) for _ in range(2)] == [0.0, 0.0]  # its own count, no error
        assert two.take([("signin_per_ip", "b")]) > 0
        assert one.take([("signin_per_ip", "b")]) == 0.0  # the other process's own count
        subprocess.run([REDIS_SCRIPT, "start", tmp_path, str(port)], check=True)
        assert [one.take([("signin_per_ip", "c")]), two.take([("signin_per_ip", "c")])] == [0.0, 0.0]
        assert two.take([("signin_per_ip", "c")]) > 0  # together again
    finally:
        subprocess.run([REDIS_SCRIPT, "stop", tmp_path], check=True)
