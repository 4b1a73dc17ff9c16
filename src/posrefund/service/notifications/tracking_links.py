"""Short signed links to a case's tracking page: no login, an expiry, and nothing to guess or change.

A token is ``base64url(case id "." expiry in hex) "." base64url(HMAC-SHA256 truncated to 12 bytes)``. The
MAC key is derived from the app secret for this one purpose, so a token can never pass as anything else
(a bearer token, a blind index). 96 bits of MAC cannot be guessed; a changed byte or a later expiry breaks
the MAC; the expiry is checked only after the MAC, so nothing unsigned is ever believed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime

MAC_BYTES = 12


class LinkRefused(Exception):
    """``reason`` is "invalid" (tampered, malformed, forged) or "expired"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"posrefund tracking link v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: str, case_id: str, expires: datetime) -> str:
    payload = f"{case_id}.{int(expires.timestamp()):x}".encode()
    mac = hmac.new(_key(secret), payload, hashlib.sha256).digest()[:MAC_BYTES]
    return f"{_b64(payload)}.{_b64(mac)}"


def verify(secret: str, token: str, now: datetime) -> str:
    """The case id of a genuine, unexpired token; raises ``LinkRefused`` otherwise."""
    if len(token) > 200 or token.count(".") != 1:
        raise LinkRefused("invalid")
    head, _, tail = token.partition(".")
    try:
        payload, mac = _unb64(head), _unb64(tail)
    except (binascii.Error, ValueError):
        raise LinkRefused("invalid") from None
    want = hmac.new(_key(secret), payload, hashlib.sha256).digest()[:MAC_BYTES]
    if not hmac.compare_digest(mac, want):
        raise LinkRefused("invalid")
    case_id, _, expiry = payload.decode().rpartition(".")
    if datetime.fromtimestamp(int(expiry, 16), UTC) <= now:
        raise LinkRefused("expired")
    return case_id
