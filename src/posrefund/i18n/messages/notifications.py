"""Messages of notifications, follow-ups, contact log, disputes."""

from __future__ import annotations

MESSAGES_NOTIFY: dict[str, tuple[str, str]] = {
    "notify.unknown_event": ("未知的通知事件：{event}", "Unknown notification event: {event}"),
    "notify.unknown_language": (
        "不支持的语言：{language}（可选中文或英文）",
        "Unsupported language: {language} (zh, en)",
    ),
    "notify.template_invalid": (
        "模板无法生成消息（{field}）：{detail}",
        "The template does not render ({field}): {detail}",
    ),
    "notify.template_unsafe": (
        "模板会生成超过 {limit} 个字符的消息（{field}，{where}）：请减少替换等会加长文字的过滤器",
        "The template would make a message longer than {limit} characters ({field}, {where}): "
        "use fewer filters that lengthen text, such as replace",
    ),
    "notify.template_too_complex": (
        "模板过于复杂（{field}）：最多 {most} 个过滤器，此模板有 {count} 个",
        "The template is too complex ({field}): at most {most} filters, this one has {count}",
    ),
    "notify.template_bad_argument": (
        "模板中过滤器 {filter} 的参数 {argument} 无效（{field}）：{value}",
        "Invalid argument {argument} of filter {filter} in the template ({field}): {value}",
    ),
    "notify.template_not_found": ("该事件没有自定义模板", "There is no custom template for this event"),
    "notify.invalid_email": ("邮箱地址格式不正确", "Invalid email address"),
    "notify.invalid_openid": ("微信用户标识格式不正确", "Invalid WeChat openid"),
    "notify.invalid_scope": ("退订范围无效：{scope}", "Invalid opt-out scope: {scope}"),
    "notify.unknown_gateway_kind": (
        "未知的通知网关类型：{kind}（可选短信或微信）",
        "Unknown gateway kind: {kind} (sms, wechat)",
    ),
    "notify.invalid_gateway": (
        "网关配置无效（地址须以 http:// 或 https:// 开头，报文须对应收件人和正文）：{detail}",
        "Invalid gateway configuration: {detail}",
    ),
    "followup.not_paid": (
        "退款尚未完成（当前：{current}），不能确认收款",
        "The refund is not paid yet ({current}): receipt cannot be confirmed",
    ),
    "followup.not_found": ("该退款没有跟进任务", "This refund has no follow-up"),
    "followup.already_closed": ("跟进任务已关闭", "The follow-up is already closed"),
    "followup.invalid_status": ("跟进状态无效：{status}", "Invalid follow-up status: {status}"),
    "contact.invalid_kind": (
        "联系方式无效：{kind}（可选电话、消息、到店）",
        "Invalid contact kind: {kind} (call, message, visit)",
    ),
    "contact.invalid_direction": (
        "方向无效：{direction}（可选顾客来或我方去）",
        "Invalid direction: {direction} (in, out)",
    ),
    "contact.note_required": ("请填写联系内容", "Write what was said"),
    "dispute.not_found": ("争议不存在", "Dispute not found"),
    "dispute.text_required": ("请填写{field_zh}", "The field {field} is required"),
    "dispute.too_much_evidence": ("凭证最多 {max} 份", "At most {max} pieces of evidence"),
    "dispute.already_open": ("该退款已有未结的争议", "This refund already has an open dispute"),
    "dispute.evidence_required": ("请选择要添加的凭证", "Name the evidence to add"),
    "dispute.closed": ("争议已结案（{status}）", "The dispute is closed ({status})"),
    "dispute.invalid_party": (
        "第三方无效：{party}（可选调解机构、仲裁机构、收单机构）",
        "Invalid third party: {party} (mediation, arbitration, acquirer)",
    ),
    "dispute.invalid_outcome": (
        "结果无效：{outcome}（可选支持顾客或驳回）",
        "Invalid outcome: {outcome} (upheld, rejected)",
    ),
    "dispute.amount_required": ("支持争议时须填写退款金额", "An upheld dispute needs the amount to refund"),
    "dispute.concurrent_update": (
        "争议已被他人修改，请刷新后重试",
        "The dispute was changed meanwhile; reload and try again",
    ),
    "dispute.invalid_status": ("争议状态无效：{status}", "Invalid dispute status: {status}"),
    # the console's pages
    "notify.payload_line": (
        "每行写“服务商字段 = 我方字段”：{line}",
        "Write one 'provider field = our field' a line: {line}",
    ),
    "notify.nothing_to_send": (
        "顾客没有可用的联系方式，或已退订通知：未重新发送",
        "The customer has no address to reach, or opted out: nothing was sent again",
    ),
    "notify.nothing_to_say": ("该退款单当前状态没有可发送的通知", "This refund's state has no message to send"),
}
