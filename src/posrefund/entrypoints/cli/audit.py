"""``posrefund audit verify`` and ``posrefund audit checkpoints export``: proof on the host that no audited event
was altered, removed or re-hashed after it was written, against checkpoints signed with a key the database never
holds — stored in the database and exported, append-only, to a file an operator ships to WORM storage."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from posrefund.domain.errors import DomainError
from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints.cli.common import JsonOpt, acting_as, audit_app, build_deps, emit, err, fail, out
from posrefund.entrypoints.wording import message

if TYPE_CHECKING:
    from posrefund.domain.audit import Checkpoint
    from posrefund.service.audit import VerifyReport

checkpoints_app = typer.Typer(help="signed checkpoints of the audit chains / 审计检查点", no_args_is_help=True)
audit_app.add_typer(checkpoints_app, name="checkpoints")
HOST_AUDITOR = Actor("cli", Role.AUDITOR, None, "posrefund CLI")
AnchorsOpt = Annotated[
    Path | None,
    typer.Option("--anchors", help="also verify against this exported checkpoint file (JSON lines)", exists=True),
]

FullOpt = Annotated[bool, typer.Option("--full", help="walk every event, not only those after the newest checkpoint")]


def read_anchors(path: Path) -> list[tuple[int, Checkpoint]]:
    """Every checkpoint of an export file, with its number; a damaged line fails with its line number."""
    from posrefund.service.audit_checkpoints import from_line

    lines = path.read_text(encoding="utf-8").splitlines()
    return [from_line(text, n) for n, text in enumerate(lines, start=1) if text.strip()]


@audit_app.command("verify")
def audit_verify(
    merchant: Annotated[str | None, typer.Option("--merchant", "-m")] = None,
    anchors: AnchorsOpt = None,
    full: FullOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Chain the events still waiting, recompute the hash chains from each one's newest signed checkpoint (every
    event with --full) and hold them against their checkpoints (and an exported file with --anchors); exit 1
    naming the first bad position. When all is intact, each chain's end is signed anew."""
    from posrefund.adapters.db.repositories.audit import audit_fields
    from posrefund.service import audit

    deps = build_deps()
    actor = acting_as(deps, merchant, Role.AUDITOR) if merchant else HOST_AUDITOR
    with Progress(
        TextColumn("[bold]校验审计链 verifying"), BarColumn(), MofNCompleteColumn(), console=err, disable=as_json
    ) as progress:
        task = progress.add_task("verify", total=None)
        try:
            exported = [cp for _n, cp in read_anchors(anchors)] if anchors else []
            report = audit.verify(
                deps, actor, audit_fields, lambda n: progress.advance(task, n), anchors=exported, full=full
            )
        except DomainError as exc:
            fail(exc)
    _print_report(report, as_json)


def _print_report(report: VerifyReport, as_json: bool) -> None:
    """OK, or the first bad position in Chinese and English (exit 1)."""
    counts: dict[str, object] = {
        "checked": report.checked,
        "checkpoints": report.checkpoints,
        "resumed": report.resumed,
    }
    if report.broken is None:
        counts["signed"] = report.signed
        if as_json:
            emit({"ok": True, **counts}, True)
        else:
            out.print(f"[green]OK[/green]: {message('audit.ok', 'zh', counts)} / {message('audit.ok', 'en', counts)}")
        return
    b = report.broken
    params: dict[str, object] = {"seq": b.seq, "since": b.since}
    result: dict[str, Any] = {
        "ok": False,
        **counts,
        "chain": b.chain,
        "seq": b.seq,
        "event_id": b.event_id,
        "problem": b.problem,
        "since": b.since,
        "message": {lang: message(f"audit.{b.problem}", lang, params) for lang in ("zh", "en")},
    }
    if as_json:
        emit(result, True)
    else:
        event = f"event #{b.event_id}" if b.event_id is not None else "no event"
        out.print(f"[red]BROKEN 审计链异常[/red]: chain {b.chain}, seq {b.seq} ({event}): {b.problem}")
        out.print(f"  {result['message']['zh']}\n  {result['message']['en']}")
    raise typer.Exit(1)


@checkpoints_app.command("export")
def checkpoints_export(
    to: Annotated[str, typer.Option("--to", help="append to this file, or '-' for standard output")] = "-",
    as_json: JsonOpt = False,
) -> None:
    """Sign the heads that moved, then append every checkpoint not yet in the file as a JSON line (the file is
    only ever appended to: ship it to WORM storage). Exit 1 if a chain could not be signed (tampered)."""
    from posrefund.adapters.db.repositories.audit import audit_fields
    from posrefund.service import audit_checkpoints

    deps = build_deps()
    if not deps.audit_keys:
        err.print(f"[yellow]audit.key_missing[/yellow]: {message('audit.key_missing', 'zh')}")
    taken = audit_checkpoints.take(deps, audit_fields)
    target = None if to == "-" else Path(to)
    try:
        done = read_anchors(target) if target is not None and target.exists() else []
    except DomainError as exc:
        fail(exc)
    fresh = audit_checkpoints.not_exported(deps, HOST_AUDITOR, done)
    lines = "".join(audit_checkpoints.to_line(n, cp) + "\n" for n, cp in fresh)
    if target is None:
        sys.stdout.write(lines)
    else:
        with target.open("a", encoding="utf-8") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())
        summary = {"exported": len(fresh), "signed": taken.signed, "refused": taken.refused, "to": str(target)}
        emit(summary, as_json)
    if taken.refused:
        err.print(f"[red]BROKEN 审计链异常[/red]: not signed / 未签署: {', '.join(taken.refused)} — run `audit verify`")
        raise typer.Exit(1)
