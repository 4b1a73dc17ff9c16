"""Telling the customer (通知): which case events they hear about, on which channels, in which words.

Pure data and rules; rendering (Jinja2) and delivery (HTTP gateways, SMTP) live at the edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NotifyEvent(StrEnum):
    ACCEPTED = "accepted"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
    ATTENTION = "attention"  # failed / abnormal: a person is on it
    ARRIVED = "arrived"  # the expected arrival date has passed: please confirm receipt
    DISPUTE_REJECTED = "dispute_rejected"
    PENALTY_PAID = "penalty_paid"  # the 定金罚则's penalty of a double return paid by bank transfer
    # the merchant told of its device return (退机) and of its fee refunds (domain/merchant_notice.py)
    RETURN_OPENED = "return_opened"
    RETURN_SHIPPING = "return_shipping"
    RETURN_RECEIVED = "return_received"
    RETURN_FULL_REFUND = "return_full_refund"
    RETURN_PARTIAL_REFUND = "return_partial_refund"
    RETURN_REPLACED = "return_replaced"
    RETURN_REJECTED = "return_rejected"
    RETURN_REFUND_PAID = "return_refund_paid"
    TERMINAL_DEACTIVATED = "terminal_deactivated"
    FEE_CASE_OPENED = "fee_case_opened"
    FEE_CASE_APPROVED = "fee_case_approved"
    FEE_CASE_REJECTED = "fee_case_rejected"
    FEE_CASE_PAID = "fee_case_paid"


class NotifyChannel(StrEnum):
    SMS = "sms"
    WECHAT = "wechat"
    EMAIL = "email"


class Delivery(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed: a worker may be talking to the gateway right now
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # opted out, or nothing to send it to


LANGUAGES = ("zh", "en")

# Audit action of a case event → what the customer hears about it.
EVENT_OF_ACTION: dict[str, NotifyEvent] = {
    "refund.requested": NotifyEvent.ACCEPTED,
    "refund.review_required": NotifyEvent.PENDING_REVIEW,
    "refund.approved": NotifyEvent.APPROVED,
    "refund.auto_approved": NotifyEvent.APPROVED,
    "refund.rejected": NotifyEvent.REJECTED,
    "refund.succeeded": NotifyEvent.PAID,
    "refund.payout_confirmed": NotifyEvent.PAID,
    "refund.failed": NotifyEvent.ATTENTION,
    "refund.abnormal": NotifyEvent.ATTENTION,
}


def event_for(action: str, status: str | None) -> NotifyEvent | None:
    """The notification a case event calls for, if any (a person resolving to success is a payment too)."""
    if action == "refund.resolved" and status == "succeeded":
        return NotifyEvent.PAID
    return EVENT_OF_ACTION.get(action)


# How long to wait before the n-th retry of a failed send (seconds); after the last one it is given up.
RETRY_BACKOFF = (10, 30, 120, 600, 1800)
MAX_ATTEMPTS = len(RETRY_BACKOFF) + 1
SEND_LEASE_SECONDS = 60  # a claimed message not recorded within this time is sent again (same message id)


def retry_delay(attempts: int) -> int | None:
    """Seconds until the next try after ``attempts`` failed tries, or None when it is time to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return RETRY_BACKOFF[min(attempts - 1, len(RETRY_BACKOFF) - 1)]


def message_id(source: str, channel: str) -> str:
    """Stable per (event, channel): the gateway sees the same id when a crashed send is repeated."""
    return f"prn-{source}-{channel}"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    message_id: str
    channel: str
    to: str  # clear address, decrypted just before sending, never stored or logged
    subject: str
    text: str
    language: str
    event: str


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a gateway answered. ``retryable``: worth trying again (5xx, timeout, connection refused)."""

    ok: bool
    gateway: str
    provider_message_id: str = ""
    retryable: bool = False
    error: str = ""


ROUTE_NAMES: dict[str, tuple[str, str]] = {
    "wechat": ("微信支付原路退回", "WeChat Pay, to the original account"),
    "alipay": ("支付宝原路退回", "Alipay, to the original account"),
    "card": ("银行卡原路退回", "bank card, to the original card"),
    "unionpay_qr": ("云闪付原路退回", "UnionPay QR, to the original account"),
    "cash": ("现金退款", "cash"),
    "cheque": ("支票退款", "cheque"),
    "transfer": ("银行转账", "bank transfer"),
}

STATUS_NAMES: dict[str, tuple[str, str]] = {
    "requested": ("已受理", "received"),
    "pending_review": ("审核中", "under review"),
    "approved": ("已批准，等待退款", "approved, being paid"),
    "rejected": ("未通过", "not approved"),
    "cancelled": ("已撤销", "withdrawn"),
    "processing": ("退款处理中", "being paid"),
    "succeeded": ("已退款", "paid back"),
    "failed": ("处理中（需人工跟进）", "delayed (a person is on it)"),
    "closed": ("已关闭", "closed"),
    "abnormal": ("处理中（需人工跟进）", "delayed (a person is on it)"),
    "unknown": ("退款处理中（等待银行对账确认）", "being paid (waiting for the bank's settlement to confirm)"),
}


def name_in(names: dict[str, tuple[str, str]], key: str, language: str) -> str:
    """A value's name for people, in their language (the value itself where it has none)."""
    zh, en = names.get(key, (key, key))
    return en if language == "en" else zh


def route_name(channel: str, method: str, language: str) -> str:
    return name_in(ROUTE_NAMES, method if method in ("cash", "cheque", "transfer") else channel, language)


def status_name(status: str, language: str) -> str:
    return name_in(STATUS_NAMES, status, language)


# Template variables every event can use; samples render a template once before it is accepted.
TEMPLATE_VARIABLES: dict[str, str] = {
    "merchant_name": "某某商户",
    "merchant_phone": "400-800-0000",
    "refund_no": "RF20261120ABCDEF0123456789",
    "amount": "¥12.34",
    "status_text": "已退款",
    "route": "微信支付原路退回",
    "paid_at": "2026-11-20 10:00",
    "expected_arrival": "2026-11-23",
    "reason": "超过退款期限",
    "payer": "6222****1234",
    "phone": "138****5678",
    "link": "https://example.invalid/t/abc",
    "account": "尾号 1234",  # the account a bank transfer went to, only ever its last four
}

_Z = "【{{ merchant_name }}】"
DEFAULT_TEMPLATES: dict[tuple[NotifyEvent, str], tuple[str, str]] = {
    (NotifyEvent.ACCEPTED, "zh"): (
        "退款申请已受理",
        _Z + "您的退款申请已受理，单号 {{ refund_no }}，金额 {{ amount }}。查看进度：{{ link }}",
    ),
    (NotifyEvent.ACCEPTED, "en"): (
        "Refund request received",
        "{{ merchant_name }}: your refund request {{ refund_no }} for {{ amount }} was received. Track it: {{ link }}",
    ),
    (NotifyEvent.PENDING_REVIEW, "zh"): (
        "退款申请审核中",
        _Z + "您的退款申请（{{ amount }}，单号 {{ refund_no }}）正在审核，结果将另行通知。查看进度：{{ link }}",
    ),
    (NotifyEvent.PENDING_REVIEW, "en"): (
        "Refund request under review",
        "{{ merchant_name }}: your refund request {{ refund_no }} for {{ amount }} is being reviewed; "
        "we will tell you the outcome. Track it: {{ link }}",
    ),
    (NotifyEvent.APPROVED, "zh"): (
        "退款已批准",
        _Z + "您的退款（{{ amount }}，单号 {{ refund_no }}）已批准，将经{{ route }}。查看进度：{{ link }}",
    ),
    (NotifyEvent.APPROVED, "en"): (
        "Refund approved",
        "{{ merchant_name }}: your refund {{ refund_no }} for {{ amount }} is approved and will be paid by "
        "{{ route }}. Track it: {{ link }}",
    ),
    (NotifyEvent.REJECTED, "zh"): (
        "退款申请未通过",
        _Z + "很抱歉，您的退款申请（{{ amount }}，单号 {{ refund_no }}）未通过。原因：{{ reason }}。"
        "如有疑问请致电 {{ merchant_phone }}。",
    ),
    (NotifyEvent.REJECTED, "en"): (
        "Refund request not approved",
        "{{ merchant_name }}: we are sorry, your refund request {{ refund_no }} for {{ amount }} was not "
        "approved. Reason: {{ reason }}. Questions: {{ merchant_phone }}.",
    ),
    (NotifyEvent.PAID, "zh"): (
        "退款已退回",
        _Z + "{{ amount }} 已于 {{ paid_at }} 经{{ route }}（付款账户 {{ payer }}），"
        "预计 {{ expected_arrival }} 前到账。单号 {{ refund_no }}。查看：{{ link }}",
    ),
    (NotifyEvent.PAID, "en"): (
        "Refund paid",
        "{{ merchant_name }}: {{ amount }} was paid back on {{ paid_at }} by {{ route }} (account {{ payer }}); "
        "expect it by {{ expected_arrival }}. Refund {{ refund_no }}. Details: {{ link }}",
    ),
    (NotifyEvent.ATTENTION, "zh"): (
        "退款处理延迟",
        _Z + "您的退款（{{ amount }}，单号 {{ refund_no }}）处理遇到延迟，工作人员正在跟进，"
        "如有疑问请致电 {{ merchant_phone }}。",
    ),
    (NotifyEvent.ATTENTION, "en"): (
        "Refund delayed",
        "{{ merchant_name }}: your refund {{ refund_no }} for {{ amount }} is delayed; a member of staff is "
        "on it. Questions: {{ merchant_phone }}.",
    ),
    (NotifyEvent.ARRIVED, "zh"): (
        "退款应已到账",
        _Z + "您的退款 {{ amount }}（账户 {{ payer }}）应已到账。请点击确认收款或反馈问题：{{ link }}",
    ),
    (NotifyEvent.ARRIVED, "en"): (
        "Your refund should have arrived",
        "{{ merchant_name }}: your refund of {{ amount }} (account {{ payer }}) should have arrived. "
        "Please confirm receipt or tell us: {{ link }}",
    ),
    (NotifyEvent.DISPUTE_REJECTED, "zh"): (
        "争议处理结果",
        _Z + "您就退款 {{ refund_no }} 提出的争议经核查未获支持。原因：{{ reason }}。"
        "如有疑问请致电 {{ merchant_phone }}。",
    ),
    (NotifyEvent.DISPUTE_REJECTED, "en"): (
        "Outcome of your dispute",
        "{{ merchant_name }}: your dispute about refund {{ refund_no }} was not upheld. Reason: {{ reason }}. "
        "Questions: {{ merchant_phone }}.",
    ),
    (NotifyEvent.PENALTY_PAID, "zh"): (
        "定金罚金已转账",
        _Z + "因商户违约，定金双倍返还中的罚金 {{ amount }} 已于 {{ paid_at }} 通过银行转账"
        "{% if account %}支付至您的账户 {{ account }}{% else %}支付给您{% endif %}。"
        "已付的定金经{{ route }}另行退还（单号 {{ refund_no }}）。如有疑问请致电 {{ merchant_phone }}。",
    ),
    (NotifyEvent.PENALTY_PAID, "en"): (
        "Deposit penalty paid by bank transfer",
        "{{ merchant_name }}: the merchant broke the deal, so your deposit (定金) is returned double. The penalty "
        "of {{ amount }} was paid on {{ paid_at }} by bank transfer{% if account %} to your account {{ account }}"
        "{% endif %}; the deposit itself comes back by {{ route }} (refund {{ refund_no }}). "
        "Questions: {{ merchant_phone }}.",
    ),
}
