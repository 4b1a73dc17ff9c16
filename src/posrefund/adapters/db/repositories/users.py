"""Staff accounts and the terminals' API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, case, insert, or_, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import ApiKeyRow, NewUserRow, RefreshRow, SignInNotice, UserRow

_U = tables.users.c
_K = tables.api_keys.c
_RT = tables.refresh_tokens.c


class UserSql(Repository):
    def add_user(self, row: NewUserRow) -> None:
        self.c.execute(insert(tables.users).values(**row))

    def by_username(self, username: str) -> UserRow | None:
        return cast(UserRow | None, first_row(self.c, select(tables.users).where(_U.username == username)))

    def get_user(self, user_id: str) -> UserRow | None:
        return cast(UserRow | None, first_row(self.c, select(tables.users).where(_U.id == user_id)))

    def list_users(self, merchant_id: str) -> list[UserRow]:
        q = select(tables.users).where(_U.merchant_id == merchant_id).order_by(_U.username)
        return cast(list[UserRow], all_rows(self.c, q))

    def take_sign_in_turn(self, user_id: str, max_failures: int, now: datetime) -> bool:
        """Count the attempt as a failure before the password is checked, in one conditional statement:
        concurrent guesses each take a turn of the same counter, and none is granted once ``max_failures``
        turns are taken or the account is locked. An expired lock starts the count again."""
        expired = and_(_U.locked_until.is_not(None), _U.locked_until <= now)
        granted = self.c.execute(
            update(tables.users)
            .where(
                _U.id == user_id,
                _U.active.is_(True),
                or_(expired, and_(_U.locked_until.is_(None), _U.failed_logins < max_failures)),
            )
            .values(
                failed_logins=case((expired, 1), else_=_U.failed_logins + 1),
                locked_until=case((expired, None), else_=_U.locked_until),
            )
        )
        return granted.rowcount == 1

    def record_sign_in_failure(self, user_id: str, max_failures: int, lock_until: datetime) -> bool:
        """Note the failure for the user's next sign-in; lock the account once its turns are spent.
        True when this call locked it (exactly one of the concurrent failures does)."""
        self.c.execute(
            update(tables.users).where(_U.id == user_id).values(failed_since_sign_in=_U.failed_since_sign_in + 1)
        )
        locked = self.c.execute(
            update(tables.users)
            .where(_U.id == user_id, _U.failed_logins >= max_failures, _U.locked_until.is_(None))
            .values(locked_until=lock_until)
        )
        return locked.rowcount == 1

    def record_sign_in(self, user_id: str, now: datetime) -> SignInNotice | None:
        """Clear the count on a correct password, unless a concurrent failure locked the account meanwhile
        (then None: the sign-in fails). Answers what the user is told: failures since the last sign-in."""
        told = select(_U.failed_since_sign_in, _U.last_sign_in_at)
        before = first_row(self.c, told.where(_U.id == user_id, _U.locked_until.is_(None)))
        done = self.c.execute(
            update(tables.users)
            .where(_U.id == user_id, _U.locked_until.is_(None))
            .values(failed_logins=0, failed_since_sign_in=0, last_sign_in_at=now)
        )
        if before is None or done.rowcount != 1:
            return None
        return SignInNotice(int(before["failed_since_sign_in"]), before["last_sign_in_at"])

    def unlock_user(self, user_id: str) -> bool:
        done = self.c.execute(update(tables.users).where(_U.id == user_id).values(failed_logins=0, locked_until=None))
        return done.rowcount == 1

    def add_api_key(self, row: ApiKeyRow) -> None:
        self.c.execute(insert(tables.api_keys).values(**row))

    def api_key(self, key_id: str) -> ApiKeyRow | None:
        return cast(ApiKeyRow | None, first_row(self.c, select(tables.api_keys).where(_K.id == key_id)))

    def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        """Revoke a live key; False when it was already revoked (or never existed)."""
        q = update(tables.api_keys).where(_K.id == key_id, _K.revoked_at.is_(None)).values(revoked_at=now)
        return self.c.execute(q).rowcount == 1

    def list_api_keys(self, merchant_id: str) -> list[ApiKeyRow]:
        q = select(tables.api_keys).where(_K.merchant_id == merchant_id).order_by(_K.created_at, _K.id)
        return cast(list[ApiKeyRow], all_rows(self.c, q))

    def change_user(self, user_id: str, *, bump: bool, **values: Any) -> int:
        """Set ``values`` on the user, raising the token generation when ``bump``; the rows changed."""
        if bump:
            values["token_generation"] = _U.token_generation + 1
        return int(self.c.execute(update(tables.users).where(_U.id == user_id).values(**values)).rowcount)

    def token_state(self, user_id: str) -> tuple[int, bool] | None:
        """The user's token generation and whether they are active: read on every bearer request (a cache
        in front keeps it to one look-up per user per few seconds)."""
        r = self.c.execute(select(_U.token_generation, _U.active).where(_U.id == user_id)).first()
        return (int(r[0]), bool(r[1])) if r else None

    def add_refresh(self, row: RefreshRow) -> None:
        self.c.execute(insert(tables.refresh_tokens).values(**row))

    def refresh(self, refresh_id: str) -> RefreshRow | None:
        return cast(RefreshRow | None, first_row(self.c, select(tables.refresh_tokens).where(_RT.id == refresh_id)))

    def use_refresh(self, refresh_id: str, now: datetime) -> bool:
        """Mark a refresh token used, once: of two concurrent uses only one wins."""
        q = update(tables.refresh_tokens).where(_RT.id == refresh_id, _RT.used_at.is_(None)).values(used_at=now)
        return self.c.execute(q).rowcount == 1
