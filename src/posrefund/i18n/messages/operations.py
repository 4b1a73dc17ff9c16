"""Messages of running the service: readiness and the metrics scrape, zh / en."""

from __future__ import annotations

MESSAGES_OPS: dict[str, tuple[str, str]] = {
    "ready.database_unreachable": (
        "数据库无法连接，本节点暂不接收请求",
        "The database does not answer; this node takes no requests for now",
    ),
    "ready.schema_not_at_head": (
        "数据库结构不是最新版本（当前 {current}，应为 {head}），请先执行 `posrefund db upgrade`",
        "The database schema is not the newest (at {current}, expected {head}); run posrefund db upgrade first",
    ),
    "ready.evidence_unreachable": (
        "凭证存储无法读写，本节点暂不接收请求",
        "The evidence store cannot be written or read; this node takes no requests for now",
    ),
    "metrics.token_required": (
        "读取监控指标需要有效的令牌",
        "Reading the metrics needs the valid metrics token",
    ),
    "metrics.forbidden": (
        "监控指标只对本机开放；从其他地址读取请配置 POSREFUND_METRICS_TOKEN",
        "The metrics are open to this host only; set POSREFUND_METRICS_TOKEN to read them from elsewhere",
    ),
}
