"""Taking and exporting audit checkpoints: the signed head of every chain.

Checkpoints are taken off the refund path — by the worker every minute or so, by ``audit verify`` and by
``audit checkpoints export`` — never inside a refund's transaction, which would make every refund pay for it.
Each first chains the committed events still waiting for the sequencer. The price is a window: the events
written since the last checkpoint are protected only by the chain and its head row, until the next one.

A checkpoint is never a state change of the business, so it is not itself an audit event (one would move the
head it signs). A chain is signed only after the events since its previous checkpoint were re-linked from
that checkpoint's hash: a checkpoint never blesses a chain that was already tampered with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from posrefund.domain.audit import (
    CHECKPOINT_SIGNED,
    GENESIS,
    Checkpoint,
    FieldsOf,
    checkpoint_fault,
    row_fault,
    sign_checkpoint,
)
from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps


@dataclass(frozen=True)
class Taken:
    signed: int
    refused: list[str]  # chains whose new events do not link to their last checkpoint: left unsigned


def sign_heads(deps: Deps, ends: Mapping[str, tuple[int, str]]) -> int:
    """Sign each chain's verified end (position, hash), unless its newest checkpoint already says as much."""
    if not deps.audit_keys or not ends:
        return 0
    at = deps.clock.now()
    with deps.uow() as uow:
        latest = uow.audit.latest_checkpoints()
        fresh = [
            sign_checkpoint(deps.audit_keys, chain, seq, head, seq, at)
            for chain, (seq, head) in ends.items()
            if chain not in latest or latest[chain].seq != seq
        ]
        uow.audit.add_checkpoints(fresh)
        uow.commit()
    return len(fresh)


def take(deps: Deps, fields_of: FieldsOf) -> Taken:
    """For every chain whose head moved past its newest checkpoint: re-link the events since that checkpoint
    (only those: cheap) and sign the head they reach. Without a key nothing is signed."""
    if not deps.audit_keys:
        return Taken(0, [])
    deps.uow.chain_audit(wait=True)  # sign what was committed, not only what happened to be chained already
    ends: dict[str, tuple[int, str]] = {}
    refused: list[str] = []
    with deps.uow(readonly=True) as uow:
        latest = uow.audit.latest_checkpoints()
        for chain, (head_seq, head_hash) in sorted(uow.audit.heads().items()):
            last = latest.get(chain)
            if last is not None and checkpoint_fault(deps.audit_keys, last) is not None:
                refused.append(chain)  # never continue from a checkpoint we did not sign
                continue
            seq, prev = (last.seq, last.hash) if last is not None else (0, GENESIS)
            if seq == head_seq and prev == head_hash:
                continue
            for row in uow.audit.iter_chain(chain, seq):
                if (row["seq"] or 0) > head_seq or row_fault(row, prev, seq + 1, fields_of) is not None:
                    break
                seq, prev = seq + 1, str(row["hash"])
            if (seq, prev) == (head_seq, head_hash):
                ends[chain] = (seq, prev)
            else:
                refused.append(chain)
    return Taken(sign_heads(deps, ends), refused)


def not_exported(deps: Deps, actor: Actor, done: Sequence[tuple[int, Checkpoint]]) -> list[tuple[int, Checkpoint]]:
    """The stored checkpoints an export file (``done``) does not hold yet: those numbered after its last line —
    or, when the table's numbering went back (its rows deleted, the database restored), every one the file
    lacks, so that emptying the table cannot quietly stop the export."""
    actor.require("audit.verify")
    after = max((n for n, _cp in done), default=0)
    known = {cp.mac for _n, cp in done}
    with deps.uow(readonly=True) as uow:
        fresh = uow.audit.checkpoints_after(after)
        listed = known | {cp.mac for _n, cp in fresh}
        if any(cp.mac not in listed for cp in uow.audit.latest_checkpoints().values()):
            fresh = [(n, cp) for n, cp in uow.audit.checkpoints_after(0) if cp.mac not in known]
    return fresh


def to_line(number: int, cp: Checkpoint) -> str:
    """One checkpoint as a JSON line of the export file (its number first, for the next append)."""
    return json.dumps({"id": number, **asdict(cp)}, ensure_ascii=False, separators=(",", ":"))


def from_line(text: str, line_no: int) -> tuple[int, Checkpoint]:
    """A line of an export file; a line that is not one is refused with its number (the file was damaged)."""
    try:
        data: Any = json.loads(text)
        fields = {name: data[name] for name in (*CHECKPOINT_SIGNED, "mac")}
        ints_ok = all(isinstance(fields[k], int) and not isinstance(fields[k], bool) for k in ("seq", "events"))
        if not ints_ok or not all(isinstance(fields[k], str) for k in ("chain", "hash", "at", "kid", "mac")):
            raise TypeError("wrong field type")
        return int(data.get("id", 0)), Checkpoint(**fields)
    except (ValueError, TypeError, KeyError) as exc:
        raise Invalid("audit.anchor_unreadable", line=line_no, detail=str(exc)[:80]) from None
