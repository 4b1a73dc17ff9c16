"""Evidence files on this machine's disk: ``<root>/<merchant>/ab/cdef…``, named by their SHA-256.

Files written before the merchant's folder existed sit at ``<root>/ab/cdef…`` and are still read from there.
The bytes are kept as uploaded (the filesystem's own encryption, if any, protects them at rest)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from posrefund.ports import EvidenceDamaged, EvidenceStoreDown

_MERCHANT = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def object_address(merchant_id: str, sha256: str) -> str:
    """``<merchant>/ab/cdef…``: the one layout of every store; refuses what could step outside it."""
    if not _MERCHANT.fullmatch(merchant_id):
        raise ValueError("not a merchant id")
    if not _SHA256.fullmatch(sha256):
        raise ValueError("not a sha256")
    return f"{merchant_id}/{sha256[:2]}/{sha256[2:]}"


class DiskEvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, merchant_id: str, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        path = self.root / object_address(merchant_id, digest)
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                with open(tmp, "wb") as fh:
                    fh.write(content)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
        except OSError as exc:  # a full disk, a read-only or vanished mount
            raise EvidenceStoreDown(f"{type(exc).__name__}: {exc.strerror}") from exc
        return digest

    def get(self, merchant_id: str, sha256: str) -> bytes:
        path = self.root / object_address(merchant_id, sha256)
        if not path.exists():
            path = self.root / sha256[:2] / sha256[2:]
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise EvidenceDamaged("missing") from exc
        except OSError as exc:
            raise EvidenceStoreDown(f"{type(exc).__name__}: {exc.strerror}") from exc
