"""Printable documents' refusals: the bank application (退费申请) and the refund-cause summaries."""

from __future__ import annotations

MESSAGES_DOCUMENTS: dict[str, tuple[str, str]] = {
    "bank_application.not_found": ("未找到该退费申请", "No such bank application"),
    "bank_application.not_card": (
        "只有银行卡交易的退款才能向银行提交退费申请（该笔原交易为 {channel}）",
        "Only a bank card sale's refund can be applied for at the bank (this sale was paid by {channel})",
    ),
    "bank_application.case_state": (
        "该退款单当前状态（{status}）不能再向银行申请退费",
        "A refund in this state ({status}) cannot be applied for at the bank",
    ),
    "bank_application.open_exists": (
        "该退款单已有一份未结束的退费申请，请先跟进该申请",
        "This refund already has an open bank application; follow that one up first",
    ),
    "bank_application.not_submitted": (
        "退费申请尚未递交银行（当前：{status}），不能登记银行结果",
        "The application has not been submitted to the bank yet ({status}); no outcome can be recorded",
    ),
    "bank_application.already_submitted": (
        "退费申请已递交银行（{status}），请登记银行结果",
        "The application was already submitted ({status}); record the bank's outcome instead",
    ),
    "bank_application.closed": (
        "退费申请已有结果（{status}），不能再修改",
        "The application already has its outcome ({status}); it cannot change",
    ),
    "bank_application.concurrent_update": (
        "退费申请刚被他人修改，请刷新后重试",
        "Someone else just changed the application; reload and try again",
    ),
    "bank_application.bad_reason": ("不支持的申请原因：{reason}", "Unknown reason for the application: {reason}"),
    "bank_application.bad_channel": ("不支持的递交方式：{channel}", "Unknown way of submitting: {channel}"),
    "bank_application.bad_outcome": (
        "银行结果只能是受理或拒绝：{outcome}",
        "The bank's outcome is accepted or rejected: {outcome}",
    ),
    "bank_application.text_required": ("请填写 {field}", "Please fill in {field}"),
    "bank_application.bad_submission_date": (
        "递交日期须在近一年内且不能晚于今天：{day}",
        "The submission date must be within the last year and not after today: {day}",
    ),
    "bank_application.bad_outcome_date": (
        "结果日期须在递交日期与今天之间：{day}",
        "The outcome's date must lie between the submission and today: {day}",
    ),
    "document.no_renderer": (
        "本服务未配置 PDF 生成（缺少中文字体），请联系管理员",
        "PDF printing is not set up here (no CJK font); ask the administrator",
    ),
    "summary.bad_period": (
        "周期格式不正确：月报为 YYYY-MM，周报为该周星期一 YYYY-MM-DD：{period}",
        "The period is YYYY-MM for a month or the Monday YYYY-MM-DD of a week: {period}",
    ),
    "summary.bad_cadence": ("订阅频率只能是周报或月报", "Cadence is weekly or monthly"),
    "summary.bad_email": ("邮箱地址不正确", "The email address is not valid"),
    "summary.subscription_not_found": ("没有该订阅", "No such subscription"),
}
