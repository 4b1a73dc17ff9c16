"""The console's pages, one module per area of the business; each exposes a ``router``."""

from posrefund.entrypoints.console.pages import (
    account,
    admin,
    auth,
    case_actions,
    case_notifications,
    cases,
    desk,
    disputes,
    home,
    notification_settings,
    reconciliation,
    report_charts,
    reports,
    risk,
    search,
    wrong_charges,
)

__all__ = [
    "account",
    "admin",
    "auth",
    "case_actions",
    "case_notifications",
    "cases",
    "desk",
    "disputes",
    "home",
    "notification_settings",
    "reconciliation",
    "report_charts",
    "reports",
    "risk",
    "search",
    "wrong_charges",
]
