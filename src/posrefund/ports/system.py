"""What the core asks of the machine it runs on: time, fresh ids, encryption, password hashing, file storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class Ids(Protocol):
    def new_id(self, prefix: str) -> str: ...

    def new_ids(self, prefix: str, count: int) -> list[str]: ...

    def new_refund_no(self, now: datetime) -> str: ...


class Cipher(Protocol):
    """Field encryption for personal data, plus a keyed blind index for exact-match lookups."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, token: str) -> str: ...

    def blind_index(self, value: str) -> str: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, hashed: str, password: str) -> bool: ...


class EvidenceStoreDown(Exception):
    """The store cannot be reached or refuses us now (connection refused, timed out, throttled, denied):
    nothing was stored or read, and asking again later may work."""


class EvidenceDamaged(Exception):
    """What the store gave back is not what was stored there: missing, changed, or it does not decrypt.
    It is never served."""


class EvidenceStore(Protocol):
    """File storage addressed by the merchant and the SHA-256 of the bytes: one merchant's address never
    reaches another's bytes. ``get`` returns exactly what ``put`` was given, or raises ``EvidenceDamaged``;
    either raises ``EvidenceStoreDown`` when the store cannot answer."""

    def put(self, merchant_id: str, content: bytes) -> str: ...

    def get(self, merchant_id: str, sha256: str) -> bytes: ...
