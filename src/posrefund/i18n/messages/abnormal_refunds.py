"""Refusals of an abnormal WeChat Pay refund sent to a bank card (异常退款至银行卡)."""

from __future__ import annotations

MESSAGES_ABNORMAL_REFUNDS: dict[str, tuple[str, str]] = {
    "abnormal_refund.not_wechat": (
        "只有微信支付的退款可以申请异常退款至银行卡",
        "Only a WeChat Pay refund can be sent to a bank card as an abnormal refund",
    ),
    "abnormal_refund.not_abnormal": (
        "只有退款异常的退款单可以申请退款至银行卡",
        "Only an abnormal refund can be sent to a bank card",
    ),
    "abnormal_refund.no_channel_refund": (
        "微信支付尚未告知该笔退款的微信退款单号，无法申请异常退款",
        "WeChat Pay has not told this refund's WeChat refund id: it cannot be sent to a card",
    ),
    "abnormal_refund.not_supported": (
        "该支付渠道不支持异常退款至银行卡",
        "This payment channel cannot send an abnormal refund to a bank card",
    ),
    "abnormal_refund.already_applied": (
        "该退款单已申请过退款至银行卡，不能再次申请",
        "This refund was already sent to a bank card; it cannot be applied for again",
    ),
    "abnormal_refund.outcome_unknown": (
        "上一次申请的结果尚不确定，请稍后再试",
        "The outcome of the previous application is not known yet; try again later",
    ),
    "abnormal_refund.in_flight": (
        "已申请退款至银行卡，结果尚不确定：请先再次提交该申请（会先向微信支付查询），在此之前不能改用其他方式退款或关闭",
        "A refund to a bank card was applied for and its outcome is not known: apply again first (WeChat Pay is "
        "asked before anything is sent); until then it cannot be paid another way or closed",
    ),
    "abnormal_refund.consent_required": (
        "须登记顾客的同意：由谁同意、以何种方式、何时同意",
        "The customer's consent must be recorded: who agreed, how and when",
    ),
    "abnormal_refund.consent_channel": (
        "顾客同意的方式须为电话或柜台",
        "The customer's consent must have been given by phone or at the counter",
    ),
    "abnormal_refund.consent_time": (
        "同意时间须带时区且不能晚于现在",
        "The time of consent must carry a time zone and not be in the future",
    ),
    "abnormal_refund.invalid_kind": (
        "请选择退款至用户银行卡或商户银行账户",
        "Choose the customer's bank card or the merchant's bank account",
    ),
    "abnormal_refund.invalid_bank": (
        "请从列表中选择开户银行（仅支持15家银行的借记卡）",
        "Choose the bank from the list (debit cards of 15 banks only)",
    ),
    "abnormal_refund.invalid_account": (
        "银行卡号须为8至30位数字",
        "The bank card number must be 8 to 30 digits",
    ),
    "abnormal_refund.invalid_name": (
        "请填写收款人真实姓名（不超过50个字，不含数字）",
        "Enter the account holder's real name (up to 50 characters, no digits)",
    ),
    "abnormal_refund.none": ("该退款单没有退款至银行卡的申请", "This refund has no application to a bank card"),
    "abnormal_refund.declined": (
        "微信支付拒绝了该申请（{channel_code}），退款仍为异常，可核对银行卡信息后重新申请",
        "WeChat Pay refused the application ({channel_code}); the refund stays abnormal: check the card, apply again",
    ),
}
