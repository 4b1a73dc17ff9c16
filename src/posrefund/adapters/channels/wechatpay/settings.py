"""The ``[wechat]`` section of the channels file: the refund channel and the notification verifier, every
problem found at start-up as a ``ConfigError`` naming the key (never a bare KeyError in a traceback).

Direct merchant: ``mchid``. 服务商 (``mode = "service_provider"``): ``sp_mchid`` is ours, each merchant's
``sub_mchid`` is set through the admin API or ``posrefund merchant channel-account``. Secrets
(``merchant_private_key``, ``platform_public_key``, ``apiv3_key``) come inline, from ``<key>_file`` or from
``<key>_env``; see docs/channels.example.toml."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from posrefund.adapters.channels.common import timeout_of
from posrefund.adapters.channels.wechatpay.client import WeChatPayCallbackVerifier, WeChatPayChannel
from posrefund.config import ConfigError

Secret = Callable[[dict[str, Any], str], str]
PRODUCTION = "https://api.mch.weixin.qq.com"
MODES = ("direct", "service_provider")


def _plain(section: dict[str, Any], key: str) -> str:
    value = str(section.get(key, "")).strip()
    if not value:
        raise ConfigError(f"[wechat] {key} is required")
    return value


def _secret(section: dict[str, Any], key: str, secret: Secret) -> str:
    try:
        value = secret(section, key)
    except KeyError as exc:
        if exc.args and exc.args[0] == key:
            raise ConfigError(f"[wechat] {key} is required (inline, {key}_file or {key}_env)") from None
        raise ConfigError(f"[wechat] {key}: the environment variable {exc.args[0]!s} is not set") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"[wechat] {key}: cannot read the file ({type(exc).__name__}: {exc})") from None
    if not value.strip():
        raise ConfigError(f"[wechat] {key} is empty")
    return value


def wechat_from(section: dict[str, Any], secret: Secret) -> tuple[WeChatPayChannel, WeChatPayCallbackVerifier]:
    """The WeChat Pay refund channel and notification verifier of one ``[wechat]`` section."""
    mode = str(section.get("mode", "direct"))
    if mode not in MODES:
        raise ConfigError(f"[wechat] mode must be one of {', '.join(MODES)}, not {mode!r}")
    provider = mode == "service_provider"
    mchid = _plain(section, "sp_mchid" if provider else "mchid")
    platform_key = _secret(section, "platform_public_key", secret)
    platform_key_id = _plain(section, "platform_public_key_id")
    apiv3_key = _secret(section, "apiv3_key", secret)
    channel = WeChatPayChannel(
        mchid=mchid,
        service_provider=provider,
        merchant_private_key=_secret(section, "merchant_private_key", secret),
        merchant_serial_no=_plain(section, "merchant_serial_no"),
        platform_public_key=platform_key,
        platform_public_key_id=platform_key_id,
        apiv3_key=apiv3_key,
        base_url=str(section.get("base_url", PRODUCTION)),
        notify_url=section.get("notify_url"),
        timeout=timeout_of(section, "wechat"),
    )
    verifier = WeChatPayCallbackVerifier(
        platform_public_key=platform_key,
        platform_public_key_id=platform_key_id,
        apiv3_key=apiv3_key,
        mchid=mchid,
        service_provider=provider,
    )
    return channel, verifier
