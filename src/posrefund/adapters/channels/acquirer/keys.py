"""Terminal keys and the MAC of field 64 (中国银联 POS 终端规范, the "ECB" MAC algorithm).

The terminal master key (TMK, 16 bytes, loaded out of band) never touches a message; it decrypts the working keys
the host delivers in the sign-on answer (0810, field 62, 60.3 = 003):

    PIK ciphertext 16 | PIK check value 4 | MAK ciphertext 8 | 8 zero bytes | MAK check value 4   (40 bytes)

A check value is the first 4 bytes of the clear key encrypting 8 zero bytes; a key whose check value fails is
refused (the host's TMK is not ours, or the field was damaged). Working keys live in memory only.

MAC (ECB algorithm) with the MAK over MTI … the last field before 64: pad with zeros to a multiple of 8, XOR the
8-byte blocks, expand the result to 16 upper-case hex characters, encrypt the first 8 with the MAK, XOR with the last
8, encrypt again, expand to hex and take the first 8 characters: those 8 ASCII bytes are field 64.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

ZERO_BLOCK: Final = bytes(8)
FIELD62_LEN: Final = 40  # 60.3 = 003: double-length PIK, single-length MAK


class KeyCheckFailed(Exception):
    """The sign-on answer's working keys do not match their check values under our TMK."""


def _des3(key: bytes) -> Cipher[modes.ECB]:
    """DES (8-byte key) or two-key 3DES (16-byte key), as a 24-byte 3DES key (K1K1K1 / K1K2K1)."""
    if len(key) == 8:
        key = key * 3
    elif len(key) == 16:
        key = key + key[:8]
    else:
        raise ValueError("a DES key is 8 or 16 bytes")
    return Cipher(TripleDES(key), modes.ECB())  # noqa: S305 - the spec's single-block key and MAC steps


def encrypt(key: bytes, data: bytes) -> bytes:
    enc = _des3(key).encryptor()
    return enc.update(data) + enc.finalize()


def decrypt(key: bytes, data: bytes) -> bytes:
    dec = _des3(key).decryptor()
    return dec.update(data) + dec.finalize()


def check_value(clear_key: bytes) -> bytes:
    return encrypt(clear_key, ZERO_BLOCK)[:4]


@dataclass(frozen=True, slots=True)
class WorkingKeys:
    """The session keys of one sign-on; ``repr`` never shows them."""

    pik: bytes = field(repr=False)
    mak: bytes = field(repr=False)


def working_keys(tmk: bytes, field62: bytes) -> WorkingKeys:
    """Decrypt and verify the working keys of a sign-on answer; raises ``KeyCheckFailed``."""
    if len(field62) < FIELD62_LEN:
        raise KeyCheckFailed(f"field 62 holds {len(field62)} bytes, expected {FIELD62_LEN}")
    pik = decrypt(tmk, field62[0:16])
    mak = decrypt(tmk, field62[20:28])
    if field62[28:36] != ZERO_BLOCK:
        raise KeyCheckFailed("the MAK is not followed by 8 zero bytes")
    if not hmac.compare_digest(check_value(pik), field62[16:20]):
        raise KeyCheckFailed("PIK check value does not match")
    if not hmac.compare_digest(check_value(mak), field62[36:40]):
        raise KeyCheckFailed("MAK check value does not match")
    return WorkingKeys(pik=pik, mak=mak)


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def mac(mak: bytes, data: bytes) -> bytes:
    """Field 64 for ``data`` (MTI … last field before 64) under the MAK: 8 ASCII hex characters."""
    padded = data + bytes(-len(data) % 8)
    block = ZERO_BLOCK
    for start in range(0, len(padded), 8):
        block = _xor(block, padded[start : start + 8])
    expanded = block.hex().upper().encode("ascii")
    first = encrypt(mak, expanded[:8])
    second = encrypt(mak, _xor(first, expanded[8:]))
    return second.hex().upper().encode("ascii")[:8]


def verify_mac(mak: bytes, data: bytes, given: bytes) -> bool:
    return hmac.compare_digest(mac(mak, data), given)
