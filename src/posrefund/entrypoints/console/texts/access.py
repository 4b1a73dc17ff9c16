"""Screen text of the account lifecycle: the operators page's actions and the password page."""

from __future__ import annotations

EN_ACCESS: dict[str, str] = {
    "已完成：": "Done: ",
    "待修改临时密码": "Temporary password not yet changed",
    "管理": "Manage",
    "停用账户": "Deactivate",
    "启用账户": "Reactivate",
    "在所有设备退出": "Sign out everywhere",
    "修改角色": "Change role",
    "临时密码": "Temporary password",
    "重置密码": "Reset password",
    "停用、改角色、重置密码或在所有设备退出后，此人已登录的会话立即失效。": (
        "Deactivating, changing the role, resetting the password or signing out everywhere ends this "
        "person's open sessions at once."
    ),
    "修改密码": "Change password",
    "管理员已为您设置临时密码，请先设置自己的新密码。": (
        "An admin gave you a temporary password: set your own new password first."
    ),
    "当前密码": "Current password",
    "新密码": "New password",
    "再次输入新密码": "New password again",
    "修改后，您在其他设备上的登录将全部失效。": "Afterwards, your sign-ins on other devices all end.",
    "终端密钥已吊销": "Terminal key revoked",
    "密钥编号：": "Key ID: ",
    "创建于：": "Created: ",
    "最近使用：": "Last used: ",
    "状态：": "Status: ",
    "未记录": "Not recorded",
    "有效": "Active",
    "已吊销": "Revoked",
    "吊销": "Revoke",
    "确认吊销": "Confirm revoke",
    "吊销后，使用此密钥的终端在下一次请求时即被拒绝，且无法恢复。": (
        "Once revoked, the terminal using this key is refused on its next request; this cannot be undone."
    ),
    "此终端没有密钥": "This terminal has no keys",
}

LABELS_ACCESS: dict[str, dict[str, tuple[str, str]]] = {
    "user_step": {
        "deactivate": ("停用账户", "Deactivated"),
        "activate": ("启用账户", "Reactivated"),
        "role": ("修改角色", "Role changed"),
        "password": ("重置密码", "Password reset"),
        "sign-out": ("在所有设备退出", "Signed out everywhere"),
        "unlock": ("解除锁定", "Unlocked"),
    },
}
