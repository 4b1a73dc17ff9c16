"""Screen text of an abnormal WeChat Pay refund sent to a bank card: the banks WeChat Pay pays to, where the money
goes, how the customer agreed, and the English of the form's Chinese."""

from __future__ import annotations

from posrefund.domain.abnormal_refund import BANK_TYPES

LABELS_ABNORMAL_REFUNDS: dict[str, dict[str, tuple[str, str]]] = {
    "bank_type": dict(BANK_TYPES),
    "card_kind": {
        "USER_BANK_CARD": ("顾客本人的银行卡", "The customer's own bank card"),
        "MERCHANT_BANK_CARD": ("商户银行账户", "The merchant's bank account"),
    },
    "consent_how": {"phone": ("电话", "By phone"), "counter": ("柜台当面", "In person at the counter")},
}

EN_ABNORMAL_REFUNDS: dict[str, str] = {
    "退款至银行卡": "Send to a bank card",
    (
        "退款异常（如原卡已注销）时，经顾客同意可退至其借记卡或商户账户；"
        "卡号加密后直接发给微信支付，本系统只留后四位；姓名加密保存，遮盖显示。"
    ): (
        "When WeChat Pay could not pay the refund back (the customer's card was closed, say), it can go to the "
        "customer's own debit card or to the merchant's bank account, with the customer's consent. The card "
        "number goes to WeChat Pay encrypted and only its last four digits are kept here; the name is kept "
        "encrypted and shown masked."
    ),
    "退至": "Pay to",
    "开户银行（借记卡）": "Bank (debit card)",
    "银行卡号": "Card number",
    "收款人姓名": "Account holder's name",
    "同意人（顾客或其代理人）": "Who agreed (the customer or who speaks for them)",
    "同意方式": "How they agreed",
    "同意时间": "When they agreed",
    "说明（必填，记入审计）": "Why (required, kept on the audit trail)",
}
