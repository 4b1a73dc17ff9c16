"""Probes of the account lifecycle over HTTP: once an account is deactivated, re-roled, reset or signed out
everywhere, or a key revoked, what was issued before stops working at once — with the exact answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.entrypoints.api.app import create_app
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import PASSWORD, FixedClock, World

ME = "/v1/auth/me"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    r = client.post("/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def refused(r: Any, status: int, code: str) -> None:
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


def test_deactivated_users_existing_token_is_refused(client: TestClient, auth: Auth, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    assert client.get(ME, headers=bearer(cashier["access_token"])).status_code == 200
    r = client.post(f"/v1/users/{world.a.actors['cashier'].id}/deactivate", headers=auth("a.admin"))
    assert (r.status_code, r.json()["active"]) == (200, False)
    refused(client.get(ME, headers=bearer(cashier["access_token"])), 401, "auth.token_revoked")


def test_deactivated_user_cannot_sign_in(client: TestClient, auth: Auth, world: World) -> None:
    client.post(f"/v1/users/{world.a.actors['cashier'].id}/deactivate", headers=auth("a.admin"))
    r = client.post("/v1/auth/token", json={"username": world.a.usernames["cashier"], "password": PASSWORD})
    refused(r, 401, "auth.invalid_credentials")


def test_deactivated_users_refresh_token_is_refused(client: TestClient, auth: Auth, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    client.post(f"/v1/users/{world.a.actors['cashier'].id}/deactivate", headers=auth("a.admin"))
    refused(
        client.post("/v1/auth/refresh", json={"refresh_token": cashier["refresh_token"]}), 401, "auth.refresh_invalid"
    )


def test_reactivated_user_signs_in_but_old_tokens_stay_void(client: TestClient, auth: Auth, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    uid = world.a.actors["cashier"].id
    client.post(f"/v1/users/{uid}/deactivate", headers=auth("a.admin"))
    assert client.post(f"/v1/users/{uid}/activate", headers=auth("a.admin")).status_code == 200
    refused(client.get(ME, headers=bearer(cashier["access_token"])), 401, "auth.token_revoked")
    assert (
        client.get(ME, headers=bearer(sign_in(client, world.a.usernames["cashier"])["access_token"])).status_code == 200
    )


def test_role_change_revokes_the_old_token(client: TestClient, auth: Auth, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    r = client.post(
        f"/v1/users/{world.a.actors['cashier'].id}/role", json={"role": "supervisor"}, headers=auth("a.admin")
    )
    assert (r.status_code, r.json()["role"]) == (200, "supervisor")
    refused(client.get(ME, headers=bearer(cashier["access_token"])), 401, "auth.token_revoked")
    again = sign_in(client, world.a.usernames["cashier"])
    assert client.get(ME, headers=bearer(again["access_token"])).json()["role"] == "supervisor"


def test_sign_out_everywhere_revokes_every_token_of_the_user(client: TestClient, world: World) -> None:
    phone = sign_in(client, world.a.usernames["supervisor"])
    desk = sign_in(client, world.a.usernames["supervisor"])
    assert client.post("/v1/auth/sign-out-everywhere", headers=bearer(desk["access_token"])).status_code == 200
    refused(client.get(ME, headers=bearer(phone["access_token"])), 401, "auth.token_revoked")
    refused(client.get(ME, headers=bearer(desk["access_token"])), 401, "auth.token_revoked")
    refused(client.post("/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}), 401, "auth.token_revoked")


def test_admin_signs_a_user_out_everywhere(client: TestClient, auth: Auth, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    r = client.post(f"/v1/users/{world.a.actors['cashier'].id}/sign-out-everywhere", headers=auth("a.admin"))
    assert r.status_code == 200
    refused(client.get(ME, headers=bearer(cashier["access_token"])), 401, "auth.token_revoked")


def test_revoked_api_key_is_refused(client: TestClient, auth: Auth, world: World) -> None:
    key = world.a.extra["terminal_key"]
    assert client.get(ME, headers=bearer(key)).status_code == 200
    r = client.post(f"/v1/api-keys/{world.a.actors['terminal'].id}/revoke", headers=auth("a.admin"))
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    refused(client.get(ME, headers=bearer(key)), 401, "auth.invalid_token")


def test_revoking_a_revoked_key_again_is_a_conflict(client: TestClient, auth: Auth, world: World) -> None:
    path = f"/v1/api-keys/{world.a.actors['terminal'].id}/revoke"
    client.post(path, headers=auth("a.admin"))
    refused(client.post(path, headers=auth("a.admin")), 409, "apikey.already_revoked")


def test_another_merchants_admin_cannot_revoke_a_key(client: TestClient, auth: Auth, world: World) -> None:
    r = client.post(f"/v1/api-keys/{world.a.actors['terminal'].id}/revoke", headers=auth("b.admin"))
    refused(r, 404, "apikey.not_found")


def test_access_token_expires_within_thirty_minutes(client: TestClient, world: World, clock: FixedClock) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    clock.advance(minutes=30, seconds=1)
    refused(client.get(ME, headers=bearer(cashier["access_token"])), 401, "auth.invalid_token")


def test_refresh_gives_a_working_pair_after_the_access_token_expired(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    clock.advance(minutes=31)
    r = client.post("/v1/auth/refresh", json={"refresh_token": cashier["refresh_token"]})
    assert r.status_code == 200, r.text
    assert r.json()["refresh_token"] != cashier["refresh_token"]
    assert client.get(ME, headers=bearer(r.json()["access_token"])).status_code == 200


def test_a_refresh_token_works_once(client: TestClient, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    assert client.post("/v1/auth/refresh", json={"refresh_token": cashier["refresh_token"]}).status_code == 200
    refused(
        client.post("/v1/auth/refresh", json={"refresh_token": cashier["refresh_token"]}), 401, "auth.refresh_invalid"
    )


def test_a_reused_refresh_token_ends_the_rotated_session_too(client: TestClient, world: World) -> None:
    """Reuse means a copy is loose: the pair the first use handed out stops working as well."""
    cashier = sign_in(client, world.a.usernames["cashier"])
    rotated = client.post("/v1/auth/refresh", json={"refresh_token": cashier["refresh_token"]}).json()
    assert client.get(ME, headers=bearer(rotated["access_token"])).status_code == 200  # its generation is cached
    client.post("/v1/auth/refresh", json={"refresh_token": cashier["refresh_token"]})
    refused(client.get(ME, headers=bearer(rotated["access_token"])), 401, "auth.token_revoked")
    refused(
        client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}), 401, "auth.token_revoked"
    )


def test_a_forged_refresh_token_is_refused(client: TestClient, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    forged = cashier["refresh_token"].split(".")[0] + ".not-the-secret"
    refused(client.post("/v1/auth/refresh", json={"refresh_token": forged}), 401, "auth.refresh_invalid")


def test_an_expired_refresh_token_is_refused(client: TestClient, world: World, clock: FixedClock) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    clock.advance(hours=12, seconds=1)
    r = client.post("/v1/auth/refresh", json={"refresh_token": cashier["refresh_token"]})
    refused(r, 401, "auth.refresh_invalid")


def test_reset_password_revokes_tokens_and_the_old_password(client: TestClient, auth: Auth, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    r = client.post(
        f"/v1/users/{world.a.actors['cashier'].id}/password",
        json={"temporary_password": "temporary-pw-1"},
        headers=auth("a.admin"),
    )
    assert (r.status_code, r.json()["must_change_password"]) == (200, True)
    refused(client.get(ME, headers=bearer(cashier["access_token"])), 401, "auth.token_revoked")
    r = client.post("/v1/auth/token", json={"username": world.a.usernames["cashier"], "password": PASSWORD})
    refused(r, 401, "auth.invalid_credentials")


def test_temporary_password_must_be_changed_before_anything_else(client: TestClient, auth: Auth, world: World) -> None:
    uid = world.a.actors["cashier"].id
    client.post(f"/v1/users/{uid}/password", json={"temporary_password": "temporary-pw-1"}, headers=auth("a.admin"))
    temp = sign_in(client, world.a.usernames["cashier"], "temporary-pw-1")
    assert temp["must_change_password"] is True
    refused(client.get("/v1/refunds", headers=bearer(temp["access_token"])), 403, "auth.password_change_required")
    body = {"old_password": "temporary-pw-1", "new_password": "my-own-password-7"}
    changed = client.post("/v1/auth/password", json=body, headers=bearer(temp["access_token"]))
    assert (changed.status_code, changed.json()["must_change_password"]) == (200, False)
    assert client.get("/v1/refunds", headers=bearer(changed.json()["access_token"])).status_code == 200
    refused(client.get(ME, headers=bearer(temp["access_token"])), 401, "auth.token_revoked")


def test_changing_ones_password_needs_the_old_one(client: TestClient, world: World) -> None:
    cashier = sign_in(client, world.a.usernames["cashier"])
    body = {"old_password": "not-the-password", "new_password": "my-own-password-7"}
    r = client.post("/v1/auth/password", json=body, headers=bearer(cashier["access_token"]))
    refused(r, 403, "user.wrong_password")


def test_an_admin_cannot_deactivate_themselves(client: TestClient, auth: Auth, world: World) -> None:
    r = client.post(f"/v1/users/{world.a.actors['admin'].id}/deactivate", headers=auth("a.admin"))
    refused(r, 403, "user.own_account")


def test_a_supervisor_cannot_deactivate_anyone(client: TestClient, auth: Auth, world: World) -> None:
    r = client.post(f"/v1/users/{world.a.actors['cashier'].id}/deactivate", headers=auth("a.supervisor"))
    refused(r, 403, "auth.forbidden")


def test_another_merchants_admin_cannot_deactivate_a_user(client: TestClient, auth: Auth, world: World) -> None:
    r = client.post(f"/v1/users/{world.a.actors['cashier'].id}/deactivate", headers=auth("b.admin"))
    refused(r, 404, "user.not_found")


def test_each_lifecycle_step_is_audited(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    uid = world.a.actors["cashier"].id
    for step, body in (("deactivate", None), ("activate", None), ("role", {"role": "finance"})):
        assert client.post(f"/v1/users/{uid}/{step}", json=body, headers=auth("a.admin")).status_code == 200
    client.post(f"/v1/api-keys/{world.a.actors['terminal'].id}/revoke", headers=auth("a.admin"))
    deps.uow.chain_audit(wait=True)  # on PostgreSQL events are chained soon after their commit, not in it
    with deps.uow(readonly=True) as uow:
        actions = [e["action"] for e in uow.audit.iter_chain(world.a.id)]
    for action in ("user.deactivated", "user.activated", "user.role_changed", "apikey.revoked"):
        assert action in actions


def test_console_session_of_a_deactivated_user_ends(app: FastAPI, client: TestClient, auth: Auth, world: World) -> None:
    from tests.console.conftest import Browser

    browser = Browser(app)
    with browser.client:
        browser.sign_in(world.a.usernames["supervisor"])
        assert browser.get("/console/review").status_code == 200
        client.post(f"/v1/users/{world.a.actors['supervisor'].id}/deactivate", headers=auth("a.admin"))
        r = browser.get("/console/review", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/console/login?next=/console/review")


def test_console_idle_limit_is_configurable(deps: Deps, world: World, clock: FixedClock, backend: str) -> None:
    from tests.console.conftest import Browser

    browser = Browser(create_app(deps, inline=backend == "sqlite", console_idle_minutes=5))
    with browser.client:
        browser.sign_in(world.a.usernames["supervisor"])
        clock.advance(minutes=5, seconds=1)
        r = browser.get("/console/review", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/console/login?next=/console/review&idle=1")
        assert "长时间未操作" in browser.get(r.headers["location"]).text


def test_console_admin_deactivation_ends_the_operators_console_session(app: FastAPI, deps: Deps, world: World) -> None:
    from tests.console.conftest import Browser

    boss, supervisor = Browser(app), Browser(app)
    with boss.client, supervisor.client:
        supervisor.sign_in(world.a.usernames["supervisor"])
        boss.sign_in(world.a.usernames["admin"])
        boss.get("/console/admin/users")
        r = boss.post(f"/console/admin/users/{world.a.actors['supervisor'].id}/deactivate", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/console/admin/users?done=deactivate")
        r = supervisor.get("/console/review", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/console/login?next=/console/review")


def test_console_lifecycle_steps_are_refused_to_a_supervisor(app: FastAPI, world: World) -> None:
    from tests.console.conftest import Browser

    browser = Browser(app)
    with browser.client:
        browser.sign_in(world.a.usernames["supervisor"])
        browser.get("/console/review")
        r = browser.post(f"/console/admin/users/{world.a.actors['cashier'].id}/deactivate", follow_redirects=False)
        assert r.status_code == 403, r.text  # once seen as 422 in 3,600 tests: the page says why


def test_console_temporary_password_leads_to_the_password_page_first(
    app: FastAPI, client: TestClient, auth: Auth, world: World
) -> None:
    from tests.console.conftest import Browser

    uid = world.a.actors["supervisor"].id
    client.post(f"/v1/users/{uid}/password", json={"temporary_password": "temporary-pw-1"}, headers=auth("a.admin"))
    browser = Browser(app)
    with browser.client:
        r = browser.sign_in(world.a.usernames["supervisor"], "temporary-pw-1")
        assert (r.status_code, r.headers["location"]) == (303, "/console/password")
        r = browser.get("/console/review", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/console/password")
        browser.get("/console/password")
        body = {
            "old_password": "temporary-pw-1",
            "new_password": "own-password-7",
            "new_password_again": "own-password-7",
        }
        r = browser.post("/console/password", body, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/console/home")
        assert browser.get("/console/review", follow_redirects=False).status_code == 200
