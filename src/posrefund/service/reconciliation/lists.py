"""What the console's reconciliation pages list: the merchant's runs and imported files.

Everything else those pages show or change goes through ``service.reconciliation`` and
``service.wrong_charges`` as they are; this module only adds the two lists they lack."""

from __future__ import annotations

from typing import Any

from posrefund.domain.roles import Actor
from posrefund.ports import ReconRunRow
from posrefund.service.deps import Deps
from posrefund.service.reconciliation.integrity import file_state
from posrefund.service.reconciliation.runs import known_run

RUNS_PAGE_MAX = 200


def list_runs(deps: Deps, actor: Actor, limit: int = 50, offset: int = 0) -> tuple[list[ReconRunRow], int]:
    """The merchant's reconciliation runs, the most recently (re)computed first."""
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        return uow.recon_runs.runs(actor.merchant_id or "", max(1, min(limit, RUNS_PAGE_MAX)), max(0, offset))


def list_files(deps: Deps, actor: Actor, limit: int = 20) -> list[dict[str, Any]]:
    """The merchant's latest imported settlement files, newest first, each with its state (``file_state``)."""
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        rows = uow.settlement_files.files(actor.merchant_id or "", max(1, min(limit, RUNS_PAGE_MAX)))
    now = deps.clock.now()
    return [{**row, "state": file_state(row, now)} for row in rows]


def class_sums(deps: Deps, actor: Actor, run_id: str) -> dict[str, dict[str, int]]:
    """Per class of the run's open discrepancies: count, our amount and the channel's amount (fen)."""
    actor.require("recon.read")
    merchant_id = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        known_run(uow, merchant_id, run_id)
        return uow.discrepancies.class_sums(merchant_id, run_id)
