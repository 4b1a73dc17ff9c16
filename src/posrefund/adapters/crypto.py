"""Field encryption (AES-256-GCM, key id in every token) and an HMAC blind index for lookups."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KeyringError(ValueError):
    pass


def parse_keyring(spec: str, name: str = "POSREFUND_PII_KEY") -> list[tuple[str, bytes]]:
    """``kid:base64key[,kid:base64key…]``; the first key encrypts (or signs), all of them decrypt (or verify):
    rotation. ``name`` is the setting the spec came from, for the error message."""
    keys: list[tuple[str, bytes]] = []
    for part in spec.split(","):
        kid, sep, b64 = part.strip().partition(":")
        if not sep or not kid or not kid.isalnum() or len(kid) > 16:
            raise KeyringError(f"{name} must look like 'k1:<base64 of 32 bytes>'")
        try:
            key = base64.b64decode(b64, validate=True)
        except ValueError as exc:
            raise KeyringError(f"{name} is not valid base64") from exc
        if len(key) != 32:
            raise KeyringError(f"{name} keys must be 32 bytes")
        keys.append((kid, key))
    if not keys:
        raise KeyringError(f"{name} is empty")
    return keys


def generate_key_spec(kid: str = "k1") -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


class AesGcmCipher:
    """Tokens look like ``kid.nonce.ciphertext`` (base64url); the key id lets old keys keep decrypting."""

    def __init__(self, spec: str) -> None:
        keys = parse_keyring(spec)
        self._current_kid, current = keys[0]
        self._aes = {kid: AESGCM(key) for kid, key in keys}
        # A separate key for the blind index, derived so that the index reveals nothing about the AES key.
        self._index_key = hmac.new(current, b"posrefund blind index v1", hashlib.sha256).digest()

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        ct = self._aes[self._current_kid].encrypt(nonce, plaintext.encode(), self._current_kid.encode())
        enc = base64.urlsafe_b64encode
        return f"{self._current_kid}.{enc(nonce).decode()}.{enc(ct).decode()}"

    def decrypt(self, token: str) -> str:
        kid, nonce_b64, ct_b64 = token.split(".")
        dec = base64.urlsafe_b64decode
        return self._aes[kid].decrypt(dec(nonce_b64), dec(ct_b64), kid.encode()).decode()

    def blind_index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()
