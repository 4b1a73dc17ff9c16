"""A merchant's WeChat Pay sub-merchant account (服务商 sub_mchid): only the provider's admin sets it, for its own
provider's merchants; every change is audited with the value before; bad input is a 422 with its code."""

from __future__ import annotations

import json

from sqlalchemy import select
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.domain.roles import ANY_PROVIDER, Actor, Role
from posrefund.service import admin
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World


def _path(merchant_id: str, channel: str = "wechat") -> str:
    return f"/v1/merchants/{merchant_id}/channel-accounts/{channel}"


def _events(deps: Deps, merchant_id: str) -> list[dict[str, object]]:
    e = tables.audit_events.c
    with engine_of(deps).connect() as c:
        rows = c.execute(
            select(e.actor_role, e.data)
            .where((e.chain == merchant_id) & (e.action == "merchant.channel_account_set"))
            .order_by(e.id)
        ).all()
    return [{"role": r.actor_role, **(json.loads(r.data) if isinstance(r.data, str) else r.data)} for r in rows]


def test_provider_admin_sets_and_changes_the_sub_mchid(
    client: TestClient, auth: Auth, world: World, deps: Deps
) -> None:
    mid = world.a.id
    first = client.put(
        _path(mid), json={"sub_mchid": "1900000109", "sub_appid": "wx8888888888888888"}, headers=auth("provider")
    )
    second = client.put(_path(mid), json={"sub_mchid": "1900000110"}, headers=auth("provider"))
    shown = client.get(_path(mid), headers=auth("provider"))

    assert (first.status_code, second.status_code, shown.status_code) == (200, 200, 200)
    assert (shown.json()["sub_mchid"], shown.json()["sub_appid"]) == ("1900000110", "")
    events = _events(deps, mid)
    assert [(e["sub_mchid"], e["before_sub_mchid"], e["role"]) for e in events] == [
        ("1900000109", "", "provider_admin"),
        ("1900000110", "1900000109", "provider_admin"),
    ]


def test_merchant_staff_cannot_set_the_sub_mchid(client: TestClient, auth: Auth, world: World, deps: Deps) -> None:
    for who in ("a.admin", "a.finance"):
        r = client.put(_path(world.a.id), json={"sub_mchid": "1900000109"}, headers=auth(who))
        assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden")
    assert _events(deps, world.a.id) == []


def test_another_providers_merchant_looks_absent(client: TestClient, auth: Auth, deps: Deps) -> None:
    host = Actor(id="host", role=Role.PROVIDER_ADMIN, merchant_id=None, name="host", provider_id=ANY_PROVIDER)
    theirs = admin.create_merchant(deps, host, code="MOTHER", name="Other provider's", provider_id="P2")

    r = client.put(_path(theirs["id"]), json={"sub_mchid": "1900000109"}, headers=auth("provider"))

    assert (r.status_code, r.json()["code"]) == (404, "merchant.not_found")
    assert _events(deps, theirs["id"]) == []


def test_bad_account_input_is_refused_with_its_code(client: TestClient, auth: Auth, world: World) -> None:
    cases = [
        (_path(world.a.id), {"sub_mchid": "19000001x9"}, "channel_account.invalid_sub_mchid"),
        (_path(world.a.id), {"sub_mchid": "1900000109", "sub_appid": "wx 1"}, "channel_account.invalid_sub_appid"),
        (_path(world.a.id, "cash"), {"sub_mchid": "1900000109"}, "channel_account.unknown_channel"),
    ]
    for path, body, code in cases:
        r = client.put(path, json=body, headers=auth("provider"))
        assert (r.status_code, r.json()["code"]) == (422, code)
    r = client.get(_path(world.a.id), headers=auth("provider"))
    assert (r.status_code, r.json()["code"]) == (404, "channel_account.not_found")
