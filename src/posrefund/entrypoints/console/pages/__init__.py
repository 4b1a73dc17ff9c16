"""The console's pages, one module per area of the business; each exposes a ``router``."""

from posrefund.entrypoints.console.pages import (
    account,
    admin,
    audit,
    auth,
    case_actions,
    case_notifications,
    cases,
    desk,
    disputes,
    notification_settings,
    reconciliation,
    reports,
    search,
    slips,
    wrong_charges,
)

__all__ = [
    "account",
    "admin",
    "audit",
    "auth",
    "case_actions",
    "case_notifications",
    "cases",
    "desk",
    "disputes",
    "notification_settings",
    "reconciliation",
    "reports",
    "search",
    "slips",
    "wrong_charges",
]
