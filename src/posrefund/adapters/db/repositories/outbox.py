"""The outbox: messages written in the same transaction as the change they announce."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert

from posrefund.adapters.db import tables
from posrefund.adapters.db.prebuilt import Prebuilt
from posrefund.adapters.db.repositories.rows import Repository
from posrefund.ports import CaseEventMessage

# Every refund request writes here: built once, run on the driver's cursor (see prebuilt.py).
INSERT_OUTBOX = Prebuilt(insert(tables.outbox), held=True)
# Built once: json.dumps with options builds a new encoder on every call.
_payload = json.JSONEncoder(sort_keys=True, default=str).encode


class OutboxSql(Repository):
    def put(self, topic: str, merchant_id: str, case_id: str | None, payload: CaseEventMessage, now: datetime) -> None:
        self.put_many([(topic, merchant_id, case_id, payload, now)])

    def put_many(self, items: Sequence[tuple[str, str, str | None, CaseEventMessage, datetime]]) -> None:
        if not items:
            return
        INSERT_OUTBOX.run(
            self.c,
            [
                {
                    "topic": topic,
                    "merchant_id": mid,
                    "case_id": cid,
                    "created_at": now,
                    "available_at": now,
                    "payload": _payload(payload),
                    "attempts": 0,
                }
                for topic, mid, cid, payload, now in items
            ],
        )
