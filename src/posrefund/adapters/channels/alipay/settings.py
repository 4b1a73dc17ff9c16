"""The ``[alipay]`` section of the channels file (POSREFUND_CHANNELS_FILE; docs/channels.example.toml) read into
the refund channel and the notification verifier, with every problem found at start-up as a ``ConfigError``.

Keys: ``app_id``; the app's private key (``app_private_key_file`` / ``app_private_key_env``); then EITHER
public-key mode, ``alipay_public_key`` (``_file`` / ``_env``), OR certificate mode, ``app_cert``, ``alipay_cert``
and ``alipay_root_cert`` (each ``_file`` / ``_env``); optional ``gateway_url`` (default Alipay's production
gateway), ``notify_url`` (where the payments' notifications reach us: checked to be https, or http to a local
host), ``seller_id`` (the merchant's 2088… id, checked on notifications), ``timeout`` (seconds),
``fund_auth_finish_on_completion`` (fund authorisation only, ``alipay_fund_auth_from``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from posrefund.adapters.channels.alipay.certs import CertificateMode, CertificateProblem, certificate_mode
from posrefund.adapters.channels.alipay.client import AlipayCallbackVerifier, AlipayChannel
from posrefund.adapters.channels.alipay.fund_auth import AlipayFundAuthChannel
from posrefund.adapters.channels.alipay.gateway import PRODUCTION_GATEWAY, AlipayGateway, pem_of
from posrefund.adapters.channels.common import timeout_of
from posrefund.config import ConfigError

# ``secret(section, key)``: the text of ``key`` read from ``key_file`` (beside the channels file) or the
# environment variable named by ``key_env`` (or the value itself); it raises KeyError / OSError when absent.
Secret = Callable[[dict[str, Any], str], str]
_CERT_KEYS = ("app_cert", "alipay_cert", "alipay_root_cert")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _given(section: dict[str, Any], key: str) -> bool:
    return any(k in section for k in (key, f"{key}_file", f"{key}_env"))


def _read(section: dict[str, Any], key: str, secret: Secret) -> str:
    try:
        value = secret(section, key).strip()
    except KeyError as exc:
        raise ConfigError(f"[alipay] {key}: {exc.args[0]!s} is not set") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"[alipay] {key}: cannot read the file ({type(exc).__name__}: {exc})") from None
    if not value:
        raise ConfigError(f"[alipay] {key} is empty")
    return value


def _private_key(text: str) -> str:
    try:
        pem = pem_of(text, private=True)
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ConfigError(f"[alipay] app_private_key is not a readable unencrypted private key ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise ConfigError("[alipay] app_private_key must be an RSA key of at least 2048 bits (RSA2)")
    return pem


def _public_key(text: str) -> str:
    try:
        pem = pem_of(text, private=False)
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ConfigError(f"[alipay] alipay_public_key is not a readable public key ({exc})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError("[alipay] alipay_public_key must be an RSA public key")
    return pem


def _mode(section: dict[str, Any], secret: Secret) -> tuple[str, CertificateMode | None]:
    """(Alipay's public key, the certificate mode or None): exactly one of the two modes must be configured."""
    certs = [k for k in _CERT_KEYS if _given(section, k)]
    public = _given(section, "alipay_public_key")
    if public and certs:
        raise ConfigError("[alipay] give alipay_public_key OR the certificates (app_cert, alipay_cert, …), not both")
    if public:
        return _public_key(_read(section, "alipay_public_key", secret)), None
    if len(certs) != len(_CERT_KEYS):
        missing = ", ".join(k for k in _CERT_KEYS if k not in certs)
        raise ConfigError(f"[alipay] alipay_public_key or the certificates are required (missing: {missing})")
    texts = [_read(section, k, secret) for k in _CERT_KEYS]
    try:
        mode = certificate_mode(*texts)
    except CertificateProblem as exc:
        raise ConfigError(f"[alipay] {exc}") from None
    return mode.alipay_public_key_pem, mode


def _url(section: dict[str, Any], key: str, default: str) -> str:
    url = str(section.get(key, default))
    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS
    if not parts.hostname or not (parts.scheme == "https" or local):
        raise ConfigError(f"[alipay] {key} must be an https URL (http only to this host), not {url!r}")
    return url


def _line(section: dict[str, Any], secret: Secret) -> dict[str, Any]:
    """The signed line to Alipay an ``[alipay]`` section describes: ``AlipayGateway``'s (and ``AlipayChannel``'s)
    arguments, every one checked."""
    app_id = str(section.get("app_id", "")).strip()
    if not app_id.isdigit():
        raise ConfigError("[alipay] app_id (the digits of the Alipay app, e.g. 2021000000000001) is required")
    private_key = _private_key(_read(section, "app_private_key", secret))
    alipay_key, certificate = _mode(section, secret)
    return {
        "app_id": app_id,
        "app_private_key": private_key,
        "alipay_public_key": alipay_key,
        "gateway_url": _url(section, "gateway_url", PRODUCTION_GATEWAY),
        "timeout": timeout_of(section, "alipay"),
        "certificate": certificate,
    }


def alipay_from(section: dict[str, Any], secret: Secret) -> tuple[AlipayChannel, AlipayCallbackVerifier]:
    """The Alipay refund channel and notification verifier of one ``[alipay]`` section."""
    line = _line(section, secret)
    if "notify_url" in section:
        _url(section, "notify_url", "")  # given to the payments, not to refunds: checked here all the same
    seller_id = str(section.get("seller_id", "")).strip()
    channel = AlipayChannel(**line)
    verifier = AlipayCallbackVerifier(
        alipay_public_key=line["alipay_public_key"], app_id=line["app_id"], seller_id=seller_id
    )
    return channel, verifier


def alipay_fund_auth_from(section: dict[str, Any], secret: Secret) -> AlipayFundAuthChannel:
    """The fund-authorisation channel of the same ``[alipay]`` section (the same app, keys and gateway).
    ``fund_auth_finish_on_completion`` (true/false, default false): convert with auth_confirm_mode COMPLETE;
    ``seller_id`` is named as the freezes' ``payee_user_id``. docs/alipay-fund-auth.md."""
    finish = section.get("fund_auth_finish_on_completion", False)
    if not isinstance(finish, bool):
        raise ConfigError("[alipay] fund_auth_finish_on_completion must be true or false")
    return AlipayFundAuthChannel(
        AlipayGateway(**_line(section, secret)),
        finish_on_completion=finish,
        payee_user_id=str(section.get("seller_id", "")).strip(),
    )
