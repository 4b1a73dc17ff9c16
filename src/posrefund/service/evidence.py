"""Evidence files (小票 photos, records): checked by content, stored by content hash, listed per merchant."""

from __future__ import annotations

from posrefund.domain.errors import Invalid, NotFound
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.policy import EvidenceKind
from posrefund.domain.roles import Actor
from posrefund.ports import EvidenceRow
from posrefund.service.deps import Deps
from posrefund.service.records import record

MAX_BYTES = 10 * 1024 * 1024
# Recognised by their first bytes, not by what the client claims.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)


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
    sha = deps.evidence_store.put(content)
    now = deps.clock.now()
    row: EvidenceRow = {
        "id": deps.ids.new_id("evd"),
        "merchant_id": actor.merchant_id or "",
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
            actor.merchant_id,
            "evidence.uploaded",
            now,
            evidence_id=row["id"],
            sha256=sha,
            size=len(content),
        )
        uow.commit()
    return row


def get(deps: Deps, actor: Actor, evidence_id: str) -> tuple[EvidenceRow, bytes]:
    actor.require("evidence.read")
    with deps.uow(readonly=True) as uow:
        rows = uow.evidence.evidence_rows(actor.merchant_id or "", [evidence_id])
    if not rows:
        raise NotFound("evidence.not_found")
    return rows[0], deps.evidence_store.get(rows[0]["sha256"])


def list_for(deps: Deps, actor: Actor, ids: list[str]) -> list[EvidenceRow]:
    actor.require("evidence.read")
    with deps.uow(readonly=True) as uow:
        return uow.evidence.evidence_rows(actor.merchant_id or "", ids)
