"""Messages of the reconciliation desk (stored layouts, preview, channel-only wrong charges, till checks)."""

from __future__ import annotations

MESSAGES_DESK: dict[str, tuple[str, str]] = {
    "recon.mapping_bad_name": (
        "映射名称无效：{name}（1–40 个字母、数字、汉字、- 或 _）",
        "Invalid layout name: {name} (1–40 letters, digits, Chinese characters, - or _)",
    ),
    "recon.mapping_unknown_field": ("映射中有未知字段：{field}", "The layout names an unknown field: {field}"),
    "recon.mapping_missing_field": ("映射缺少必需字段：{field}", "The layout lacks a required field: {field}"),
    "recon.mapping_bad_value": ("映射中“{field}”的取值无效", "The layout's value for “{field}” is invalid"),
    "recon.mapping_not_found": ("没有名为 {name} 的对账单映射", "There is no settlement layout named {name}"),
    "recon.mapping_built_in": (
        "{name} 是内置映射，不能修改；请另起名称保存",
        "{name} is a built-in layout and cannot be changed; save it under another name",
    ),
    "recon.mapping_exists": (
        "已有名为 {name} 的映射；要修改请带上其版本号",
        "A layout named {name} exists; give its version to change it",
    ),
    "recon.mapping_changed": (
        "该映射已被他人修改（当前版本 {version}），请刷新后再改",
        "The layout was changed meanwhile (now version {version}); reload and try again",
    ),
    "recon.mapping_card_only": (
        "对账单映射只用于收单机构的银行卡对账单；微信、支付宝账单格式固定",
        "Layouts apply to the acquirer's card files only; WeChat and Alipay bills have fixed layouts",
    ),
    "recon.preview_undecodable": (
        "文件无法按 {encoding} 或 UTF-8 解码，请检查映射的编码",
        "The file decodes neither as {encoding} nor as UTF-8; check the layout's encoding",
    ),
    "recon.preview_no_header": ("文件不足 {rows} 行表头", "The file has fewer than {rows} header rows"),
    "recon.preview_missing_column": ("表头中没有“{column}”列", "The header has no column “{column}”"),
    "recon.preview_bad_width": (
        "该行有 {found} 列，表头有 {expected} 列",
        "The line has {found} columns, the header {expected}",
    ),
    "recon.preview_bad_amount": ("金额无法识别：{value}", "Amount not understood: {value}"),
    "recon.preview_bad_kind": ("未知交易类型：{value}", "Unknown transaction type: {value}"),
    "recon.preview_bad_time": (
        "时间“{value}”与格式 {format} 不符",
        "The time “{value}” does not fit the format {format}",
    ),
    "recon.terminal_required": (
        "渠道对账单这一行没有本商户可识别的终端，请指定终端",
        "The channel's line names no terminal of this merchant; name the terminal",
    ),
    "recon.charge_exists": (
        "该终端同一批次同一凭证号已有消费记录，无法按渠道单号补录",
        "A sale with this terminal, batch and voucher no. is already recorded",
    ),
    "recon.not_a_charge": (
        "该对账单行不是一笔扣款（{kind}），不能按渠道单号退款",
        "The settlement line is not a charge ({kind}); nothing to refund by the channel's reference",
    ),
    "till.negative_amount": ("{field} 不能为负数", "{field} cannot be negative"),
    "till.bad_denomination": (
        "面额无效：{value}（按分填写：10000、5000、2000、1000、500、100、50、10）",
        "Invalid denomination: {value} (in fen: 10000, 5000, 2000, 1000, 500, 100, 50, 10)",
    ),
    "till.count_required": (
        "请填写点钞总额或按面额填写张数（二选一）",
        "Give either the counted total or the pieces per denomination (one of the two)",
    ),
    "till.bad_window": (
        "班次时间无效：结束须晚于开始、不晚于现在，且不超过 24 小时",
        "Invalid shift: it must close after it opens, not in the future, within 24 hours",
    ),
    "till.shift_overlaps": (
        "该终端在此时段已有日结记录 {till_id}",
        "This terminal already has a till check for this time: {till_id}",
    ),
    "till.not_found": ("该日结记录不存在", "This till check does not exist"),
    "till.terminal_not_found": ("终端不存在", "The terminal does not exist"),
    "till.own_shift": ("不能签核自己点算的班次", "You cannot sign off a shift you counted yourself"),
    "till.already_signed_off": ("该班次已签核", "This shift is already signed off"),
    "till.note_required": (
        "差异超出容差，签核时请填写调查结论",
        "The difference is beyond tolerance: say what the investigation found",
    ),
}
