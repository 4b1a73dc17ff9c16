"""A provider's world for the desk's tests: provider P1 with a staff member of every desk role, its desk (seller
record), two merchants with an admin each and a contact phone; provider P2 with a merchant of its own; and the
bodies of a device registration and of a return's documents."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import ANY_PROVIDER, Actor, Role
from posrefund.entrypoints.api.context import AppContext
from posrefund.service import admin
from posrefund.service.deps import Deps
from posrefund.service.provider import desk
from tests.conftest import PASSWORD

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64
DESK_ROLES = ("provider_admin", "provider_operations", "provider_finance", "provider_risk", "provider_service")
MERCHANT_DOCS = {
    "invoice": PDF,
    "warranty_card": JPEG,
    "device_photo": JPEG,
    "packaging_photo": JPEG,
    "return_form": JPEG,
}
MERCHANT_PHONE = "13912345678"


@dataclass
class ProviderWorld:
    staff: dict[str, Actor] = field(default_factory=dict)  # "p1.provider_operations", "p2.provider_admin", …
    merchants: dict[str, str] = field(default_factory=dict)  # "m1", "m2" (P1), "m3" (P2) → merchant id
    admins: dict[str, Actor] = field(default_factory=dict)  # the merchants' admins
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def __call__(self, who: str) -> dict[str, str]:
        return self.headers[who]


def provider_staff(deps: Deps, provider_id: str, role: str, username: str) -> Actor:
    host = Actor(id="host", role=Role.PROVIDER_ADMIN, merchant_id=None, name="host", provider_id=ANY_PROVIDER)
    made = admin.create_user(deps, host, username=username, password=PASSWORD, role=role, provider_id=provider_id)
    return Actor(id=made["id"], role=Role(role), merchant_id=None, name=username, provider_id=provider_id)


def merchant_of(deps: Deps, boss: Actor, key: str, code: str, world: ProviderWorld) -> None:
    m = admin.create_merchant(deps, boss, code=code, name=f"商户 {code}", contact_phone=MERCHANT_PHONE)
    u = admin.create_user(deps, boss, username=f"{key}_admin", password=PASSWORD, role="admin", merchant_id=m["id"])
    world.merchants[key] = m["id"]
    world.admins[key] = Actor(id=u["id"], role=Role.ADMIN, merchant_id=m["id"], name=f"{key}_admin")


def build_provider_world(deps: Deps, app: FastAPI) -> ProviderWorld:
    world = ProviderWorld()
    for provider in ("P1", "P2"):
        for role in DESK_ROLES:
            world.staff[f"{provider.lower()}.{role}"] = provider_staff(deps, provider, role, f"{provider}_{role}")
    p1, p2 = world.staff["p1.provider_admin"], world.staff["p2.provider_admin"]
    desk.set_up(deps, p1, name="联动优势（机具）", code="P1SELLER")
    desk.set_up(deps, p2, name="另一服务商（机具）", code="P2SELLER")
    merchant_of(deps, p1, "m1", "PM1", world)
    merchant_of(deps, p1, "m2", "PM2", world)
    merchant_of(deps, p2, "m3", "PM3", world)
    ctx: AppContext = app.state.ctx
    for who, actor in [*world.staff.items(), *world.admins.items()]:
        token, _ = ctx.issue_token(actor)
        world.headers[who] = {"Authorization": f"Bearer {token}"}
    return world


def device_body(
    merchant_id: str, sn: str, now: datetime, *, route: str = "wechat", signed_days_ago: int = 3
) -> dict[str, Any]:
    """A terminal issued ten days before it was signed for, paid 299 yuan plus a 100-yuan deposit."""
    signed = (now - timedelta(days=signed_days_ago)).date()
    payment: dict[str, Any] = {"route": route, "paid_at": (now - timedelta(days=signed_days_ago + 5)).isoformat()}
    if route == "card":
        payment.update(rrn=card_rrn(sn), voucher_no="000123", batch_no="000001", auth_code="123456")
        payment["payer_masked"] = "622202******1234"
    return {
        "sn": sn,
        "model": "联迪 A8",
        "merchant_id": merchant_id,
        "issued_on": (signed - timedelta(days=10)).isoformat(),
        "shipped_on": (signed - timedelta(days=2)).isoformat(),
        "signed_on": signed.isoformat(),
        "activated_on": signed.isoformat(),
        "price_fen": 29_900,
        "charge_kind": "deposit",
        "charge_fen": 10_000,
        "payment": payment,
    }


def card_rrn(sn: str) -> str:
    """The acquirer's reference number of the device's card payment: 12 digits."""
    return f"{int(hashlib.sha256(sn.encode()).hexdigest(), 16) % 10**12:012d}"


def register(client: TestClient, pw: ProviderWorld, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/v1/provider/terminals", json=body, headers=pw("p1.provider_operations"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def upload_docs(client: TestClient, headers: dict[str, str], sn: str, docs: dict[str, bytes]) -> list[str]:
    ids = []
    for kind, content in docs.items():
        r = client.post(
            "/v1/provider/documents",
            data={"sn": sn, "kind": kind},
            files={"file": (f"{kind}.bin", content, "application/octet-stream")},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        ids.append(str(r.json()["id"]))
    return ids


def seller_case(deps: Deps, provider_id: str, case_id: str) -> RefundCase:
    """A device refund's case as the provider's seller record keeps it."""
    with deps.uow(readonly=True) as uow:
        found = uow.provider.desk(provider_id)
        assert found is not None
        case = uow.refunds.get_case(found["seller_merchant_id"], case_id)
    assert case is not None
    return case
