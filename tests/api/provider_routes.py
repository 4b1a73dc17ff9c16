"""The provider's desk routes for the role × route matrix: each builder returns the request as keyword arguments
of ``Call``; ids in paths belong to merchant A, whose provider (the default one) is the matrix's provider admin.
Terminals, documents and returns are made the way production makes them, through the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import uuid4

from posrefund.service.deps import Deps
from posrefund.service.provider import desk, documents, returns
from tests.conftest import World
from tests.support.provider import JPEG, MERCHANT_DOCS, device_body

P = "/v1/provider"
SHIP = {"address": "上海市浦东新区 退机仓", "courier": "顺丰", "tracking_no": "SF1234567890"}


def register_body(d: Deps, w: World) -> dict[str, Any]:
    """A fresh terminal of merchant A, as the registration's body (the provider's desk opened first, once)."""
    with d.uow(readonly=True) as uow:
        opened = uow.provider.desk(w.provider.provider_id) is not None
    if not opened:
        desk.set_up(d, w.provider, name="服务商机具", code="SELLER0")
    return device_body(w.a.id, f"SN-{uuid4().hex[:10]}", d.clock.now())


def a_device(d: Deps, w: World) -> str:
    """A fresh terminal of merchant A: its SN."""
    body = register_body(d, w)
    fields = {k: v for k, v in body.items() if k != "payment"}
    for key in ("issued_on", "shipped_on", "signed_on", "activated_on"):
        fields[key] = date.fromisoformat(fields[key])
    pay = body["payment"]
    payment = desk.Payment(route=pay["route"], paid_at=datetime.fromisoformat(pay["paid_at"]))
    return desk.register_device(d, w.provider, desk.DeviceInput(**fields, payment=payment))["sn"]


def merchant_docs(d: Deps, w: World, sn: str, docs: dict[str, bytes]) -> list[str]:
    return [
        str(documents.upload(d, w.provider, sn=sn, kind=kind, filename=f"{kind}.jpg", content=content)["id"])
        for kind, content in docs.items()
    ]


def a_return(d: Deps, w: World, *, shipped: bool = False, received: bool = False) -> str:
    sn = a_device(d, w)
    ids = tuple(merchant_docs(d, w, sn, MERCHANT_DOCS))
    rid = returns.open_return(d, w.provider, returns.OpenInput(sn=sn, reason="no_reason", document_ids=ids))["id"]
    if shipped or received:
        returns.approve_shipping(d, w.provider, rid, **SHIP)
    if received:
        photos = merchant_docs(d, w, sn, {"inspection_photo": JPEG})
        returns.receive(d, w.provider, rid, lambda _d: True, inspection="intact", note="", photo_ids=photos)
    return rid


def _open_body(d: Deps, w: World) -> dict[str, Any]:
    sn = a_device(d, w)
    return {"sn": sn, "reason": "no_reason", "document_ids": merchant_docs(d, w, sn, MERCHANT_DOCS)}


Builder = Callable[[Deps, World, str], dict[str, Any]]


def get(action: str, path: Callable[[Deps, World], str] | str) -> tuple[str, Builder]:
    return action, lambda d, w, r: {"method": "GET", "path": path if isinstance(path, str) else path(d, w)}


PROVIDER_ROUTES: dict[tuple[str, str], tuple[str, Builder]] = {
    ("POST", f"{P}/desk"): (
        "provider.setup",
        lambda d, w, r: {"method": "POST", "path": f"{P}/desk", "json": {"name": "服务商机具", "code": "SELLER1"}},
    ),
    ("GET", f"{P}/merchants"): get("provider.merchants.read", f"{P}/merchants"),
    ("GET", f"{P}/merchants/{{merchant_id}}/refunds"): get(
        "provider.refunds.read", lambda d, w: f"{P}/merchants/{w.a.id}/refunds"
    ),
    ("POST", f"{P}/terminals"): (
        "provider.terminal.manage",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/terminals",
            "json": register_body(d, w),
        },
    ),
    ("GET", f"{P}/terminals"): get("provider.terminal.read", f"{P}/terminals"),
    ("GET", f"{P}/terminals/{{sn}}/return-form"): get(
        "device_return.open", lambda d, w: f"{P}/terminals/{a_device(d, w)}/return-form"
    ),
    ("POST", f"{P}/documents"): (
        "device_return.open",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/documents",
            "data": {"sn": a_device(d, w), "kind": "invoice"},
            "files": {"file": ("invoice.jpg", JPEG, "image/jpeg")},
        },
    ),
    ("POST", f"{P}/returns"): (
        "device_return.open",
        lambda d, w, r: {"method": "POST", "path": f"{P}/returns", "json": _open_body(d, w)},
    ),
    ("GET", f"{P}/returns"): get("device_return.read", f"{P}/returns"),
    ("GET", f"{P}/returns/{{return_id}}"): get("device_return.read", lambda d, w: f"{P}/returns/{a_return(d, w)}"),
    ("POST", f"{P}/returns/{{return_id}}/shipping"): (
        "device_return.handle",
        lambda d, w, r: {"method": "POST", "path": f"{P}/returns/{a_return(d, w)}/shipping", "json": SHIP},
    ),
    ("POST", f"{P}/returns/{{return_id}}/receipt"): (
        "device_return.handle",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/returns/{(rid := a_return(d, w, shipped=True))}/receipt",
            "json": {"inspection": "intact", "photo_ids": photo_of(d, w, rid)},
        },
    ),
    ("POST", f"{P}/returns/{{return_id}}/decision"): (
        "device_return.decide",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/returns/{a_return(d, w, received=True)}/decision",
            "json": {"decision": "rejection", "reason": "外壳有人为损坏"},
        },
    ),
    ("POST", f"{P}/returns/{{return_id}}/confirm-transfer"): (
        "device_return.decide",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/returns/{a_return(d, w)}/confirm-transfer",
            "json": {"reference": "BANK-0001"},
        },
    ),
    ("GET", f"{P}/breaches"): get("provider.dashboard", f"{P}/breaches"),
    ("GET", f"{P}/dashboard"): get("provider.dashboard", f"{P}/dashboard"),
    ("GET", f"{P}/notices"): get("device_return.read", f"{P}/notices"),
}
# What an allowed role is answered where it is not 200.
PROVIDER_ANSWER: dict[tuple[str, str], tuple[int, str | None]] = {
    ("POST", f"{P}/desk"): (201, None),
    ("POST", f"{P}/terminals"): (201, None),
    ("POST", f"{P}/documents"): (201, None),
    ("POST", f"{P}/returns"): (201, None),
    ("POST", f"{P}/returns/{{return_id}}/confirm-transfer"): (409, "device_return.no_refund"),  # not decided yet
}


def photo_of(d: Deps, w: World, return_id: str) -> list[str]:
    with d.uow(readonly=True) as uow:
        ret = uow.provider.get_return(return_id)
        assert ret is not None
        device = uow.provider.device(ret["provider_id"], ret["device_id"])
        assert device is not None
    return merchant_docs(d, w, device["sn"], {"inspection_photo": JPEG})
