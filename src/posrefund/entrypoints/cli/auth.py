"""``posrefund auth unlock``: lift a sign-in lock-out on the host operator's authority (audited as 'cli')."""

from __future__ import annotations

from typing import Annotated

import typer

from posrefund.domain.errors import DomainError, NotFound
from posrefund.entrypoints.cli.common import OPERATOR, JsonOpt, auth_app, build_deps, emit, fail


@auth_app.command("unlock")
def unlock(
    user: Annotated[str, typer.Argument(help="the user's id or username")],
    as_json: JsonOpt = False,
) -> None:
    """Lift the lock that repeated failed sign-ins put on a user, and clear the failure count."""
    from posrefund.service import auth

    deps = build_deps()
    with deps.uow(readonly=True) as uow:
        row = uow.users.get_user(user) or uow.users.by_username(user)
    try:
        if row is None:
            raise NotFound("auth.user_not_found")
        auth.unlock_user(deps, OPERATOR, row["id"])
    except DomainError as exc:
        fail(exc)
    emit({"user_id": row["id"], "username": row["username"], "unlocked": True}, as_json, "unlocked")
