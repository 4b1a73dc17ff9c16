"""Evidence files (小票 photos, records): checked by content, stored by content hash under their merchant,
listed per merchant. A file is served only when its bytes hash to the SHA-256 its record was written with."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from posrefund.domain.errors import DomainError, Forbidden, Invalid, NotFound
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.policy import EvidenceKind
from posrefund.domain.roles import Actor
from posrefund.ports import EvidenceDamaged, EvidenceRow, EvidenceStoreDown
from posrefund.service.deps import Deps
from posrefund.service.records import record

MAX_BYTES = 10 * 1024 * 1024
# Recognised by their first bytes, not by what the client claims.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
log = logging.getLogger(__name__)
# How long a client should wait before asking again when the store cannot answer.
STORE_RETRY_AFTER = 5
_T = TypeVar("_T")


def sniff(content: bytes) -> str | None:
    for magic, ctype in _MAGIC:
        if content.startswith(magic):
            return ctype
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def upload(deps: Deps, actor: Actor, *, content: bytes, filename: str, kind: str) -> EvidenceRow:
    actor.require("evidence.upload")
    if kind not in EvidenceKind.__members__.values():
        raise Invalid("evidence.invalid_kind", kind=kind, allowed=[k.value for k in EvidenceKind])
    merchant_id = actor.merchant_id
    if not merchant_id:
        raise Forbidden("auth.forbidden")
    return store(deps, actor, merchant_id, content=content, filename=filename, kind=kind)


def store(deps: Deps, actor: Actor, merchant_id: str, *, content: bytes, filename: str, kind: str) -> EvidenceRow:
    """Check a file by its content and keep it under ``merchant_id``, audited; the caller checked the role and
    the kind (a device return's documents are kept under the merchant who returns the device)."""
    if not content:
        raise Invalid("evidence.empty")
    if len(content) > MAX_BYTES:
        raise Invalid("evidence.too_large", max_bytes=MAX_BYTES, size=len(content))
    ctype = sniff(content)
    if ctype is None:
        raise Invalid("evidence.type_not_allowed", allowed=["image/jpeg", "image/png", "image/webp", "application/pdf"])
    filename = "".join(ch for ch in (filename or "evidence") if ch.isprintable()).replace("/", "_").replace("\\", "_")
    filename = filename[:200] or "evidence"
    refuse_card_data(filename, "filename")
    sha = _reaching(lambda: deps.evidence_store.put(merchant_id, content))
    now = deps.clock.now()
    row: EvidenceRow = {
        "id": deps.ids.new_id("evd"),
        "merchant_id": merchant_id,
        "sha256": sha,
        "content_type": ctype,
        "size": len(content),
        "filename": filename,
        "kind": kind,
        "uploaded_by": actor.id,
        "created_at": now,
    }
    with deps.uow() as uow:
        uow.evidence.add_evidence(row)
        record(
            uow,
            actor,
            merchant_id,
            "evidence.uploaded",
            now,
            evidence_id=row["id"],
            sha256=sha,
            size=len(content),
        )
        uow.commit()
    return row


def describe(deps: Deps, actor: Actor, evidence_id: str) -> EvidenceRow:
    """The record of one of the merchant's files, without reading the file."""
    actor.require("evidence.read")
    with deps.uow(readonly=True) as uow:
        rows = uow.evidence.evidence_rows(actor.merchant_id or "", [evidence_id])
    if not rows:
        raise NotFound("evidence.not_found")
    return rows[0]


def get(deps: Deps, actor: Actor, evidence_id: str) -> tuple[EvidenceRow, bytes]:
    """The record and the bytes, checked against the SHA-256 the record was written with: bytes changed in
    the store (or missing from it) are refused with ``evidence.damaged`` and audited, never served."""
    row = describe(deps, actor, evidence_id)
    return row, checked_content(deps, actor, row)


def checked_content(deps: Deps, actor: Actor, row: EvidenceRow) -> bytes:
    """The bytes of a record the caller has already reached: damaged or missing bytes are refused and audited."""
    try:
        content = _reaching(lambda: deps.evidence_store.get(row["merchant_id"], row["sha256"]))
        if hashlib.sha256(content).hexdigest() != row["sha256"]:
            raise EvidenceDamaged("the content does not match its SHA-256")
    except EvidenceDamaged as exc:
        log.warning("evidence %s of %s refused: %s", row["id"], row["merchant_id"], exc)
        with deps.uow() as uow:
            record(
                uow,
                actor,
                row["merchant_id"],
                "evidence.damaged",
                deps.clock.now(),
                evidence_id=row["id"],
                sha256=row["sha256"],
                reason=str(exc),
            )
            uow.commit()
        raise DomainError("evidence.damaged", evidence_id=row["id"]) from None
    return content


def _reaching(call: Callable[[], _T]) -> _T:
    """A call to the store; a store that cannot answer now is ``evidence.store_unavailable`` (503)."""
    try:
        return call()
    except EvidenceStoreDown:
        raise DomainError("evidence.store_unavailable", retry_after=STORE_RETRY_AFTER) from None


def list_for(deps: Deps, actor: Actor, ids: list[str]) -> list[EvidenceRow]:
    actor.require("evidence.read")
    with deps.uow(readonly=True) as uow:
        return uow.evidence.evidence_rows(actor.merchant_id or "", ids)
