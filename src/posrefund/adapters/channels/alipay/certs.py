"""Alipay's public-key-certificate mode (公钥证书模式): the serial numbers a request carries and the Alipay key a
certificate holds.

In this mode every request carries ``app_cert_sn`` (of the app's certificate) and ``alipay_root_cert_sn`` (of
Alipay's root chain). These are not the X.509 serial numbers: Alipay defines them as the MD5 (hex, 32 digits) of
the issuer's name (RFC 2253 form, as Java's ``getIssuerX500Principal().getName()``) followed by the certificate's
serial number in decimal; for the root chain, the same of every RSA-signed certificate in it, joined by ``_``
(the chain also holds certificates of other algorithms, which are left out). Answers are verified with the public
key of Alipay's certificate (``alipayCertPublicKey_RSA2.crt``), which must be issued by a certificate of the chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# PKCS#1 signature algorithms (sha1WithRSAEncryption …11 sha256WithRSAEncryption …): the RSA part of the chain.
_RSA_SIGNED = "1.2.840.113549.1.1."


class CertificateProblem(ValueError):
    """A certificate file that cannot serve: unreadable, not RSA, or not issued by Alipay's root chain."""


def _certificates(pem: str) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise CertificateProblem(f"not a PEM certificate: {exc}") from None
    return certs


def cert_sn(cert: x509.Certificate) -> str:
    """MD5 of issuer name + decimal serial: Alipay's "SN" of one certificate."""
    text = cert.issuer.rfc4514_string() + str(cert.serial_number)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def root_cert_sn(chain_pem: str) -> str:
    """The SNs of the RSA-signed certificates of Alipay's root chain, in file order, joined by ``_``."""
    chain = _certificates(chain_pem)
    sns = [cert_sn(c) for c in chain if c.signature_algorithm_oid.dotted_string.startswith(_RSA_SIGNED)]
    if not sns:
        raise CertificateProblem("the Alipay root certificate file holds no RSA certificate")
    return "_".join(sns)


@dataclass(frozen=True)
class CertificateMode:
    """What certificate mode adds to public-key mode: the two SNs sent with every request, and Alipay's
    certificate (its SN is what Alipay names in ``alipay_cert_sn``; its key verifies answers and notifications)."""

    app_cert_sn: str
    alipay_root_cert_sn: str
    alipay_cert_sn: str
    alipay_public_key_pem: str

    def request_params(self) -> dict[str, str]:
        return {"app_cert_sn": self.app_cert_sn, "alipay_root_cert_sn": self.alipay_root_cert_sn}


def certificate_mode(app_cert_pem: str, alipay_cert_pem: str, alipay_root_cert_pem: str) -> CertificateMode:
    """Read the three files Alipay's console hands out; raises ``CertificateProblem`` for anything unusable
    (so a wrong file is a start-up error, not a refund that fails later)."""
    app_cert = _certificates(app_cert_pem)[0]
    alipay_cert = _certificates(alipay_cert_pem)[0]
    chain = _certificates(alipay_root_cert_pem)
    key = alipay_cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertificateProblem("the Alipay public-key certificate does not hold an RSA key")
    # The file may hold the leaf and its intermediate (itself issued by the root chain).
    intermediates = [c for c in _certificates(alipay_cert_pem)[1:] if any(_issued_by(c, root) for root in chain)]
    if not any(_issued_by(alipay_cert, issuer) for issuer in chain + intermediates):
        raise CertificateProblem("the Alipay public-key certificate is not issued by the Alipay root certificate")
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return CertificateMode(
        app_cert_sn=cert_sn(app_cert),
        alipay_root_cert_sn=root_cert_sn(alipay_root_cert_pem),
        alipay_cert_sn=cert_sn(alipay_cert),
        alipay_public_key_pem=pem.decode("ascii"),
    )


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):  # another issuer or algorithm (SM2 …)
        return False
    return True
