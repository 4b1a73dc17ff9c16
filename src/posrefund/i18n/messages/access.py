"""Messages of the account lifecycle: revoked and refreshed tokens, passwords, who manages whom, zh / en."""

from __future__ import annotations

MESSAGES_ACCESS: dict[str, tuple[str, str]] = {
    "auth.token_revoked": (
        "登录已失效（已在所有设备退出、账户已停用或角色已变更），请重新登录",
        "This sign-in has been revoked (signed out everywhere, deactivated or role changed); sign in again",
    ),
    "auth.refresh_invalid": (
        "刷新凭证无效、已过期或已使用，请重新登录",
        "The refresh token is invalid, expired or already used; sign in again",
    ),
    "auth.password_change_required": (
        "请先修改临时密码",
        "Change your temporary password first",
    ),
    "user.not_found": ("操作员不存在", "No such operator"),
    "user.role_above_own": (
        "不能授予或管理高于自己角色（{own}）的角色：{role}",
        "You may not grant or manage a role ({role}) above your own ({own})",
    ),
    "user.own_account": (
        "不能对自己的账户执行此操作，请由另一位管理员操作",
        "You may not do this to your own account; another admin must",
    ),
    "user.wrong_password": ("原密码错误", "The current password is wrong"),
    "user.same_password": ("新密码不能与原密码相同", "The new password must differ from the current one"),
    "apikey.not_found": ("终端密钥不存在", "No such terminal key"),
    "apikey.already_revoked": ("终端密钥已被吊销", "This terminal key is already revoked"),
    "review.same_person": (
        "改道现金/转账的人不能再确认同一笔退款已付款，须由另一人确认",
        "Whoever rerouted this refund to cash or transfer may not also confirm its payout; another person must",
    ),
    "console.passwords_differ": ("两次输入的新密码不一致", "The two new passwords differ"),
}
