"""``posrefund keys``: the secrets a fresh installation needs in its env file, and revoking a terminal's key."""

from __future__ import annotations

from typing import Annotated

import typer

from posrefund.domain.errors import DomainError
from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints.cli.common import JsonOpt, build_deps, emit, err, fail, keys_app


@keys_app.command("generate")
def keys_generate() -> None:
    """Print fresh POSREFUND_SECRET_KEY, POSREFUND_PII_KEY and POSREFUND_AUDIT_KEY lines for an env file."""
    import secrets

    from posrefund.adapters.crypto import generate_key_spec

    print(f"POSREFUND_SECRET_KEY={secrets.token_urlsafe(48)}")  # noqa: T201
    print(f"POSREFUND_PII_KEY={generate_key_spec('k1')}")  # noqa: T201
    print(f"POSREFUND_AUDIT_KEY={generate_key_spec('a1')}")  # noqa: T201


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="the key's id (key_…)")], as_json: JsonOpt = False) -> None:
    """Revoke a terminal's API key: its next request is refused (audited as 'cli' on the key's merchant)."""
    from posrefund.service import accounts

    deps = build_deps()
    with deps.uow(readonly=True) as uow:
        row = uow.users.api_key(key)
    if row is None:
        err.print(f"[red]apikey.not_found[/red]: {key}")
        raise typer.Exit(1)
    actor = Actor(id="cli", role=Role.ADMIN, merchant_id=row["merchant_id"], name="posrefund CLI")
    try:
        emit(accounts.revoke_api_key(deps, actor, key), as_json, "api key")
    except DomainError as exc:
        fail(exc)
