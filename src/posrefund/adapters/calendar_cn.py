"""Chinese working days: statutory holidays and make-up workdays (调休) from ``holidays``, then the
admins' override table, which wins (a late State Council notice, a bank's own closure)."""

from __future__ import annotations

from datetime import date

import holidays


class ChineseCalendar:
    def __init__(self, overrides: dict[date, bool] | None = None) -> None:
        self._cn = holidays.country_holidays("CN")
        self.overrides = overrides if overrides is not None else {}  # kept by reference: admins' edits apply at once

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return bool(self._cn.is_working_day(day))
