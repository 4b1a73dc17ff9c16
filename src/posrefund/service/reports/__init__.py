"""Refund reports (退款报表): the figures of a period by day, week, month or one dimension of the cases, with the
previous period beside them (``figures``); the cases behind one cell (``figures.report_cases``); keeping the
daily aggregates up to date (``upkeep``). Definitions of every figure: docs/reports.md."""
