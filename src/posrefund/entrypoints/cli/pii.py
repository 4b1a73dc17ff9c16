"""``posrefund pii scan``: proof on the host that no card number, and no mobile or ID number in clear, sits in
the database, the logs or the evidence files. Exit 0 when clean, 1 when anything is found (2: usage)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from posrefund.entrypoints.cli.common import OPERATOR, JsonOpt, build_deps, emit, err, out, pii_app, progress_bar
from posrefund.entrypoints.cli.common import settings as current_settings
from posrefund.service.pii_scan import ScanReport

DbOpt = Annotated[bool, typer.Option("--db/--no-db", help="read every text column of every table")]
FilesOpt = Annotated[bool, typer.Option("--files/--no-files", help="read the log files and the evidence files")]
LogOpt = Annotated[
    list[Path] | None, typer.Option("--log-file", help="another log file to read (repeatable)", dir_okay=False)
]
EvidenceOpt = Annotated[
    Path | None, typer.Option("--evidence-dir", help="the evidence store (default: <data dir>/evidence)")
]


def place(where: Mapping[str, Any]) -> str:
    """``refunds.note [id=rf_1]`` or ``/var/log/posrefund.log:12 (byte 3456)``."""
    if "table" in where:
        key = ", ".join(f"{k}={v}" for k, v in where["key"].items())
        return f"{where['table']}.{where['column']} [{key}]"
    stream = f" stream {where['stream']}" if "stream" in where else ""
    return f"{where['file']}{stream}:{where['line']} (byte {where['offset']})"


@pii_app.command("scan")
def pii_scan(
    as_json: JsonOpt = False,
    database: DbOpt = True,
    files: FilesOpt = True,
    log_file: LogOpt = None,
    evidence_dir: EvidenceOpt = None,
) -> None:
    """Look for full card numbers, and mobile or resident ID numbers in clear; print them masked.

    Exit status 1 when anything is found, 0 when clean. The scan is audited (counts only, never values).
    """
    from posrefund.adapters.db.pii_sweep import DatabaseTexts
    from posrefund.adapters.file_texts import FileTexts, evidence_files, log_files
    from posrefund.adapters.files import DiskEvidenceStore
    from posrefund.bootstrap import engine_of
    from posrefund.service import pii_scan as rules

    deps = build_deps()
    report = rules.ScanReport()
    looked_at: list[str] = []
    quiet = as_json or not err.is_terminal
    if database:
        with progress_bar("[bold]扫描数据库 database", quiet) as progress:
            task = progress.add_task("db", total=None)
            texts = DatabaseTexts(engine_of(deps), on_rows=lambda n: progress.advance(task, n))
            progress.update(task, total=texts.total_rows())
            rules.scan(texts, report)
        looked_at.append("database")
    if files:
        store = deps.evidence_store
        root = evidence_dir or (store.root if isinstance(store, DiskEvidenceStore) else None)
        paths = log_files(current_settings().log_file) + list(log_file or []) + (evidence_files(root) if root else [])
        with progress_bar("[bold]扫描文件 files", quiet) as progress:
            task = progress.add_task("files", total=None)
            found = FileTexts(paths, on_bytes=lambda n: progress.advance(task, n))
            progress.update(task, total=found.total_bytes())
            rules.scan(found, report)
        looked_at.append(f"{len(paths)} files")
    rules.record_scan(deps, OPERATOR, report, looked_at)
    _show(report, as_json)
    if not report.clean:
        raise typer.Exit(1)


def _show(report: ScanReport, as_json: bool) -> None:
    summary = report.summary()
    if as_json:
        findings = [
            {"kind": f.kind, "at": place(f.where), "where": f.where, "masked": f.masked} for f in report.findings
        ]
        result = {"clean": report.clean, "scanned": report.scanned, "counts": summary, "findings": findings}
        emit({**result, "truncated": len(findings) < sum(summary.values())}, True)
        return
    if report.findings:
        table = Table("kind 类别", "where 位置", "masked 脱敏值")
        for f in report.findings:
            table.add_row(f.kind, escape(place(f.where)), escape(f.masked))
        out.print(table)
    counts = ", ".join(f"{kind}: {n}" for kind, n in summary.items())
    colour = "green" if report.clean else "red"
    out.print(f"[{colour}]{'CLEAN' if report.clean else 'FOUND'}[/{colour}]: {report.scanned} texts read; {counts}")
