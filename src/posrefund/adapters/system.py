"""The real clock and id generator."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIds:
    """Ids that cannot be guessed; refund numbers that sort by day and fit every channel (≤32 chars)."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(10)}"

    def new_refund_no(self, now: datetime) -> str:
        return f"RF{now.astimezone(SHANGHAI):%Y%m%d}{secrets.token_hex(8).upper()}"
