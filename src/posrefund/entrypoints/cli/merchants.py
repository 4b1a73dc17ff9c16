"""``posrefund merchant|store|terminal|user|apikey``: setting up who sells, where, on which POS, and who operates."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated

import typer
from rich.table import Table

from posrefund.domain.errors import DomainError
from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints.cli.common import (
    OPERATOR,
    JsonOpt,
    MerchantOpt,
    acting_as,
    apikey_app,
    build_deps,
    emit,
    err,
    fail,
    merchant_app,
    merchant_id,
    out,
    store_app,
    terminal_app,
    user_app,
)
from posrefund.service.deps import Deps


@merchant_app.command("create")
def merchant_create(
    name: Annotated[str, typer.Option(help="merchant name")],
    code: Annotated[str | None, typer.Option(help="short unique code (generated when omitted)")] = None,
    provider: Annotated[str, typer.Option(help="the service provider whose admins manage it")] = "",
    licence_no: Annotated[str, typer.Option(help="统一社会信用代码 of the business licence (18 characters)")] = "",
    settlement_bank: Annotated[str, typer.Option(help="the settlement account's bank (the number is asked)")] = "",
    settlement_holder: Annotated[str, typer.Option(help="the settlement account's holder")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create a merchant; with --settlement-bank the account number is asked without echo (never an argument, so
    never in the shell's history) and kept only as its last four."""
    from posrefund.service import admin

    deps = build_deps()
    code = code or f"M{secrets.token_hex(4).upper()}"
    number = typer.prompt("结算账号 / settlement account number", hide_input=True) if settlement_bank else ""
    try:
        row = admin.create_merchant(
            deps,
            OPERATOR,
            code=code,
            name=name,
            provider_id=provider,
            licence_no=licence_no,
            settlement_bank=settlement_bank,
            settlement_account_name=settlement_holder,
            settlement_account_no=number,
        )
    except DomainError as exc:
        fail(exc)
    emit(row, as_json, "merchant")


@merchant_app.command("channel-account")
def merchant_channel_account(
    merchant: MerchantOpt,
    sub_mchid: Annotated[str, typer.Option(help="the merchant's WeChat Pay sub_mchid under our sp_mchid")],
    sub_appid: Annotated[str, typer.Option(help="its sub_appid, if any")] = "",
    channel: Annotated[str, typer.Option(help="the wallet channel")] = "wechat",
    as_json: JsonOpt = False,
) -> None:
    """Set the account a service provider refunds this merchant's sales through (audited)."""
    from posrefund.service import channel_accounts

    deps = build_deps()
    mid = merchant_id(deps, merchant)
    try:
        row = channel_accounts.set_channel_account(
            deps, OPERATOR, mid, channel, sub_mchid=sub_mchid, sub_appid=sub_appid
        )
    except DomainError as exc:
        fail(exc)
    emit(row, as_json, "channel account")


@merchant_app.command("list")
def merchant_list(as_json: JsonOpt = False) -> None:
    deps = build_deps()
    with deps.uow(readonly=True) as uow:
        rows = uow.merchants.list_merchants()
    if as_json:
        emit(rows, True)
        return
    table = Table("id", "code", "name")
    for r in rows:
        table.add_row(r["id"], r["code"], r["name"])
    out.print(table)


@store_app.command("create")
def store_create(merchant: MerchantOpt, name: Annotated[str, typer.Option()], as_json: JsonOpt = False) -> None:
    from posrefund.service import admin

    deps = build_deps()
    try:
        emit(admin.create_store(deps, acting_as(deps, merchant), name=name), as_json, "store")
    except DomainError as exc:
        fail(exc)


def _store_owner(deps: Deps, store: str) -> str:
    """The merchant a store belongs to (a terminal is registered by store id alone); an unknown store exits 1."""
    with deps.uow(readonly=True) as uow:
        owner = next(
            (m["id"] for m in uow.merchants.list_merchants() if uow.merchants.get_store(m["id"], store) is not None),
            None,
        )
    if owner is None:
        err.print(f"[red]store.not_found[/red]: {store}")
        raise typer.Exit(1)
    return str(owner)


@terminal_app.command("create")
def terminal_create(
    store: Annotated[str, typer.Option(help="store id")],
    sn: Annotated[str, typer.Option("--sn", help="device serial number")],
    terminal_no: Annotated[str | None, typer.Option(help="终端号 (generated when omitted)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a POS terminal in a store and print its API key (shown this once; only a hash is kept)."""
    from posrefund.service import admin

    deps = build_deps()
    actor = Actor(id="cli", role=Role.ADMIN, merchant_id=_store_owner(deps, store), name="posrefund CLI")
    try:
        row = admin.create_terminal(
            deps, actor, store_id=store, terminal_no=terminal_no or f"T{secrets.token_hex(3).upper()}", device_sn=sn
        )
        key = admin.create_api_key(deps, actor, terminal_id=row["id"])
    except DomainError as exc:
        fail(exc)
    emit({**row, "api_key": key["key"], "api_key_id": key["id"]}, as_json, "terminal")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option()],
    role: Annotated[
        str, typer.Option(help="cashier|supervisor|customer_service|finance|risk|auditor|admin|provider_admin")
    ],
    merchant: Annotated[str | None, typer.Option("--merchant", "-m")] = None,
    password: Annotated[str | None, typer.Option(help="read from stdin when omitted")] = None,
    display_name: Annotated[str, typer.Option()] = "",
    provider: Annotated[str, typer.Option(help="a provider admin's service provider")] = "",
    as_json: JsonOpt = False,
) -> None:
    from posrefund.service import admin

    deps = build_deps()
    secret = password if password is not None else sys.stdin.readline().rstrip("\n")
    try:
        row = admin.create_user(
            deps,
            OPERATOR,
            username=username,
            password=secret,
            role=role,
            display_name=display_name,
            merchant_id=merchant_id(deps, merchant) if merchant else None,
            provider_id=provider,
        )
    except DomainError as exc:
        fail(exc)
    emit(row, as_json, "user")


@apikey_app.command("create")
def apikey_create(
    merchant: MerchantOpt, terminal: Annotated[str, typer.Option(help="terminal id")], as_json: JsonOpt = False
) -> None:
    """Create a terminal's API key; the key is shown once and only its hash is kept."""
    from posrefund.service import admin

    deps = build_deps()
    try:
        emit(admin.create_api_key(deps, acting_as(deps, merchant), terminal_id=terminal), as_json, "api key")
    except DomainError as exc:
        fail(exc)
