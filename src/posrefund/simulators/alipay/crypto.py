"""Alipay's RSA2 rules from the gateway's side: keys, the sorted ``k=v&…`` sign string, SHA256withRSA, and the
yuan strings the OpenAPI speaks.

Kept apart from the HTTP server so what exactly is signed (which keys are left out, empty values dropped, which
bytes of a response) is readable in one place.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from posrefund.simulators.alipay.certs import AlipayCertificates
from posrefund.simulators.common.rsa_keys import load_private, new_rsa, private_pem, public_pem

# China has no daylight saving time, so a fixed +08:00 is exactly Asia/Shanghai (and needs no tz database).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # "yyyy-MM-dd HH:mm:ss", Beijing time, as every Alipay timestamp
_YUAN = re.compile(r"(\d{1,11})(?:\.(\d{1,2}))?")


@dataclass(frozen=True)
class AlipayKeys:
    """Both key pairs of public-key mode: the app's (it signs requests, Alipay verifies with the uploaded public
    key) and Alipay's (it signs responses and notifications, the app verifies with "支付宝公钥"). With
    ``certificates`` the app is in certificate mode: the same keys, wrapped in certificates of a root chain."""

    app_id: str
    app_private_key: rsa.RSAPrivateKey
    alipay_private_key: rsa.RSAPrivateKey
    certificates: AlipayCertificates | None = None

    @classmethod
    def generate(cls, app_id: str = "2021000000000001", *, certificate_mode: bool = False) -> AlipayKeys:
        keys = cls(app_id=app_id, app_private_key=new_rsa(), alipay_private_key=new_rsa())
        return keys.with_certificates() if certificate_mode else keys

    def with_certificates(self) -> AlipayKeys:
        """The same keys in certificate mode (a fresh root chain and the app's and Alipay's certificates)."""
        certs = AlipayCertificates.issue(self.app_id, self.app_private_key, self.alipay_private_key)
        return replace(self, certificates=certs)

    @property
    def app_private_key_pem(self) -> str:
        return private_pem(self.app_private_key)

    @property
    def app_public_key_pem(self) -> str:
        return public_pem(self.app_private_key.public_key())

    @property
    def alipay_public_key_pem(self) -> str:
        return public_pem(self.alipay_private_key.public_key())

    def credentials(self) -> dict[str, str]:
        """What a merchant holds to configure its client (never Alipay's private key); in certificate mode also
        the three certificate files (``app_cert``, ``alipay_cert``, ``alipay_root_cert``)."""
        files = self.certificates.files() if self.certificates is not None else {}
        return {
            "app_id": self.app_id,
            "app_private_key": self.app_private_key_pem,
            "app_public_key": self.app_public_key_pem,
            "alipay_public_key": self.alipay_public_key_pem,
            **files,
        }

    def save(self, directory: Path) -> None:
        """Persist the keys so a simulator restarted with the same directory keeps its clients configured."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "app_private_key.pem").write_text(self.app_private_key_pem)
        (directory / "alipay_private_key.pem").write_text(private_pem(self.alipay_private_key))
        (directory / "alipay_public_key.pem").write_text(self.alipay_public_key_pem)
        (directory / "app_id.txt").write_text(self.app_id + "\n")

    @classmethod
    def load_or_generate(cls, directory: Path, app_id: str = "2021000000000001") -> AlipayKeys:
        """The keys saved in ``directory``; fresh ones for ``app_id`` (then saved) when there are none."""
        try:
            return cls(
                app_id=(directory / "app_id.txt").read_text().strip(),
                app_private_key=load_private((directory / "app_private_key.pem").read_text()),
                alipay_private_key=load_private((directory / "alipay_private_key.pem").read_text()),
            )
        except FileNotFoundError:
            keys = cls.generate(app_id)
            keys.save(directory)
            return keys


def sign_content(params: Mapping[str, str], leave_out: Iterable[str] = ("sign",)) -> str:
    """All non-empty parameters except ``leave_out``, sorted by key (ASCII), joined as ``k=v&k=v`` with the
    values as they are (not URL-encoded). Requests leave out ``sign``; notifications also ``sign_type``."""
    skip = set(leave_out)
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in skip and v != "")


def rsa2_sign(key: rsa.RSAPrivateKey, content: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes, base64: what ``sign_type=RSA2`` means."""
    return base64.b64encode(key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def rsa2_verify(key: rsa.RSAPublicKey, content: str, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def fen_to_yuan(fen: int) -> str:
    """``12345`` → ``"123.45"``: integer arithmetic only."""
    if fen < 0:
        raise ValueError("negative amount")
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}"


def yuan_to_fen(text: str) -> int | None:
    """``"123.45"`` / ``"123.4"`` / ``"123"`` → fen; None for anything else (signs, exponents, 3 decimals)."""
    m = _YUAN.fullmatch(text.strip()) if isinstance(text, str) else None
    if m is None:
        return None
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def beijing(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime(TIME_FORMAT)


def parse_beijing(text: str) -> datetime | None:
    """``"yyyy-MM-dd HH:mm:ss"`` (optionally ``.SSS``) in Beijing time → an aware datetime; None if malformed."""
    for fmt in (TIME_FORMAT, TIME_FORMAT + ".%f"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=BEIJING)
        except (TypeError, ValueError):
            continue
    return None
