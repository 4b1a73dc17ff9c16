"""Error code → (中文, English). Every code the domain or the edges raise has a line here (tested)."""

from __future__ import annotations

MESSAGES_CORE: dict[str, tuple[str, str]] = {
    "error.unknown": ("请求无法处理", "The request could not be processed"),
    "error.internal": ("系统内部错误，请稍后再试；本次请求未生效", "Internal error; nothing was changed, please retry"),
    "request.invalid": ("请求内容不合法：{detail}", "Invalid request: {detail}"),
    "request.field_required": ("缺少必填字段：{field}", "Missing required field: {field}"),
    "request.field_too_long": ("字段 {field} 超过最大长度 {max}", "Field {field} is longer than {max}"),
    "request.invalid_character": (
        "字段 {field} 含有不允许的控制字符",
        "Field {field} contains a forbidden control character",
    ),
    "request.bad_range": ("起止时间不正确", "The time range is not valid"),
    "request.bad_cursor": (
        "翻页游标无效或已被改动，请从第一页重新查询",
        "The page cursor is not valid or was altered; start again from the first page",
    ),
    "request.cursor_with_offset": (
        "翻页游标不能与起始位置参数同时使用",
        "A page cursor cannot be combined with offset",
    ),
    "request.not_found": ("请求的地址不存在", "No such endpoint"),
    "request.method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "request.too_large": ("请求体过大", "Request body too large"),
    "request.rate_limited": ("请求过于频繁，请稍后再试", "Too many requests; please retry later"),
    "auth.missing": ("需要登录或提供 API 密钥", "Sign in or provide an API key"),
    "auth.invalid_credentials": (
        "用户名或密码错误（多次失败后账户将暂时锁定）",
        "Wrong username or password (repeated failures lock the account for a while)",
    ),
    "auth.invalid_token": ("登录凭证无效或已过期", "The token is invalid or has expired"),
    "auth.forbidden": ("当前角色（{role}）无权执行此操作：{action}", "Your role ({role}) may not do this: {action}"),
    "money.not_integer": ("金额必须是以分为单位的整数", "Amounts must be whole fen"),
    "money.unsupported_currency": ("不支持的币种：{currency}", "Unsupported currency: {currency}"),
    "money.currency_mismatch": ("币种不一致", "Currencies do not match"),
    "merchant.not_found": ("商户不存在", "Merchant not found"),
    "merchant.invalid_licence_no": (
        "统一社会信用代码无效：应为 18 位，且校验位正确",
        "Invalid unified social credit code: 18 characters with a correct check character",
    ),
    "merchant.invalid_account_no": (
        "结算账号无效：应为 {low} 至 {high} 位数字",
        "Invalid settlement account number: {low} to {high} digits",
    ),
    "merchant.invalid_code": (
        "商户编码只能包含字母、数字、下划线和短横线（2–32 位）",
        "Merchant code: 2–32 letters, digits, _ or -",
    ),
    "merchant.code_taken": ("商户编码 {merchant_code} 已被使用", "Merchant code {merchant_code} is already taken"),
    "channel_account.not_found": ("该商户在此渠道没有子商户账户", "The merchant has no account on this channel"),
    "channel_account.unknown_channel": (
        "渠道 {channel} 没有子商户账户",
        "Channel {channel} has no sub-merchant account",
    ),
    "channel_account.invalid_sub_mchid": ("微信子商户号为 8–32 位数字", "sub_mchid: 8–32 digits"),
    "channel_account.invalid_sub_appid": (
        "子商户应用 ID 为 1–32 位字母、数字或下划线",
        "sub_appid: 1–32 letters, digits or _",
    ),
    "store.not_found": ("门店不存在", "Store not found"),
    "terminal.not_found": ("终端不存在", "Terminal not found"),
    "terminal.invalid_terminal_no": (
        "终端号只能包含字母和数字（最多 16 位）",
        "Terminal no.: up to 16 letters or digits",
    ),
    "terminal.no_taken": ("终端号 {terminal_no} 已存在", "Terminal no. {terminal_no} already exists"),
    "user.invalid_role": ("角色无效：{role}", "Invalid role: {role}"),
    "user.merchant_required": ("商户员工必须属于一个商户", "Merchant staff must belong to a merchant"),
    "user.invalid_username": ("用户名为 3–64 位字母、数字或 ._@-", "Username: 3–64 letters, digits or ._@-"),
    "user.weak_password": ("密码至少 {min} 位", "The password needs at least {min} characters"),
    "user.username_taken": ("用户名 {username} 已被使用", "Username {username} is already taken"),
    "sale.not_found": ("未找到该消费记录", "Sale not found"),
    "sale.voided": (
        "该笔消费已被撤销（如预授权完成已撤销），没有可退的款项",
        "This sale was voided by the channel (a cancelled pre-authorisation completion): nothing to refund",
    ),
    "sale.duplicate": (
        "该消费记录已存在（终端、批次号、凭证号相同）",
        "This sale is already recorded (same terminal, batch and voucher no.)",
    ),
    "sale.invalid_field": ("消费记录字段不合法：{field}", "Invalid sale field: {field}"),
    "sale.invalid_amount": ("金额不合法：{field}", "Invalid amount: {field}"),
    "sale.naive_time": ("时间必须带时区：{field}", "Times must carry a time zone: {field}"),
    "sale.paid_in_future": ("支付时间晚于当前时间", "The payment time is in the future"),
    "sale.search_criteria": (
        "请按凭证号、订单号，或卡号后四位＋金额（可加日期）查询",
        "Search by voucher no., by order no., or by card last 4 + amount (and a date)",
    ),
    "refund.not_found": ("退款单不存在", "Refund not found"),
    "refund.invalid_reason": ("退款原因无效：{reason}", "Invalid refund reason: {reason}"),
    "refund.amount_not_positive": ("退款金额必须大于零", "The refund amount must be greater than zero"),
    "refund.exceeds_refundable": (
        "退款金额 {amount_fen} 超过可退金额 {refundable_fen}",
        "Refund of {amount_fen} exceeds the refundable {refundable_fen}",
    ),
    "refund.note_too_long": ("备注不能超过 {max} 字", "The note may not exceed {max} characters"),
    "refund.cancel_not_requester": (
        "只有申请人或主管可以撤回该退款申请",
        "Only the requester or a supervisor may cancel this request",
    ),
    "refund.concurrent_update": (
        "退款单已被他人修改，请刷新后重试",
        "The refund was changed by someone else; reload and retry",
    ),
    "refund.not_abnormal": (
        "只有异常状态的退款需要人工处理（当前：{current}）",
        "Only abnormal refunds are resolved by hand (now: {current})",
    ),
    "refund.not_unknown": (
        "只有结果未知的退款由对账文件或人工认定（当前：{current}）",
        "Only refunds of unknown outcome are settled by the settlement file or a person (now: {current})",
    ),
    "refund.reservation_released": (
        "该退款已认定失败，额度已退回原交易，不能再次发送；请重新申请（当前：{current}）",
        "This refund was proven failed and its amount went back to the sale; request a new refund (now: {current})",
    ),
    "refund.invalid_resolution": ("无效的处理结果：{target}", "Invalid resolution: {target}"),
    "refund.not_awaiting_confirmation": (
        "该退款不在等待确认付款的状态（当前：{current}）",
        "This refund is not waiting for a payout confirmation (now: {current})",
    ),
    "refund.second_person_required": (
        "付款须由申请人以外的第二人确认",
        "A second person, not the requester, must confirm the payout",
    ),
    "refund.invalid_route": (
        "只能改为现金或银行转账退还：{method}",
        "Only cash or bank transfer may replace the route: {method}",
    ),
    "refund.not_reroutable": (
        "只有失败或异常的退款可以改道（当前：{current}）",
        "Only failed or abnormal refunds may be rerouted (now: {current})",
    ),
    "callback.unknown_channel": ("未配置该渠道的回调：{channel}", "No callback is configured for channel {channel}"),
    "callback.rejected": ("回调签名无效或已过期", "The callback's signature is invalid or stale"),
    "state.invalid_transition": (
        "退款单当前状态为 {current}，不能变为 {target}",
        "A refund in status {current} cannot become {target}",
    ),
    "policy.window_expired": ("已超过 {window_days} 天的退款期限", "Past the {window_days}-day refund window"),
    "policy.channel_window_expired": (
        "{channel} 渠道仅支持 {window_days} 天内的订单退款",
        "{channel} refunds only orders within {window_days} days",
    ),
    "policy.partial_limit": (
        "该笔消费最多可退款 {max_partial_refunds} 次",
        "A sale may be refunded at most {max_partial_refunds} times",
    ),
    "policy.evidence_required": ("退款原因需要提供凭证：{missing}", "This reason needs evidence: {missing}"),
    "policy.customer_phone_required": (
        "该金额的退款需要顾客手机号",
        "Refunds of this amount need the customer's phone",
    ),
    "policy.not_a_deposit": ("该消费不是定金，不能按定金退还", "This sale is not a deposit"),
    "policy.unknown_field": ("退款政策包含未知字段：{fields}", "Unknown policy fields: {fields}"),
    "policy.invalid_value": ("退款政策字段取值不合法：{field}", "Invalid policy value: {field}"),
    "policy.limits_out_of_order": (
        "自动审批限额不能高于主管审批限额",
        "The auto-approve limit may not exceed the supervisor limit",
    ),
    "review.self_approval": ("不能审批自己发起的退款", "You may not review your own refund request"),
    "review.second_approver_required": ("该退款需要另一位审批人", "This refund needs a different second approver"),
    "review.limit_exceeded": (
        "金额超过主管审批限额 {limit_fen}，需要管理员审批",
        "Above the supervisor limit of {limit_fen}; an admin must approve",
    ),
    "review.reason_required": ("驳回时必须填写原因（将告知顾客）", "A rejection needs a reason (the customer is told)"),
    "review.reason_too_long": ("原因不能超过 {max} 字", "The reason may not exceed {max} characters"),
    "idempotency.key_required": ("缺少 Idempotency-Key 请求头", "The Idempotency-Key header is required"),
    "idempotency.key_invalid": ("Idempotency-Key 须为 1–128 位可见字符", "Idempotency-Key: 1–128 visible characters"),
    "idempotency.key_reused": (
        "该 Idempotency-Key 已用于不同的请求",
        "This Idempotency-Key was used for a different request",
    ),
    "idempotency.in_progress": (
        "相同 Idempotency-Key 的请求正在处理中",
        "A request with this Idempotency-Key is still running",
    ),
    "pan_detected": (
        "请勿提交完整银行卡号，请只填写卡号后四位（字段：{field}）",
        "Never send a full card number, give only its last four digits (field: {field})",
    ),
    "track_data_detected": (
        "请勿提交银行卡磁道数据（字段：{field}）",
        "Never send card magnetic-stripe (track) data (field: {field})",
    ),
    "cvv_detected": (
        "请勿提交银行卡安全码（CVV/CVC）（字段：{field}）",
        "Never send a card security code (CVV/CVC) (field: {field})",
    ),
    "pii.invalid_phone": ("手机号格式不正确", "Invalid mobile phone number"),
    "pii.invalid_payee": (
        "收款方须为手机号，或已遮蔽的银行账号（如 622202******1234 或 ****1234）",
        "The payee is a mobile number or a masked bank account (622202******1234 or ****1234)",
    ),
    "pii.invalid_id_no": ("身份证号码不正确", "Invalid resident ID number"),
    "pii.payer_not_masked": (
        "付款人信息必须脱敏（最多显示卡号前 6 后 4 位）",
        "The payer must be masked (at most first 6 and last 4 digits)",
    ),
    "pii.purpose_required": ("查看顾客完整信息需说明用途", "State why you need the customer's full contact"),
    "import.bad_line": ("无法解析该行：格式或取值不正确", "This line cannot be read: {detail}"),
    "evidence.not_found": ("凭证不存在", "Evidence not found"),
    "evidence.invalid_kind": ("凭证类型无效：{kind}", "Invalid evidence kind: {kind}"),
    "evidence.empty": ("上传的文件为空", "The uploaded file is empty"),
    "evidence.too_large": ("文件过大（上限 {max_bytes} 字节）", "The file is too large (limit {max_bytes} bytes)"),
    "evidence.type_not_allowed": (
        "只接受 JPEG、PNG、WebP 图片或 PDF",
        "Only JPEG, PNG, WebP images or PDF are accepted",
    ),
    "evidence.store_unavailable": (
        "凭证存储暂时无法访问，请 {retry_after} 秒后重试",
        "The evidence store cannot be reached now; retry in {retry_after} seconds",
    ),
    "evidence.damaged": (
        "凭证文件校验失败（内容与上传时不一致），已拒绝提供，请联系管理员",
        "The evidence file failed its integrity check (it differs from what was uploaded) and is not served; "
        "contact your administrator",
    ),
}
