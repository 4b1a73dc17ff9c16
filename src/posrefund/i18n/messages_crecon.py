"""Messages of the console's reconciliation pages (crecon), Chinese first."""

from __future__ import annotations

MESSAGES_CRECON: dict[str, tuple[str, str]] = {
    "crecon.job_not_found": ("该处理任务不存在或已过期", "This task does not exist or has expired"),
    "crecon.file_required": ("请选择要导入的对账文件", "Choose the settlement file to import"),
    "crecon.file_empty": ("文件为空", "The file is empty"),
    "crecon.note_required": ("请填写联系内容", "Say what was told to the customer"),
}
