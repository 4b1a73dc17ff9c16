"""Screen text of the fee page (手续费): contract periods, the fee-refund check, cases and one-off charges."""

from __future__ import annotations

EN_FEES: dict[str, str] = {
    "手续费": "Fees",
    "手续费费率合同": "Fee contract",
    "核查期间内各笔手续费均符合合同约定，未发现多收。": (
        "Every fee in the dates is as the contract says: nothing overcharged."
    ),
    "尚未录入费率合同。": "No fee contract recorded yet.",
    "起": "from",
    "至": "to",
    "商户已于": "The merchant agreed on",
    "同意": "(agreed)",
    "商户尚未同意：同意前按原费率核查": "Not yet agreed by the merchant: checked at the earlier rates until then",
    "退款不退手续费": "Fee kept on refunds",
    "调整费率（新增期间）": "Change the rates (a new period)",
    "调价从新的生效日开始，原有期间不会被改写。费率按百分比填写（如 0.60），金额按元填写。": (
        "A change starts on its own first day; earlier periods are never rewritten. Rates in percent (e.g. 0.60), "
        "amounts in yuan."
    ),
    "生效日": "In force from",
    "商户同意日期": "Merchant agreed on",
    "同意书编号": "Consent reference",
    "费率": "Rate",
    "卡种": "Card type",
    "费率（百分比）": "Rate (%)",
    "金额分档起点（元）": "Band from (yuan)",
    "每笔最低（元）": "Minimum per payment (yuan)",
    "每笔封顶（元）": "Cap per payment (yuan)",
    "保存新期间": "Save the new period",
    "手续费核查": "Fee check",
    "按合同逐笔重算已导入对账单的手续费，多收部分生成退费案件。四舍五入到分，差额不超过 ¥0.01 不计。": (
        "Recomputes every fee of the imported settlement files against the contract; what was overcharged "
        "becomes a fee-refund case. Rounded half up to the fen; 1 fen either way is not counted."
    ),
    "开始日期": "From",
    "结束日期": "To",
    "开始核查": "Check",
    "退费案件": "Fee refund cases",
    "暂无退费案件。": "No fee refund cases.",
    "一次性费用": "One-off charges",
    "暂无一次性费用。": "No one-off charges.",
    "收取日": "Charged on",
    "退还条件": "Refund terms",
    "天内交易满": "days, volume of",
    "返回手续费": "Back to fees",
    "驳回原因": "Reason for rejecting",
    "转账流水号": "Transfer reference",
    "逐笔明细": "Line by line",
    "日期": "Date",
    "交易金额": "Amount",
    "实收手续费": "Fee charged",
    "应收手续费": "Fee due",
    "多收": "Overcharged",
    "依据": "Rule applied",
    "批准退费": "Approve",
    "转入商户结算账户后，由批准人以外的人登记": (
        "Once transferred to the merchant's settlement account; recorded by someone other than the approver"
    ),
    "登记已付款": "Record the transfer",
}

LABELS_FEES: dict[str, dict[str, tuple[str, str]]] = {
    "fee_channel": {
        "card": ("银行卡", "Bank card"),
        "wechat": ("微信支付", "WeChat Pay"),
        "alipay": ("支付宝", "Alipay"),
        "unionpay_qr": ("银联二维码", "UnionPay QR"),
    },
    "card_type": {
        "debit": ("借记卡", "Debit"),
        "credit": ("贷记卡", "Credit"),
        "foreign": ("境外卡", "Foreign"),
        "wallet": ("钱包余额", "Wallet balance"),
        "any": ("不分卡种", "Any"),
    },
    "payout_kind": {"overcharge": ("手续费多收退还", "Fees overcharged"), "charge": ("费用退还", "Charge refund")},
    "payout_status": {
        "open": ("待批准", "Awaiting approval"),
        "approved": ("已批准，待转账", "Approved, awaiting transfer"),
        "paid": ("已付款", "Paid"),
        "rejected": ("已驳回", "Rejected"),
        "refused": ("不符合退还条件", "Terms not met"),
    },
    "charge_kind": {
        "activation": ("激活费", "Activation fee"),
        "service": ("服务费", "Service charge"),
        "device": ("机具费", "Device charge"),
    },
    "charge_terms": {
        "volume": ("交易量达标可退", "Refundable on volume"),
        "device_return": ("退回机具可退", "Refundable when the device comes back"),
        "none": ("不可退", "Not refundable"),
    },
    "line_kind": {"sale": ("消费", "Sale"), "refund": ("退货", "Refund"), "void": ("撤销", "Void")},
}
