"""``posrefund audit verify``: proof on the host that no audited event was altered after it was written."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints.cli.common import JsonOpt, acting_as, audit_app, build_deps, emit, err, out


@audit_app.command("verify")
def audit_verify(
    merchant: Annotated[str | None, typer.Option("--merchant", "-m")] = None, as_json: JsonOpt = False
) -> None:
    """Recompute the hash chain; exit 1 and name the first broken event if any row was altered."""
    from posrefund.adapters.db.repositories.audit import audit_fields
    from posrefund.service import audit

    deps = build_deps()
    actor = acting_as(deps, merchant, Role.AUDITOR) if merchant else Actor("cli", Role.AUDITOR, None, "posrefund CLI")
    with Progress(
        TextColumn("[bold]校验审计链 verifying"), BarColumn(), MofNCompleteColumn(), console=err, disable=as_json
    ) as progress:
        task = progress.add_task("verify", total=None)
        report = audit.verify(deps, actor, audit_fields, progress=lambda n: progress.advance(task, n))
    if report.broken is None:
        if as_json:
            emit({"ok": True, "checked": report.checked}, True)
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
        emit(result, True)
    else:
        out.print(f"[red]BROKEN[/red]: chain {b.chain}, event #{b.event_id} (seq {b.seq}): {b.problem}")
    raise typer.Exit(1)
