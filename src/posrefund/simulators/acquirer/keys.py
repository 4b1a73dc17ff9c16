"""The host's key handling, as a UnionPay-network acquirer does it for its POS terminals.

Each terminal has a terminal master key (TMK, 16 bytes, loaded out of band). At sign-on the host makes fresh
working keys and delivers them in 0810 field 62, encrypted under the TMK (3DES ECB), each followed by its check
value (the first 4 bytes of the clear key encrypting 8 zero bytes)::

    PIK under TMK (16) | PIK check value (4) | MAK under TMK (8) | 00 x 8 | MAK check value (4)     = 40 bytes

The MAK is a single-length (8-byte) DES key. Field 64 is the spec's "ECB" MAC (中国银联 POS 终端 MAC 算法)::

    1. data = MTI .. last field before 64, padded with 0x00 to a multiple of 8 bytes
    2. R = XOR of all 8-byte blocks
    3. H = R as 16 upper-case hex characters (ASCII)
    4. E1 = DES_MAK(H[0:8]);  T = E1 XOR H[8:16];  E2 = DES_MAK(T)
    5. MAC = the first 8 characters of E2 as upper-case hex (ASCII), 8 bytes
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

BLOCK: Final = 8
KEYS_FIELD_LEN: Final = 40


def _triple(key: bytes) -> bytes:
    """A DES (8), double (16) or triple (24) length key as the 24 bytes TripleDES takes (K1 K2 K1 / K K K)."""
    if len(key) == 8:
        return key * 3
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return key
    raise ValueError("a DES key is 8, 16 or 24 bytes")


def encrypt(key: bytes, data: bytes) -> bytes:
    """3DES (or DES, with an 8-byte key) in ECB mode over whole 8-byte blocks."""
    enc = Cipher(TripleDES(_triple(key)), modes.ECB()).encryptor()  # noqa: S305 - the spec's ECB key transport and MAC
    return enc.update(data) + enc.finalize()


def decrypt(key: bytes, data: bytes) -> bytes:
    dec = Cipher(TripleDES(_triple(key)), modes.ECB()).decryptor()  # noqa: S305 - the spec's ECB key transport
    return dec.update(data) + dec.finalize()


def check_value(clear_key: bytes) -> bytes:
    """The first 4 bytes of the key encrypting 8 zero bytes: lets the terminal see it decrypted the right key."""
    return encrypt(clear_key, bytes(BLOCK))[:4]


def ecb_mac(mak: bytes, data: bytes) -> bytes:
    """The 8-byte MAC of ``data`` (MTI up to the field before 64) under the 8-byte MAK, by the steps above."""
    padded = data + bytes(-len(data) % BLOCK)
    folded = bytes(BLOCK)
    for i in range(0, len(padded), BLOCK):
        folded = bytes(a ^ b for a, b in zip(folded, padded[i : i + BLOCK], strict=True))
    expanded = folded.hex().upper().encode("ascii")
    first = encrypt(mak, expanded[:BLOCK])
    second = encrypt(mak, bytes(a ^ b for a, b in zip(first, expanded[BLOCK:], strict=True)))
    return second.hex().upper().encode("ascii")[:BLOCK]


@dataclass(frozen=True, slots=True)
class WorkingKeys:
    """One sign-on's keys for one terminal, in the clear (the host's HSM would hold them)."""

    pik: bytes
    mak: bytes

    @classmethod
    def fresh(cls) -> WorkingKeys:
        return cls(secrets.token_bytes(16), secrets.token_bytes(8))

    def field_62(self, tmk: bytes) -> bytes:
        """The 40-byte key block of 0810 field 62, encrypted under the terminal's TMK."""
        return (
            encrypt(tmk, self.pik)
            + check_value(self.pik)
            + encrypt(tmk, self.mak)
            + bytes(BLOCK)
            + check_value(self.mak)
        )
