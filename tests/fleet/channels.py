"""The channels file a fleet's workers read: the simulators' addresses and keys, as an operator writes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from posrefund.simulators.alipay.server import AlipaySimulator
from posrefund.simulators.wechatpay.server import WeChatPaySimulator
from tests.support.ports import free_port


def channels_file(
    tmp: Path,
    wechat: WeChatPaySimulator,
    alipay: AlipaySimulator,
    card: dict[str, Any] | None,
    answer_timeout: float,
) -> Path:
    """A real channels file (docs/channels.example.toml), keys in files beside it; callbacks go nowhere."""
    keys = tmp / "keys"
    keys.mkdir()
    for name, text in {
        "wechat_key.pem": wechat.merchant_private_key_pem,
        "wechat_platform.pem": wechat.platform_public_key_pem,
        "wechat_apiv3": wechat.apiv3_key,
        "alipay_app.pem": alipay.app_private_key_pem,
        "alipay_public.pem": alipay.alipay_public_key_pem,
    }.items():
        (keys / name).write_text(text, encoding="utf-8")
    sections = {
        "wechat": {
            "mchid": wechat.mchid,
            "merchant_serial_no": wechat.merchant_serial_no,
            "merchant_private_key_file": "keys/wechat_key.pem",
            "platform_public_key_file": "keys/wechat_platform.pem",
            "platform_public_key_id": wechat.platform_public_key_id,
            "apiv3_key_file": "keys/wechat_apiv3",
            "base_url": wechat.base_url,
            "notify_url": f"http://127.0.0.1:{free_port()}/v1/callbacks/wechatpay",
            "timeout": answer_timeout,
        },
        "alipay": {
            "app_id": alipay.app_id,
            "app_private_key_file": "keys/alipay_app.pem",
            "alipay_public_key_file": "keys/alipay_public.pem",
            "gateway_url": alipay.gateway_url,
            "timeout": answer_timeout,
        },
    }
    if card is not None:
        sections["card"] = card
    lines = []
    for name, section in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in section.items()]
    path = tmp / "channels.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
