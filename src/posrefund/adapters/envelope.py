"""Envelope encryption of stored files: each file gets its own AES-256-GCM data key, and only that key,
wrapped by the master key, is kept beside the file. The store (and whoever reads the bucket) holds nothing
it can decrypt; rotating the master key leaves old files readable as long as the old key stays listed.

A sealed file is ``PRE1 | len(kid) | kid | nonce | wrapped data key | nonce | ciphertext``. Both layers are
bound to the file's address (``context``), so bytes copied to another merchant's or another file's address
do not open there."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from posrefund.adapters.crypto import parse_keyring

MAGIC = b"PRE1"
_NONCE = 12
_WRAPPED = 32 + 16  # the data key and its GCM tag


class EnvelopeError(ValueError):
    """The sealed bytes are not ours, are cut short, name an unknown key, or fail their authentication."""


class Envelope:
    def __init__(self, spec: str, setting: str = "POSREFUND_EVIDENCE__MASTER_KEY") -> None:
        keys = parse_keyring(spec, setting)
        self._kid = keys[0][0]
        self._masters = {kid: AESGCM(key) for kid, key in keys}

    def seal(self, content: bytes, context: bytes) -> bytes:
        data_key = AESGCM.generate_key(bit_length=256)
        kid = self._kid.encode()
        wrap_nonce, nonce = os.urandom(_NONCE), os.urandom(_NONCE)
        wrapped = self._masters[self._kid].encrypt(wrap_nonce, data_key, MAGIC + kid + context)
        sealed = AESGCM(data_key).encrypt(nonce, content, MAGIC + context)
        return MAGIC + bytes([len(kid)]) + kid + wrap_nonce + wrapped + nonce + sealed

    def open(self, sealed: bytes, context: bytes) -> bytes:
        if not sealed.startswith(MAGIC) or len(sealed) < len(MAGIC) + 1:
            raise EnvelopeError("not a sealed file")
        at = len(MAGIC) + 1
        kid = sealed[at : at + sealed[len(MAGIC)]]
        at += len(kid)
        wrap_nonce, wrapped = sealed[at : at + _NONCE], sealed[at + _NONCE : at + _NONCE + _WRAPPED]
        at += _NONCE + _WRAPPED
        nonce, body = sealed[at : at + _NONCE], sealed[at + _NONCE :]
        master = self._masters.get(kid.decode("ascii", "replace"))
        if master is None:
            raise EnvelopeError("sealed with a master key that is not configured")
        if len(nonce) != _NONCE or len(body) < 16:
            raise EnvelopeError("cut short")
        try:
            data_key = master.decrypt(wrap_nonce, wrapped, MAGIC + kid + context)
            return AESGCM(data_key).decrypt(nonce, body, MAGIC + context)
        except (InvalidTag, ValueError) as exc:
            raise EnvelopeError("does not authenticate") from exc
