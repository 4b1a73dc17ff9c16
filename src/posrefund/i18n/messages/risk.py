"""Messages of risk warnings on refunds: code → (zh, en)."""

from __future__ import annotations

MESSAGES_RISK: dict[str, tuple[str, str]] = {
    "risk.unknown_rule": ("没有这条风险规则：{rule}", "No such risk rule: {rule}"),
    "risk.invalid_setting": (
        "风险规则 {rule} 的设置 {field} 无效（未知名称，或超出允许范围）",
        "Setting {field} of risk rule {rule} is invalid (unknown name, or outside its bounds)",
    ),
    "risk.invalid_window": (
        "时间范围无效：须带时区，开始早于结束，最长 {max_days} 天",
        "Invalid time range: timezone-aware, start before end, at most {max_days} days",
    ),
    "risk.invalid_filter": ("筛选条件无效：{value}", "Invalid filter: {value}"),
    "risk.alert_not_found": ("风险预警不存在", "Risk alert not found"),
    "risk.invalid_decision": (
        "处理结果无效：{status}（可选调查中、已确认、已排除）",
        "Invalid decision: {status} (investigating / confirmed / dismissed)",
    ),
    "risk.reason_required": ("排除预警须说明理由", "Dismissing an alert needs a reason"),
    "risk.reason_too_long": ("理由最长 {max} 个字符", "The reason is at most {max} characters"),
    "risk.invalid_transition": (
        "预警当前为 {current}，不能改为 {target}",
        "The alert is {current} and cannot become {target}",
    ),
    "risk.alert_changed": (
        "预警刚被他人修改，请刷新后重试",
        "The alert was just changed by someone else: reload and try again",
    ),
    "risk.not_held": ("这笔退款没有被风险预警拦下，无需复核", "This refund is not held by a risk alert"),
    "risk.hold_same_person": (
        "复核须由另一人进行：申请人和审批人不能放行或拦截自己经手的退款",
        "The second review needs another person: the requester and the approvers may not decide it",
    ),
    "risk.hold_awaits_approval": (
        "这笔退款还未审批，审批通过后才能放行",
        "This refund is not approved yet: it can be released only after approval",
    ),
}
