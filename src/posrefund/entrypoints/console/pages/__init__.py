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
    notification_settings,
    recon_desk,
    reconciliation,
    reports,
    search,
    till,
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
    "notification_settings",
    "recon_desk",
    "reconciliation",
    "reports",
    "search",
    "till",
    "wrong_charges",
]
