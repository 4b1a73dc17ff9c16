"""Checking the audit trail: recompute every chain, hold it against its signed checkpoints and its head row,
and name the first position that no longer fits.

The hash chain alone proves that no event was changed in place; it cannot tell that the last events (or all of
them) were removed, nor that an event was rewritten and every later hash recomputed. The checkpoints can: each
signs (with a key the database never holds) how many events a chain had and the hash it ended in.

Events are chained after their transaction commits (see the audit repository): ``verify`` first chains every
committed event still waiting, so none escapes judgement. By default it then resumes each chain at its newest
signed checkpoint — checking that the event there still ends in the signed hash, that no event before it is
missing (a count on the index) and every event after it — instead of walking the whole history; whenever that
finds anything wrong, or with ``full``, it walks the whole chain, so a fault is always named at its first
position. What the resumed walk does not see is an event before that checkpoint changed or moved in place
(without re-hashing the rest of the chain): run ``full`` now and then (e.g. nightly).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from posrefund.domain.audit import GENESIS, Checkpoint, FieldsOf, chain_hash, checkpoint_fault, row_fault
from posrefund.domain.errors import Conflict
from posrefund.domain.roles import Actor
from posrefund.ports import AuditEventRow, AuditRepo
from posrefund.service.audit_checkpoints import sign_heads
from posrefund.service.deps import Deps


@dataclass(frozen=True)
class Broken:
    """The first position of a chain that does not fit. ``problem`` is one of: ``seq_gap``, ``prev_mismatch``,
    ``hash_mismatch`` (the event itself); ``checkpoint_mismatch`` (the chain was rewritten and re-hashed
    somewhere after ``since``, up to ``seq``); ``truncated`` (events from ``seq`` on are gone);
    ``head_mismatch``; ``checkpoint_forged`` / ``checkpoint_unknown_key`` (the checkpoint at ``seq``)."""

    chain: str
    seq: int
    event_id: int | None
    problem: str
    since: int | None = None


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    broken: Broken | None
    checkpoints: int = 0  # stored and exported checkpoints held against the chains
    signed: int = 0  # checkpoints taken at the end of this run
    resumed: int = 0  # chains checked only from their newest signed checkpoint on


def verify(
    deps: Deps,
    actor: Actor,
    fields_of: FieldsOf,
    progress: Callable[[int], None] | None = None,
    anchors: Sequence[Checkpoint] = (),
    full: bool = False,
) -> VerifyReport:
    """Every chain (the actor's merchant's only, for a merchant's auditor) against its stored checkpoints and the
    exported ``anchors``, from its newest signed checkpoint on unless ``full``; when all are intact, a fresh
    checkpoint signs each chain's end. ``fields_of`` is the storage's own view of what each row's hash covers."""
    actor.require("audit.verify")
    if not deps.audit_keys:
        raise Conflict("audit.key_missing")
    deps.uow.chain_audit(wait=True)
    checked = held = resumed = 0
    ends: dict[str, tuple[int, str]] = {}
    exported: dict[str, list[Checkpoint]] = {}
    for anchor in anchors:
        exported.setdefault(anchor.chain, []).append(anchor)
    with deps.uow(readonly=True) as uow:
        chains = sorted(set(uow.audit.chains()) | set(exported))
        if actor.merchant_id is not None:
            chains = [c for c in chains if c == actor.merchant_id]
        heads = uow.audit.heads()
        for chain in chains:
            points = [*uow.audit.checkpoints(chain), *exported.get(chain, [])]
            check, broken, read = _check_chain(uow.audit, _Chain(deps, chain, points, fields_of, progress), heads, full)
            checked, held, resumed = checked + read, held + len(points), resumed + (check.start > 0)
            if broken is not None:
                return VerifyReport(checked, broken, held, resumed=resumed)
            if check.seq:
                ends[chain] = (check.seq, check.prev)
    return VerifyReport(checked, None, held, sign_heads(deps, ends), resumed)


def _check_chain(
    audit: AuditRepo, make: _Chain, heads: dict[str, tuple[int, str]], full: bool
) -> tuple[_ChainCheck, Broken | None, int]:
    """One chain from its newest signed checkpoint; if that finds anything wrong (or ``full``), from its start.
    Returns the check that decided, its verdict and how many events were read in all."""
    head = heads.get(make.chain)
    resumed = None if full else make.check()
    if resumed is not None and resumed.resume(audit, head):
        broken = resumed.run(audit.iter_chain(make.chain, resumed.seq), head)
        if broken is None:
            return resumed, None, resumed.checked
    whole = make.check()
    broken = whole.run(audit.iter_chain(make.chain), head)
    return whole, broken, whole.checked + (resumed.checked if resumed is not None else 0)


@dataclass(frozen=True)
class _Chain:
    """What a check of one chain starts from: its name, its checkpoints and how to read and report."""

    deps: Deps
    chain: str
    points: Sequence[Checkpoint]
    fields_of: FieldsOf
    progress: Callable[[int], None] | None

    def check(self) -> _ChainCheck:
        return _ChainCheck(self.deps, self.chain, self.points, self.fields_of, self.progress)


class _ChainCheck:
    """One chain, streamed once: each event against the one before it and against any checkpoint at its place."""

    def __init__(
        self,
        deps: Deps,
        chain: str,
        points: Iterable[Checkpoint],
        fields_of: FieldsOf,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.chain, self.fields_of, self.progress = chain, fields_of, progress
        self.checked, self.seq, self.prev, self.start = 0, 0, GENESIS, 0
        self.trusted: dict[int, list[Checkpoint]] = {}
        self.forged: Broken | None = None  # the first checkpoint whose signature fails, by position
        for cp in sorted(points, key=lambda p: p.seq):
            fault = checkpoint_fault(deps.audit_keys, cp)
            if fault is None:
                self.trusted.setdefault(cp.seq, []).append(cp)
            elif self.forged is None:
                self.forged = Broken(chain, cp.seq, None, fault)

    def resume(self, audit: AuditRepo, head: tuple[int, str] | None) -> bool:
        """Start after the newest trusted checkpoint, if the event at its place still is the one it signed
        (content and hash) and none before it is missing (counted on the index, not read); False when there is
        none to start from or something does not fit (a head row behind it, too)."""
        if not self.trusted or (head is not None and head[0] < max(self.trusted)):
            return False
        at = max(self.trusted)
        signed = {(cp.hash, cp.events) for cp in self.trusted[at]}
        row = next(iter(audit.iter_chain(self.chain, at - 1)), None)
        if row is None or row["seq"] != at or signed != {(row["hash"], at)} or row["prev_hash"] is None:
            return False
        if chain_hash(row["prev_hash"], self.fields_of(row)) != row["hash"]:
            return False
        if audit.count_chained(self.chain, at) != at:
            return False
        self.seq, self.prev, self.start = at, str(row["hash"]), at
        self.trusted = {seq: cps for seq, cps in self.trusted.items() if seq > at}
        return True

    def run(self, rows: Iterable[AuditEventRow], head: tuple[int, str] | None) -> Broken | None:
        """The first position that does not fit, or None when the chain, its checkpoints and its head agree.
        The head row is read before the events, so a writer may have added events since: only the event at
        the head's own position is held against it."""
        vouched = 0  # the last position a checkpoint still vouches for
        for row in rows:
            if self.forged is not None and (row["seq"] or 0) > self.forged.seq:
                return self.forged
            self.checked += 1
            if self.progress and self.checked % 1000 == 0:
                self.progress(1000)
            problem = row_fault(row, self.prev, self.seq + 1, self.fields_of)
            if problem is None and head is not None and head[0] == row["seq"] and head[1] != row["hash"]:
                problem = "head_mismatch"
            if problem is not None:  # a gap is named by the number that is missing
                at = self.seq + 1 if problem == "seq_gap" else int(row["seq"] or 0)
                return self._first(Broken(self.chain, at, int(row["id"]), problem))
            self.seq, self.prev = self.seq + 1, str(row["hash"])
            for cp in self.trusted.pop(self.seq, []):
                if cp.hash != self.prev or cp.events != self.seq:
                    return self._first(Broken(self.chain, self.seq, int(row["id"]), "checkpoint_mismatch", vouched))
                vouched = self.seq
        if self.trusted or (head is not None and head[0] > self.seq):  # more events were counted than are left
            return self._first(Broken(self.chain, self.seq + 1, None, "truncated", vouched))
        return self.forged

    def _first(self, broken: Broken) -> Broken:
        """The earlier of a chain fault and a forged checkpoint."""
        return self.forged if self.forged is not None and self.forged.seq < broken.seq else broken
