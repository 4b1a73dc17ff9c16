"""The cryptography of WeChat Pay APIv3, from the platform's side: keys, request-signature checks,
response/notification signatures and the AEAD_AES_256_GCM envelope of notifications.

Kept apart from the HTTP server so the rules (what exactly is signed, which bytes) are readable in one place.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from posrefund.simulators.common.rsa_keys import load_private, new_rsa, private_pem, public_pem

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
_AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class WeChatPayKeys:
    """Everything both sides must agree on: the merchant's API key pair and certificate serial number, the
    platform's key pair ("微信支付公钥") and its id, and the APIv3 key that encrypts notifications."""

    mchid: str
    merchant_private_key: rsa.RSAPrivateKey
    merchant_serial_no: str
    platform_private_key: rsa.RSAPrivateKey
    platform_public_key_id: str
    apiv3_key: str  # 32 ASCII characters: used as the AES-256 key bytes, as WeChat Pay does

    @classmethod
    def generate(cls, mchid: str = "1900009191") -> WeChatPayKeys:
        alphabet = string.ascii_letters + string.digits
        return cls(
            mchid=mchid,
            merchant_private_key=new_rsa(),
            merchant_serial_no=secrets.token_hex(20).upper(),
            platform_private_key=new_rsa(),
            platform_public_key_id="PUB_KEY_ID_01" + "".join(secrets.choice(string.digits) for _ in range(24)),
            apiv3_key="".join(secrets.choice(alphabet) for _ in range(32)),
        )

    @property
    def merchant_private_key_pem(self) -> str:
        return private_pem(self.merchant_private_key)

    @property
    def merchant_public_key_pem(self) -> str:
        return public_pem(self.merchant_private_key.public_key())

    @property
    def platform_public_key_pem(self) -> str:
        return public_pem(self.platform_private_key.public_key())

    def credentials(self) -> dict[str, str]:
        """What a merchant downloads from the console to configure its client (never the platform's private key)."""
        return {
            "mchid": self.mchid,
            "merchant_serial_no": self.merchant_serial_no,
            "merchant_private_key": self.merchant_private_key_pem,
            "platform_public_key": self.platform_public_key_pem,
            "platform_public_key_id": self.platform_public_key_id,
            "apiv3_key": self.apiv3_key,
        }

    def save(self, directory: Path) -> None:
        """Persist the keys so a simulator restarted with the same directory keeps its clients configured."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "merchant_private_key.pem").write_text(self.merchant_private_key_pem)
        (directory / "platform_private_key.pem").write_text(private_pem(self.platform_private_key))
        (directory / "platform_public_key.pem").write_text(self.platform_public_key_pem)
        ids = f"{self.mchid}\n{self.merchant_serial_no}\n{self.platform_public_key_id}\n{self.apiv3_key}\n"
        (directory / "ids.txt").write_text(ids)

    @classmethod
    def load_or_generate(cls, directory: Path) -> WeChatPayKeys:
        try:
            mchid, serial, key_id, apiv3 = (directory / "ids.txt").read_text().split()
            return cls(
                mchid=mchid,
                merchant_private_key=load_private((directory / "merchant_private_key.pem").read_text()),
                merchant_serial_no=serial,
                platform_private_key=load_private((directory / "platform_private_key.pem").read_text()),
                platform_public_key_id=key_id,
                apiv3_key=apiv3,
            )
        except FileNotFoundError:
            keys = cls.generate()
            keys.save(directory)
            return keys


def b64_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64: the only signature scheme APIv3 uses."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def b64_verify(key: rsa.RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        key.verify(base64.b64decode(signature_b64, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def request_message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The merchant's request signature covers ``METHOD\\nURL-path[?query]\\ntimestamp\\nnonce\\nbody\\n``."""
    return f"{method}\n{path}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"


def platform_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """Responses and notifications are signed over ``timestamp\\nnonce\\nbody\\n``."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def parse_authorization(header: str) -> dict[str, str] | None:
    """``WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"``."""
    schema, _, rest = header.strip().partition(" ")
    if schema != SCHEMA:
        return None
    fields = dict(_AUTH_FIELD.findall(rest))
    if not {"mchid", "nonce_str", "signature", "timestamp", "serial_no"} <= fields.keys():
        return None
    return fields


def new_nonce() -> str:
    return secrets.token_hex(16).upper()


def decrypt_sensitive(key: rsa.RSAPrivateKey, ciphertext_b64: str) -> str | None:
    """Sensitive request fields (bank account, real name) are RSA-OAEP(SHA-1) encrypted to the platform key."""
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303
    try:
        return key.decrypt(base64.b64decode(ciphertext_b64, validate=True), oaep).decode()
    except ValueError:  # wrong key, bad padding, bad base64 or not UTF-8
        return None


def encrypt_resource(apiv3_key: str, plaintext: bytes, associated_data: str) -> dict[str, str]:
    """AEAD_AES_256_GCM as in notifications: a 12-character ASCII nonce, base64(ciphertext ‖ tag)."""
    nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    sealed = AESGCM(apiv3_key.encode("ascii")).encrypt(nonce.encode("ascii"), plaintext, associated_data.encode())
    return {
        "original_type": "refund",
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode("ascii"),
        "associated_data": associated_data,
        "nonce": nonce,
    }
