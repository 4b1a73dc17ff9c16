"""Messages of fee contracts, the fee-refund check, one-off charges and their payouts: code → (zh, en)."""

from __future__ import annotations

MESSAGES_FEES: dict[str, tuple[str, str]] = {
    "fees.unknown_channel": (
        "未知的收款渠道：{channel}（可选银行卡、微信支付、支付宝、银联二维码）",
        "Unknown channel: {channel} (card / wechat / alipay / unionpay_qr)",
    ),
    "fees.unknown_card_type": (
        "未知的卡种：{card_type}（可选借记卡、贷记卡、外卡、钱包、不限）",
        "Unknown card type: {card_type} (debit / credit / foreign / wallet / any)",
    ),
    "fees.invalid_rate": (
        "{channel} 的费率无效：须为 0 至 {max_ppm} 之间的整数（百万分之一，0.6% = 6000）",
        "Invalid rate for {channel}: a whole number from 0 to {max_ppm} (parts per million, 0.6% = 6000)",
    ),
    "fees.invalid_rate_text": (
        "费率格式不正确：请填写百分比，如 0.60 或 0.555",
        "The rate is not a percentage such as 0.60 or 0.555",
    ),
    "fees.invalid_band": (
        "{channel} 的金额分档起点无效：须为不小于 0 的分",
        "Invalid band start for {channel}: fen ≥ 0",
    ),
    "fees.invalid_minimum": (
        "{channel} 的最低手续费无效：须为不小于 0 的分",
        "Invalid minimum fee for {channel}: fen ≥ 0",
    ),
    "fees.cap_below_minimum": (
        "{channel} 的封顶金额不能低于最低手续费",
        "The cap for {channel} cannot be below its minimum fee",
    ),
    "fees.invalid_period": ("生效期间无效：结束日早于开始日", "Invalid period: it ends before it starts"),
    "fees.no_rules": ("费率合同至少需要一条费率", "A fee contract needs at least one rule"),
    "fees.duplicate_rule": (
        "同一渠道、卡种、金额分档的费率只能有一条",
        "Only one rule per channel, card type and amount band",
    ),
    "fees.period_overlap": (
        "新的费率期间（自 {effective_from} 起）与已有期间重叠：调价只能从已有期间之后开始，历史不可改写",
        "The new period (from {effective_from}) overlaps an existing one: a change starts after the periods "
        "already recorded; history is not rewritten",
    ),
    "fees.period_not_found": ("费率期间不存在", "Fee period not found"),
    "fees.consent_already_recorded": (
        "该期间的商户同意已记录，不能再次修改",
        "Consent to this period is already recorded",
    ),
    "fees.no_contract": ("该商户尚未录入费率合同，无法核查手续费", "The merchant has no fee contract to check against"),
    "fees.range_too_long": ("核查期间过长（最多 {max_days} 天）", "The period is too long (at most {max_days} days)"),
    "fees.invalid_status": ("状态无效：{status}", "Invalid status: {status}"),
    "fees.case_not_found": ("退费案件不存在", "Fee refund case not found"),
    "fees.case_not_open": (
        "该退费案件已处理（当前状态：{status}）",
        "This fee refund case was already decided ({status})",
    ),
    "fees.case_not_approved": (
        "该退费案件尚未批准，不能登记付款（当前状态：{status}）",
        "This fee refund case is not approved; no payout can be recorded ({status})",
    ),
    "fees.case_changed": (
        "退费案件已被他人修改，请刷新后重试",
        "The case was changed by someone else; reload and retry",
    ),
    "fees.self_approval": ("不能审批自己发起的退费", "You may not approve a payout you opened"),
    "fees.same_person": (
        "批准人不能同时登记转账，请由另一人确认付款",
        "Who approved it may not also record the transfer",
    ),
    "fees.reason_required": ("驳回时必须填写原因", "A rejection needs a reason"),
    "fees.transfer_ref_required": ("请填写银行转账流水号", "The bank transfer reference is required"),
    "fees.invalid_terms": ("退还条件无效（{kind}）", "Invalid refund terms ({kind})"),
    "fees.invalid_charge_kind": ("费用类型无效：{kind}", "Invalid charge kind: {kind}"),
    "fees.invalid_charge_amount": (
        "费用金额无效：须大于 0 且不超过 {max_fen}",
        "Invalid charge amount: more than 0 and at most {max_fen}",
    ),
    "fees.charge_not_found": ("该笔费用不存在", "Charge not found"),
    "fees.charge_refund_pending": (
        "该笔费用已有退还申请在处理或已退还",
        "A refund of this charge is already under way or paid",
    ),
    # the reasons a decision names (shown with its computation)
    "fees.charge_refundable": ("符合退还条件", "The terms are met"),
    "fees.charge_not_refundable": ("按约定不予退还", "Not refundable under its terms"),
    "fees.volume_not_reached": ("交易量未达到退还条件", "The volume the terms require was not reached"),
    "fees.device_not_returned": ("机具尚未退回", "The device has not been returned"),
    "fees.device_return_late": ("机具退回已超过期限", "The device came back after the deadline"),
}
