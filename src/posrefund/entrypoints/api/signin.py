"""A sign-in for the API and the console alike: the turn and the verdict in the database through the
service (service/auth.py), the Argon2 check between them on the bounded pool, never on the event loop."""

from __future__ import annotations

from posrefund.adapters.passwords import HashingBusy
from posrefund.domain.errors import DomainError
from posrefund.entrypoints.api.context import AppContext
from posrefund.service import auth

BUSY_RETRY_AFTER = 1  # seconds: a password check takes tens of milliseconds, the queue drains quickly


async def sign_in(c: AppContext, username: str, password: str) -> auth.SignedIn:
    """Refused with ``server.busy`` (503) when the pool's waiting room is full, before the attempt counts."""
    try:
        with c.hashing.admission():
            if not auth.has_dummy_hash(c.deps.hasher):  # once per process, and not on the event loop
                await c.hashing.run(auth.dummy_hash, c.deps.hasher)
            attempt = await c.run(auth.begin_sign_in, c.deps, username)
            password_ok = await c.hashing.verify(attempt.hashed, password)
            return await c.run(auth.finish_sign_in, c.deps, attempt, password_ok)
    except HashingBusy:
        raise DomainError("server.busy", retry_after=BUSY_RETRY_AFTER) from None
