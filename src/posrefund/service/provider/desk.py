"""The provider as a tenant: who belongs to which provider, the provider's seller record in the core, and the
terminals it issues — each with the merchant's payment for it recorded as a sale of that seller record."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from posrefund.domain.device_return import DEFAULT_WARRANTY_MONTHS, SN, ChargeKind, PaymentRoute, TerminalState
from posrefund.domain.errors import Conflict, Forbidden, Invalid, NotFound
from posrefund.domain.identifiers import ORDER_NO, is_identifier
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.policy import RefundPolicy
from posrefund.domain.roles import ANY_PROVIDER, PROVIDER_DESK, Actor, Role
from posrefund.ports import MerchantRow, StoreRow, TerminalRow, UnitOfWork
from posrefund.ports.provider import DeskRow, DeviceRow
from posrefund.service import sales
from posrefund.service.deps import Deps
from posrefund.service.records import record

# The provider's own seller record approves device refunds itself: the provider's decision on the return
# is the review (docs/provider.md); the channels' own windows still apply.
SELLER_POLICY = RefundPolicy(
    refund_window_days=3650,
    auto_approve_limit_fen=10**10,
    supervisor_limit_fen=10**10,
    two_person_limit_fen=10**10,
)
MAX_PRICE_FEN = 10_000_000  # 10 万元: beyond any POS device


@dataclass(frozen=True)
class Scope:
    """Whose desk the actor looks at: a provider's staff see all of its merchants (``merchant_id`` None), a
    merchant's staff only their own merchant."""

    provider_id: str
    merchant_id: str | None


def scope_of(uow: UnitOfWork, actor: Actor) -> Scope:
    if actor.role in PROVIDER_DESK:
        if actor.merchant_id is not None or actor.provider_id == ANY_PROVIDER:
            raise Forbidden("auth.forbidden", action="provider.desk", role=actor.role.value)
        return Scope(actor.provider_id, None)
    merchant = uow.merchants.get_merchant(actor.merchant_id or "")
    if merchant is None:
        raise NotFound("merchant.not_found")
    return Scope(merchant["provider_id"], merchant["id"])


def provider_merchant(uow: UnitOfWork, scope: Scope, merchant_id: str) -> MerchantRow:
    """One of the provider's merchants (a merchant's staff: only their own); any other looks absent."""
    merchant = uow.merchants.get_merchant(merchant_id)
    if merchant is None or merchant["provider_id"] != scope.provider_id:
        raise NotFound("merchant.not_found")
    if scope.merchant_id is not None and scope.merchant_id != merchant_id:
        raise NotFound("merchant.not_found")
    return merchant


def desk_of(uow: UnitOfWork, provider_id: str) -> DeskRow:
    desk = uow.provider.desk(provider_id)
    if desk is None:
        raise Conflict("provider.desk_not_set_up")
    return desk


def seller_actor(actor: Actor, desk: DeskRow) -> Actor:
    """The provider's staff member acting in the provider's own seller record: the device charges and their
    refunds are recorded there, under the person's own id and role."""
    seller = desk["seller_merchant_id"]
    return Actor(id=actor.id, role=actor.role, merchant_id=seller, name=actor.name, provider_id=actor.provider_id)


def set_up(deps: Deps, actor: Actor, *, name: str, code: str) -> DeskRow:
    """Open the provider's desk once: its seller record (a merchant of the provider), a store and a
    terminal the device charges are recorded on, and that record's refund policy."""
    actor.require("provider.setup")
    from posrefund.service import admin  # the merchant, store and terminal are made as everywhere else

    with deps.uow(readonly=True) as uow:
        if uow.provider.desk(actor.provider_id) is not None:
            raise Conflict("provider.desk_exists")
    now = deps.clock.now()
    with deps.uow.batch():
        merchant = admin.create_merchant(deps, actor, code=code, name=name)
        store_id, terminal_id = _seller_till(deps, merchant["id"], now)
        row: DeskRow = {
            "provider_id": actor.provider_id,
            "name": merchant["name"],
            "seller_merchant_id": merchant["id"],
            "store_id": store_id,
            "terminal_id": terminal_id,
            "created_by": actor.id,
            "created_at": now,
        }
        with deps.uow() as uow:
            uow.provider.add_desk(row)
            uow.policies.put_policy(merchant["id"], SELLER_POLICY, actor.id, now)
            record(uow, actor, merchant["id"], "provider.desk_opened", now, provider_id=actor.provider_id)
            uow.commit()
    return row


def _seller_till(deps: Deps, merchant_id: str, now: datetime) -> tuple[str, str]:
    store: StoreRow = {
        "id": deps.ids.new_id("sto"),
        "merchant_id": merchant_id,
        "name": "机具销售",
        "address": "",
        "created_at": now,
    }
    terminal: TerminalRow = {
        "id": deps.ids.new_id("trm"),
        "merchant_id": merchant_id,
        "store_id": store["id"],
        "terminal_no": "DEVICES",
        "device_sn": "DEVICES",
        "created_at": now,
    }
    with deps.uow() as uow:
        uow.merchants.add_store(store)
        uow.merchants.add_terminal(terminal)
        uow.commit()
    return store["id"], terminal["id"]


@dataclass(frozen=True)
class Payment:
    """What the merchant paid the provider for the device, and the references of that payment."""

    route: str
    paid_at: datetime
    payer_masked: str = ""
    rrn: str = ""
    voucher_no: str = ""
    batch_no: str = ""
    auth_code: str = ""
    order_no: str = ""


@dataclass(frozen=True)
class DeviceInput:
    sn: str
    model: str
    merchant_id: str
    issued_on: date
    price_fen: int
    payment: Payment
    charge_kind: str = ChargeKind.NONE.value
    charge_fen: int = 0
    shipped_on: date | None = None
    signed_on: date | None = None
    activated_on: date | None = None
    warranty_months: int = DEFAULT_WARRANTY_MONTHS


def _check_device(inp: DeviceInput) -> None:
    if not is_identifier(SN, inp.sn):
        raise Invalid("provider.invalid_sn")
    if not inp.model.strip() or len(inp.model) > 64:
        raise Invalid("request.field_required", field="model")
    refuse_card_data(inp.model, "model")
    if inp.payment.route not in PaymentRoute.__members__.values():
        raise Invalid("provider.invalid_route", route=inp.payment.route)
    if inp.charge_kind not in ChargeKind.__members__.values():
        raise Invalid("provider.invalid_charge_kind", charge_kind=inp.charge_kind)
    if not 0 < inp.price_fen <= MAX_PRICE_FEN or not 0 <= inp.charge_fen <= MAX_PRICE_FEN:
        raise Invalid("provider.invalid_amount")
    if (inp.charge_kind == ChargeKind.NONE.value) != (inp.charge_fen == 0):
        raise Invalid("provider.invalid_charge_kind", charge_kind=inp.charge_kind)
    if not 1 <= inp.warranty_months <= 60:
        raise Invalid("provider.invalid_warranty")
    dates = [d for d in (inp.issued_on, inp.shipped_on, inp.signed_on) if d is not None]
    if dates != sorted(dates) or (inp.activated_on and inp.signed_on and inp.activated_on < inp.signed_on):
        raise Invalid("provider.dates_out_of_order")


def _sale_input(inp: DeviceInput, terminal_id: str) -> sales.SaleInput:
    """The device charge as a sale of the provider's seller record; a wallet or transfer payment carries a
    voucher number derived from the SN (the seller record's terminal keeps them apart)."""
    p = inp.payment
    derived = str(int(hashlib.sha256(inp.sn.encode()).hexdigest(), 16) % 10**12).zfill(12)
    if p.route == PaymentRoute.CARD.value and not (p.rrn and p.voucher_no and p.batch_no and p.auth_code):
        raise Invalid("provider.card_reference_required")
    order_no = p.order_no or ("" if p.route == PaymentRoute.CARD.value else f"DEV-{inp.sn}")
    if not is_identifier(ORDER_NO, order_no):
        raise Invalid("sale.invalid_field", field="order_no")
    return sales.SaleInput(
        terminal_id=terminal_id,
        voucher_no=p.voucher_no or derived,
        rrn=p.rrn or derived,
        batch_no=p.batch_no or "1",
        auth_code=p.auth_code,
        order_no=order_no,
        channel=p.route,
        kind="sale",
        amount_fen=inp.price_fen + inp.charge_fen,
        fee_fen=0,
        currency="CNY",
        paid_at=p.paid_at,
        payer_masked=p.payer_masked,
        settlement_status="settled",
    )


def register_device(deps: Deps, actor: Actor, inp: DeviceInput) -> DeviceRow:
    """A terminal issued to one of the provider's merchants, with the merchant's payment for it recorded as
    a sale of the provider's seller record — the sale a return's refund refunds."""
    actor.require("provider.terminal.manage")
    _check_device(inp)
    with deps.uow(readonly=True) as uow:
        scope = scope_of(uow, actor)
        provider_merchant(uow, scope, inp.merchant_id)
        desk = desk_of(uow, scope.provider_id)
        if uow.provider.device_by_sn(inp.sn) is not None:
            raise Conflict("provider.sn_taken", sn=inp.sn)
    now = deps.clock.now()
    with deps.uow.batch():
        charge = _sale_input(inp, desk["terminal_id"])
        sale = sales.record_sale(deps, seller_actor(actor, desk), charge, permission="provider.terminal.manage")
        row = _device_row(deps, scope.provider_id, inp, sale.id, now)
        with deps.uow() as uow:
            uow.provider.add_device(row)
            record(uow, actor, inp.merchant_id, "provider.device_registered", now, device_id=row["id"], sn=inp.sn)
            uow.commit()
    return row


def _device_row(deps: Deps, provider_id: str, inp: DeviceInput, sale_id: str, now: datetime) -> DeviceRow:
    state = TerminalState.ACTIVE if inp.activated_on else TerminalState.ISSUED
    return {
        "id": deps.ids.new_id("dev"),
        "provider_id": provider_id,
        "sn": inp.sn,
        "model": inp.model.strip(),
        "merchant_id": inp.merchant_id,
        "state": state.value,
        "issued_on": inp.issued_on,
        "shipped_on": inp.shipped_on,
        "signed_on": inp.signed_on,
        "activated_on": inp.activated_on,
        "price_fen": inp.price_fen,
        "charge_kind": inp.charge_kind,
        "charge_fen": inp.charge_fen,
        "currency": "CNY",
        "route": inp.payment.route,
        "sale_id": sale_id,
        "warranty_months": inp.warranty_months,
        "replaces_id": None,
        "replaced_by_id": None,
        "deactivated_at": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def list_devices(deps: Deps, actor: Actor, merchant_id: str | None = None, limit: int = 200) -> list[DeviceRow]:
    actor.require("provider.terminal.read")
    with deps.uow(readonly=True) as uow:
        scope = scope_of(uow, actor)
        if merchant_id is not None:
            provider_merchant(uow, scope, merchant_id)
        return uow.provider.list_devices(scope.provider_id, merchant_id or scope.merchant_id, limit)


def device_by_sn(uow: UnitOfWork, scope: Scope, sn: str) -> DeviceRow:
    """The device with this SN, if the scope reaches it; an unknown SN and another's device look the same."""
    device = uow.provider.device_by_sn(sn)
    if device is None or device["provider_id"] != scope.provider_id:
        raise NotFound("provider.device_not_found", sn=sn)
    if scope.merchant_id is not None and device["merchant_id"] != scope.merchant_id:
        raise NotFound("provider.device_not_found", sn=sn)
    return device


def public_device(row: DeviceRow) -> dict[str, Any]:
    return {**row, "paid_fen": row["price_fen"] + row["charge_fen"]}


def provider_actor(provider_id: str, role: Role = Role.PROVIDER_ADMIN) -> Actor:
    """The host's CLI acting for one provider."""
    return Actor(id="cli", role=role, merchant_id=None, name="posrefund CLI", provider_id=provider_id)
