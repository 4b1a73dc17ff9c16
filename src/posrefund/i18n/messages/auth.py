"""Messages of sign-in, lock-out and the limits on how fast anyone may ask, zh / en."""

from __future__ import annotations

MESSAGES_AUTH: dict[str, tuple[str, str]] = {
    "auth.user_not_found": ("用户不存在", "User not found"),
    "server.busy": ("服务器繁忙，请稍后再试", "The server is busy; please retry shortly"),
    "auth.failed_since_sign_in": (
        "自上次登录（{last}）以来，您的账户有 {count} 次登录失败。如非本人操作，请修改密码并告知管理员。",
        "Since your last sign-in ({last}) there were {count} failed sign-in attempts on your account. "
        "If that was not you, change your password and tell your admin.",
    ),
}
