"""Who is asking: password sign-in with lock-out, terminal API keys, an admin's unlock.

A sign-in runs in three steps so that the Argon2 check, the one expensive part, can run off the API's event
loop on a bounded pool (entrypoints/api/signin.py): ``begin_sign_in`` takes the attempt's turn in the
database, the caller checks the password against ``Attempt.hashed``, ``finish_sign_in`` records the verdict.
``login`` runs the three in a row for callers without an event loop.

Every refusal is the same ``auth.invalid_credentials`` after the same work (one Argon2 check): an unknown
user, a wrong password and a locked account cannot be told apart, and a lock never confirms a guess.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from posrefund.domain.errors import NotFound, Unauthorized
from posrefund.domain.roles import Actor, Role
from posrefund.ports import PasswordHasher, SignInNotice, UnitOfWork, UserRow
from posrefund.service.admin import hash_api_secret
from posrefund.service.deps import Deps
from posrefund.service.records import record

# Failed attempts (counted before the password is checked) that lock an account, and for how long. Guessing
# is slowed per source address before this (entrypoints/api/rate_limits.py), so one noisy address does not
# lock the real user out.
MAX_FAILURES = 10
LOCK_FOR = timedelta(minutes=15)
_DUMMY_HASHES: dict[int, str] = {}


@dataclass(frozen=True)
class Attempt:
    """A sign-in between its turn and its verdict. ``user`` is None when nothing can succeed (unknown,
    inactive or locked): the password is then checked against a hash of the same cost, and refused."""

    username: str
    user: UserRow | None
    hashed: str


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    notice: SignInNotice


def has_dummy_hash(hasher: PasswordHasher) -> bool:
    return id(hasher) in _DUMMY_HASHES


def dummy_hash(hasher: PasswordHasher) -> str:
    """Checked against when no account can succeed, so every refusal costs one Argon2 check, no more.
    Made once per hasher (an Argon2 hash: the API makes it on its hashing pool, ``has_dummy_hash``)."""
    key = id(hasher)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash("not a password")
    return _DUMMY_HASHES[key]


def _actor_of(user: UserRow) -> Actor:
    return Actor(id=user["id"], role=Role(user["role"]), merchant_id=user["merchant_id"], name=user["display_name"])


def begin_sign_in(deps: Deps, username: str) -> Attempt:
    """Take the attempt's turn: one conditional update counts it before the password is checked, so
    concurrent guesses cannot all slip in while the count still reads low. No turn, no chance."""
    now = deps.clock.now()
    dummy = dummy_hash(deps.hasher)
    with deps.uow() as uow:
        user = uow.users.by_username(username)
        if user is None:
            return Attempt(username, None, dummy)
        if uow.users.take_sign_in_turn(user["id"], MAX_FAILURES, now):
            uow.commit()
            return Attempt(username, user, user["password_hash"])
        _record_failure(deps, uow, user)  # refused while locked: the user still hears of it
        uow.commit()
    return Attempt(username, None, dummy)


def finish_sign_in(deps: Deps, attempt: Attempt, password_ok: bool) -> SignedIn:
    """The verdict. A correct password wins only if no concurrent failure locked the account meanwhile:
    the check of the lock and the success are one conditional update."""
    user = attempt.user
    if user is None:
        raise Unauthorized("auth.invalid_credentials")
    with deps.uow() as uow:
        notice = uow.users.record_sign_in(user["id"], deps.clock.now()) if password_ok else None
        if notice is None:
            _record_failure(deps, uow, user)
            uow.commit()
            raise Unauthorized("auth.invalid_credentials")
        uow.commit()
    return SignedIn(_actor_of(user), notice)


def _record_failure(deps: Deps, uow: UnitOfWork, user: UserRow) -> None:
    """Count the failure for the user's notice; the one failure that locks the account writes the audit."""
    now = deps.clock.now()
    if uow.users.record_sign_in_failure(user["id"], MAX_FAILURES, now + LOCK_FOR):
        until = (now + LOCK_FOR).isoformat()
        record(uow, _actor_of(user), user["merchant_id"], "user.locked", now, user_id=user["id"], until=until)


def login(deps: Deps, username: str, password: str) -> Actor:
    """Sign in on the calling thread (the CLI, tests): the same three steps as the API's."""
    attempt = begin_sign_in(deps, username)
    return finish_sign_in(deps, attempt, deps.hasher.verify(attempt.hashed, password)).actor


def unlock_user(deps: Deps, actor: Actor, user_id: str) -> None:
    """An admin lifts a lock-out (their own merchant's staff; the provider admin anyone's). Audited."""
    if actor.role is not Role.PROVIDER_ADMIN:
        actor.require("user.manage")
    now = deps.clock.now()
    with deps.uow() as uow:
        user = uow.users.get_user(user_id)
        if user is None or (actor.role is not Role.PROVIDER_ADMIN and user["merchant_id"] != actor.merchant_id):
            raise NotFound("auth.user_not_found")
        uow.users.unlock_user(user_id)
        record(
            uow,
            actor,
            user["merchant_id"],
            "user.unlocked",
            now,
            user_id=user_id,
            was_locked_until=user["locked_until"].isoformat() if user["locked_until"] else None,
            failures=int(user["failed_logins"]),
        )
        uow.commit()


def actor_for_api_key(deps: Deps, token: str) -> Actor:
    key_id, _, secret = token.partition(".")
    if not key_id.startswith("key_") or not secret:
        raise Unauthorized("auth.invalid_token")
    with deps.uow(readonly=True) as uow:
        row = uow.users.api_key(key_id)
    if row is None or row["revoked_at"] is not None:
        raise Unauthorized("auth.invalid_token")
    if not hmac.compare_digest(row["secret_hash"], hash_api_secret(secret)):
        raise Unauthorized("auth.invalid_token")
    return Actor(
        id=row["id"],
        role=Role(row["role"]),
        merchant_id=row["merchant_id"],
        name=row["terminal_id"],
        terminal_id=row["terminal_id"],
    )
