"""Telling the merchant (商户通知) of its device return (退机) and its fee refunds (退费), through the same
outbox and gateways as a customer's messages, in its own words: which steps it hears about, the variables
their templates may use and the default texts (Simplified Chinese; English for a merchant that asked for it).

The values are fixed when the step happens (amounts already in yuan, times in Shanghai time, the SN and the
tracking number as recorded), so the message says what the step said even if it is sent later.
"""

from __future__ import annotations

from posrefund.domain.notification import NotifyEvent as E
from posrefund.domain.notification import name_in

__all__ = ["DECISION_EVENTS", "INSPECTION_NAMES", "MERCHANT_EVENTS", "MERCHANT_TEMPLATES", "name_in"]

MERCHANT_EVENTS: frozenset[E] = frozenset(
    {
        E.RETURN_OPENED,
        E.RETURN_SHIPPING,
        E.RETURN_RECEIVED,
        E.RETURN_FULL_REFUND,
        E.RETURN_PARTIAL_REFUND,
        E.RETURN_REPLACED,
        E.RETURN_REJECTED,
        E.RETURN_REFUND_PAID,
        E.TERMINAL_DEACTIVATED,
        E.FEE_CASE_OPENED,
        E.FEE_CASE_APPROVED,
        E.FEE_CASE_REJECTED,
        E.FEE_CASE_PAID,
    }
)

# What a device return's decision tells the merchant.
DECISION_EVENTS: dict[str, E] = {
    "full_refund": E.RETURN_FULL_REFUND,
    "partial_refund": E.RETURN_PARTIAL_REFUND,
    "replacement": E.RETURN_REPLACED,
    "rejection": E.RETURN_REJECTED,
}

# Template variables of the merchant's messages, with the samples a template is tried on before it is stored.
MERCHANT_VARIABLES: dict[str, str] = {
    "merchant_name": "某某商户",
    "sn": "SN-A0001",
    "at": "2026-11-20 10:00",
    "address": "上海市浦东新区 退机仓",
    "courier": "顺丰",
    "tracking_no": "SF1234567890",
    "inspection": "完好",
    "due_on": "2026-11-25",
    "amount": "¥399.00",
    "deductions": "外壳破损 ¥50.00；缺少充电器 ¥30.00",
    "new_sn": "SN-A0002",
    "reason": "超出保修范围",
    "case_no": "fr_0123456789",
    "case_kind": "手续费多收退还",
    "transfer_ref": "CMB202611300001",
}

INSPECTION_NAMES: dict[str, tuple[str, str]] = {
    "intact": ("完好", "intact"),
    "damaged": ("有损坏", "damaged"),
    "parts_missing": ("配件缺失", "parts missing"),
}

PAYOUT_KIND_NAMES: dict[str, tuple[str, str]] = {
    "overcharge": ("手续费多收退还", "refund of fees charged above the contract"),
    "charge": ("一次性费用退还", "refund of a one-off charge"),
}


_ZH, _EN = "{{ merchant_name }}：", "{{ merchant_name }}: "
MERCHANT_TEMPLATES: dict[tuple[E, str], tuple[str, str]] = {
    (E.RETURN_OPENED, "zh"): (
        "退机申请已受理",
        _ZH + "终端 {{ sn }} 的退机申请已于 {{ at }} 受理，寄回地址将另行通知。",
    ),
    (E.RETURN_OPENED, "en"): (
        "Device return opened",
        _EN + "the return of terminal {{ sn }} was opened on {{ at }}; we will tell you where to send it.",
    ),
    (E.RETURN_SHIPPING, "zh"): (
        "退机已同意，请寄回终端",
        _ZH + "终端 {{ sn }} 的退机已同意，请寄至 {{ address }}，快递 {{ courier }}，运单号 {{ tracking_no }}。",
    ),
    (E.RETURN_SHIPPING, "en"): (
        "Device return approved: please send the terminal",
        _EN + "please send terminal {{ sn }} to {{ address }} by {{ courier }}, tracking no. {{ tracking_no }}.",
    ),
    (E.RETURN_RECEIVED, "zh"): (
        "终端已收到并验机",
        _ZH + "终端 {{ sn }} 已于 {{ at }} 收到，验机结果：{{ inspection }}。处理结果将于 {{ due_on }} 前告知。",
    ),
    (E.RETURN_RECEIVED, "en"): (
        "Terminal received and inspected",
        _EN + "terminal {{ sn }} was received on {{ at }}, found {{ inspection }}. "
        "You will have the outcome by {{ due_on }}.",
    ),
    (E.RETURN_FULL_REFUND, "zh"): (
        "退机结果：全额退款",
        _ZH + "终端 {{ sn }} 退机处理结果为全额退款 {{ amount }}，款项将原路退回。",
    ),
    (E.RETURN_FULL_REFUND, "en"): (
        "Device return: full refund",
        _EN + "terminal {{ sn }} will be refunded in full, {{ amount }}, to the account that paid for it.",
    ),
    (E.RETURN_PARTIAL_REFUND, "zh"): (
        "退机结果：部分退款",
        _ZH + "终端 {{ sn }} 退机处理结果为部分退款 {{ amount }}，扣除：{{ deductions }}。说明：{{ reason }}",
    ),
    (E.RETURN_PARTIAL_REFUND, "en"): (
        "Device return: partial refund",
        _EN + "terminal {{ sn }} will be refunded {{ amount }}, less {{ deductions }}. Note: {{ reason }}",
    ),
    (E.RETURN_REPLACED, "zh"): (
        "退机结果：换新终端",
        _ZH + "终端 {{ sn }} 将更换为新终端，新终端序列号 {{ new_sn }}，原终端已停用。",
    ),
    (E.RETURN_REPLACED, "en"): (
        "Device return: replacement",
        _EN + "terminal {{ sn }} is replaced by a new terminal, serial number {{ new_sn }}; the old one is disabled.",
    ),
    (E.RETURN_REJECTED, "zh"): (
        "退机结果：不予退机",
        _ZH + "终端 {{ sn }} 的退机申请未通过，原因：{{ reason }}。终端将寄回并可继续使用。",
    ),
    (E.RETURN_REJECTED, "en"): (
        "Device return: not accepted",
        _EN + "the return of terminal {{ sn }} was not accepted. Reason: {{ reason }}. The terminal stays in use.",
    ),
    (E.RETURN_REFUND_PAID, "zh"): (
        "退机退款已退回",
        _ZH + "终端 {{ sn }} 的退款 {{ amount }} 已于 {{ at }} 原路退回。",
    ),
    (E.RETURN_REFUND_PAID, "en"): (
        "Device refund paid",
        _EN + "the refund of {{ amount }} for terminal {{ sn }} was paid back on {{ at }}.",
    ),
    (E.TERMINAL_DEACTIVATED, "zh"): (
        "终端已停用",
        _ZH + "终端 {{ sn }} 已于 {{ at }} 停用，绑定该终端的接口密钥同时作废。",
    ),
    (E.TERMINAL_DEACTIVATED, "en"): (
        "Terminal disabled",
        _EN + "terminal {{ sn }} was disabled on {{ at }}; the API keys bound to it no longer work.",
    ),
    (E.FEE_CASE_OPENED, "zh"): (
        "退费申请已受理",
        _ZH + "{{ case_kind }}（编号 {{ case_no }}）已于 {{ at }} 受理，金额 {{ amount }}。",
    ),
    (E.FEE_CASE_OPENED, "en"): (
        "Fee refund opened",
        _EN + "your {{ case_kind }} ({{ case_no }}) of {{ amount }} was opened on {{ at }}.",
    ),
    (E.FEE_CASE_APPROVED, "zh"): (
        "退费已批准",
        _ZH + "{{ case_kind }}（编号 {{ case_no }}）已批准，{{ amount }} 将转入您的结算账户。",
    ),
    (E.FEE_CASE_APPROVED, "en"): (
        "Fee refund approved",
        _EN + "your {{ case_kind }} ({{ case_no }}) is approved; {{ amount }} will be paid to your settlement account.",
    ),
    (E.FEE_CASE_REJECTED, "zh"): (
        "退费申请未通过",
        _ZH + "{{ case_kind }}（编号 {{ case_no }}，{{ amount }}）未通过。原因：{{ reason }}",
    ),
    (E.FEE_CASE_REJECTED, "en"): (
        "Fee refund not approved",
        _EN + "your {{ case_kind }} ({{ case_no }}, {{ amount }}) was not approved. Reason: {{ reason }}",
    ),
    (E.FEE_CASE_PAID, "zh"): (
        "退费已转账",
        _ZH + "{{ case_kind }}（编号 {{ case_no }}）{{ amount }} 已于 {{ at }} 转入您的结算账户，"
        "转账凭证号 {{ transfer_ref }}。",
    ),
    (E.FEE_CASE_PAID, "en"): (
        "Fee refund paid",
        _EN + "{{ amount }} of your {{ case_kind }} ({{ case_no }}) was paid to your settlement account on "
        "{{ at }}, transfer reference {{ transfer_ref }}.",
    ),
}
