"""Every error code's message, code → (中文, English), one catalogue per area of the business."""

from __future__ import annotations

from posrefund.i18n.messages.abnormal_refunds import MESSAGES_ABNORMAL_REFUNDS
from posrefund.i18n.messages.access import MESSAGES_ACCESS
from posrefund.i18n.messages.audit import MESSAGES_AUDIT
from posrefund.i18n.messages.auth import MESSAGES_AUTH
from posrefund.i18n.messages.console import MESSAGES_CONSOLE
from posrefund.i18n.messages.core import MESSAGES_CORE
from posrefund.i18n.messages.deposits import MESSAGES_DEPOSITS
from posrefund.i18n.messages.desk import MESSAGES_DESK
from posrefund.i18n.messages.documents import MESSAGES_DOCUMENTS
from posrefund.i18n.messages.fees import MESSAGES_FEES
from posrefund.i18n.messages.holds import MESSAGES_HOLDS
from posrefund.i18n.messages.items import MESSAGES_ITEMS
from posrefund.i18n.messages.notifications import MESSAGES_NOTIFY
from posrefund.i18n.messages.operations import MESSAGES_OPS
from posrefund.i18n.messages.provider import MESSAGES_PROVIDER
from posrefund.i18n.messages.reconciliation import MESSAGES_RECON
from posrefund.i18n.messages.reports import MESSAGES_REPORTS
from posrefund.i18n.messages.risk import MESSAGES_RISK

_AREAS = (
    MESSAGES_CORE,
    MESSAGES_NOTIFY,
    MESSAGES_RECON,
    MESSAGES_CONSOLE,
    MESSAGES_AUDIT,
    MESSAGES_ACCESS,
    MESSAGES_AUTH,
    MESSAGES_OPS,
    MESSAGES_RISK,
    MESSAGES_REPORTS,
    MESSAGES_DEPOSITS,
    MESSAGES_DOCUMENTS,
    MESSAGES_FEES,
    MESSAGES_PROVIDER,
    MESSAGES_DESK,
    MESSAGES_ITEMS,
    MESSAGES_ABNORMAL_REFUNDS,
    MESSAGES_HOLDS,
)
MESSAGES: dict[str, tuple[str, str]] = {code: text for area in _AREAS for code, text in area.items()}
if len(MESSAGES) != sum(len(area) for area in _AREAS):  # a code defined in two areas would hide one text
    raise RuntimeError("an error code is defined twice in posrefund.i18n.messages")
