"""Staff accounts and the terminals' API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import ApiKeyRow, UserRow

_U = tables.users.c


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
        return cast(ApiKeyRow | None, first_row(self.c, select(tables.api_keys).where(tables.api_keys.c.id == key_id)))
