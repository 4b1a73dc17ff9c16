"""Who is asking: password sign-in with lock-out, terminal API keys."""

from __future__ import annotations

import hmac
from datetime import timedelta

from posrefund.domain.errors import Unauthorized
from posrefund.domain.roles import Actor, Role
from posrefund.service.admin import hash_api_secret
from posrefund.service.deps import Deps
from posrefund.service.records import record

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
# Verified against when the user does not exist, so a wrong username costs as long as a wrong password.
_DUMMY_HASH: dict[int, str] = {}


def login(deps: Deps, username: str, password: str) -> Actor:
    now = deps.clock.now()
    with deps.uow() as uow:
        user = uow.users.by_username(username)
        if user is None or not user["active"]:
            dummy = _DUMMY_HASH.setdefault(id(deps.hasher), deps.hasher.hash("not a password"))
            deps.hasher.verify(dummy, password)
            raise Unauthorized("auth.invalid_credentials")
        if user["locked_until"] is not None and user["locked_until"] > now:
            raise Unauthorized("auth.locked", until=user["locked_until"].isoformat())
        if not deps.hasher.verify(user["password_hash"], password):
            failures = int(user["failed_logins"]) + 1
            locked = now + LOCK_FOR if failures >= MAX_FAILURES else None
            uow.users.record_login_failure(user["id"], 0 if locked else failures, locked)
            if locked is not None:  # the lock-out is a security event: it goes on the audit chain
                who = Actor(id=user["id"], role=Role(user["role"]), merchant_id=user["merchant_id"], name=username)
                record(uow, who, user["merchant_id"], "user.locked", now, until=locked.isoformat(), failures=failures)
            uow.commit()
            raise Unauthorized("auth.invalid_credentials")
        if user["failed_logins"] or user["locked_until"]:
            uow.users.record_login_success(user["id"])
            uow.commit()
    return Actor(id=user["id"], role=Role(user["role"]), merchant_id=user["merchant_id"], name=user["display_name"])


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
