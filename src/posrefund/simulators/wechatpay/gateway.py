"""What WeChat Pay's API gateway checks and adds around every ``/v3`` call, with no refund rules in it: the
merchant's request signature (``Authorization: WECHATPAY2-SHA256-RSA2048 …``), encrypted sensitive fields, the
request rate, and the platform's signature on every answer (``Wechatpay-*`` headers)."""

from __future__ import annotations

import collections
import threading
import time
from email.message import Message
from typing import Any
from urllib.parse import unquote

from posrefund.simulators.wechatpay.crypto import (
    SCHEMA,
    WeChatPayKeys,
    b64_sign,
    b64_verify,
    decrypt_sensitive,
    new_nonce,
    parse_authorization,
    platform_message,
    request_message,
)

Refusal = tuple[int, dict[str, Any]]


def authenticate(
    keys: WeChatPayKeys, max_skew: float, method: str, raw_path: str, headers: Message, body: bytes
) -> Refusal | None:
    """Check the merchant's ``Authorization``; None when genuine, else the error answer."""
    fields = parse_authorization(headers.get("Authorization", ""))
    if fields is None:
        return 401, {"code": "SIGN_ERROR", "message": "Http头Authorization值格式错误"}
    if fields["mchid"] != keys.mchid:
        return 404, {"code": "MCH_NOT_EXISTS", "message": "商户号不存在"}
    if fields["serial_no"] != keys.merchant_serial_no:
        return 401, {"code": "SIGN_ERROR", "message": "商户证书序列号有误"}
    try:
        skew = abs(time.time() - int(fields["timestamp"]))
    except ValueError:
        skew = float("inf")
    if skew > max_skew:
        return 401, {"code": "SIGN_ERROR", "message": "Http头Authorization中的timestamp已过期"}
    public = keys.merchant_private_key.public_key()
    # The client signs the path as it wrote it; HTTP may have percent-encoded it on the way.
    for path in dict.fromkeys((raw_path, unquote(raw_path))):
        message = request_message(method, path, fields["timestamp"], fields["nonce_str"], body)
        if b64_verify(public, message, fields["signature"]):
            return None
    return 401, {"code": "SIGN_ERROR", "message": "签名错误"}


def check_sensitive(keys: WeChatPayKeys, headers: Message, payload: Any) -> dict[str, Any] | None:
    """Encrypted fields must decrypt with the platform key that ``Wechatpay-Serial`` names. The plaintext
    (a bank card number, a name) is only checked, never kept."""
    named = [(k, payload.get(k)) for k in ("bank_account", "real_name")] if isinstance(payload, dict) else []
    fields = [(k, v) for k, v in named if v]
    if not fields:
        return None
    if headers.get("Wechatpay-Serial") != keys.platform_public_key_id:
        return {"code": "PARAM_ERROR", "message": "Wechatpay-Serial 与加密所用的微信支付公钥不符"}
    plain = {k: decrypt_sensitive(keys.platform_private_key, v) if isinstance(v, str) else None for k, v in fields}
    if any(value is None for value in plain.values()):
        return {"code": "PARAM_ERROR", "message": "敏感信息解密失败"}
    account = plain.get("bank_account")
    if account is not None and not (account.isascii() and account.isdigit() and 8 <= len(account) <= 30):
        return {"code": "PARAM_ERROR", "message": "bank_account 解密后不是有效的银行卡号"}
    return None


def signed_headers(keys: WeChatPayKeys, body: bytes, content_type: str, *, forged: bool = False) -> dict[str, str]:
    """``Wechatpay-*`` headers over ``body``, signed now with the platform key (or, ``forged``, with a key that
    is not the platform's: the merchant's)."""
    timestamp, nonce = str(int(time.time())), new_nonce()
    signer = keys.merchant_private_key if forged else keys.platform_private_key
    return {
        "Content-Type": content_type,
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": b64_sign(signer, platform_message(timestamp, nonce, body)),
        "Wechatpay-Serial": keys.platform_public_key_id,
        "Wechatpay-Signature-Type": SCHEMA,
    }


class RateLimit:
    """A sliding one-second window over accepted requests (None: no limit)."""

    def __init__(self, max_qps: int | None) -> None:
        self._max_qps = max_qps
        self._recent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def exceeded(self) -> bool:
        if self._max_qps is None:
            return False
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self._max_qps:
                return True
            self._recent.append(now)
            return False
