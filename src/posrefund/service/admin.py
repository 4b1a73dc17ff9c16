"""Merchants, stores, terminals, operators and API keys."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.free_text import free_text
from posrefund.domain.identifiers import MERCHANT_CODE, TERMINAL_NO, is_identifier
from posrefund.domain.roles import (
    ANY_PROVIDER,
    MERCHANT_STAFF,
    PROVIDER_DESK,
    Actor,
    Role,
    check_rank,
    manages_provider,
)
from posrefund.ports import ApiKeyRow, MerchantRow, NewUserRow, StoreRow, TerminalRow, UnitOfWork, UserRow
from posrefund.service.deps import Deps
from posrefund.service.merchant_onboarding import profile_values
from posrefund.service.records import record

_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
MIN_PASSWORD = 8


def _merchant_of(actor: Actor) -> str:
    if actor.merchant_id is None:
        raise NotFound("merchant.not_found")
    return actor.merchant_id


def _provider_of(actor: Actor, provider_id: str) -> str:
    """The provider a new merchant or provider admin belongs to: the creator's own; only the host's CLI
    names another."""
    if actor.provider_id != ANY_PROVIDER:
        return actor.provider_id
    if provider_id and not is_identifier(MERCHANT_CODE, provider_id):
        raise Invalid("merchant.invalid_code")
    return provider_id


def create_merchant(
    deps: Deps,
    actor: Actor,
    *,
    code: str,
    name: str,
    contact_phone: str = "",
    provider_id: str = "",
    licence_no: str = "",
    settlement_bank: str = "",
    settlement_account_name: str = "",
    settlement_account_no: str = "",
) -> MerchantRow:
    """A new merchant under the creator's provider, with its licence's credit code and settlement account when
    given (merchant_onboarding: the account number is checked, then kept only as last four and fingerprint)."""
    actor.require("merchant.create")
    if not is_identifier(MERCHANT_CODE, code):
        raise Invalid("merchant.invalid_code")
    name = free_text(name, "name", limit=200)
    contact_phone = free_text(contact_phone, "contact_phone", limit=40, required=False)
    now = deps.clock.now()
    profile = profile_values(deps, licence_no, settlement_bank, settlement_account_name, settlement_account_no)
    row: MerchantRow = {
        "id": deps.ids.new_id("mch"),
        "code": code,
        "name": name,
        "contact_phone": contact_phone,
        "created_at": now,
        "provider_id": _provider_of(actor, provider_id),
    }
    fingerprint = profile.pop("settlement_account_fingerprint", "")
    row |= profile  # type: ignore[typeddict-item]
    with deps.uow() as uow:
        if uow.merchants.merchant_code_taken(code):
            raise Conflict("merchant.code_taken", merchant_code=code)
        uow.merchants.add_merchant(row)
        if fingerprint:
            uow.merchants.set_merchant_profile(row["id"], {"settlement_account_fingerprint": fingerprint})
        record(uow, actor, None, "merchant.created", now, merchant_id_created=row["id"], code=code)
        record(uow, actor, row["id"], "merchant.created", now, code=code)
        uow.commit()
    return row


def create_store(deps: Deps, actor: Actor, *, name: str, address: str = "") -> StoreRow:
    actor.require("store.manage")
    merchant_id = _merchant_of(actor)
    now = deps.clock.now()
    row: StoreRow = {
        "id": deps.ids.new_id("sto"),
        "merchant_id": merchant_id,
        "name": free_text(name, "name", limit=200),
        "address": free_text(address, "address", limit=400, required=False),
        "created_at": now,
    }
    with deps.uow() as uow:
        uow.merchants.add_store(row)
        record(uow, actor, merchant_id, "store.created", now, store_id=row["id"], name=row["name"])
        uow.commit()
    return row


def create_terminal(deps: Deps, actor: Actor, *, store_id: str, terminal_no: str, device_sn: str) -> TerminalRow:
    actor.require("terminal.manage")
    merchant_id = _merchant_of(actor)
    if not is_identifier(TERMINAL_NO, terminal_no):
        raise Invalid("terminal.invalid_terminal_no")
    now = deps.clock.now()
    row: TerminalRow = {
        "id": deps.ids.new_id("trm"),
        "merchant_id": merchant_id,
        "store_id": store_id,
        "terminal_no": terminal_no,
        "device_sn": free_text(device_sn, "device_sn", limit=64),
        "created_at": now,
    }
    with deps.uow() as uow:
        if uow.merchants.get_store(merchant_id, store_id) is None:
            raise NotFound("store.not_found")
        if uow.merchants.terminal_no_taken(merchant_id, terminal_no):
            raise Conflict("terminal.no_taken", terminal_no=terminal_no)
        uow.merchants.add_terminal(row)
        record(uow, actor, merchant_id, "terminal.created", now, terminal_id=row["id"], terminal_no=terminal_no)
        uow.commit()
    return row


def create_user(
    deps: Deps,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    merchant_id: str | None = None,
    provider_id: str = "",
) -> dict[str, Any]:
    """An admin adds operators to their own merchant; a provider admin adds them to its provider's merchants
    (a merchant's first admin) and adds fellow provider admins. Nobody creates a role above their own."""
    if actor.role is Role.PROVIDER_ADMIN:
        target = merchant_id
        allowed = {r.value for r in MERCHANT_STAFF | PROVIDER_DESK}
    else:
        actor.require("user.manage")
        target = _merchant_of(actor)
        if merchant_id not in (None, target):
            raise NotFound("merchant.not_found")
        allowed = {r.value for r in MERCHANT_STAFF}
    if role in Role.__members__.values():
        check_rank(actor, Role(role))  # above one's own is forbidden, not merely invalid
    if role not in allowed:
        raise Invalid("user.invalid_role", role=role, allowed=sorted(allowed))
    if (role in PROVIDER_DESK) != (target is None):
        raise Invalid("user.merchant_required")
    if not _USERNAME.fullmatch(username):
        raise Invalid("user.invalid_username")
    check_password(password)
    now = deps.clock.now()
    row: NewUserRow = {
        "id": deps.ids.new_id("usr"),
        "merchant_id": target,
        "username": username,
        "display_name": free_text(display_name or username, "display_name", limit=100),
        "role": role,
        "password_hash": deps.hasher.hash(password),
        "active": True,
        "failed_logins": 0,
        "locked_until": None,
        "created_at": now,
        "token_generation": 0,
        "must_change_password": False,
        "provider_id": _provider_of(actor, provider_id),
    }
    with deps.uow() as uow:
        if target is not None:  # staff belong to their merchant's provider
            row["provider_id"] = reachable_merchant(uow, actor, target)["provider_id"]
        if uow.users.by_username(username) is not None:
            raise Conflict("user.username_taken", username=username)
        uow.users.add_user(row)
        record(uow, actor, target, "user.created", now, user_id=row["id"], username=username, role=role)
        uow.commit()
    return {k: v for k, v in row.items() if k != "password_hash"}


def reachable_merchant(uow: UnitOfWork, actor: Actor, merchant_id: str) -> MerchantRow:
    """The merchant, if the actor may act on it: their own (a merchant's staff), or one of their provider's (a
    provider's staff; what they may do there is their role's permissions). Another's looks as if it did not
    exist."""
    merchant = uow.merchants.get_merchant(merchant_id)
    if merchant is None:
        raise NotFound("merchant.not_found")
    if actor.role in PROVIDER_DESK:
        if not manages_provider(actor, merchant["provider_id"]):
            raise NotFound("merchant.not_found")
    elif actor.merchant_id != merchant_id:
        raise NotFound("merchant.not_found")
    return merchant


def check_password(password: str) -> None:
    """A password long enough to resist guessing, short enough to hash without a denial of service."""
    if len(password) < MIN_PASSWORD or len(password) > 256:
        raise Invalid("user.weak_password", min=MIN_PASSWORD)


def public_user(row: UserRow) -> dict[str, Any]:
    """A user as shown to people: never the password hash."""
    return {k: v for k, v in row.items() if k != "password_hash"}


def hash_api_secret(secret: str) -> str:
    """API keys carry 160 random bits, so a fast hash is enough (unlike passwords)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(deps: Deps, actor: Actor, *, terminal_id: str) -> dict[str, Any]:
    """A terminal's bearer key, shown once: ``prk_<id>.<secret>``; only its hash is kept."""
    actor.require("apikey.create")
    merchant_id = _merchant_of(actor)
    now = deps.clock.now()
    key_id = deps.ids.new_id("key")
    secret = secrets.token_urlsafe(24)
    with deps.uow() as uow:
        if uow.merchants.get_terminal(merchant_id, terminal_id) is None:
            raise NotFound("terminal.not_found")
        key: ApiKeyRow = {
            "id": key_id,
            "merchant_id": merchant_id,
            "terminal_id": terminal_id,
            "secret_hash": hash_api_secret(secret),
            "role": Role.TERMINAL.value,
            "created_at": now,
            "revoked_at": None,
        }
        uow.users.add_api_key(key)
        record(uow, actor, merchant_id, "apikey.created", now, key_id=key_id, terminal_id=terminal_id)
        uow.commit()
    return {"id": key_id, "terminal_id": terminal_id, "key": f"{key_id}.{secret}", "created_at": now}


def list_stores(deps: Deps, actor: Actor) -> list[StoreRow]:
    actor.require("merchant.read")
    with deps.uow(readonly=True) as uow:
        return uow.merchants.list_stores(_merchant_of(actor))


def list_terminals(deps: Deps, actor: Actor) -> list[TerminalRow]:
    actor.require("merchant.read")
    with deps.uow(readonly=True) as uow:
        return uow.merchants.list_terminals(_merchant_of(actor))


def list_users(deps: Deps, actor: Actor) -> list[dict[str, Any]]:
    actor.require("user.manage")
    with deps.uow(readonly=True) as uow:
        rows = uow.users.list_users(_merchant_of(actor))
    return [public_user(r) for r in rows]


def staff_names(deps: Deps, actor: Actor) -> dict[str, str]:
    """User id → display name of the merchant's operators, to show who did what on a case."""
    actor.require("merchant.read")
    with deps.uow(readonly=True) as uow:
        return {str(u["id"]): str(u["display_name"]) for u in uow.users.list_users(actor.merchant_id or "")}
