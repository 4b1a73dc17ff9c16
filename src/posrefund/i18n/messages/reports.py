"""Refund reports' refusals."""

from __future__ import annotations

MESSAGES_REPORTS: dict[str, tuple[str, str]] = {
    "report.bad_range": (
        "报表的起止日期不正确：结束日期不能早于开始日期，且最多 {max_days} 天",
        "The report's dates are not valid: the last day may not be before the first, and at most {max_days} days",
    ),
    "report.bad_key": ("报表行的代码与分组方式不符：{key}", "The row's key does not fit the report's rows: {key}"),
}
