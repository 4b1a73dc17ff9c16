"""Messages of the web console: form checks and sign-in, zh / en."""

from __future__ import annotations

MESSAGES_CONSOLE: dict[str, tuple[str, str]] = {
    "console.staff_only": ("控制台仅供商户员工使用", "The console is for merchant staff only"),
    "console.csrf": ("表单已过期，请刷新页面后重试", "This form has expired; reload the page and try again"),
    "console.signed_out_idle": (
        "长时间未操作，已自动退出，请重新登录",
        "Signed out after inactivity; please sign in again",
    ),
    "console.invalid_amount": (
        "请输入正确的金额（元，最多两位小数）",
        "Enter an amount in yuan with at most 2 decimals",
    ),
    "console.invalid_date": ("请输入正确的日期（年-月-日）", "Enter a date as YYYY-MM-DD"),
    "console.invalid_number": ("请输入正整数", "Enter a whole number"),
    "console.too_long": ("内容过长（最多 {max} 字）", "Too long (at most {max} characters)"),
    "console.invalid_choice": ("请选择列表中的一项", "Choose one of the listed options"),
    "console.search_empty": ("未找到符合条件的消费记录", "No sale matches"),
    "console.exceeds_refundable": (
        "退款金额 {amount} 超过可退金额 {refundable}",
        "{amount} is more than the {refundable} left",
    ),
    "followup.invalid_channel": ("联系方式无效：{channel}", "Invalid contact channel: {channel}"),
    # the one search box in the header, and "my refunds"
    "search.empty": (
        "请输入退款单号、凭证号、订单号、手机号后四位，或卡号后四位加金额",
        "Type a refund no., voucher no., order no., phone last 4, or card last 4 and an amount",
    ),
    "search.invalid_last4": ("后四位须是 4 位数字", "The last 4 must be four digits"),
    "search.invalid_text": ("查询内容无效（最多 {max} 字）", "Not a valid search (at most {max} characters)"),
    "search.invalid_status": ("请选择列表中的状态", "Choose one of the listed states"),
    "search.nothing_found": ("没有找到符合的退款单或消费记录", "No refund or sale matches"),
    "case.reroute_method": ("请选择改道方式：现金或银行转账", "Choose how to pay instead: cash or bank transfer"),
}
