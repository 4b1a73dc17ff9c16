"""Long console work runs off the event loop: an import, a reconciliation run and the CSV exports read and
write on a worker thread, so one operator's big file never holds every other request."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from posrefund.entrypoints.console.pages import reconciliation as recon_page
from posrefund.entrypoints.console.pages import reports as reports_page
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.console.test_console_pages import _pending
from tests.console.test_console_reconciliation import FIXTURES, duplicate_charge, reconciled, upload, wait_job


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _watched(fn: Callable[..., Any], seen: list[bool]) -> Callable[..., Any]:
    """``fn``, noting for each call whether it ran on the thread of a running event loop."""

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(_on_loop())
        return fn(*args, **kwargs)

    return watched


def test_import_and_run_work_on_a_worker_thread(
    as_user: Any, deps: Deps, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(recon_page.reconciliation, "import_file", _watched(recon_page.reconciliation.import_file, seen))
    monkeypatch.setattr(recon_page.reconciliation, "reconcile", _watched(recon_page.reconciliation.reconcile, seen))
    b = as_user("a.finance")
    r = upload(b, FIXTURES / "card_acquirer.csv", "card")
    assert r.status_code == 303 and "导入完成" in wait_job(b, r.headers["location"])
    _first, twin = duplicate_charge(deps, world.a)
    reconciled(b, deps, world.a, tmp_path, twin.paid_at)
    assert seen == [False, False, False]  # two imports and one run, none on the event loop


def test_exports_read_on_a_worker_thread(
    as_user: Any, deps: Deps, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pending(deps, world)
    b = as_user("a.finance")
    _first, twin = duplicate_charge(deps, world.a)
    run_path = reconciled(b, deps, world.a, tmp_path, twin.paid_at)
    seen: list[bool] = []
    monkeypatch.setattr(reports_page.refunds, "list_cases", _watched(reports_page.refunds.list_cases, seen))
    export = b.get("/console/reports/export.csv")
    assert export.status_code == 200 and len(export.text.splitlines()) >= 2
    assert seen and not any(seen)
    rows: list[bool] = []
    real = recon_page.csv_response

    def watched_response(header: Any, found: Any, name: str) -> Any:
        return real(header, _watched_rows(found, rows), name)

    monkeypatch.setattr(recon_page, "csv_response", watched_response)
    csv = b.get(run_path + "/export.csv")
    assert csv.status_code == 200 and re.search(r"duplicate_charge", csv.text)
    assert rows and not any(rows)


def _watched_rows(found: Any, seen: list[bool]) -> Any:
    for row in found:
        seen.append(_on_loop())
        yield row
