"""What the core asks of the machine it runs on: time, fresh ids, encryption, password hashing, file storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class Ids(Protocol):
    def new_id(self, prefix: str) -> str: ...

    def new_refund_no(self, now: datetime) -> str: ...


class Cipher(Protocol):
    """Field encryption for personal data, plus a keyed blind index for exact-match lookups."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, token: str) -> str: ...

    def blind_index(self, value: str) -> str: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, hashed: str, password: str) -> bool: ...


class EvidenceStore(Protocol):
    """Content-addressed file storage: the SHA-256 of the bytes is their address."""

    def put(self, content: bytes) -> str: ...

    def get(self, sha256: str) -> bytes: ...
