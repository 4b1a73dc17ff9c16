"""Alipay's public-key-certificate mode (公钥证书模式) from Alipay's side, made at start-up: a root chain like
``alipayRootCert.crt`` (an RSA root and a non-RSA root, as the real file mixes algorithms), the app's certificate
(``appCertPublicKey_<app_id>.crt``) and Alipay's (``alipayCertPublicKey_RSA2.crt``), both issued by the RSA root.

Requests in this mode carry ``app_cert_sn`` and ``alipay_root_cert_sn``; Alipay defines an "SN" as the MD5 of the
issuer's RFC 2253 name followed by the decimal serial number, and the root's as the SNs of the chain's
RSA-signed certificates joined by ``_``. Answers carry ``alipay_cert_sn`` beside ``sign``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

_PKCS1 = "1.2.840.113549.1.1."  # sha256WithRSAEncryption and its siblings


def _name(common_name: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ant Financial (simulated)"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue(
    subject: x509.Name,
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    issuer: x509.Name,
    signer: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def sn_of(cert: x509.Certificate) -> str:
    return hashlib.md5(
        (cert.issuer.rfc4514_string() + str(cert.serial_number)).encode("utf-8"), usedforsecurity=False
    ).hexdigest()


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class AlipayCertificates:
    """The certificates of one app in certificate mode, and the SNs the gateway expects and sends."""

    root_chain: tuple[x509.Certificate, ...]
    app_cert: x509.Certificate
    alipay_cert: x509.Certificate

    @classmethod
    def issue(cls, app_id: str, app_key: rsa.RSAPrivateKey, alipay_key: rsa.RSAPrivateKey) -> AlipayCertificates:
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        root_name = _name("Ant Financial Certification Authority R1 (simulated)", "Certification Authority")
        root = _issue(root_name, root_key.public_key(), root_name, root_key, ca=True)
        ec_key = ec.generate_private_key(ec.SECP256R1())
        ec_name = _name("Ant Financial Certification Authority E1 (simulated)", "Certification Authority")
        ec_root = _issue(ec_name, ec_key.public_key(), ec_name, ec_key, ca=True)
        app = _issue(_name(app_id, "Alipay"), app_key.public_key(), root_name, root_key, ca=False)
        alipay = _issue(
            _name("支付宝(中国)网络技术有限公司", "Alipay"), alipay_key.public_key(), root_name, root_key, ca=False
        )
        return cls((root, ec_root), app, alipay)

    @property
    def app_cert_sn(self) -> str:
        return sn_of(self.app_cert)

    @property
    def alipay_cert_sn(self) -> str:
        return sn_of(self.alipay_cert)

    @property
    def alipay_root_cert_sn(self) -> str:
        rsa_signed = [c for c in self.root_chain if c.signature_algorithm_oid.dotted_string.startswith(_PKCS1)]
        return "_".join(sn_of(c) for c in rsa_signed)

    def files(self) -> dict[str, str]:
        """The three PEM files Alipay's console hands the merchant (the root file: certificates back to back)."""
        return {
            "app_cert": _pem(self.app_cert),
            "alipay_cert": _pem(self.alipay_cert),
            "alipay_root_cert": "\n".join(_pem(c) for c in self.root_chain),
        }
