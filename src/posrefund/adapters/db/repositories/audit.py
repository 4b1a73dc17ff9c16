"""The audit trail: one hash chain a merchant (and one for the platform), appended under a locked head."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, func, insert, select, union, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.prebuilt import Prebuilt
from posrefund.adapters.db.repositories.rows import Repository, all_rows, row_dict
from posrefund.domain.audit import GENESIS, Checkpoint, chain_hash, signed_time
from posrefund.domain.events import CaseEvent
from posrefund.ports import AuditEventRow

PLATFORM_CHAIN = "platform"

# Every refund request appends here: built once, run on the driver's cursor (see prebuilt.py).
_A, _H, _C = tables.audit_events.c, tables.audit_heads.c, tables.audit_checkpoints.c
AUDIT_HEAD = Prebuilt(select(_H.seq, _H.hash).where(_H.chain == bindparam("b_chain")).with_for_update())
INSERT_HEAD = Prebuilt(insert(tables.audit_heads))
UPDATE_HEAD = Prebuilt(update(tables.audit_heads).where(_H.chain == bindparam("b_chain")))
INSERT_AUDIT = Prebuilt(insert(tables.audit_events))
# Built once: json.dumps with options builds a new encoder on every call.
_event_data = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode


def audit_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the hash covers: every column but the id and the hashes themselves."""
    at = row["at"]
    return {
        "chain": row["chain"],
        "seq": row["seq"],
        "case_id": row["case_id"],
        "action": row["action"],
        "actor_id": row["actor_id"],
        "actor_role": row["actor_role"],
        "at": at.isoformat(timespec="microseconds") if isinstance(at, datetime) else str(at),
        "before": row["before"],
        "after": row["after"],
        "reason": row["reason"],
        "data": row["data"],
    }


def _chained(chain: str, seq: int, prev: str, case_id: str | None, events: Sequence[CaseEvent]) -> list[dict[str, Any]]:
    """The events as rows numbered after ``seq``, each hashed over the one before (``prev``)."""
    rows = []
    for event in events:
        seq += 1
        row: dict[str, Any] = {
            "chain": chain,
            "seq": seq,
            "case_id": case_id,
            "action": event.action,
            "actor_id": event.actor.id,
            "actor_role": event.actor.role.value,
            "at": event.at,
            "before": event.before,
            "after": event.after,
            "reason": event.reason,
            "data": _event_data(event.data),
        }
        row["prev_hash"] = prev
        row["hash"] = prev = chain_hash(prev, audit_fields(row))
        rows.append(row)
    return rows


class AuditSql(Repository):
    def append(self, merchant_id: str | None, case_id: str | None, event: CaseEvent) -> None:
        self.append_many(merchant_id, case_id, [event])

    def append_many(self, merchant_id: str | None, case_id: str | None, events: Sequence[CaseEvent]) -> None:
        """Chain the events after the merchant's head; the head row is locked so concurrent writers queue."""
        if not events:
            return
        chain = merchant_id or PLATFORM_CHAIN
        head = AUDIT_HEAD.run(self.c, {"b_chain": chain}).first()
        seq, prev = (0, GENESIS) if head is None else (int(head.seq), str(head.hash))
        rows = _chained(chain, seq, prev, case_id, events)
        INSERT_AUDIT.run(self.c, rows)
        last = {"seq": rows[-1]["seq"], "hash": rows[-1]["hash"]}
        if head is None:
            INSERT_HEAD.run(self.c, {"chain": chain, **last})
        else:
            UPDATE_HEAD.run(self.c, {"b_chain": chain, **last})

    def case_events(self, merchant_id: str, case_id: str) -> list[AuditEventRow]:
        q = select(tables.audit_events).where(_A.chain == merchant_id, _A.case_id == case_id).order_by(_A.seq)
        return cast(list[AuditEventRow], all_rows(self.c, q))

    def chains(self) -> list[str]:
        """Every chain that has events, a head or a checkpoint: a chain emptied of its events is still named."""
        q = union(select(_A.chain).distinct(), select(_H.chain), select(_C.chain).distinct())
        return sorted(str(r[0]) for r in self.c.execute(q))

    def iter_chain(self, chain: str, after_seq: int = 0) -> Iterator[AuditEventRow]:
        """The events of one chain after ``after_seq`` in order, streamed so a long history needs little memory."""
        q = select(tables.audit_events).where(_A.chain == chain, _A.seq > after_seq).order_by(_A.seq)
        for r in self.c.execution_options(yield_per=2000).execute(q):
            yield cast(AuditEventRow, row_dict(r))

    def heads(self) -> dict[str, tuple[int, str]]:
        """Each chain's head row: the sequence number and hash its last append left."""
        return {str(r.chain): (int(r.seq), str(r.hash)) for r in self.c.execute(select(tables.audit_heads))}

    def checkpoints(self, chain: str) -> list[Checkpoint]:
        """One chain's stored checkpoints, oldest position first."""
        q = select(tables.audit_checkpoints).where(_C.chain == chain).order_by(_C.seq, _C.id)
        return [_checkpoint(r) for r in self.c.execute(q)]

    def latest_checkpoints(self) -> dict[str, Checkpoint]:
        """The newest checkpoint of every chain that has one."""
        newest = select(func.max(_C.id)).group_by(_C.chain).scalar_subquery()
        q = select(tables.audit_checkpoints).where(_C.id.in_(newest))
        return {str(r.chain): _checkpoint(r) for r in self.c.execute(q)}

    def checkpoints_after(self, after_id: int) -> list[tuple[int, Checkpoint]]:
        """Checkpoints numbered after ``after_id``, with their numbers, for an append-only export."""
        q = select(tables.audit_checkpoints).where(_C.id > after_id).order_by(_C.id)
        return [(int(r.id), _checkpoint(r)) for r in self.c.execute(q)]

    def add_checkpoints(self, checkpoints: Sequence[Checkpoint]) -> None:
        if checkpoints:
            self.c.execute(insert(tables.audit_checkpoints), [_checkpoint_row(cp) for cp in checkpoints])


def _checkpoint(r: Any) -> Checkpoint:
    """A stored row as the signed statement; ``at`` back in the exact text that was signed."""
    return Checkpoint(str(r.chain), int(r.seq), str(r.hash), int(r.events), signed_time(r.at), str(r.kid), str(r.mac))


def _checkpoint_row(cp: Checkpoint) -> dict[str, Any]:
    return {**asdict(cp), "at": datetime.fromisoformat(cp.at)}
