"""``posrefund policy``: a merchant's refund policy, kept as a TOML file the operator edits and loads."""

from __future__ import annotations

import tomllib
from pathlib import Path

import typer

from posrefund.domain.errors import DomainError
from posrefund.entrypoints.cli.common import JsonOpt, MerchantOpt, acting_as, build_deps, emit, err, fail, policy_app


@policy_app.command("load")
def policy_load(merchant: MerchantOpt, file: Path, as_json: JsonOpt = False) -> None:
    """Replace a merchant's refund policy from a TOML file (see docs/policy.example.toml)."""
    from posrefund.service import policies

    deps = build_deps()
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        err.print(f"[red]cannot read {file}: {exc}[/red]")
        raise typer.Exit(1) from None
    try:
        policy, version = policies.put_policy(deps, acting_as(deps, merchant), doc.get("policy", doc))
    except DomainError as exc:
        fail(exc)
    emit({**policy.to_dict(), "version": version}, as_json, "policy")


@policy_app.command("show")
def policy_show(merchant: MerchantOpt, as_json: JsonOpt = False) -> None:
    from posrefund.service import policies

    deps = build_deps()
    emit(policies.get_policy(deps, acting_as(deps, merchant)).to_dict(), as_json, "policy")
