"""Screen text of a shift's work: item-level refunds, the printable refund slip, the audit browser and the
administration pages added for them."""

from __future__ import annotations

EN_SHIFT: dict[str, str] = {
    "商品明细": "Items",
    "商品": "Item",
    "数量": "Qty",
    "单价": "Unit price",
    "实付": "Paid",
    "已退": "Refunded",
    "退款中": "Being refunded",
    "可退数量": "Refundable qty",
    "本次退货数量": "Qty to refund now",
    "所选商品应退": "The chosen items refund",
    "选择退货数量后，系统按实付金额计算应退金额。": (
        "Choose quantities: the amount is computed from what was paid for them."
    ),
    "退商品时请留空，金额由系统按所选数量计算；只退金额（如错收差额）时填写。": (
        "Leave empty when returning items: the amount is computed from the quantities chosen. Fill it in "
        "only to refund an amount (such as an overcharge)."
    ),
    "本单退货商品": "Items this refund covers",
    "退货数量": "Qty refunded",
    "打印退款单": "Print refund slip",
    "退款凭条": "Refund slip",
    "纸张": "Paper",
    "返回退款单": "Back to the refund",
    "A4 纸": "A4 paper",
    "80 毫米小票": "80 mm receipt",
    "58 毫米小票": "58 mm receipt",
    "打印": "Print",
    "商户": "Merchant",
    "门店": "Store",
    "终端号": "Terminal no.",
    "原消费参考号": "Sale reference no.",
    "退款方式": "Refund route",
    "预计到账（估计）": "Expected arrival (estimate)",
    "以银行或支付机构处理为准": "As the bank or payment institution processes it",
    "付款账户": "Paid from",
    "申请时间": "Requested at",
    "扫码查看退款进度": "Scan to follow the refund",
    "审计日志": "Audit log",
    "已签发终端密钥，仅显示这一次，请立即配置到终端：": (
        "Terminal key issued. It is shown only this once: set it on the terminal now:"
    ),
    "终端密钥": "Terminal key",
    "签发新密钥": "Issue a new key",
    "解除锁定": "Unlock",
    "本店现行退款政策（只读；如需修改请联系管理员）。": (
        "The refund policy in force (read only; ask an admin to change it)."
    ),
    "预览对近 30 天退款的影响": "Preview the effect on the last 30 days' refunds",
    "修改后的影响（近 30 天）": "Effect of the change (last 30 days)",
    "按提交时的消费、金额、原因、凭证和顾客手机，重新判断近 30 天的退款：": (
        "The last 30 days' refunds judged again as they were asked (sale, amount, reason, evidence, phone):"
    ),
    "笔": "refunds",
    "仅最近的部分": "the newest only",
    "尚未保存。": "Nothing saved yet.",
    "项目": "Item",
    "现行政策": "Policy in force",
    "修改后": "As changed",
    "需要主管审核": "Needing a supervisor's review",
    "需要双人审批": "Needing two approvers",
    "将被拒绝": "Refused",
    "审计链完整": "Audit chain intact",
    "审计链校验结果": "Audit chain check",
    "校验审计链": "Verify the chain",
    "重新计算本商户的哈希链，并与已签名的检查点核对。": (
        "Recomputes this merchant's hash chain and holds it against the signed checkpoints."
    ),
    "操作人": "By",
    "操作": "Action",
    "开始日期": "From",
    "结束日期": "To",
    "没有符合条件的审计事件。": "No audit events match.",
    "时间": "When",
    "系统": "System",
    "退款单": "Refund",
    "查看": "Open",
    "链序号": "Chain no.",
    "待入链": "Waiting to be chained",
    "详情": "Details",
    "更早的事件": "Older events",
    "到账时间为估计，实际以银行或支付机构为准。请保留本凭条。": (
        "The arrival date is an estimate; the bank or payment institution decides. Keep this slip."
    ),
}

LABELS_SHIFT: dict[str, dict[str, tuple[str, str]]] = {
    # the rules a policy preview counts refusals by
    "policy_rule": {
        "refund.amount_not_positive": ("金额不为正", "Amount not above zero"),
        "refund.exceeds_refundable": ("超过可退金额", "Above the refundable amount"),
        "policy.window_expired": ("超过退款期限", "Past the refund window"),
        "policy.channel_window_expired": ("超过渠道退款期限", "Past the channel's window"),
        "policy.partial_limit": ("超过退款次数上限", "Too many partial refunds"),
        "policy.evidence_required": ("缺少所需凭证", "Evidence missing"),
        "policy.customer_phone_required": ("未留顾客手机", "No customer phone"),
        "policy.not_a_deposit": ("不是定金消费", "Not a deposit sale"),
    },
    "event": {
        "refund.items_held": ("登记退货商品", "Items recorded"),
        "refund.slip_printed": ("打印退款凭条", "Refund slip printed"),
        "user.created": ("新增操作员", "Operator created"),
        "user.deactivated": ("停用操作员", "Operator deactivated"),
        "user.activated": ("启用操作员", "Operator reactivated"),
        "user.role_changed": ("修改角色", "Role changed"),
        "user.password_reset": ("重置密码", "Password reset"),
        "user.password_changed": ("修改本人密码", "Own password changed"),
        "user.signed_out_everywhere": ("在所有设备退出", "Signed out everywhere"),
        "user.locked": ("登录失败过多被锁定", "Locked after failed sign-ins"),
        "user.unlocked": ("解除锁定", "Unlocked"),
        "apikey.created": ("签发终端密钥", "Terminal key issued"),
        "apikey.revoked": ("吊销终端密钥", "Terminal key revoked"),
        "policy.updated": ("修改退款政策", "Refund policy changed"),
        "store.created": ("新增门店", "Store created"),
        "terminal.created": ("新增终端", "Terminal created"),
        "merchant.created": ("开通商户", "Merchant created"),
        "merchant.settlement_account_changed": ("变更结算账户", "Settlement account changed"),
        "sale.recorded": ("记录消费", "Sale recorded"),
        "sale.imported": ("导入消费", "Sales imported"),
        "evidence.uploaded": ("上传凭证", "Evidence uploaded"),
        "tracking.link_shown": ("出示进度查询链接", "Tracking link shown"),
    },
}
