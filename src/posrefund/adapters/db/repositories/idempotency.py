"""Answers already given, by idempotency key: a repeated request gets the same answer, not a second refund."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import bindparam, insert, select

from posrefund.adapters.db import tables
from posrefund.adapters.db.prebuilt import Prebuilt
from posrefund.adapters.db.repositories.rows import Repository, row_dict
from posrefund.ports import IdempotencyRow

# Every refund request looks here: built once, run on the driver's cursor (see prebuilt.py).
_I = tables.idempotency.c
GET_IDEMPOTENCY = Prebuilt(
    select(tables.idempotency).where(_I.scope == bindparam("b_scope"), _I.key == bindparam("b_key"))
)
INSERT_IDEMPOTENCY = Prebuilt(insert(tables.idempotency), held=True)


class IdempotencySql(Repository):
    def lookup(self, scope: str, key: str) -> IdempotencyRow | None:
        r = GET_IDEMPOTENCY.run(self.c, {"b_scope": scope, "b_key": key}).first()
        return cast(IdempotencyRow, row_dict(r)) if r else None

    def save(self, scope: str, key: str, request_hash: str, status: int, body: bytes, now: datetime) -> None:
        INSERT_IDEMPOTENCY.run(
            self.c,
            {
                "scope": scope,
                "key": key,
                "request_hash": request_hash,
                "status_code": status,
                "body": body,
                "created_at": now,
            },
        )
