"""Channel callbacks already seen, so a repeated notification is recognised and ignored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository

_CB = tables.callback_notices.c


class CallbackSql(Repository):
    def first_time(self, channel: str, notice_id: str, refund_no: str, now: datetime) -> bool:
        """Record a notification id; False when it was seen before (a duplicate callback)."""
        seen = self.c.execute(select(_CB.notice_id).where(_CB.channel == channel, _CB.notice_id == notice_id)).first()
        if seen is not None:
            return False
        self.c.execute(
            insert(tables.callback_notices).values(
                channel=channel, notice_id=notice_id, refund_no=refund_no, received_at=now
            )
        )
        return True
