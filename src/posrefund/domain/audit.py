"""The hash chain of audit events: each row's hash covers its content and the previous hash."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


# One encoder for every hash (json.dumps with options builds a new encoder per call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical(fields: dict[str, Any]) -> bytes:
    return _CANONICAL.encode(fields).encode()


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(fields)).hexdigest()


FieldsOf = Callable[[Mapping[str, Any]], dict[str, Any]]  # the storage's own view of what a row's hash covers


def row_fault(row: Mapping[str, Any], prev: str, expected_seq: int, fields_of: FieldsOf) -> str | None:
    """Why one event does not follow the one before it (hash ``prev``, number ``expected_seq - 1``), or None."""
    if row["seq"] != expected_seq:
        return "seq_gap"
    if row["prev_hash"] != prev:
        return "prev_mismatch"
    if chain_hash(prev, fields_of(row)) != row["hash"]:
        return "hash_mismatch"
    return None


# --- checkpoints: the head of a chain, signed with a key the database never holds ---

Keyring = tuple[tuple[str, bytes], ...]  # (key id, HMAC key); the first signs, every one verifies (rotation)
CHECKPOINT_SIGNED = ("chain", "seq", "hash", "events", "at", "kid")


@dataclass(frozen=True)
class Checkpoint:
    """ "Chain ``chain`` held ``events`` events up to ``seq``, ending in ``hash``, at ``at``" under key ``kid``."""

    chain: str
    seq: int
    hash: str
    events: int
    at: str  # ISO 8601, as signed: the text is what the MAC covers, not a parsed instant
    kid: str
    mac: str


def signed_time(at: datetime) -> str:
    """The one text of an instant that a checkpoint signs: UTC, to the microsecond (what both databases keep)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _mac(key: bytes, fields: dict[str, Any]) -> str:
    return hmac.new(key, b"posrefund audit checkpoint v1\n" + canonical(fields), hashlib.sha256).hexdigest()


def sign_checkpoint(keys: Keyring, chain: str, seq: int, head_hash: str, events: int, at: datetime) -> Checkpoint:
    """The head of ``chain`` signed with the first (current) key."""
    kid, key = keys[0]
    when = signed_time(at)
    fields = {"chain": chain, "seq": seq, "hash": head_hash, "events": events, "at": when, "kid": kid}
    return Checkpoint(chain, seq, head_hash, events, when, kid, _mac(key, fields))


def checkpoint_fault(keys: Keyring, cp: Checkpoint) -> str | None:
    """Why a checkpoint cannot be trusted (``checkpoint_unknown_key`` / ``checkpoint_forged``), or None."""
    key = dict(keys).get(cp.kid)
    if key is None:
        return "checkpoint_unknown_key"
    fields = {name: getattr(cp, name) for name in CHECKPOINT_SIGNED}
    if not hmac.compare_digest(_mac(key, fields), cp.mac):
        return "checkpoint_forged"
    return None
