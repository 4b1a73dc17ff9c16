"""``posrefund users``: the life of an operator after it is created — deactivate, reactivate, change the role,
set a temporary password, sign out everywhere — on the host operator's authority (audited as 'cli').

Every change goes through service/accounts.py, as the API's and the console's do; the ones that end the
user's sessions raise their token generation, so tokens already issued fail on their next request."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from posrefund.domain.errors import DomainError
from posrefund.entrypoints.cli.common import OPERATOR, JsonOpt, build_deps, emit, err, fail, user_app
from posrefund.service.deps import Deps

UserArg = Annotated[str, typer.Argument(help="username or user id")]


def _user_id(deps: Deps, ref: str) -> str:
    """The user named by username or id; an unknown one exits 1."""
    with deps.uow(readonly=True) as uow:
        user = uow.users.by_username(ref) or uow.users.get_user(ref)
    if user is None:
        err.print(f"[red]user.not_found[/red]: {ref}")
        raise typer.Exit(1)
    return str(user["id"])


def _run(ref: str, as_json: bool, command: Callable[..., dict[str, Any]], *args: Any) -> None:
    deps = build_deps()
    try:
        row = command(deps, OPERATOR, _user_id(deps, ref), *args)
    except DomainError as exc:
        fail(exc)
    emit(row, as_json, "user")


@user_app.command("deactivate")
def user_deactivate(user: UserArg, as_json: JsonOpt = False) -> None:
    """Stop a user signing in; every token they hold stops working."""
    from posrefund.service import accounts

    _run(user, as_json, accounts.deactivate_user)


@user_app.command("activate")
def user_activate(user: UserArg, as_json: JsonOpt = False) -> None:
    """Let a deactivated (or locked-out) user sign in again."""
    from posrefund.service import accounts

    _run(user, as_json, accounts.activate_user)


@user_app.command("set-role")
def user_set_role(
    user: UserArg,
    role: Annotated[str, typer.Argument(help="cashier|supervisor|customer_service|finance|risk|auditor|admin")],
    as_json: JsonOpt = False,
) -> None:
    """Give a merchant's operator another role; their tokens stop working until they sign in again."""
    from posrefund.service import accounts

    _run(user, as_json, accounts.set_role, role)


@user_app.command("reset-password")
def user_reset_password(
    user: UserArg,
    password: Annotated[str | None, typer.Option(help="the temporary password; read from stdin when omitted")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a temporary password the user must change at their next sign-in; their sessions end."""
    from posrefund.service import accounts

    secret = password if password is not None else sys.stdin.readline().rstrip("\n")
    _run(user, as_json, accounts.reset_password, secret)


@user_app.command("sign-out-everywhere")
def user_sign_out_everywhere(user: UserArg, as_json: JsonOpt = False) -> None:
    """End every session of a user (a lost phone, a password seen by someone else)."""
    from posrefund.service import accounts

    _run(user, as_json, accounts.sign_out_everywhere)
