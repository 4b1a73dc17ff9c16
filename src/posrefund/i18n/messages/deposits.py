"""Messages of deposits (定金, 订金, 押金) and their refunds: code → (zh, en)."""

from __future__ import annotations

MESSAGES_DEPOSITS: dict[str, tuple[str, str]] = {
    "deposit.invalid_field": ("押金/定金字段无效：{field}", "Invalid deposit field: {field}"),
    "deposit.invalid_kind": (
        "款项类型无效：{kind}（可选定金、订金、押金）",
        "Invalid kind: {kind} (deposit 定金 / advance 订金 / security 押金)",
    ),
    "deposit.invalid_ending": ("结果无效：{ending}", "Invalid ending: {ending}"),
    "deposit.not_found": ("该定金/订金/押金记录不存在", "Deposit not found"),
    "deposit.terms_not_found": ("该退还条款模板不存在", "Deposit terms template not found"),
    "deposit.terms_duplicate": ("已有同名的条款模板：{name}", "A terms template of this name exists: {name}"),
    "deposit.proposal_not_found": ("该退还方案不存在", "Refund proposal not found"),
    "deposit.payout_not_found": ("该罚金支付记录不存在", "Penalty payout not found"),
    "deposit.already_recorded": ("该笔收款已登记为定金/订金/押金", "This payment is already recorded as a deposit"),
    "deposit.sale_not_deposit": (
        "该笔收款类型为 {sale_kind}，不是条款所写的 {kind}",
        "The payment is of kind {sale_kind}, not the {kind} the terms are for",
    ),
    "deposit.contract_below_paid": (
        "合同金额 {contract_value_fen}低于已付定金",
        "The contract value of {contract_value_fen} is below the amount paid",
    ),
    "deposit.ending_not_for_kind": (
        "结果 {ending} 不适用于该类款项（{kind}）",
        "The ending {ending} does not apply to this kind ({kind})",
    ),
    "deposit.deductions_not_allowed": (
        "定金不能扣除费用：按定金罚则退还或不退",
        "Nothing is deducted from earnest money (定金): the 定金 rules decide",
    ),
    "deposit.costs_not_allowed": (
        "条款不允许扣除成本，或商户违约时不得扣除（结果：{ending}）",
        "The terms allow no costs to be deducted, or the merchant broke the deal (ending: {ending})",
    ),
    "deposit.deductions_exceed_terms": (
        "扣除合计 {deducted_fen}超过条款允许的 {limit_fen}",
        "Deductions of {deducted_fen} exceed the {limit_fen} the terms allow",
    ),
    "deposit.deduction_reason_required": (
        "第 {index} 项扣款须写明理由",
        "Deduction {index} needs a reason",
    ),
    "deposit.deduction_evidence_required": (
        "第 {index} 项扣款须附凭证编号",
        "Deduction {index} needs an evidence reference",
    ),
    "deposit.override_reason_required": ("调整金额须说明理由", "An override needs a reason"),
    "deposit.override_exceeds_paid": (
        "原路退还合计 {back_total_fen}超过已付 {paid_fen}：原路退回不能多于收款",
        "{back_total_fen} back by the original route exceeds the {paid_fen} paid",
    ),
    "deposit.override_penalty_too_large": (
        "罚金 {penalty_total_fen}超过定金金额",
        "A penalty of {penalty_total_fen} exceeds the deposit",
    ),
    "deposit.proposal_required": (
        "该款项有退还条款：须先计算并由主管确认退还方案",
        "This deposit has terms: a refund proposal must be accepted first",
    ),
    "deposit.exceeds_terms": (
        "退款 {amount_fen}超过条款允许的 {allowed_fen}（可由主管调整并说明理由）",
        "A refund of {amount_fen} exceeds the {allowed_fen} its terms allow (a supervisor may override)",
    ),
    "deposit.proposal_closed": (
        "该退还方案已处理（{status}），请重新计算",
        "This proposal was already decided ({status}): compute a new one",
    ),
    "deposit.proposal_stale": (
        "方案计算后已有退款变化，请重新计算",
        "Refunds changed since the proposal was computed: compute a new one",
    ),
    "deposit.changed": ("记录刚被他人修改，请刷新后重试", "Changed by someone else: reload and try again"),
    "deposit.payout_not_awaiting": (
        "该罚金支付当前为 {status}，不能确认",
        "The payout is {status} and cannot be confirmed",
    ),
    "deposit.second_person_required": (
        "罚金转账须由确认方案以外的另一人确认已付",
        "The transfer is confirmed paid by someone other than who accepted the proposal",
    ),
    "deposit.cancel_reason_required": ("取消罚金转账须说明理由", "Cancelling a penalty transfer needs a reason"),
    "deposit.reference_required": ("须填写银行转账流水号", "The bank transfer reference is required"),
}
