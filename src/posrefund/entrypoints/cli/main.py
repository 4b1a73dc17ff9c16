"""``posrefund``: the operator CLI (typer + rich). Commands that create something print JSON with ``--json``."""

from __future__ import annotations

import csv
import json
import sys
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from posrefund.config import ConfigError, Settings
from posrefund.domain.errors import DomainError
from posrefund.domain.money import format_yuan
from posrefund.domain.roles import Actor, Role
from posrefund.i18n import message
from posrefund.ports import RefundQuery
from posrefund.service.deps import Deps

app = typer.Typer(help="posrefund — POS 退款全流程管理", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="database / 数据库", no_args_is_help=True)
merchant_app = typer.Typer(help="merchants / 商户", no_args_is_help=True)
store_app = typer.Typer(help="stores / 门店", no_args_is_help=True)
terminal_app = typer.Typer(help="terminals / 终端", no_args_is_help=True)
user_app = typer.Typer(help="operators / 操作员", no_args_is_help=True)
apikey_app = typer.Typer(help="terminal API keys / 终端密钥", no_args_is_help=True)
policy_app = typer.Typer(help="refund policy / 退款政策", no_args_is_help=True)
sales_app = typer.Typer(help="sales / 消费记录", no_args_is_help=True)
refund_app = typer.Typer(help="refund cases / 退款单", no_args_is_help=True)
audit_app = typer.Typer(help="audit trail / 审计", no_args_is_help=True)
keys_app = typer.Typer(help="secrets / 密钥", no_args_is_help=True)
for sub, name in [
    (db_app, "db"),
    (merchant_app, "merchant"),
    (store_app, "store"),
    (terminal_app, "terminal"),
    (user_app, "user"),
    (apikey_app, "apikey"),
    (policy_app, "policy"),
    (sales_app, "sales"),
    (refund_app, "refund"),
    (audit_app, "audit"),
    (keys_app, "keys"),
]:
    app.add_typer(sub, name=name)

out = Console()
err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
MerchantOpt = Annotated[str, typer.Option("--merchant", "-m", help="merchant id or code")]
LANG = "zh"


def _settings() -> Settings:
    return Settings()


def _deps() -> Deps:
    from posrefund import bootstrap
    from posrefund.entrypoints.logging_setup import configure

    settings = _settings()
    configure(settings.log_level, settings.log_file)
    try:
        return bootstrap.build(settings)
    except ConfigError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _fail(exc: DomainError) -> None:
    err.print(f"[red]{exc.code}[/red]: {message(exc.code, LANG, exc.params)}")
    raise typer.Exit(1)


def _emit(data: Any, as_json: bool, title: str = "") -> None:
    if as_json:
        out.print_json(json.dumps(data, ensure_ascii=False, default=str))
        return
    if isinstance(data, dict):
        table = Table(title=title, show_header=False)
        for k, v in data.items():
            table.add_row(str(k), str(v))
        out.print(table)


OPERATOR = Actor(id="cli", role=Role.PROVIDER_ADMIN, merchant_id=None, name="posrefund CLI")


def _merchant_id(deps: Deps, ref: str) -> str:
    with deps.uow(readonly=True) as uow:
        for m in uow.merchants.list_merchants():
            if ref in (m["id"], m["code"]):
                return str(m["id"])
    err.print(f"[red]merchant.not_found[/red]: {ref}")
    raise typer.Exit(1)


def _as(deps: Deps, merchant: str, role: Role = Role.ADMIN) -> Actor:
    """The CLI acts on the host operator's authority, as the named role inside one merchant (audited as 'cli')."""
    return Actor(id="cli", role=role, merchant_id=_merchant_id(deps, merchant), name="posrefund CLI")


@keys_app.command("generate")
def keys_generate() -> None:
    """Print fresh POSREFUND_SECRET_KEY and POSREFUND_PII_KEY lines for an env file."""
    import secrets

    from posrefund.adapters.crypto import generate_key_spec

    print(f"POSREFUND_SECRET_KEY={secrets.token_urlsafe(48)}")  # noqa: T201
    print(f"POSREFUND_PII_KEY={generate_key_spec('k1')}")  # noqa: T201


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema (Alembic)."""
    from posrefund.adapters.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    err.print("[green]database is at the newest schema[/green]")


@merchant_app.command("create")
def merchant_create(
    name: Annotated[str, typer.Option(help="merchant name")],
    code: Annotated[str | None, typer.Option(help="short unique code (generated when omitted)")] = None,
    as_json: JsonOpt = False,
) -> None:
    import secrets

    from posrefund.service import admin

    deps = _deps()
    code = code or f"M{secrets.token_hex(4).upper()}"
    try:
        row = admin.create_merchant(deps, OPERATOR, code=code, name=name)
    except DomainError as exc:
        _fail(exc)
    _emit(row, as_json, "merchant")


@merchant_app.command("list")
def merchant_list(as_json: JsonOpt = False) -> None:
    deps = _deps()
    with deps.uow(readonly=True) as uow:
        rows = uow.merchants.list_merchants()
    if as_json:
        _emit(rows, True)
        return
    table = Table("id", "code", "name")
    for r in rows:
        table.add_row(r["id"], r["code"], r["name"])
    out.print(table)


@store_app.command("create")
def store_create(merchant: MerchantOpt, name: Annotated[str, typer.Option()], as_json: JsonOpt = False) -> None:
    from posrefund.service import admin

    deps = _deps()
    try:
        _emit(admin.create_store(deps, _as(deps, merchant), name=name), as_json, "store")
    except DomainError as exc:
        _fail(exc)


@terminal_app.command("create")
def terminal_create(
    store: Annotated[str, typer.Option(help="store id")],
    sn: Annotated[str, typer.Option("--sn", help="device serial number")],
    terminal_no: Annotated[str | None, typer.Option(help="终端号 (generated when omitted)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a POS terminal in a store and print its API key (shown this once; only a hash is kept)."""
    import secrets

    from posrefund.service import admin

    deps = _deps()
    with deps.uow(readonly=True) as uow:
        owner = next(
            (m["id"] for m in uow.merchants.list_merchants() if uow.merchants.get_store(m["id"], store) is not None),
            None,
        )
    if owner is None:
        err.print(f"[red]store.not_found[/red]: {store}")
        raise typer.Exit(1)
    actor = Actor(id="cli", role=Role.ADMIN, merchant_id=owner, name="posrefund CLI")
    try:
        row = admin.create_terminal(
            deps, actor, store_id=store, terminal_no=terminal_no or f"T{secrets.token_hex(3).upper()}", device_sn=sn
        )
        key = admin.create_api_key(deps, actor, terminal_id=row["id"])
    except DomainError as exc:
        _fail(exc)
    _emit({**row, "api_key": key["key"], "api_key_id": key["id"]}, as_json, "terminal")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option()],
    role: Annotated[
        str, typer.Option(help="cashier|supervisor|customer_service|finance|risk|auditor|admin|provider_admin")
    ],
    merchant: Annotated[str | None, typer.Option("--merchant", "-m")] = None,
    password: Annotated[str | None, typer.Option(help="read from stdin when omitted")] = None,
    display_name: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
) -> None:
    from posrefund.service import admin

    deps = _deps()
    secret = password if password is not None else sys.stdin.readline().rstrip("\n")
    try:
        row = admin.create_user(
            deps,
            OPERATOR,
            username=username,
            password=secret,
            role=role,
            display_name=display_name,
            merchant_id=_merchant_id(deps, merchant) if merchant else None,
        )
    except DomainError as exc:
        _fail(exc)
    _emit(row, as_json, "user")


@apikey_app.command("create")
def apikey_create(
    merchant: MerchantOpt, terminal: Annotated[str, typer.Option(help="terminal id")], as_json: JsonOpt = False
) -> None:
    """Create a terminal's API key; the key is shown once and only its hash is kept."""
    from posrefund.service import admin

    deps = _deps()
    try:
        _emit(admin.create_api_key(deps, _as(deps, merchant), terminal_id=terminal), as_json, "api key")
    except DomainError as exc:
        _fail(exc)


@policy_app.command("load")
def policy_load(merchant: MerchantOpt, file: Path, as_json: JsonOpt = False) -> None:
    """Replace a merchant's refund policy from a TOML file (see docs/policy.example.toml)."""
    from posrefund.service import policies

    deps = _deps()
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        err.print(f"[red]cannot read {file}: {exc}[/red]")
        raise typer.Exit(1) from None
    try:
        policy, version = policies.put_policy(deps, _as(deps, merchant), doc.get("policy", doc))
    except DomainError as exc:
        _fail(exc)
    _emit({**policy.to_dict(), "version": version}, as_json, "policy")


@policy_app.command("show")
def policy_show(merchant: MerchantOpt, as_json: JsonOpt = False) -> None:
    from posrefund.service import policies

    deps = _deps()
    _emit(policies.get_policy(deps, _as(deps, merchant)).to_dict(), as_json, "policy")


def _read_sales(path: Path, terminals: dict[str, str]) -> Iterator[tuple[int, Any]]:
    from posrefund.domain.errors import Invalid
    from posrefund.service.sales import SaleInput

    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for line, rec in enumerate(reader, start=2):
            try:
                term = rec.get("terminal_id") or ""
                paid_at = datetime.fromisoformat(rec["paid_at"])
                yield (
                    line,
                    SaleInput(
                        terminal_id=terminals.get(term, term),
                        voucher_no=rec["voucher_no"],
                        rrn=rec["rrn"],
                        batch_no=rec["batch_no"],
                        auth_code=rec.get("auth_code") or "",
                        order_no=rec.get("order_no") or "",
                        channel=rec["channel"],
                        kind=rec.get("kind") or "sale",
                        amount_fen=int(rec["amount_fen"]),
                        fee_fen=int(rec.get("fee_fen") or 0),
                        currency=rec.get("currency") or "CNY",
                        paid_at=paid_at,
                        payer_masked=rec.get("payer_masked") or "",
                        settlement_status=rec.get("settlement_status") or "unsettled",
                    ),
                )
            except (KeyError, ValueError, TypeError) as exc:
                yield line, Invalid("import.bad_line", detail=type(exc).__name__ + ": " + str(exc)[:80])


@sales_app.command("import")
def sales_import(merchant: MerchantOpt, file: Path, as_json: JsonOpt = False) -> None:
    """Import sales from CSV (columns as POST /v1/sales; terminal_id may be the 终端号). Bad lines are listed."""
    from posrefund.service import sales

    deps = _deps()
    actor = _as(deps, merchant)
    with deps.uow(readonly=True) as uow:
        terminals = {t["terminal_no"]: t["id"] for t in uow.merchants.list_terminals(actor.merchant_id or "")}
    with open(file, encoding="utf-8-sig") as fh:
        total = max(sum(1 for _ in fh) - 1, 0)
    progress = Progress(
        TextColumn("[bold]导入消费记录 importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=as_json,
    )
    with progress:
        task = progress.add_task("import", total=total)
        report = sales.import_sales(
            deps, actor, _read_sales(file, terminals), progress=lambda n: progress.advance(task, n)
        )
    result = {
        "imported": report.imported,
        "duplicates": report.duplicates,
        "errors": [{"line": ln, "code": code, "params": params} for ln, code, params in report.errors],
    }
    if as_json:
        _emit(result, True)
    else:
        out.print(f"imported {report.imported}, duplicates {report.duplicates}, errors {len(report.errors)}")
        for ln, code, params in report.errors[:50]:
            out.print(f"  line {ln}: {code} {message(code, LANG, params)}")
    if report.errors:
        raise typer.Exit(1)


@refund_app.command("list")
def refund_list(
    merchant: MerchantOpt,
    status: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: JsonOpt = False,
) -> None:
    from posrefund.service import refunds

    deps = _deps()
    actor = _as(deps, merchant, Role.AUDITOR)
    views, total = refunds.list_cases(deps, actor, RefundQuery(status=status, limit=limit))
    if as_json:
        from posrefund.entrypoints.api.views import refund_view

        _emit({"items": [refund_view(v.case, v.customer) for v in views], "total": total}, True)
        return
    table = Table("refund_no", "status", "amount", "reason", "created", title=f"{total} refunds")
    for v in views:
        table.add_row(
            v.case.refund_no,
            v.case.status.value,
            format_yuan(v.case.amount_fen, v.case.currency),
            v.case.reason.value,
            v.case.created_at.isoformat(timespec="seconds"),
        )
    out.print(table)


@refund_app.command("show")
def refund_show(merchant: MerchantOpt, refund_id: str, as_json: JsonOpt = False) -> None:
    from posrefund.entrypoints.api.views import event_view, refund_view
    from posrefund.service import refunds

    deps = _deps()
    actor = _as(deps, merchant, Role.AUDITOR)
    try:
        view = refunds.get_case(deps, actor, refund_id)
        events = refunds.case_events(deps, actor, refund_id)
    except DomainError as exc:
        _fail(exc)
    data = refund_view(view.case, view.customer)
    data["events"] = [event_view(e) for e in events]
    if as_json:
        _emit(data, True)
        return
    _emit({k: v for k, v in data.items() if k != "events"}, False, "refund")
    table = Table("seq", "at", "action", "actor", "before→after", "reason")
    for e in data["events"]:
        table.add_row(
            str(e["seq"]),
            e["at"],
            e["action"],
            f"{e['actor_id']} ({e['actor_role']})",
            f"{e['before']}→{e['after']}",
            e["reason"],
        )
    out.print(table)


@audit_app.command("verify")
def audit_verify(
    merchant: Annotated[str | None, typer.Option("--merchant", "-m")] = None, as_json: JsonOpt = False
) -> None:
    """Recompute the hash chain; exit 1 and name the first broken event if any row was altered."""
    from posrefund.adapters.db.repositories.audit import audit_fields
    from posrefund.service import audit

    deps = _deps()
    actor = _as(deps, merchant, Role.AUDITOR) if merchant else Actor("cli", Role.AUDITOR, None, "posrefund CLI")
    with Progress(
        TextColumn("[bold]校验审计链 verifying"), BarColumn(), MofNCompleteColumn(), console=err, disable=as_json
    ) as progress:
        task = progress.add_task("verify", total=None)
        report = audit.verify(deps, actor, audit_fields, progress=lambda n: progress.advance(task, n))
    if report.broken is None:
        if as_json:
            _emit({"ok": True, "checked": report.checked}, True)
        else:
            out.print(f"[green]OK[/green]: {report.checked} events intact")
        return
    b = report.broken
    result = {
        "ok": False,
        "checked": report.checked,
        "chain": b.chain,
        "seq": b.seq,
        "event_id": b.event_id,
        "problem": b.problem,
    }
    if as_json:
        _emit(result, True)
    else:
        out.print(f"[red]BROKEN[/red]: chain {b.chain}, event #{b.event_id} (seq {b.seq}): {b.problem}")
    raise typer.Exit(1)


@app.command("demo")
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="do nothing when a demo merchant exists")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Seed a demo merchant: stores, terminals, a user of every role, a policy and a few hundred sales."""
    from posrefund.demo.seed import seed

    deps = _deps()
    with deps.uow(readonly=True) as uow:
        exists = uow.merchants.merchant_code_taken("DEMO")
    if exists and if_empty:
        err.print("demo merchant already present")
        return
    if exists:
        err.print("[red]merchant.code_taken[/red]: DEMO")
        raise typer.Exit(1)
    result = seed(deps, progress_console=None if as_json else err)
    if as_json:
        _emit(result, True)
        return
    table = Table("username", "role", "password", title="demo operators / 演示账号")
    for u in result["users"]:
        table.add_row(u["username"], u["role"], result["password"])
    out.print(table)
    out.print(f"sales: {result['sales']}, refunds: {result['refunds']}, terminal key: {result['terminal_key']}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    with_simulators: Annotated[
        bool, typer.Option("--with-simulators", help="start the channel simulators and a worker here (demo)")
    ] = False,
    workers: Annotated[int, typer.Option(help="server processes (not with --with-simulators)")] = 1,
) -> None:
    """Serve the API; with --with-simulators the demo goes all the way to the channels and back."""
    import uvicorn

    if workers > 1:
        if with_simulators:
            err.print("[red]--workers and --with-simulators do not go together[/red]")
            raise typer.Exit(2)
        _deps()  # fail early, with a clear message, on missing keys
        uvicorn.run(
            "posrefund.entrypoints.api.factory:build_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_level="warning",
        )
        return

    from posrefund import bootstrap
    from posrefund.entrypoints import worker
    from posrefund.entrypoints.api.app import create_app

    settings = _settings()
    deps = _deps()
    inline = settings.database_url.startswith("sqlite")
    sims = None
    if with_simulators:
        from posrefund.demo import channels as demo_channels

        sims = demo_channels.start(
            f"http://{host}:{port}",
            wechat_port=settings.sim_wechat_port,
            acquirer_port=settings.sim_acquirer_port,
            alipay_port=settings.sim_alipay_port,
        )
        router = sims.router
        for name, sim in sims.simulators.items():
            err.print(f"simulator {name}: {getattr(sim, 'base_url', None) or getattr(sim, 'address', '')}")
    else:
        router = bootstrap.build_router(settings, deps)
    bootstrap.load_calendar_overrides(deps, router)
    notify_router = bootstrap.build_notify_router(settings)  # notify (issue 5)
    _thread, stop = (
        worker.start_in_thread(deps, router, notify_router=notify_router) if with_simulators else (None, None)
    )
    application = create_app(deps, inline=inline, token_minutes=settings.token_minutes, router=router)
    application.state.ctx.notify_router = notify_router  # cnotify: tracking links shown in the console
    try:
        uvicorn.run(application, host=host, port=port, access_log=False, log_level="warning")
    finally:
        if stop is not None:
            stop.set()
        if sims is not None:
            sims.close()


@app.command("worker")
def run_worker(
    once: Annotated[bool, typer.Option("--once", help="one sweep, then exit")] = False,
    idle: Annotated[float, typer.Option(help="seconds to wait when nothing is due")] = 1.0,
) -> None:
    """Execute approved refunds on their channels and follow the ones in flight (stop with Ctrl-C / SIGTERM)."""
    import threading

    from posrefund import bootstrap
    from posrefund.entrypoints import worker

    deps = _deps()
    router = bootstrap.build_router(_settings(), deps)
    bootstrap.load_calendar_overrides(deps, router)
    stop = threading.Event()
    worker.install_signal_handlers(stop)
    notify_router = bootstrap.build_notify_router(_settings())  # notify (issue 5)
    steps = worker.run(deps, router, stop, idle=idle, once=once, notify_router=notify_router)
    err.print(f"worker stopped after {steps} steps")


@app.command("simulate", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def simulate(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="acquirer | wechatpay | alipay")],
) -> None:
    """Run one channel simulator in the foreground (its own options follow, e.g. --port 9101 --fault-rate 0.3)."""
    import importlib

    if name not in ("acquirer", "wechatpay", "alipay"):
        err.print(f"[red]unknown simulator {name}[/red]")
        raise typer.Exit(2)
    module = importlib.import_module(f"posrefund.simulators.{name}.server")
    raise typer.Exit(module.main(list(ctx.args)) or 0)


# recon (issue 6): `posrefund reconcile FILE` and `posrefund demo settlement`
from posrefund.entrypoints.cli import reconciliation  # noqa: E402

reconciliation.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
