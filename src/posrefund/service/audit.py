"""Checking the audit trail: recompute every chain and name the first event that no longer fits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from posrefund.domain.audit import GENESIS, chain_hash
from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps


@dataclass(frozen=True)
class Broken:
    chain: str
    seq: int
    event_id: int
    problem: str  # "hash_mismatch" | "prev_mismatch" | "seq_gap"


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    broken: Broken | None


def verify(
    deps: Deps,
    actor: Actor,
    fields_of: Callable[[dict[str, Any]], dict[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """``fields_of`` is the storage's own view of what each row's hash covers."""
    actor.require("audit.verify")
    checked = 0
    with deps.uow(readonly=True) as uow:
        chains = uow.audit.chains()
        if actor.merchant_id is not None:
            chains = [c for c in chains if c == actor.merchant_id]
        for chain in chains:
            prev, expected_seq = GENESIS, 1
            for row in uow.audit.iter_chain(chain):
                checked += 1
                if progress and checked % 1000 == 0:
                    progress(1000)
                problem = None
                if row["seq"] != expected_seq:
                    problem = "seq_gap"
                elif row["prev_hash"] != prev:
                    problem = "prev_mismatch"
                elif chain_hash(prev, fields_of(row)) != row["hash"]:
                    problem = "hash_mismatch"
                if problem:
                    return VerifyReport(checked, Broken(chain, int(row["seq"]), int(row["id"]), problem))
                prev, expected_seq = row["hash"], expected_seq + 1
    return VerifyReport(checked, None)
