"""What the console shows and reads: yuan from integer fen, Shanghai times, form values checked by shape.

Parsing here is only about the shape of what was typed (an amount in yuan, a date); every business rule
is the service layer's.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from posrefund.domain.errors import Invalid
from posrefund.domain.money import format_yuan

SHANGHAI = ZoneInfo("Asia/Shanghai")
_YUAN = re.compile(r"^(\d{1,10})(?:\.(\d{1,2}))?$", re.ASCII)
# A Chinese input method may type full-width digits and point: read them as what the cashier meant.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")


def yuan(fen: int | None, currency: str = "CNY") -> str:
    return "" if fen is None else format_yuan(int(fen), currency)


def yuan_input(fen: int) -> str:
    """Fen as the plain yuan text an amount field holds: ``123450`` → ``1234.50``."""
    return f"{fen // 100}.{fen % 100:02d}"


def local(at: datetime | None, with_seconds: bool = False) -> str:
    if at is None:
        return ""
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def age(since: datetime, now: datetime, lang: str) -> str:
    """A waiting time as a person says it: ``2 天 3 小时``, ``45 分钟`` / ``2 d 3 h``, ``45 min``."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    d, rest = divmod(minutes, 24 * 60)
    h, m = divmod(rest, 60)
    units = ("天", "小时", "分钟") if lang == "zh" else ("d", "h", "min")
    parts = [f"{n} {u}" for n, u in zip((d, h, m), units, strict=True) if n]
    return " ".join(parts[:2]) or f"0 {units[2]}"


def parse_yuan(text: str, field: str) -> int:
    """``12.3`` → 1230 fen, exactly (no float ever); a bad shape is ``console.invalid_amount``."""
    value = text.strip().translate(_FULL_WIDTH).replace(",", "").replace("¥", "").replace("￥", "")
    m = _YUAN.match(value)
    if not m:
        raise Invalid("console.invalid_amount", field=field)
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def parse_date(text: str, field: str) -> date:
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("console.invalid_date", field=field) from None
    if not 2000 <= value.year <= 2100:
        raise Invalid("console.invalid_date", field=field)
    return value


def parse_moment(text: str, field: str) -> datetime:
    """A local time typed in a form (``2026-12-04T18:00``), in Shanghai."""
    try:
        return datetime.fromisoformat(text.strip()[:16]).replace(tzinfo=SHANGHAI)
    except ValueError:
        raise Invalid("console.invalid_date", field=field) from None


def day_start(day: date) -> datetime:
    """Midnight in Shanghai of a local date, as an aware datetime (what a person means by 'from that day')."""
    return datetime.combine(day, time(0), SHANGHAI)


def day_after(day: date) -> datetime:
    return day_start(day + timedelta(days=1))


def parse_count(text: str, field: str, *, low: int = 0, high: int = 10**9) -> int:
    value = text.strip()
    if not value.isdigit() or len(value) > 12 or not low <= int(value) <= high:
        raise Invalid("console.invalid_number", field=field)
    return int(value)


def bounded(text: str, field: str, max_len: int) -> str:
    if len(text) > max_len:
        raise Invalid("console.too_long", field=field, max=max_len)
    return text
