"""What every ``posrefund`` command shares: the Typer app and its command groups, the consoles, the options,
and the helpers that build the service's dependencies and act on the host operator's authority.

The area modules (``auth``, ``db``, ``merchants``, ``users``, ``policy``, ``sales``, ``refunds``, ``audit``,
``keys``, ``pii``, ``demo``, ``serve``, ``reconciliation``) register their commands on these objects; they import
this module and never one another, so the CLI has no import cycle. The groups are added here, in the order
``posrefund --help`` lists them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from posrefund.config import ConfigError, Settings
from posrefund.domain.errors import DomainError
from posrefund.domain.pii import find_card_data
from posrefund.domain.roles import ANY_PROVIDER, Actor, Role
from posrefund.entrypoints.wording import message
from posrefund.service.deps import Deps

DEMO_HELP = "Seed a demo merchant: stores, terminals, a user of every role, a policy and a few hundred sales."


def _argument_name(args: list[str], i: int) -> str:
    """How a refusal names an argument without showing it: its option (``--note``), else its position."""
    if args[i].startswith("--") and "=" in args[i]:
        return args[i].split("=", 1)[0]
    if i > 0 and args[i - 1].startswith("-") and "=" not in args[i - 1]:
        return args[i - 1]
    return f"argument {i + 1}"


def refuse_card_data_in_arguments(args: list[str]) -> None:
    """Card data in any argument of any command stops it before anything runs or is written: the code and
    its message in Chinese and English on stderr (naming the argument, never its value), exit status 2."""
    for i, arg in enumerate(args):
        code = find_card_data(arg)
        if code is not None:
            params: dict[str, object] = {"field": _argument_name(args, i)}
            err.print(f"[red]{code}[/red]: {message(code, 'zh', params)} / {message(code, 'en', params)}")
            raise typer.Exit(2)


class _GuardedGroup(typer.core.TyperGroup):
    """The top-level command group: it sees every argument of every subcommand before they are parsed."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer vendors click: its Context
        refuse_card_data_in_arguments(args)
        return super().parse_args(ctx, args)


app = typer.Typer(help="posrefund — POS 退款全流程管理", no_args_is_help=True, add_completion=False, cls=_GuardedGroup)


def _group(name: str, help_text: str) -> typer.Typer:
    group = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


db_app = _group("db", "database / 数据库")
merchant_app = _group("merchant", "merchants / 商户")
store_app = _group("store", "stores / 门店")
terminal_app = _group("terminal", "terminals / 终端")
user_app = _group("user", "operators / 操作员")
app.add_typer(user_app, name="users", help="operators / 操作员 (the same commands as `user`)")
apikey_app = _group("apikey", "terminal API keys / 终端密钥")
policy_app = _group("policy", "refund policy / 退款政策")
sales_app = _group("sales", "sales / 消费记录")
refund_app = _group("refund", "refund cases / 退款单")
audit_app = _group("audit", "audit trail / 审计")
keys_app = _group("keys", "secrets / 密钥")
auth_app = _group("auth", "sign-in and lock-outs / 登录与锁定")
pii_app = _group("pii", "personal data / 个人信息")
card_app = _group("card", "the card acquirer terminal / 银行卡收单终端")
risk_app = _group("risk", "risk warnings on refunds / 退款风险预警")
fees_app = _group("fees", "fee contracts, fee refunds, one-off charges / 费率合同与退费")
# ``posrefund demo`` seeds the demo merchant itself; ``posrefund demo settlement`` writes files for it.
demo_app = typer.Typer(help=DEMO_HELP, invoke_without_command=True, add_completion=False)
app.add_typer(demo_app, name="demo")

out = Console()
err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
MerchantOpt = Annotated[str, typer.Option("--merchant", "-m", help="merchant id or code")]
ChannelOpt = Annotated[str, typer.Option("--channel", "-c", help="card | wechat | alipay")]
LANG = "zh"
# The host operator: a provider admin of every provider (``ANY_PROVIDER``), audited as 'cli'.
OPERATOR = Actor(id="cli", role=Role.PROVIDER_ADMIN, merchant_id=None, name="posrefund CLI", provider_id=ANY_PROVIDER)


def settings() -> Settings:
    return Settings()


def build_deps() -> Deps:
    """The service's dependencies from the environment; a configuration error exits 2 with its message."""
    from posrefund import bootstrap
    from posrefund.entrypoints.logging_setup import configure

    current = settings()
    configure(current.log_level, current.log_file)
    try:
        return bootstrap.build(current)
    except ConfigError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def fail(exc: DomainError) -> NoReturn:
    """A refused operation: its code and message on stderr, exit status 1."""
    err.print(f"[red]{exc.code}[/red]: {message(exc.code, LANG, exc.params)}")
    raise typer.Exit(1)


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False, default=str))


def emit(data: Any, as_json: bool, title: str = "") -> None:
    """A result as JSON with ``--json``, else a record as a two-column table."""
    if as_json:
        print_json(data)
        return
    if isinstance(data, dict):
        table = Table(title=title, show_header=False)
        for k, v in data.items():
            table.add_row(str(k), str(v))
        out.print(table)


def merchant_id(deps: Deps, ref: str) -> str:
    """The merchant named by id or code; an unknown one exits 1."""
    with deps.uow(readonly=True) as uow:
        for m in uow.merchants.list_merchants():
            if ref in (m["id"], m["code"]):
                return str(m["id"])
    err.print(f"[red]merchant.not_found[/red]: {ref}")
    raise typer.Exit(1)


def acting_as(deps: Deps, merchant: str, role: Role = Role.ADMIN) -> Actor:
    """The CLI acts on the host operator's authority, as the named role inside one merchant (audited as 'cli')."""
    return Actor(id="cli", role=role, merchant_id=merchant_id(deps, merchant), name="posrefund CLI")


def progress_bar(label: str, quiet: bool) -> Progress:
    """A progress bar with a count and the time left, on stderr so stdout stays clean (hidden with ``--json``)."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
    )
