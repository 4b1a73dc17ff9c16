"""Password hashing with Argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    def __init__(self, fast: bool = False) -> None:
        # ``fast`` is for tests and the demo seeding only: same algorithm, lower cost.
        self._ph = _Argon2(time_cost=1, memory_cost=8192, parallelism=1) if fast else _Argon2()

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        try:
            return self._ph.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False
