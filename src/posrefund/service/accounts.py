"""The life of an account after it is created: deactivate and reactivate, change the role, reset or change the
password, sign out everywhere, revoke a terminal's key.

Every change that should end the sessions a user holds raises their token generation: each access and
refresh token carries the generation it was issued at, and one from an earlier generation is refused on its
next use. Who may manage whom: a merchant's admin manages the merchant's own staff; a provider's
administrator manages the staff of its own provider's merchants and its fellow provider admins; nobody
manages (or gives) a role above their own."""

from __future__ import annotations

from typing import Any

from posrefund.domain.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from posrefund.domain.roles import MERCHANT_STAFF, Actor, Role, check_rank, manages_provider
from posrefund.ports import UnitOfWork, UserRow
from posrefund.service.admin import check_password, public_user, reachable_merchant
from posrefund.service.deps import Deps
from posrefund.service.records import record


def require_manager(actor: Actor) -> None:
    """A merchant's admin, or a provider's administrator: who may manage users at all."""
    if actor.role is not Role.PROVIDER_ADMIN:
        actor.require("user.manage")


def _reachable_user(uow: UnitOfWork, actor: Actor, user_id: str) -> UserRow:
    """The user the actor may manage, or ``user.not_found`` (someone else's staff do not exist for them)."""
    require_manager(actor)
    user = uow.users.get_user(user_id)
    if user is None:
        raise NotFound("user.not_found")
    if user["merchant_id"] is not None:
        try:
            reachable_merchant(uow, actor, user["merchant_id"])
        except NotFound:
            raise NotFound("user.not_found") from None
    elif actor.role is not Role.PROVIDER_ADMIN or not manages_provider(actor, user["provider_id"]):
        raise NotFound("user.not_found")
    check_rank(actor, Role(user["role"]))
    return user


def _change(
    deps: Deps, actor: Actor, user_id: str, action: str, *, bump: bool, own: bool = False, **values: Any
) -> dict[str, Any]:
    """One change to a user the actor manages, audited on the user's merchant's chain; ``bump`` ends every
    session they hold. Nobody deactivates, re-roles or resets themselves (``own``): another admin must."""
    now = deps.clock.now()
    with deps.uow() as uow:
        user = _reachable_user(uow, actor, user_id)
        if own and user["id"] == actor.id:
            raise Forbidden("user.own_account")
        if "role" in values and user["merchant_id"] is None:  # a provider admin stays one
            raise Invalid("user.merchant_required")
        uow.users.change_user(user_id, bump=bump, **values)
        shown = {k: v for k, v in values.items() if k not in ("password_hash", "failed_logins", "locked_until")}
        record(uow, actor, user["merchant_id"], action, now, user_id=user_id, username=user["username"], **shown)
        changed = uow.users.get_user(user_id)
        uow.commit()
    assert changed is not None
    return public_user(changed)


def deactivate_user(deps: Deps, actor: Actor, user_id: str) -> dict[str, Any]:
    """The user can no longer sign in, and every token they hold stops working now."""
    return _change(deps, actor, user_id, "user.deactivated", bump=True, own=True, active=False)


def activate_user(deps: Deps, actor: Actor, user_id: str) -> dict[str, Any]:
    """Back at work: signing in works again (with a clean failure count); old tokens stay void."""
    return _change(
        deps, actor, user_id, "user.activated", bump=False, own=True, active=True, failed_logins=0, locked_until=None
    )


def set_role(deps: Deps, actor: Actor, user_id: str, role: str) -> dict[str, Any]:
    """A new role within the user's kind (merchant staff stay staff); never above the actor's own. The
    user signs in again to act in it."""
    require_manager(actor)
    if role in Role.__members__.values():
        check_rank(actor, Role(role))  # above one's own is forbidden, not merely invalid
    if role not in MERCHANT_STAFF:
        raise Invalid("user.invalid_role", role=role, allowed=sorted(r.value for r in MERCHANT_STAFF))
    new = Role(role)
    return _change(deps, actor, user_id, "user.role_changed", bump=True, own=True, role=new.value)


def reset_password(deps: Deps, actor: Actor, user_id: str, temporary_password: str) -> dict[str, Any]:
    """An admin sets a temporary password; the user must change it at their next sign-in, and every session
    they hold ends now. The password itself is never recorded."""
    require_manager(actor)
    check_password(temporary_password)
    return _change(
        deps,
        actor,
        user_id,
        "user.password_reset",
        bump=True,
        own=True,
        password_hash=deps.hasher.hash(temporary_password),
        must_change_password=True,
        failed_logins=0,
        locked_until=None,
    )


def sign_out_everywhere(deps: Deps, actor: Actor, user_id: str) -> dict[str, Any]:
    """Every token and refresh token the user holds stops working (a lost phone, a shared password)."""
    if user_id == actor.id:
        return sign_out_self(deps, actor)
    return _change(deps, actor, user_id, "user.signed_out_everywhere", bump=True)


def sign_out_self(deps: Deps, actor: Actor) -> dict[str, Any]:
    """The signed-in user ends all their own sessions, this one included."""
    actor.require("account.own")
    now = deps.clock.now()
    with deps.uow() as uow:
        if uow.users.change_user(actor.id, bump=True) != 1:
            raise Unauthorized("auth.token_revoked")
        record(uow, actor, actor.merchant_id, "user.signed_out_everywhere", now, user_id=actor.id)
        user = uow.users.get_user(actor.id)
        uow.commit()
    assert user is not None
    return public_user(user)


def change_own_password(deps: Deps, actor: Actor, old_password: str, new_password: str) -> dict[str, Any]:
    """The user proves the old password and sets a new one (also the way out of a temporary one). Every
    other session ends: the caller is handed fresh tokens for this one."""
    actor.require("account.own")
    check_password(new_password)
    now = deps.clock.now()
    with deps.uow() as uow:
        user = uow.users.get_user(actor.id)
        if user is None or not user["active"]:
            raise Unauthorized("auth.token_revoked")
        if not deps.hasher.verify(user["password_hash"], old_password):
            raise Forbidden("user.wrong_password")
        if deps.hasher.verify(user["password_hash"], new_password):
            raise Invalid("user.same_password")
        values = {"password_hash": deps.hasher.hash(new_password), "must_change_password": False}
        uow.users.change_user(actor.id, bump=True, **values)
        record(uow, actor, actor.merchant_id, "user.password_changed", now, user_id=actor.id)
        changed = uow.users.get_user(actor.id)
        uow.commit()
    assert changed is not None
    return public_user(changed)


def revoke_api_key(deps: Deps, actor: Actor, key_id: str) -> dict[str, Any]:
    """A terminal's key stops working on its next request (a stolen or retired POS)."""
    actor.require("apikey.revoke")
    now = deps.clock.now()
    with deps.uow() as uow:
        key = uow.users.api_key(key_id)
        if key is None or key["merchant_id"] != actor.merchant_id:
            raise NotFound("apikey.not_found")
        if not uow.users.revoke_api_key(key_id, now):
            raise Conflict("apikey.already_revoked")
        record(uow, actor, key["merchant_id"], "apikey.revoked", now, key_id=key_id, terminal_id=key["terminal_id"])
        uow.commit()
    return {**{k: v for k, v in key.items() if k != "secret_hash"}, "revoked_at": now}


def list_api_keys(deps: Deps, actor: Actor) -> list[dict[str, Any]]:
    actor.require("apikey.revoke")
    with deps.uow(readonly=True) as uow:
        rows = uow.users.list_api_keys(actor.merchant_id or "")
    return [{k: v for k, v in r.items() if k != "secret_hash"} for r in rows]


def list_merchant_users(deps: Deps, actor: Actor, merchant_id: str | None = None) -> list[dict[str, Any]]:
    """The people of a merchant: an admin's own, or for a provider admin one of their provider's merchants."""
    require_manager(actor)
    target = merchant_id or actor.merchant_id
    if target is None:
        raise NotFound("merchant.not_found")
    with deps.uow(readonly=True) as uow:
        reachable_merchant(uow, actor, target)
        rows = uow.users.list_users(target)
    return [public_user(r) for r in rows]
