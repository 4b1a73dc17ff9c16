"""Messages of reconciliation and wrong charges: code → (zh, en)."""

from __future__ import annotations

MESSAGES_RECON: dict[str, tuple[str, str]] = {
    "recon.invalid_source": (
        "对账渠道无效：{source}（可选银行卡、微信支付、支付宝）",
        "Invalid channel: {source} (card / wechat / alipay)",
    ),
    "recon.bad_file": (
        "对账文件无法读取：文件为空，或不是所选渠道的对账文件格式",
        "The settlement file cannot be read: {detail}",
    ),
    "recon.file_too_large": (
        "对账文件过大（上限 {max_bytes} 字节）",
        "The settlement file is too large (limit {max_bytes} bytes)",
    ),
    "recon.file_not_found": ("对账文件不存在", "Settlement file not found"),
    "recon.file_duplicate": (
        "该文件内容已于 {imported_at} 导入为 {file_id}（{filename}），本次未作任何改动",
        "This content was already imported as {file_id} ({filename}) at {imported_at}; nothing was changed",
    ),
    "recon.file_truncated": (
        "对账文件不完整：文件在第 {line} 行结束，缺少汇总（{summary}），可能下载或复制时被截断，请重新下载",
        "The settlement file is cut short: it ends at line {line} without its summary ({summary}); download it again",
    ),
    "recon.file_line_cut": (
        "对账文件第 {line} 行不完整，请重新下载",
        "Line {line} of the settlement file is cut short ({detail}); download the file again",
    ),
    "recon.file_totals_mismatch": (
        "对账文件第 {line} 行的汇总“{total}”为 {file}，但明细合计为 {lines}",
        "Line {line} of the settlement file gives {total} as {file}, but its lines add up to {lines}",
    ),
    "recon.file_other_merchant": (
        "对账文件第 {line} 行属于商户号 {found}，与本商户在该渠道的账号 {expected} 不符",
        "Line {line} of the settlement file is for merchant no. {found}, not this merchant's account "
        "{expected} on the channel",
    ),
    "recon.file_out_of_range": (
        "对账文件第 {line} 行的日期 {date} 不在所选日期 {date_from} 至 {date_to} 之内",
        "Line {line} of the settlement file is dated {date}, outside the dates asked for ({date_from} to {date_to})",
    ),
    "recon.file_line_conflict": (
        "对账文件第 {line} 行的交易已在文件 {file_id} 第 {other_line} 行导入，但金额不同",
        "The transaction on line {line} was already imported from file {file_id} (line {other_line}) with "
        "another amount",
    ),
    "recon.file_importing": (
        "对账文件 {file_id} 正在导入，导入完成后才能使用；请稍后再试",
        "Settlement file {file_id} is still being imported and can be used once it has finished; try again shortly",
    ),
    "recon.file_withdrawn": (
        "该对账文件已于 {withdrawn_at} 撤回",
        "This settlement file was withdrawn at {withdrawn_at}",
    ),
    "recon.file_in_use": (
        "该对账文件第 {line_no} 行是已处理差错或错收工单 {id} 的依据，不能撤回",
        "Line {line_no} of this settlement file is the ground of the handled discrepancy or wrong-charge case "
        "{id}; the file cannot be withdrawn",
    ),
    "recon.reason_required": ("请填写撤回原因", "Give the reason for withdrawing the file"),
    "recon.file_wrong_source": (
        "文件 {file_id} 属于渠道 {source}，不能用于本次对账",
        "File {file_id} belongs to channel {source} and cannot be used in this run",
    ),
    "recon.no_files": (
        "该日期范围内没有已导入的 {source} 对账文件",
        "No imported {source} settlement file covers these dates",
    ),
    "recon.range_too_long": ("对账日期范围最多 {max_days} 天", "A reconciliation covers at most {max_days} days"),
    "recon.invalid_window": (
        "重复扣款时间窗口须在 0 到 {max_seconds} 秒之间",
        "The duplicate window must be 0 to {max_seconds} seconds",
    ),
    "recon.invalid_fee_rate": (
        "渠道 {channel} 的费率设置无效（基点 0–1000）",
        "Invalid fee rate for channel {channel} (0–1000 basis points)",
    ),
    "recon.run_not_found": ("对账批次不存在", "Reconciliation run not found"),
    "recon.invalid_class": ("差错类型无效：{value}", "Invalid discrepancy class: {value}"),
    "recon.discrepancy_not_found": ("差错记录不存在", "Discrepancy not found"),
    "recon.not_recoverable": (
        "该差错不是“渠道已退款而本系统未完成”，不能据此补记退款成功（当前：{current}）",
        "Not a refund the channel paid and we did not record: it cannot be recovered (now: {current})",
    ),
    "recon.already_resolved": ("该差错已处理（{resolution}）", "This discrepancy is already handled ({resolution})"),
    "recon.case_exists": (
        "该差错已建立错收工单 {wrong_charge_id}",
        "This discrepancy already has wrong-charge case {wrong_charge_id}",
    ),
    "recon.wrong_charge_not_found": ("错收工单不存在", "Wrong-charge case not found"),
    "recon.invalid_field": ("字段 {field} 的值无效：{value}", "Invalid value for {field}: {value}"),
    "recon.case_changed": (
        "错收工单已被他人修改，请刷新后重试",
        "The wrong-charge case changed meanwhile; reload and try again",
    ),
    "recon.correction_started": (
        "更正退款已发起（退款单 {refund_id}）",
        "The correction refund was already started (refund {refund_id})",
    ),
    "recon.no_sale": (
        "本系统没有对应的消费记录，无法按正常流程退款；请先补录该笔消费",
        "There is no sale of ours to refund through the normal flow; record the sale first",
    ),
    "recon.amount_required": ("请填写更正退款金额", "Give the amount of the correction refund"),
    "request.bad_page": ("分页参数无效", "Invalid page parameters"),
    # the console's pages
    "recon.job_not_found": ("该处理任务不存在或已过期", "This task does not exist or has expired"),
    "recon.file_required": ("请选择要导入的对账文件", "Choose the settlement file to import"),
    "recon.file_empty": ("文件为空", "The file is empty"),
    "recon.note_required": ("请填写联系内容", "Say what was told to the customer"),
    "refund_import.invalid_field": ("渠道退款记录字段不合法：{field}", "Invalid field of a channel refund: {field}"),
    "refund_import.sale_not_found": (
        "找不到该退款对应的原消费（订单号、终端+批次+凭证号或参考号，且渠道一致）",
        "No sale of ours matches this refund (order no., terminal + batch + voucher no., or RRN, on the same channel)",
    ),
    "refund_import.currency_mismatch": (
        "退款币种 {currency} 与原消费币种 {sale_currency} 不一致",
        "The refund's currency {currency} is not the sale's ({sale_currency})",
    ),
    "refund_import.refund_no_taken": (
        "退款单号 {refund_no} 已用于另一笔退款",
        "Refund no. {refund_no} already belongs to another refund",
    ),
    "refund_import.over_refund": (
        "退款金额超过原消费剩余可退金额 {refundable_fen}",
        "The refund is more than the sale still holds ({refundable_fen})",
    ),
    "sale_import.bad_file": (
        "消费记录文件无法读取：文件为空，或不是 CSV / XLSX 表格",
        "The sales file cannot be read: {detail}",
    ),
    "sale_import.missing_columns": (
        "消费记录文件缺少必需的列：{columns}",
        "The sales file lacks required columns: {columns}",
    ),
    "refund_import.rows_refused": (
        "有 {count} 行不合格，整个文件未导入；请改正后重新导入",
        "{count} rows are refused, so nothing of the file was imported; correct them and import again",
    ),
}
