"""Probes of reach: a terminal's key reads only its own terminal's sales and refunds; a provider's
administrator reaches only its own provider's merchants; nobody creates or promotes above their own role."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from posrefund.domain.roles import Actor, Role
from posrefund.service import admin, refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.api.conftest import Auth
from tests.conftest import PASSWORD, World
from tests.support.helpers import new_sale


def other_terminal_sale(deps: Deps, world: World) -> Any:
    """A sale of merchant A made on a second terminal (the world's terminal key belongs to the first)."""
    boss = Actor("setup", Role.ADMIN, world.a.id)
    other = admin.create_terminal(deps, boss, store_id=world.a.store_id, terminal_no="OTHER1", device_sn="SN-O")
    return new_sale(deps, world.a, terminal_id=other["id"], voucher_no="770001")


def second_provider_admin(client: TestClient, deps: Deps) -> dict[str, str]:
    """A provider admin of another service provider (made by the host operator), signed in over the API."""
    from posrefund.domain.roles import ANY_PROVIDER

    host = Actor(id="host", role=Role.PROVIDER_ADMIN, merchant_id=None, name="host", provider_id=ANY_PROVIDER)
    admin.create_user(deps, host, username="p2_admin", password=PASSWORD, role="provider_admin", provider_id="P2")
    r = client.post("/v1/auth/token", json={"username": "p2_admin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def refused(r: Any, status: int, code: str) -> None:
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


def test_terminal_key_cannot_read_another_terminals_sale(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    sale = other_terminal_sale(deps, world)
    refused(client.get(f"/v1/sales/{sale.id}", headers=auth("a.terminal")), 404, "sale.not_found")


def test_terminal_key_cannot_find_another_terminals_sale(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    other_terminal_sale(deps, world)
    r = client.get("/v1/sales?voucher_no=770001", headers=auth("a.terminal"))
    assert (r.status_code, r.json()["items"]) == (200, [])
    assert len(client.get("/v1/sales?voucher_no=770001", headers=auth("a.cashier")).json()["items"]) == 1


def test_terminal_key_cannot_read_another_terminals_refund(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    sale = other_terminal_sale(deps, world)
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=1_000, reason="other")
    )
    refused(client.get(f"/v1/refunds/{case.id}", headers=auth("a.terminal")), 404, "refund.not_found")
    listed = client.get("/v1/refunds", headers=auth("a.terminal")).json()["items"]
    assert case.id not in [c["id"] for c in listed]


def test_provider_admin_cannot_create_a_user_in_another_providers_merchant(
    client: TestClient, deps: Deps, world: World
) -> None:
    body = {"username": "intruder", "password": "long-password-1", "role": "admin", "merchant_id": world.a.id}
    refused(client.post("/v1/users", json=body, headers=second_provider_admin(client, deps)), 404, "merchant.not_found")


def test_provider_admin_cannot_deactivate_another_providers_user(client: TestClient, deps: Deps, world: World) -> None:
    headers = second_provider_admin(client, deps)
    r = client.post(f"/v1/users/{world.a.actors['admin'].id}/deactivate", headers=headers)
    refused(r, 404, "user.not_found")


def test_provider_admin_cannot_list_another_providers_users(client: TestClient, deps: Deps, world: World) -> None:
    r = client.get(f"/v1/merchants/{world.a.id}/users", headers=second_provider_admin(client, deps))
    refused(r, 404, "merchant.not_found")


def test_provider_admin_manages_its_own_providers_merchant(client: TestClient, deps: Deps) -> None:
    headers = second_provider_admin(client, deps)
    merchant = client.post("/v1/merchants", json={"code": "P2M", "name": "二号服务商的商户"}, headers=headers)
    assert (merchant.status_code, merchant.json()["provider_id"]) == (201, "P2")
    body = {
        "username": "p2m_admin",
        "password": "long-password-1",
        "role": "admin",
        "merchant_id": merchant.json()["id"],
    }
    made = client.post("/v1/users", json=body, headers=headers)
    assert (made.status_code, made.json()["provider_id"]) == (201, "P2")
    assert client.post(f"/v1/users/{made.json()['id']}/deactivate", headers=headers).status_code == 200


def test_admin_cannot_create_a_higher_role(client: TestClient, auth: Auth, world: World) -> None:
    body = {"username": "upstart", "password": "long-password-1", "role": "provider_admin"}
    refused(client.post("/v1/users", json=body, headers=auth("a.admin")), 403, "user.role_above_own")


def test_admin_cannot_promote_above_their_own_role(client: TestClient, auth: Auth, world: World) -> None:
    r = client.post(
        f"/v1/users/{world.a.actors['cashier'].id}/role", json={"role": "provider_admin"}, headers=auth("a.admin")
    )
    refused(r, 403, "user.role_above_own")


def test_admin_cannot_reset_a_provider_admins_password(client: TestClient, auth: Auth, world: World) -> None:
    r = client.post(
        f"/v1/users/{world.provider.id}/password", json={"temporary_password": "taken-over-1"}, headers=auth("a.admin")
    )
    refused(r, 404, "user.not_found")
