"""Messages of fund holds (card 预授权, Alipay 资金授权冻结): code → (zh, en)."""

from __future__ import annotations

MESSAGES_HOLDS: dict[str, tuple[str, str]] = {
    "hold.invalid_amount": ("金额须大于零", "The amount must be above zero"),
    "hold.step_not_asked": (
        "该操作不能在此发起：预授权由终端刷卡发起，完成撤销只适用于银行卡预授权",
        "This operation cannot be asked here: a card hold comes from the terminal, and only a card completion can "
        "be cancelled",
    ),
    "hold.above_ceiling": (
        "完成金额 {amount_fen}超过可完成的上限 {limit_fen}（预授权金额加上卡组织允许的比例）",
        "A completion of {amount_fen} exceeds the {limit_fen} allowed (the authorised amount plus the scheme's "
        "tolerance)",
    ),
    "hold.expired": (
        "该预授权已过有效期，发卡行已自动解冻，不能再完成或撤销",
        "The hold has expired: the issuer released it, it can be neither completed nor released",
    ),
    "hold.already_completed": (
        "该预授权已完成，不能再撤销；如需退钱，请对完成的交易发起退货",
        "The hold is completed and cannot be released; refund the completion instead",
    ),
    "hold.not_held": (
        "该预授权已完成、撤销或过期，不能再做此操作",
        "The hold is already completed, released or expired: this cannot be done now",
    ),
    "hold.not_completed": (
        "该预授权尚未完成，没有可撤销的预授权完成",
        "The hold has not been completed: there is no completion to cancel",
    ),
    "hold.invalid_transition": (
        "该预授权的状态不允许此变化",
        "The hold's state does not allow this change",
    ),
    "hold.completion_by_notice": (
        "以通知方式（离线）做的预授权完成不能撤销，请对它发起退货",
        "A completion sent as a notification cannot be cancelled: refund it instead",
    ),
    "hold.completion_other_day": (
        "预授权完成撤销只能在完成当日、同一批次内进行（完成于 {completed_at}），请对它发起退货",
        "A completion can only be cancelled on its own day and batch (completed {completed_at}): refund it instead",
    ),
    "hold.cancel_amount": (
        "撤销金额 {amount_fen}须等于完成金额 {limit_fen}",
        "A cancel of {amount_fen} must be for the whole completion of {limit_fen}",
    ),
}
MESSAGES_HOLDS |= {
    "hold.invalid_field": ("预授权字段无效：{field}", "Invalid pre-authorisation field: {field}"),
    "hold.not_found": ("该预授权不存在", "Pre-authorisation not found"),
    "hold.duplicate": ("该预授权已登记：{hold_no}", "This pre-authorisation is already recorded: {hold_no}"),
    "hold.operation_open": (
        "该预授权还有一项操作在处理中，请等它有结果后再操作",
        "Another operation on this pre-authorisation is still being processed: wait for its outcome",
    ),
    "hold.channel_unavailable": (
        "未开通支付宝资金授权，无法冻结",
        "Alipay fund authorisation is not configured: nothing can be frozen",
    ),
}
MESSAGES_HOLDS |= {
    "hold.not_retryable": (
        "该预授权没有可以重试的操作（只有被拒绝的撤销、被拒绝的冻结撤回可以重试）",
        "Nothing on this hold can be retried (only a refused release or a refused withdrawal of a freeze)",
    ),
    "hold.warning.release_declined": (
        "撤销/解冻被拒绝：{label}。资金可能仍被冻结，请核实后重试",
        "The release was refused: {label}. The money may still be held: check, then retry",
    ),
    "hold.warning.withdrawal_declined": (
        "结果未知的冻结撤回被拒绝：{label}。请核实后重试",
        "The withdrawal of a freeze whose outcome is unknown was refused: {label}. Check, then retry",
    ),
    "hold.warning.unresolved": (
        "操作结果无法确认：{label}。请以收单机构的对账文件为准人工处理",
        "The operation's outcome could not be settled: {label}. A person decides from the acquirer's file",
    ),
}
# What a channel's refusal code means, for the people reading the hold (Alipay's sub_code, the acquirer's field 39).
MESSAGES_HOLDS |= {
    "hold.channel_code.ORDER_ALREADY_CLOSED": ("支付宝：授权订单已经关闭", "Alipay: the freeze order is closed"),
    "hold.channel_code.ORDER_ALREADY_FINISH": ("支付宝：授权订单已经完结", "Alipay: the freeze order is finished"),
    "hold.channel_code.REQUEST_AMOUNT_EXCEED": (
        "支付宝：解冻金额超过剩余的冻结金额",
        "Alipay: the release exceeds what is still frozen",
    ),
    "hold.channel_code.AUTH_ORDER_NOT_EXIST": ("支付宝：授权订单不存在", "Alipay: no such freeze order"),
    "hold.channel_code.ILLEGAL_ARGUMENT": ("支付宝：参数有误或不允许此操作", "Alipay: invalid argument"),
    "hold.channel_code.ACCESS_FORBIDDEN": ("支付宝：无权限使用该接口", "Alipay: not allowed to use this method"),
    "hold.channel_code.12": ("银联：无效交易（预授权已撤销、已完成或已过期）", "UnionPay: invalid transaction"),
    "hold.channel_code.25": ("银联：找不到原始交易", "UnionPay: original transaction not found"),
    "hold.channel_code.64": ("银联：原始金额错误", "UnionPay: original amount incorrect"),
    "hold.channel_code.other": ("渠道拒绝，代码 {code}", "Refused by the channel, code {code}"),
}
