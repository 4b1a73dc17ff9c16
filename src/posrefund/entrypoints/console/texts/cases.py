"""Screen text of a case's steps after review, the header's search, a sale's page and "my refunds": the
English of their Chinese, and the labels of refund routes, channel answers and hand-settled outcomes."""

from __future__ import annotations

LABELS_CASES: dict[str, dict[str, tuple[str, str]]] = {
    # how the money goes back, once the worker chose (the case's method)
    "method": {
        "refund": ("原路退回", "Back the way it was paid"),
        "void": ("撤销原交易（原路退回）", "Sale voided (back the way it was paid)"),
        "reversal": ("冲正", "Reversal"),
        "cash": ("现金退款（收银台付现）", "Cash from the till"),
        "cheque": ("支票退款", "By cheque"),
        "transfer": ("银行转账", "Bank transfer"),
    },
    # how it will go back, before the worker chose: by the sale's channel
    "route_of_channel": {
        "card": ("原路退回", "Back the way it was paid"),
        "wechat": ("原路退回", "Back the way it was paid"),
        "alipay": ("原路退回", "Back the way it was paid"),
        "unionpay_qr": ("原路退回", "Back the way it was paid"),
        "cash": ("现金退款（收银台付现）", "Cash from the till"),
        "cheque": ("支票退款", "By cheque"),
    },
    "outcome": {
        "accepted": ("已受理", "Accepted"),
        "succeeded": ("成功", "Succeeded"),
        "declined": ("拒绝", "Declined"),
        "closed": ("已关闭", "Closed"),
        "abnormal": ("异常", "Abnormal"),
        "not_found": ("渠道无此单", "Not known to the channel"),
        "unknown": ("结果未知", "Unknown"),
        "unresolved": ("无法再查询", "No more enquiries"),
        "not_sent": ("未发出", "Never sent"),
    },
    # what a person settles an abnormal or unknown refund with
    "resolve_to": {
        "succeeded": ("已退款成功（有证明）", "Paid (proven)"),
        "failed": ("退款失败（未付款）", "Failed (nothing paid)"),
        "closed": ("关闭并释放金额", "Close and release the amount"),
        "processing": ("重新查询渠道", "Ask the channel again"),
        "abnormal": ("转为异常，继续人工处理", "Abnormal: stays with a person"),
    },
    "event": {
        "refund.renumbered": ("换新单号重发", "Sent again under a new number"),
        "refund.settled_by_file": ("按对账单认定", "Settled by the settlement file"),
        "notify.resent": ("重新通知顾客", "Customer notified again"),
    },
}

EN_CASES: dict[str, str] = {
    # header search and results
    "查找退款或消费": "Find a refund or a sale",
    "搜索": "Search",
    "退款单号 / 凭证号 / 订单号 / 手机后四位 / 卡号后四位 金额": (
        "Refund no. / voucher no. / order no. / phone last 4 / card last 4 + amount"
    ),
    "可输入：退款单号、凭证号、订单号、顾客手机后四位，或卡号后四位加金额（如 6789 88.00）。": (
        "Type a refund no., a voucher no., an order no., the customer's phone last 4, "
        "or a card's last 4 and the amount (e.g. 6789 88.00)."
    ),
    "消费记录": "Sale",
    "该消费的退款": "Refunds of this sale",
    "我的退款": "My refunds",
    "没有符合条件的退款。": "No refund matches.",
    # the case's steps
    "确认付款": "Confirm the payout",
    "请从收银台取现金交给顾客，然后由第二人确认已付款。": (
        "Take the cash from the till and hand it to the customer; then a second person confirms it was paid."
    ),
    "请开具支票交给顾客，兑付后由第二人确认。": (
        "Write a cheque for the customer; once it has cleared, a second person confirms it."
    ),
    "请通过银行转账付款，到账后由第二人确认。": (
        "Pay by bank transfer; once it has arrived, a second person confirms it."
    ),
    "须由以下人员以外的同事确认：": "To be confirmed by a colleague other than:",
    "可确认的角色：": "Roles that may confirm: ",
    "收银台号或银行流水号（可空）": "Till no. or bank reference (optional)",
    "确认已付款": "Confirm it was paid",
    "处理": "Actions",
    "重新发起退款": "Send the refund again",
    "重试原因": "Why it is sent again",
    "重新发起": "Send again",
    "人工处理": "Settle by hand",
    "渠道已无法查询结果：请根据对账单或银行证明认定结果。": (
        "The channel can no longer tell: settle it from the settlement file or the bank's proof."
    ),
    "退款异常：核实后选择处理结果。": "The refund is abnormal: check, then choose the outcome.",
    "处理结果": "Outcome",
    "依据（必填，记入审计）": "Proof (required, kept in the audit trail)",
    "提交处理结果": "Record the outcome",
    "改道退款": "Pay another way",
    "原路无法退回时（卡已注销、账户已关闭）：需由申请人以外的主管批准并说明原因；付款后还须由另一人确认。": (
        "When the original route cannot take it back (card cancelled, account closed): a supervisor other "
        "than the requester approves it with a reason; once paid, another person confirms it."
    ),
    "改为": "Pay by",
    "改道原因（必填）": "Why (required)",
    "批准改道": "Approve paying another way",
    "撤回申请": "Withdraw the request",
    "撤回原因": "Why it is withdrawn",
    "撤回退款申请": "Withdraw the refund request",
    "通知顾客": "Tell the customer",
    "已重新发送当前状态的通知。": "The message of the current state was queued again.",
    "重新通知顾客": "Notify the customer again",
    # the desk's answer for cash and cheque sales
    "已批准：现金退款": "Approved: refund in cash",
    "请从收银台取现金交给顾客，然后由第二人在退款单上确认已付款。": (
        "Take the cash from the till and hand it to the customer; then a second person confirms it on the refund."
    ),
    "已批准：支票退款": "Approved: refund by cheque",
    "请开具支票交给顾客，兑付后由第二人在退款单上确认。": (
        "Write a cheque for the customer; once it has cleared, a second person confirms it on the refund."
    ),
}
