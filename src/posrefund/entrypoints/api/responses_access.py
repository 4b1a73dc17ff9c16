"""Answers of the account routes: terminal keys as listed (never their secret)."""

from __future__ import annotations

from posrefund.entrypoints.api.responses import Out


class ApiKeyInfo(Out):
    id: str
    merchant_id: str
    terminal_id: str
    role: str
    created_at: str | None
    revoked_at: str | None


class ApiKeyInfoList(Out):
    items: list[ApiKeyInfo]
