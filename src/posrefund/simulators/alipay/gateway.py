"""What Alipay's OpenAPI gateway (``/gateway.do``) checks before any business runs, and how it answers: common
parameters from the query string or a form body, the app's RSA2 signature over the sorted ``k=v&…`` string,
and the answer ``{"<method>_response": {...}, "sign": "..."}`` signed with Alipay's key over the exact text of
the inner object. Errors in the common parameters come back unsigned, as Alipay's do."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives.asymmetric import rsa

from posrefund.simulators.alipay.crypto import BEIJING, TIME_FORMAT, AlipayKeys, rsa2_sign, rsa2_verify, sign_content
from posrefund.simulators.alipay.fund_auth_rules import FUND_AUTH_METHODS

GATEWAY_PATH = "/gateway.do"
METHODS = ("alipay.trade.refund", "alipay.trade.fastpay.refund.query", *FUND_AUTH_METHODS)
Refusal = tuple[str, str, str]  # code, sub_code, sub_msg


def response_key(method: str) -> str:
    return method.replace(".", "_") + "_response" if method in METHODS else "error_response"


def refusal_body(refusal: Refusal) -> dict[str, Any]:
    code, sub_code, sub_msg = refusal
    msg = "Missing Required Arguments" if code == "40001" else "Invalid Arguments"
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def check_common(params: dict[str, str], keys: AlipayKeys, max_skew: float | None) -> Refusal | None:
    """The common parameters and the app's signature; None when the call may go on to the business."""
    method = params.get("method", "")
    if not params.get("app_id"):
        return "40001", "isv.missing-app-id", "缺少AppID参数"
    if params["app_id"] != keys.app_id:
        return "40002", "isv.invalid-app-id", "无效的AppID参数"
    if not method:
        return "40001", "isv.missing-method", "缺少方法名参数"
    if method not in METHODS:
        return "40002", "isv.invalid-method", "不存在的方法名"
    if not params.get("sign"):
        return "40001", "isv.missing-signature", "缺少签名参数"
    if not params.get("sign_type"):
        return "40001", "isv.missing-signature-type", "缺少签名类型参数"
    if params["sign_type"] != "RSA2":
        return "40002", "isv.invalid-signature-type", "无效的签名类型参数"
    if params.get("format", "JSON").upper() != "JSON":
        return "40002", "isv.invalid-format", "无效的数据格式参数"
    if params.get("version") != "1.0":
        return "40002", "isv.invalid-version", "版本号错误"
    refusal = _check_certificate_sns(params, keys)
    if refusal is not None:
        return refusal
    return _check_time_and_signature(params, keys.app_private_key.public_key(), max_skew)


def _check_certificate_sns(params: dict[str, str], keys: AlipayKeys) -> Refusal | None:
    """Certificate mode: the request names the app's certificate and Alipay's root chain by their SNs."""
    certs = keys.certificates
    if certs is None:
        return None
    if not params.get("app_cert_sn"):
        return "40001", "isv.missing-app-cert-sn", "缺少应用公钥证书序列号"
    if params["app_cert_sn"] != certs.app_cert_sn:
        return "40002", "isv.invalid-app-cert-sn", "应用公钥证书序列号不匹配"
    if not params.get("alipay_root_cert_sn"):
        return "40001", "isv.missing-alipay-root-cert-sn", "缺少支付宝根证书序列号"
    if params["alipay_root_cert_sn"] != certs.alipay_root_cert_sn:
        return "40002", "isv.invalid-alipay-root-cert-sn", "支付宝根证书序列号不匹配"
    return None


def _check_time_and_signature(
    params: dict[str, str], app_key: rsa.RSAPublicKey, max_skew: float | None
) -> Refusal | None:
    if not params.get("timestamp"):
        return "40001", "isv.missing-timestamp", "缺少时间戳参数"
    try:
        sent = datetime.strptime(params["timestamp"], TIME_FORMAT).replace(tzinfo=BEIJING)
    except ValueError:
        return "40002", "isv.invalid-timestamp", "非法的时间戳参数"
    if max_skew is not None and abs(time.time() - sent.timestamp()) > max_skew:
        return "40002", "isv.invalid-timestamp", "非法的时间戳参数"
    if not rsa2_verify(app_key, sign_content(params, leave_out=("sign",)), params["sign"]):
        return "40002", "isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配"
    return None


def signed_body(key: str, body: dict[str, Any], signer: rsa.RSAPrivateKey | None, cert_sn: str = "") -> bytes:
    """Alipay signs the exact text of the inner object; the client finds it by its key and verifies it. In
    certificate mode the answer names the certificate whose key signed it (``alipay_cert_sn``)."""
    inner = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if signer is None:
        return f'{{"{key}":{inner}}}'.encode()
    sign = rsa2_sign(signer, inner)
    named = f'"alipay_cert_sn":"{cert_sn}",' if cert_sn else ""
    return f'{{"{key}":{inner},{named}"sign":"{sign}"}}'.encode()


def read_params(query: str, body: bytes, content_type: str) -> dict[str, str] | None:
    """Common parameters from the query string and a form body (both are allowed); None if malformed.
    Values are decoded with the request's ``charset`` (UTF-8 unless it names another, e.g. GBK)."""
    raw = query
    if body and "application/x-www-form-urlencoded" in content_type.lower():
        try:
            raw = "&".join(part for part in (query, body.decode("ascii")) if part)
        except UnicodeDecodeError:
            return None
    probe = dict(parse_qsl(raw, keep_blank_values=True, encoding="latin-1"))
    charset = probe.get("charset") or "utf-8"
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, encoding=charset, errors="strict")
    except (LookupError, UnicodeDecodeError):
        return None
    params: dict[str, str] = {}
    for k, v in pairs:
        if k in params:
            return None
        params[k] = v
    return params
