"""Screen text of the holds pages (预授权和资金冻结): the open holds on the deposits page and one hold's page with
its references, operations and the counter's forms."""

from __future__ import annotations

EN_HOLDS: dict[str, str] = {
    "预授权和资金冻结": "Pre-authorisations and fund freezes",
    "没有未完成的预授权或资金冻结。": "No pre-authorisation or fund freeze is open.",
    "找到多笔预授权，请选择：": "Several pre-authorisations found; choose one:",
    "渠道": "Channel",
    "冻结金额": "Amount held",
    "卡号": "Card",
    "冻结日": "Held on",
    "到期日": "Expires",
    "即将到期": "Expires soon",
    "到期前请完成或撤销预授权：到期后发卡行自动释放，不能再完成。": (
        "Complete or release a pre-authorisation before it expires: the issuer then releases it and it can no "
        "longer be completed."
    ),
    "操作已提交，正在处理，请稍后刷新本页查看结果。": (
        "Asked and being processed: refresh this page shortly for the outcome."
    ),
    "仍冻结": "Still held",
    "最多可完成": "Most a completion may take",
    "冻结时间": "Held at",
    "已完成金额": "Completed for",
    "凭证信息": "Slip references",
    "批次号": "Batch",
    "授权码": "Authorisation code",
    "参考号": "Reference number (RRN)",
    "预授权编号": "Hold number",
    "查看完成后的消费": "See the sale the completion became",
    "预授权完成": "Complete the pre-authorisation",
    "按最终账单金额完成，最多": "Complete for the final bill, at most",
    "（授权金额加上卡组织允许的超出部分）。完成后其余金额立即释放。": (
        " (the authorised amount plus what the card scheme allows above it). The rest is released at once."
    ),
    "完成金额（元）": "Final amount (yuan)",
    "备注": "Note",
    "完成": "Complete",
    "预授权撤销": "Release the pre-authorisation",
    "不收取任何金额，全额释放给顾客。": "Take nothing: the whole amount goes back to the customer.",
    "撤销预授权": "Release",
    "预授权完成撤销": "Cancel the completion",
    "仅限完成当天：撤销后整笔预授权恢复冻结。": "Same day only: the whole pre-authorisation is held again.",
    "撤销完成": "Cancel the completion",
    "操作记录": "Operations",
    "还没有操作。": "No operation yet.",
    "操作": "Operation",
    "提交人": "Asked by",
    "提交时间": "Asked at",
    "处理结果": "Outcome",
    "应答码": "Answer code",
    "登记预授权或资金冻结": "Record a pre-authorisation or a fund freeze",
    "钱只冻结、不扣款：退房或结账时按实际金额完成，多余部分撤销。": (
        "The money is held, not taken: complete it for the final bill at check-out and release the rest."
    ),
    "银行卡预授权（按签购单登记）": "Card pre-authorisation (from the terminal's slip)",
    "终端已完成预授权后，按签购单上的内容填写。不要填写完整卡号。": (
        "Once the terminal has made the pre-authorisation, copy its slip. Never type the whole card number."
    ),
    "预授权金额（元）": "Amount held (yuan)",
    "交易时间（北京时间）": "Time on the slip (Beijing time)",
    "只填后四位，系统不接收完整卡号": "The last four only: the whole card number is never accepted",
    "登记预授权": "Record the pre-authorisation",
    "支付宝资金冻结": "Alipay fund freeze",
    "请顾客出示支付宝付款码并扫描或输入；付款码只用这一次，不会保存。": (
        "Ask the customer for their Alipay payment code and scan or type it; it is used once and never kept."
    ),
    "冻结金额（元）": "Amount to freeze (yuan)",
    "付款码": "Payment code",
    "顾客支付宝里的付款码数字": "The digits of the payment code in the customer's Alipay",
    "订单标题": "Order title",
    "顾客在支付宝里看到的标题，例如：房间押金": "The title the customer sees in Alipay, e.g. 房间押金 (room deposit)",
    "冻结到期日": "Freeze ends on",
    "到期仍未完成的冻结将自动解冻": "A freeze not completed by then is released by itself",
    "发起冻结": "Freeze",
}

LABELS_HOLDS: dict[str, dict[str, tuple[str, str]]] = {
    "hold_channel": {
        "card": ("银行卡预授权", "Card pre-authorisation"),
        "alipay": ("支付宝资金冻结", "Alipay fund freeze"),
    },
    "hold_state": {
        "holding": ("冻结处理中", "Being frozen"),
        "failed": ("冻结失败", "Freeze refused"),
        "cancelled": ("冻结已撤回", "Freeze withdrawn"),
        "held": ("冻结中", "Held"),
        "completed": ("已完成", "Completed"),
        "released": ("已撤销", "Released"),
        "expired": ("已过期", "Expired"),
    },
    "hold_step": {
        "complete": ("预授权完成", "Completion"),
        "release": ("预授权撤销", "Release"),
        "cancel_completion": ("预授权完成撤销", "Completion cancelled"),
        "hold": ("资金冻结", "Freeze"),
    },
    "hold_operation": {
        "pending": ("排队中", "Queued"),
        "processing": ("处理中", "Processing"),
        "succeeded": ("成功", "Succeeded"),
        "declined": ("被拒绝", "Declined"),
        "unresolved": ("待人工核实", "Awaiting a person's check"),
    },
}
