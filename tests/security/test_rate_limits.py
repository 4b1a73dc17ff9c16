"""How fast anyone may ask: sign-in per address and per account (API and console), the progressive delay per
address, the API per key and per user, the tracking pages per link. 429, ``Retry-After``, the usual body."""

from __future__ import annotations

import time

from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.config import RateLimits
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import PASSWORD, World
from tests.security.conftest import app_for
from tests.support.limits import RELAXED, refused

TOKEN = "/v1/auth/token"


def _from(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000), raise_server_exceptions=False)


def test_sign_in_is_limited_per_address_and_per_account(deps: Deps, backend: str, world: World) -> None:
    limits = RELAXED.model_copy(update={"signin_per_ip": "3/minute", "signin_per_account": "2/minute"})
    app = app_for(deps, backend, limits)
    names = world.a.usernames
    with _from(app, "10.0.0.1") as one, _from(app, "10.0.0.2") as two, _from(app, "10.0.0.3") as three:
        for who in ("cashier", "finance", "risk"):
            assert one.post(TOKEN, json={"username": names[who], "password": "wrong-password"}).status_code == 401
        refused(one.post(TOKEN, json={"username": names["auditor"], "password": PASSWORD}))  # 4th from there
        english = one.post(
            TOKEN, json={"username": names["auditor"], "password": PASSWORD}, headers={"Accept-Language": "en"}
        )
        assert english.json()["message"] == "Too many requests; please retry later"
        # Per account, whichever address asks: finance was tried once above, once more here, then refused.
        assert two.post(TOKEN, json={"username": names["finance"], "password": PASSWORD}).status_code == 200
        refused(three.post(TOKEN, json={"username": names["finance"], "password": PASSWORD}))
        # The console's form counts against the same limits.
        three.get("/console/login")
        refused(three.post("/console/login", data={"username": names["finance"], "password": PASSWORD}))
        assert three.post(TOKEN, json={"username": names["supervisor"], "password": PASSWORD}).status_code == 200


def test_failures_from_one_address_slow_that_address_not_the_real_user(deps: Deps, backend: str, world: World) -> None:
    limits = RELAXED.model_copy(update={"signin_free_attempts": 3})
    app = app_for(deps, backend, limits)
    admin = world.a.usernames["admin"]
    wrong = {"username": admin, "password": "wrong-password"}
    with _from(app, "10.0.0.66") as attacker, _from(app, "10.0.0.7") as office:
        assert [attacker.post(TOKEN, json=wrong).status_code for _ in range(3)] == [401, 401, 401]
        refused(attacker.post(TOKEN, json=wrong), retry_after="1")
        assert office.post(TOKEN, json={"username": admin, "password": PASSWORD}).status_code == 200
        time.sleep(1.1)
        assert attacker.post(TOKEN, json=wrong).status_code == 401  # its turn came; the next waits longer
        refused(attacker.post(TOKEN, json=wrong), retry_after="2")


def test_the_api_is_limited_per_key_and_per_user(deps: Deps, backend: str, world: World) -> None:
    app = app_for(deps, backend, RELAXED.model_copy(update={"api_per_key": "2/minute", "api_per_user": "3/minute"}))
    auth = Auth(app, world)
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/v1/auth/me", headers=auth("a.terminal")).status_code == 200
        refused(client.get("/v1/auth/me", headers=auth("a.terminal")))
        for _ in range(3):
            assert client.get("/v1/auth/me", headers=auth("a.cashier")).status_code == 200
        refused(client.get("/v1/auth/me", headers=auth("a.cashier")))
        assert client.get("/v1/auth/me", headers=auth("a.supervisor")).status_code == 200  # another user


def test_tracking_pages_are_limited_per_link(deps: Deps, backend: str) -> None:
    limits: RateLimits = RELAXED.model_copy(update={"tracking_per_token": "2/minute"})
    with TestClient(app_for(deps, backend, limits)) as client:
        assert [client.get("/t/forged-link-one").status_code for _ in range(2)] == [403, 403]
        refused(client.get("/t/forged-link-one"))
        refused(client.post("/t/forged-link-one/confirm"))
        assert client.get("/t/forged-link-two").status_code == 403
