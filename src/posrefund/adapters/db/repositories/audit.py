"""The audit trail: one hash chain a merchant (and one for the platform).

On PostgreSQL an event is written in its unit of work's transaction without its place in the chain (``seq``,
``prev_hash`` and ``hash`` are empty; its id, from the table's identity, orders it) and no lock is taken: the
refunds of one merchant never queue on a row. The sequencer (``chain_pending``) chains the committed events
afterwards, in batches, one sequencer at a time (a transaction-scoped advisory lock). On SQLite a writer already
holds the whole database from BEGIN IMMEDIATE to COMMIT, so the append chains its events at once, in the same
transaction: there is nobody to wait for, and a second transaction would cost a second fsync.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, func, insert, select, text, union, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.prebuilt import Prebuilt
from posrefund.adapters.db.repositories.rows import Repository, all_rows, row_dict
from posrefund.domain.audit import GENESIS, Checkpoint, chain_hash, signed_time
from posrefund.domain.events import CaseEvent
from posrefund.ports import AuditEventRow, AuditQuery

PLATFORM_CHAIN = "platform"
SEQUENCER_LOCK = 0x706F7372_61756469  # "posraudi": the one advisory lock the sequencer holds while it chains
UNCHAINED = "posrefund.audit_unchained"  # set in a connection's info when it wrote events still to be chained

# Every refund request appends here: built once, run on the driver's cursor (see prebuilt.py).
_A, _H, _C = tables.audit_events.c, tables.audit_heads.c, tables.audit_checkpoints.c
# The distinct chains of the events as a loose index scan: each step asks the index for the next chain after the
# last one found (as many steps as there are chains, not events); the same SQL on SQLite and PostgreSQL.
EVENT_CHAINS = text(
    """
    WITH RECURSIVE found(chain) AS (
        SELECT min(chain) FROM audit_events
        UNION ALL
        SELECT (SELECT min(e.chain) FROM audit_events e WHERE e.chain > found.chain) FROM found
        WHERE found.chain IS NOT NULL
    )
    SELECT chain FROM found WHERE chain IS NOT NULL
    """
)
AUDIT_HEAD = Prebuilt(select(_H.seq, _H.hash).where(_H.chain == bindparam("b_chain")).with_for_update())
INSERT_HEAD = Prebuilt(insert(tables.audit_heads))
UPDATE_HEAD = Prebuilt(update(tables.audit_heads).where(_H.chain == bindparam("b_chain")))
INSERT_AUDIT = Prebuilt(insert(tables.audit_events), held=True)
LINK_AUDIT = (
    update(tables.audit_events)
    .where(_A.id == bindparam("b_id"))
    .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash"))
)
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


def _unchained(chain: str, case_id: str | None, events: Sequence[CaseEvent]) -> list[dict[str, Any]]:
    """The events as rows of ``chain`` that have no place in it yet."""
    return [
        {
            "chain": chain,
            "seq": None,
            "case_id": case_id,
            "action": event.action,
            "actor_id": event.actor.id,
            "actor_role": event.actor.role.value,
            "at": event.at,
            "before": event.before,
            "after": event.after,
            "reason": event.reason,
            "data": _event_data(event.data),
            "prev_hash": None,
            "hash": None,
        }
        for event in events
    ]


def _link(rows: Sequence[dict[str, Any]], heads: Mapping[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    """Number each row after its chain's head (or the rows before it) and hash it over the one before, in the
    order given; returns the new end (position, hash) of every chain that moved."""
    ends: dict[str, tuple[int, str]] = {}
    for row in rows:
        chain = row["chain"]
        seq, prev = ends.get(chain) or heads.get(chain) or (0, GENESIS)
        row["seq"], row["prev_hash"] = seq + 1, prev
        row["hash"] = chain_hash(prev, audit_fields(row))
        ends[chain] = (seq + 1, row["hash"])
    return ends


class AuditSql(Repository):
    def append(self, merchant_id: str | None, case_id: str | None, event: CaseEvent) -> None:
        self.append_many(merchant_id, case_id, [event])

    def append_many(self, merchant_id: str | None, case_id: str | None, events: Sequence[CaseEvent]) -> None:
        """Write the events in this transaction; on PostgreSQL unchained and without a lock (the sequencer
        chains them after commit), on SQLite chained at once after the head (the writer holds the database)."""
        if not events:
            return
        chain = merchant_id or PLATFORM_CHAIN
        rows = _unchained(chain, case_id, events)
        if self.c.dialect.name != "sqlite":
            INSERT_AUDIT.run(self.c, rows)
            self.c.info[UNCHAINED] = True
            return
        head = AUDIT_HEAD.run(self.c, {"b_chain": chain}).first()
        heads = {} if head is None else {chain: (int(head.seq), str(head.hash))}
        ends = _link(rows, heads)
        INSERT_AUDIT.run(self.c, rows)
        last = {"seq": ends[chain][0], "hash": ends[chain][1]}
        if head is None:
            INSERT_HEAD.run(self.c, {"chain": chain, **last})
        else:
            UPDATE_HEAD.run(self.c, {"b_chain": chain, **last})

    def any_unchained(self) -> bool:
        """Whether a committed event waits for the sequencer: one read of the partial index, no lock."""
        return self.c.execute(select(_A.id).where(_A.seq.is_(None)).limit(1)).first() is not None

    def chain_pending(self, limit: int, *, wait: bool) -> int | None:
        """Chain up to ``limit`` committed unchained events, oldest id first, and move their heads. Only one
        sequencer chains at a time: on PostgreSQL it takes the advisory lock for this transaction (``wait``:
        queue for it; else None when another holds it), on SQLite its BEGIN IMMEDIATE already did."""
        if self.c.dialect.name == "postgresql":
            lock = func.pg_advisory_xact_lock if wait else func.pg_try_advisory_xact_lock
            got = self.c.execute(select(lock(SEQUENCER_LOCK))).scalar()
            if not wait and not got:
                return None
        q = select(tables.audit_events).where(_A.seq.is_(None)).order_by(_A.id).limit(limit)
        rows = all_rows(self.c, q)
        if not rows:
            return 0
        names = sorted({str(r["chain"]) for r in rows})
        found = self.c.execute(select(tables.audit_heads).where(_H.chain.in_(names)))
        heads = {str(r.chain): (int(r.seq), str(r.hash)) for r in found}
        ends = _link(rows, heads)
        links = [{"b_id": r["id"], "b_seq": r["seq"], "b_prev": r["prev_hash"], "b_hash": r["hash"]} for r in rows]
        self.c.execute(LINK_AUDIT, links)
        fresh = [{"chain": c, "seq": seq, "hash": h} for c, (seq, h) in ends.items() if c not in heads]
        moved = [{"b_chain": c, "seq": seq, "hash": h} for c, (seq, h) in ends.items() if c in heads]
        if fresh:
            self.c.execute(insert(tables.audit_heads), fresh)
        if moved:
            self.c.execute(UPDATE_HEAD.stmt, moved)
        return len(rows)

    def case_events(self, merchant_id: str, case_id: str) -> list[AuditEventRow]:
        """A case's events in the order they were written (the ids), chained or not yet."""
        q = select(tables.audit_events).where(_A.chain == merchant_id, _A.case_id == case_id).order_by(_A.id)
        return cast(list[AuditEventRow], all_rows(self.c, q))

    def browse(self, chain: str, query: AuditQuery) -> list[AuditEventRow]:
        """A page of a chain's events newest first (by id, the order they were written), each filter given."""
        conds = [_A.chain == chain]
        for column, value in ((_A.case_id, query.case_id), (_A.actor_id, query.actor_id), (_A.action, query.action)):
            if value is not None:
                conds.append(column == value)
        if query.at_from is not None:
            conds.append(_A.at >= query.at_from)
        if query.at_to is not None:
            conds.append(_A.at < query.at_to)
        if query.before_id is not None:
            conds.append(_A.id < query.before_id)
        q = select(tables.audit_events).where(*conds).order_by(_A.id.desc()).limit(query.limit)
        return cast(list[AuditEventRow], all_rows(self.c, q))

    def chains(self) -> list[str]:
        """Every chain that has events, a head or a checkpoint: a chain emptied of its events is still named, and
        one whose head and checkpoints were deleted is still found by its events. The chains of the events are
        found by skipping through the (chain, seq) index one chain at a time, so an incremental verify does not
        read every event ever written (a DISTINCT reads the whole index: 50 ms at 600,000 events)."""
        with_events = self.c.execute(EVENT_CHAINS).scalars()
        q = union(select(_H.chain), select(_C.chain).distinct())
        return sorted({*map(str, with_events), *(str(r[0]) for r in self.c.execute(q))})

    def iter_chain(self, chain: str, after_seq: int = 0) -> Iterator[AuditEventRow]:
        """The chained events of one chain after ``after_seq`` in order, streamed so a long history needs little
        memory (events not yet chained have no place to be read at)."""
        q = select(tables.audit_events).where(_A.chain == chain, _A.seq > after_seq).order_by(_A.seq)
        for r in self.c.execution_options(yield_per=2000).execute(q):
            yield cast(AuditEventRow, row_dict(r))

    def count_chained(self, chain: str, up_to_seq: int) -> int:
        """How many events of a chain are numbered up to ``up_to_seq``: read from the (chain, seq) index alone."""
        q = select(func.count()).select_from(tables.audit_events).where(_A.chain == chain, _A.seq <= up_to_seq)
        return int(self.c.execute(q).scalar_one())

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
