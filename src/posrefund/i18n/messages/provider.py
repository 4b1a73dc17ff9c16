"""Messages of the provider's desk — terminals and device returns (退机): code → (zh, en)."""

from __future__ import annotations

MESSAGES_PROVIDER: dict[str, tuple[str, str]] = {
    "device_return.no_refund": (
        "该退机没有需要付款的退款（当前：{status}）",
        "This return has no refund to pay ({status})",
    ),
    "provider.desk_not_set_up": (
        "服务商尚未开通机具业务（先建立服务商台账）",
        "The provider's desk is not set up yet: open it first",
    ),
    "provider.desk_exists": ("服务商台账已建立", "The provider's desk is already set up"),
    "provider.invalid_sn": ("机具序列号无效：4–64 位字母、数字或连字符", "Invalid SN: 4–64 letters, digits or hyphens"),
    "provider.invalid_route": (
        "支付方式无效：{route}（可选银行卡、微信支付、支付宝、银行转账）",
        "Invalid payment route: {route} (card / wechat / alipay / transfer)",
    ),
    "provider.invalid_charge_kind": (
        "附加费用类型无效：{charge_kind}（无附加费用时金额须为 0，押金或服务费须大于 0）",
        "Invalid charge kind: {charge_kind} (none with 0, deposit / service_charge with an amount)",
    ),
    "provider.invalid_amount": (
        "金额无效：须为正整数（分），不超过 10 万元",
        "Invalid amount: whole fen, at most 100,000 yuan",
    ),
    "provider.invalid_warranty": ("保修期须为 1–60 个月", "The warranty is 1–60 months"),
    "provider.dates_out_of_order": (
        "日期顺序不对：发放 ≤ 发货 ≤ 签收 ≤ 激活",
        "Dates out of order: issued ≤ shipped ≤ signed for ≤ activated",
    ),
    "provider.card_reference_required": (
        "刷卡支付须填写参考号、凭证号、批次号和授权码",
        "A card payment needs its RRN, voucher no., batch no. and authorization code",
    ),
    "provider.sn_taken": ("序列号 {sn} 已登记", "SN {sn} is already registered"),
    "provider.device_not_found": ("没有序列号为 {sn} 的机具", "No device with SN {sn}"),
    "provider.device_changed": ("机具刚被他人修改，请刷新后重试", "The device was just changed: reload and try again"),
    "device_return.not_found": ("退机申请不存在", "Device return not found"),
    "device_return.closed": ("退机申请已结束（{status}），不能再处理", "The device return is closed ({status})"),
    "device_return.invalid_step": (
        "退机申请当前为 {current}，不能转为 {target}",
        "The device return is {current} and cannot become {target}",
    ),
    "device_return.already_open": ("该机具已有进行中的退机申请", "This device already has an open return"),
    "device_return.terminal_not_returnable": (
        "该机具状态为 {state}，不能退机（已退回、已更换或已停用）",
        "This device is {state} and cannot be returned (returned, replaced or deactivated)",
    ),
    "device_return.not_signed_for": ("机具尚未签收，不能退机", "The device was never signed for: no return yet"),
    "device_return.outside_window": (
        "已超过 {window_days} 天无理由退机期限（{signed_on} 签收，已过 {days_since} 天）；仅保修期内故障可退",
        "Past the {window_days}-day no-reason window (signed for {signed_on}, {days_since} days ago): "
        "only a fault under warranty",
    ),
    "device_return.warranty_expired": ("保修期已于 {warranty_until} 结束", "The warranty ended on {warranty_until}"),
    "device_return.documents_missing": ("缺少材料：{missing}", "Documents missing: {missing}"),
    "device_return.document_type": (
        "{kind} 的文件类型不符，允许：{allowed}",
        "The file does not fit a {kind}; allowed: {allowed}",
    ),
    "device_return.document_too_large": (
        "文件过大：{size} 字节，最大 {max_bytes} 字节",
        "File too large: {size} bytes, at most {max_bytes}",
    ),
    "device_return.invalid_document_kind": ("材料类型无效：{kind}", "Invalid document kind: {kind}"),
    "device_return.invalid_reason": ("退机原因无效：{reason}（可选无理由退机或故障）", "Invalid reason: {reason}"),
    "device_return.invalid_inspection": (
        "验机结果无效：{inspection}（可选完好、损坏、缺少配件）",
        "Invalid inspection: {inspection} (intact / damaged / parts_missing)",
    ),
    "device_return.invalid_decision": (
        "处理结果无效：{decision}（可选全额退款、部分退款、换机、拒绝）",
        "Invalid decision: {decision}",
    ),
    "device_return.deductions_not_partial": ("全额退款不能有扣款项", "A full refund has no deductions"),
    "device_return.deductions_required": ("部分退款须逐项列明扣款", "A partial refund lists its deductions"),
    "device_return.too_many_deductions": ("扣款项最多 {max} 项", "At most {max} deductions"),
    "device_return.deduction_item": ("扣款项须写明名称（最长 100 字）", "Each deduction names its item (≤ 100)"),
    "device_return.deduction_amount": (
        "扣款项「{item}」的金额须为正整数（分）",
        "Deduction '{item}' needs a positive whole amount in fen",
    ),
    "device_return.deductions_exceed_paid": (
        "扣款合计 {deducted_fen}不少于已付 {paid_fen}：不是退款",
        "Deductions of {deducted_fen} are not less than the {paid_fen} paid",
    ),
    "device_return.refund_above_paid": (
        "退款 {refund_fen}超过商户已付的 {paid_fen}",
        "Refund of {refund_fen} is above the {paid_fen} paid",
    ),
    "device_return.refund_mismatch": (
        "退款金额 {refund_fen}与处理结果应退的 {expected_fen}不符",
        "Refund of {refund_fen} does not match the {expected_fen} the decision comes to",
    ),
    "device_return.changed": (
        "退机申请刚被他人修改，请刷新后重试",
        "The return was just changed: reload and try again",
    ),
}
