"""Sign-in under attack: the event loop stays free during a flood, concurrent guesses cannot outrun the
lock-out, refusals all look alike, and a locked user is unlocked by an admin and told what happened."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from posrefund.adapters.db import tables
from posrefund.adapters.passwords import HashingPool
from posrefund.config import Settings
from posrefund.domain.errors import Unauthorized
from posrefund.entrypoints.cli.main import app as cli
from posrefund.service import auth
from posrefund.service.deps import Deps
from tests.conftest import PASSWORD, World
from tests.security.conftest import SlowHasher, app_for

TOKEN = "/v1/auth/token"


async def _flood_and_probe(app: FastAPI, username: str, guesses: int) -> tuple[list[httpx.Response], int]:
    """``guesses`` concurrent wrong sign-ins, and /healthz every 20 ms while they run: how many probes were
    answered while some sign-in was still waiting for its check."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        await client.get("/healthz")  # the first request builds the middleware stack: not what is measured
        tasks = [
            asyncio.create_task(client.post(TOKEN, json={"username": username, "password": f"wrong-{i}"}))
            for i in range(guesses)
        ]
        answered = 0
        while True:
            await asyncio.sleep(0.02)
            assert (await client.get("/healthz")).status_code == 200
            if all(task.done() for task in tasks):
                break
            answered += 1
        return list(await asyncio.gather(*tasks)), answered


def test_a_flood_of_wrong_passwords_leaves_the_event_loop_free(
    slow_deps: Deps, slow: SlowHasher, backend: str, world: World
) -> None:
    slow.seconds = 0.25  # Argon2 at full cost
    app = app_for(slow_deps, backend)
    app.state.ctx.hashing = HashingPool(slow, threads=2, waiting=10)
    answers, answered = asyncio.run(_flood_and_probe(app, world.a.usernames["cashier"], 12))
    assert [r.status_code for r in answers] == [401] * 12
    # Every check ran on the pool's two threads, none on the event loop's: what keeps the loop free is where
    # the work runs, not how fast a loaded test host happens to be. (On the loop, the twelve checks held it
    # for 3 s, and /healthz waited behind each.)
    assert len(slow.checked) == 12 and threading.current_thread().name not in slow.threads
    assert len(slow.threads) == 2 and all(name.startswith("password-check") for name in slow.threads)
    # ... and the loop answered /healthz while the checks were running (six rounds of 0.25 s on two threads).
    assert answered >= 1
    slow.seconds = 0.1
    # Beyond the pool's waiting room a sign-in is refused at once, before its attempt is counted.
    app.state.ctx.hashing = HashingPool(slow, threads=1, waiting=1)
    answers, _ = asyncio.run(_flood_and_probe(app, world.a.usernames["finance"], 8))
    assert sorted(r.status_code for r in answers) == [401, 401] + [503] * 6
    busy = next(r for r in answers if r.status_code == 503)
    assert busy.json()["code"] == "server.busy" and busy.headers["retry-after"] == "1"


def test_concurrent_guesses_cannot_outrun_the_lock_out(
    slow_deps: Deps, slow: SlowHasher, world: World, engine: Engine
) -> None:
    name, user_id = world.a.usernames["finance"], world.a.actors["finance"].id
    with engine.connect() as c:
        real_hash = c.execute(select(tables.users.c.password_hash).where(tables.users.c.id == user_id)).scalar_one()
    start = threading.Barrier(30)

    def guess(i: int) -> str:
        start.wait()
        try:
            auth.login(slow_deps, name, f"wrong-guess-{i}")
        except Unauthorized as exc:
            return exc.code
        return "signed in"

    with ThreadPoolExecutor(30) as pool:  # each thread on its own connection of the engine's pool
        codes = list(pool.map(guess, range(30)))
    assert codes == ["auth.invalid_credentials"] * 30
    # Only the attempts that got a turn were checked against the real hash; the rest against the dummy.
    assert slow.checked.count(real_hash) == auth.MAX_FAILURES
    with pytest.raises(Unauthorized) as refused:  # the right password, now the count is at the limit
        auth.login(slow_deps, name, PASSWORD)
    assert refused.value.code == "auth.invalid_credentials"
    assert slow.checked.count(real_hash) == auth.MAX_FAILURES


def test_unknown_user_wrong_password_and_locked_account_are_answered_alike(
    slow_deps: Deps, slow: SlowHasher, backend: str, world: World
) -> None:
    with TestClient(app_for(slow_deps, backend)) as client:
        for _ in range(auth.MAX_FAILURES):  # lock the auditor out
            client.post(TOKEN, json={"username": world.a.usernames["auditor"], "password": "wrong-password"})
        made, checked = slow.hashed, len(slow.checked)
        answers = [
            client.post(TOKEN, json={"username": "nobody-at-all", "password": "wrong-password"}),
            client.post(TOKEN, json={"username": world.a.usernames["cashier"], "password": "wrong-password"}),
            client.post(TOKEN, json={"username": world.a.usernames["auditor"], "password": PASSWORD}),  # locked
        ]
    assert {(r.status_code, r.text) for r in answers} == {(401, answers[0].text)}
    assert answers[0].json()["code"] == "auth.invalid_credentials"
    assert (slow.hashed - made, len(slow.checked) - checked) == (0, 3)  # one check each, no hashing


def test_an_admin_unlocks_a_locked_user_who_then_hears_of_the_failures(
    deps: Deps, backend: str, world: World, engine: Engine
) -> None:
    from tests.api.conftest import Auth
    from tests.console.conftest import Browser

    app = app_for(deps, backend)
    auth_headers = Auth(app, world)
    cashier = world.a.usernames["cashier"]
    unlock = f"/v1/auth/users/{world.a.actors['cashier'].id}/unlock"
    with TestClient(app) as client:
        for _ in range(auth.MAX_FAILURES):
            assert client.post(TOKEN, json={"username": cashier, "password": "wrong-password"}).status_code == 401
        assert client.post(TOKEN, json={"username": cashier, "password": PASSWORD}).status_code == 401
        assert client.post(unlock, headers=auth_headers("a.cashier")).json()["code"] == "auth.forbidden"
        other = client.post(unlock, headers=auth_headers("b.admin"))
        assert (other.status_code, other.json()["code"]) == (404, "auth.user_not_found")
        assert client.post(unlock, headers=auth_headers("a.admin")).status_code == 204
    browser = Browser(app)
    with browser.client, TestClient(app) as client:
        # The console tells the user, on this sign-in, of the 11 failures since the last one.
        page = browser.sign_in(cashier)
        signed_in = client.post(TOKEN, json={"username": cashier, "password": PASSWORD})
    assert signed_in.status_code == 200 and signed_in.json()["failed_attempts_since_last_sign_in"] == 0
    assert page.status_code == 200 and "11 次登录失败" in page.text
    events = tables.audit_events.c.action
    with engine.connect() as c:
        counted = dict(c.execute(select(events, func.count()).where(events.like("user.%lock%")).group_by(events)).all())
    assert counted == {"user.locked": 1, "user.unlocked": 1}


def test_posrefund_auth_unlock(settings: Settings, deps: Deps, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("database_url", "secret_key", "pii_key", "data_dir", "log_file"):
        monkeypatch.setenv(f"POSREFUND_{name.upper()}", str(getattr(settings, name)))
    cashier = world.a.usernames["cashier"]
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(Unauthorized):
            auth.login(deps, cashier, "wrong-password")
    with pytest.raises(Unauthorized):
        auth.login(deps, cashier, PASSWORD)
    result = CliRunner().invoke(cli, ["auth", "unlock", cashier, "--json"])
    assert result.exit_code == 0, result.output
    assert auth.login(deps, cashier, PASSWORD).id == world.a.actors["cashier"].id
    missing = CliRunner().invoke(cli, ["auth", "unlock", "nobody-at-all"])
    assert missing.exit_code == 1 and "auth.user_not_found" in missing.output
