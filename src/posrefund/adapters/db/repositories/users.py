"""Staff accounts and the terminals' API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import ApiKeyRow, RefreshRow, UserRow

_U = tables.users.c
_K = tables.api_keys.c
_RT = tables.refresh_tokens.c


class UserSql(Repository):
    def add_user(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(tables.users).values(**row))

    def by_username(self, username: str) -> UserRow | None:
        return cast(UserRow | None, first_row(self.c, select(tables.users).where(_U.username == username)))

    def get_user(self, user_id: str) -> UserRow | None:
        return cast(UserRow | None, first_row(self.c, select(tables.users).where(_U.id == user_id)))

    def list_users(self, merchant_id: str) -> list[UserRow]:
        q = select(tables.users).where(_U.merchant_id == merchant_id).order_by(_U.username)
        return cast(list[UserRow], all_rows(self.c, q))

    def record_login_failure(self, user_id: str, failures: int, locked_until: datetime | None) -> None:
        self.c.execute(
            update(tables.users).where(_U.id == user_id).values(failed_logins=failures, locked_until=locked_until)
        )

    def record_login_success(self, user_id: str) -> None:
        self.c.execute(update(tables.users).where(_U.id == user_id).values(failed_logins=0, locked_until=None))

    def add_api_key(self, row: dict[str, Any]) -> None:
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
