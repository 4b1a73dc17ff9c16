"""Messages of the audit trail: its keys, its exported checkpoints and what `audit verify` finds."""

from __future__ import annotations

MESSAGES_AUDIT: dict[str, tuple[str, str]] = {
    "audit.range_reversed": ("结束日期须晚于开始日期", "The end date must come after the start date"),
    "audit.key_missing": (
        "未配置审计检查点密钥 POSREFUND_AUDIT_KEY，无法校验或签署检查点（`posrefund keys generate` 可生成）",
        "POSREFUND_AUDIT_KEY is not set: checkpoints cannot be verified or signed (`posrefund keys generate`)",
    ),
    "audit.anchor_unreadable": (
        "检查点导出文件第 {line} 行无法读取",
        "Line {line} of the checkpoint export file cannot be read: {detail}",
    ),
    # what `posrefund audit verify` reports, by problem
    "audit.ok": (
        "审计链完整：已校验 {checked} 条事件（{resumed} 条链自其最新检查点起）、{checkpoints} 个检查点，"
        "新签 {signed} 个检查点",
        "{checked} events ({resumed} chains from their newest checkpoint on) and {checkpoints} checkpoints intact; "
        "{signed} new checkpoints signed",
    ),
    "audit.seq_gap": ("序号不连续：缺少第 {seq} 号事件", "gap in the sequence: event {seq} is missing"),
    "audit.prev_mismatch": ("事件与前一条事件的链接不符", "the event does not link to the one before it"),
    "audit.hash_mismatch": ("事件内容与其哈希不符（被修改）", "the event's content does not match its hash (altered)"),
    "audit.head_mismatch": ("事件与链头记录的哈希不符", "the event does not match the chain's head row"),
    "audit.checkpoint_mismatch": (
        "链与签名检查点不符：第 {since} 号之后、第 {seq} 号及之前的事件被改写并重新计算了哈希",
        "the chain no longer matches its signed checkpoint: events after {since} up to {seq} were rewritten "
        "and re-hashed",
    ),
    "audit.truncated": (
        "链被截断：检查点记录的事件从第 {seq} 号起已不存在",
        "the chain was cut short: events from {seq} on, counted by a checkpoint, are gone",
    ),
    "audit.checkpoint_forged": (
        "第 {seq} 号位置的检查点签名无效（伪造）",
        "the checkpoint at {seq} has a bad signature (forged)",
    ),
    "audit.checkpoint_unknown_key": (
        "第 {seq} 号位置的检查点使用了未配置的密钥签名",
        "the checkpoint at {seq} is signed with a key that is not configured",
    ),
}
