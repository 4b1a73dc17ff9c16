"""Bearer tokens and console cookies forged the ways an attacker would: signed with another key, ``alg:
none``, a claim changed under the old signature, expired, of a deleted or deactivated user, the wrong kind of
token, a terminal key with a guessed secret, a console cookie with a changed payload. Each is refused with
the exact answer, and the request it carried changes nothing: the operator it aimed to deactivate is still
active and no audit event was written. Every probe runs on SQLite and PostgreSQL (the refusals that read
the token generation, the refresh tokens or the keys read them from the database)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from itsdangerous import URLSafeSerializer
from sqlalchemy import Engine, delete, func, select
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.console.session import COOKIE
from posrefund.service import accounts, admin
from posrefund.service.deps import Deps
from tests.conftest import PASSWORD, FixedClock, World

ME = "/v1/auth/me"
SESSION_SALT = "posrefund.console.session.v1"  # the console's own salt: a forger knows the code, not the key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(_unb64(token.split(".")[1]))
    return out


def with_claims(token: str, **changes: Any) -> str:
    """The token with its payload changed and its header and signature kept, byte for byte."""
    header, _, signature = token.split(".")
    return ".".join((header, _b64(json.dumps(claims_of(token) | changes).encode()), signature))


def unsigned(claims: dict[str, Any], alg: str, signature: str = "") -> str:
    head = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"


def cookie_payload(cookie: str) -> tuple[dict[str, Any], str]:
    """The session a console cookie carries (read without its key, as anyone can) and its signature."""
    payload, _, signature = cookie.rpartition(".")
    data: dict[str, Any] = URLSafeSerializer("", salt=SESSION_SALT).load_payload(payload.encode())
    return data, signature


def with_session(cookie: str, **changes: Any) -> str:
    """The console cookie with its session changed, encoded as itsdangerous does, the old signature kept."""
    data, signature = cookie_payload(cookie)
    return URLSafeSerializer("", salt=SESSION_SALT).dump_payload(data | changes).decode() + "." + signature


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient, username: str) -> dict[str, Any]:
    r = client.post("/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def audit_count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(tables.audit_events)).scalar() or 0)


def active(deps: Deps, user_id: str) -> bool:
    with deps.uow(readonly=True) as uow:
        user = uow.users.get_user(user_id)
    return user is not None and bool(user["active"])


class Probe:
    """Sends a forged credential at a state change (deactivating an operator) and checks it was refused
    with exactly ``status`` and ``code``, the operator still active and the audit trail unchanged."""

    def __init__(self, client: TestClient, deps: Deps, engine: Engine, world: World) -> None:
        self.client, self.deps, self.engine, self.world = client, deps, engine, world

    def refuses(self, headers: dict[str, str], code: str, victim: str = "", status: int = 401) -> None:
        victim = victim or self.world.a.actors["cashier"].id
        before = audit_count(self.engine)
        r = self.client.post(f"/v1/users/{victim}/deactivate", headers=headers)
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
        r = self.client.get(ME, headers=headers)
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
        assert active(self.deps, victim)
        assert audit_count(self.engine) == before


@pytest.fixture
def probe(client: TestClient, deps: Deps, engine: Engine, world: World) -> Probe:
    return Probe(client, deps, engine, world)


@pytest.fixture
def admin_token(client: TestClient, world: World) -> str:
    return str(sign_in(client, world.a.usernames["admin"])["access_token"])


# --- signatures -------------------------------------------------------------------------------------------


def test_token_signed_with_another_key_is_refused(probe: Probe, admin_token: str) -> None:
    forged = jwt.encode(claims_of(admin_token), "another-service-secret-" * 2, algorithm="HS256")
    probe.refuses(bearer(forged), "auth.invalid_token")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_token_is_refused(probe: Probe, admin_token: str, alg: str) -> None:
    probe.refuses(bearer(unsigned(claims_of(admin_token), alg)), "auth.invalid_token")


def test_alg_none_token_keeping_the_real_signature_is_refused(probe: Probe, admin_token: str) -> None:
    forged = unsigned(claims_of(admin_token), "none", admin_token.split(".")[2])
    probe.refuses(bearer(forged), "auth.invalid_token")


def test_pyjwt_alg_none_token_is_refused(probe: Probe, admin_token: str) -> None:
    probe.refuses(bearer(jwt.encode(claims_of(admin_token), None, algorithm="none")), "auth.invalid_token")


@pytest.mark.filterwarnings("ignore:The HMAC key")
def test_another_algorithm_with_the_right_secret_is_refused(probe: Probe, admin_token: str, deps: Deps) -> None:
    """Only HS256 is accepted, even when the signature itself would hold (a leaked key tried with HS512)."""
    forged = jwt.encode(claims_of(admin_token), deps.secret_key, algorithm="HS512")
    probe.refuses(bearer(forged), "auth.invalid_token")


def test_token_without_a_signature_part_is_refused(probe: Probe, admin_token: str) -> None:
    probe.refuses(bearer(admin_token.rsplit(".", 1)[0]), "auth.invalid_token")


# --- claims changed under the old signature -------------------------------------------------------------


def test_cashier_token_made_admin_keeps_no_signature(probe: Probe, client: TestClient, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])["access_token"]
    victim = world.a.actors["risk"].id
    probe.refuses(bearer(with_claims(cashier, role="admin")), "auth.invalid_token", victim)


def test_admin_token_made_provider_admin_is_refused(probe: Probe, admin_token: str) -> None:
    probe.refuses(bearer(with_claims(admin_token, role=Role.PROVIDER_ADMIN.value, mid=None)), "auth.invalid_token")


def test_admin_token_moved_to_another_merchant_is_refused(probe: Probe, admin_token: str, world: World) -> None:
    forged = with_claims(admin_token, mid=world.b.id)
    probe.refuses(bearer(forged), "auth.invalid_token", world.b.actors["cashier"].id)


def test_cashier_token_with_the_admins_sub_is_refused(probe: Probe, client: TestClient, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])["access_token"]
    forged = with_claims(cashier, sub=world.a.actors["admin"].id, role="admin")
    probe.refuses(bearer(forged), "auth.invalid_token", world.a.actors["risk"].id)


def test_token_with_a_raised_generation_is_refused(probe: Probe, admin_token: str) -> None:
    probe.refuses(bearer(with_claims(admin_token, gen=claims_of(admin_token)["gen"] + 1)), "auth.invalid_token")


def test_token_with_the_password_change_claim_cleared_is_refused(probe: Probe, admin_token: str) -> None:
    probe.refuses(bearer(with_claims(admin_token, pwc=False, name="x")), "auth.invalid_token")


# --- expiry ---------------------------------------------------------------------------------------------


def test_expired_token_is_refused(probe: Probe, admin_token: str, clock: FixedClock) -> None:
    clock.advance(minutes=30, seconds=1)
    probe.refuses(bearer(admin_token), "auth.invalid_token")


def test_expired_token_with_its_expiry_pushed_back_is_refused(
    probe: Probe, admin_token: str, clock: FixedClock
) -> None:
    clock.advance(minutes=31)
    forged = with_claims(admin_token, exp=claims_of(admin_token)["exp"] + 86_400)
    probe.refuses(bearer(forged), "auth.invalid_token")


def test_token_without_an_expiry_is_refused(probe: Probe, admin_token: str) -> None:
    claims = {k: v for k, v in claims_of(admin_token).items() if k != "exp"}
    probe.refuses(bearer(jwt.encode(claims, "another-service-secret-" * 2, algorithm="HS256")), "auth.invalid_token")


# --- the account behind the token -----------------------------------------------------------------------


def test_token_of_a_deleted_user_is_refused(probe: Probe, app: FastAPI, deps: Deps, engine: Engine) -> None:
    boss = Actor(id="setup", role=Role.ADMIN, merchant_id=probe.world.a.id, name="setup")
    made = admin.create_user(deps, boss, username="gone_admin", password=PASSWORD, role="admin")
    ctx: AppContext = app.state.ctx
    token, _ = ctx.issue_token(Actor(id=made["id"], role=Role.ADMIN, merchant_id=probe.world.a.id, name="gone"))
    with engine.begin() as c:
        c.execute(delete(tables.users).where(tables.users.c.id == made["id"]))
    probe.refuses(bearer(token), "auth.token_revoked")


def test_token_of_a_deactivated_user_is_refused(probe: Probe, client: TestClient, deps: Deps, world: World) -> None:
    """Deactivated by another process (the CLI): the token was never seen by this one, so nothing cached."""
    token = sign_in(client, world.a.usernames["admin"])["access_token"]
    accounts.deactivate_user(deps, world.provider, world.a.actors["admin"].id)
    probe.refuses(bearer(token), "auth.token_revoked")


# --- the wrong kind of token ----------------------------------------------------------------------------


def test_refresh_token_used_as_an_access_token_is_refused(probe: Probe, client: TestClient, world: World) -> None:
    pair = sign_in(client, world.a.usernames["admin"])
    probe.refuses(bearer(pair["refresh_token"]), "auth.invalid_token")
    again = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200  # not used up by the refused attempts


def test_access_token_used_as_a_refresh_token_is_refused(client: TestClient, admin_token: str, engine: Engine) -> None:
    before = audit_count(engine)
    r = client.post("/v1/auth/refresh", json={"refresh_token": admin_token})
    assert (r.status_code, r.json()["code"]) == (401, "auth.refresh_invalid"), r.text
    assert audit_count(engine) == before


def test_terminal_key_used_as_a_refresh_token_is_refused(client: TestClient, world: World) -> None:
    r = client.post("/v1/auth/refresh", json={"refresh_token": world.a.extra["terminal_key"]})
    assert (r.status_code, r.json()["code"]) == (401, "auth.refresh_invalid"), r.text


def test_refresh_token_with_a_guessed_secret_is_refused(client: TestClient, world: World) -> None:
    pair = sign_in(client, world.a.usernames["admin"])
    refresh_id = pair["refresh_token"].split(".")[0]
    r = client.post("/v1/auth/refresh", json={"refresh_token": f"{refresh_id}.{'A' * 43}"})
    assert (r.status_code, r.json()["code"]) == (401, "auth.refresh_invalid"), r.text
    assert client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 200


# --- terminal keys --------------------------------------------------------------------------------------


def _key_refused(client: TestClient, engine: Engine, world: World, token: str) -> None:
    before = audit_count(engine)
    r = client.get(ME, headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (401, "auth.invalid_token"), r.text
    assert audit_count(engine) == before
    assert client.get(ME, headers=bearer(world.a.extra["terminal_key"])).status_code == 200  # the real one lives


def test_terminal_key_with_the_right_id_and_a_wrong_secret_is_refused(
    client: TestClient, engine: Engine, world: World
) -> None:
    key_id = world.a.actors["terminal"].id
    _key_refused(client, engine, world, f"{key_id}.{'A' * 43}")


def test_terminal_key_id_with_another_keys_secret_is_refused(client: TestClient, engine: Engine, world: World) -> None:
    secret_b = str(world.b.extra["terminal_key"]).split(".", 1)[1]
    _key_refused(client, engine, world, f"{world.a.actors['terminal'].id}.{secret_b}")


def test_terminal_key_id_without_a_secret_is_refused(client: TestClient, engine: Engine, world: World) -> None:
    _key_refused(client, engine, world, f"{world.a.actors['terminal'].id}.")


# --- console session cookies ----------------------------------------------------------------------------


@pytest.fixture
def cashier_cookie(app: FastAPI, world: World) -> Iterator[str]:
    """The session cookie of a cashier signed in to the console, as their browser holds it."""
    with TestClient(app, raise_server_exceptions=False, base_url="http://testserver") as browser:
        page = browser.get("/console/login").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        form = {"username": world.a.usernames["cashier"], "password": PASSWORD, "csrf": token}
        assert browser.post("/console/login", data=form, follow_redirects=False).status_code == 303
        cookie = browser.cookies.get(COOKIE)
        assert cookie is not None and cookie_payload(cookie)[0]["role"] == "cashier"
        yield cookie


def _cookie_refused(app: FastAPI, deps: Deps, engine: Engine, world: World, cookie: str, csrf: str) -> None:
    """The admin page sends the forged session to sign in; its deactivation is refused (the forged session
    is no session, so its CSRF token is none either) and nothing changed."""
    victim = world.a.actors["risk"].id
    before = audit_count(engine)
    with TestClient(app, raise_server_exceptions=False, base_url="http://testserver") as attacker:
        attacker.cookies.set(COOKIE, cookie, path="/console")
        r = attacker.get("/console/admin/users", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/console/login?next=/console/admin/users")
        r = attacker.post(f"/console/admin/users/{victim}/deactivate", data={"csrf": csrf}, follow_redirects=False)
        assert r.status_code == 403
    assert active(deps, victim)
    assert audit_count(engine) == before


def test_console_cookie_with_a_changed_role_is_refused(
    app: FastAPI, deps: Deps, engine: Engine, world: World, cashier_cookie: str
) -> None:
    forged = with_session(cashier_cookie, role="admin")
    _cookie_refused(app, deps, engine, world, forged, cookie_payload(cashier_cookie)[0]["csrf"])


def test_console_cookie_with_another_users_id_is_refused(
    app: FastAPI, deps: Deps, engine: Engine, world: World, cashier_cookie: str
) -> None:
    forged = with_session(cashier_cookie, uid=world.a.actors["admin"].id, role="admin")
    _cookie_refused(app, deps, engine, world, forged, cookie_payload(cashier_cookie)[0]["csrf"])


def test_console_cookie_signed_with_another_key_is_refused(
    app: FastAPI, deps: Deps, engine: Engine, world: World, cashier_cookie: str
) -> None:
    data = cookie_payload(cashier_cookie)[0] | {"role": "admin"}
    forged = URLSafeSerializer("another-service-secret-" * 2, salt=SESSION_SALT).dumps(data)
    _cookie_refused(app, deps, engine, world, str(forged), data["csrf"])


def test_console_cookie_is_no_api_bearer_token(probe: Probe, cashier_cookie: str) -> None:
    probe.refuses(bearer(cashier_cookie), "auth.invalid_token")
