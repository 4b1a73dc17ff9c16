"""Messages of the console pages for notifications, follow-up and disputes (cnotify)."""

from __future__ import annotations

MESSAGES_CNOTIFY: dict[str, tuple[str, str]] = {
    "cnotify.payload_line": (
        "每行写“服务商字段 = 我方字段”：{line}",
        "Write one 'provider field = our field' a line: {line}",
    ),
}
