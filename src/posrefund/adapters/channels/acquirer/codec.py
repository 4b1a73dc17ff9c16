"""The wire of a China UnionPay POS terminal (中国银联 POS 终端消息域说明; docs/channels.md, "The wire").

A frame is a 2-byte big-endian length, the TPDU (``60`` + destination 2 bytes + source 2 bytes), the 6-byte header
(``60 31 00 31 10 03``: application class 60, software version 31, terminal status + processing requirement 00,
software sub-version 311003), then MTI (2 bytes BCD), the binary primary bitmap and the fields. n fields are BCD,
right-aligned; variable lengths are BCD (1 or 2 bytes) counting digits for n fields and bytes otherwise; an/ans
fields are ASCII, b fields binary (hex text in a decoded message). pyiso8583 does the fields with the spec below;
the framing is ours. This codec is the adapter's own: the host simulator keeps an independent one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import iso8583

TPDU_ID: Final = 0x60
HEADER: Final = bytes.fromhex("603100311003")
SIGN_ON_REQUIRED: Final = 3  # processing requirement (low half of header byte 3): "sign on again"
MAC_LEN: Final = 8


def _n(digits: int, var: int = 0) -> dict[str, Any]:
    """An n field in BCD; ``var`` = length-prefix bytes. A fixed one is right-aligned (a leading 0 nibble pads an
    odd length); a variable one is left-aligned with a trailing 0 nibble, as UnionPay terminals send 60 and 61."""
    pad = {"right_pad": "0"} if var else {"left_pad": "0"}
    return {"data_enc": "b", "len_enc": "bcd", "len_type": var, "max_len": digits, "len_count": "nibbles",
            "desc": "", **pad}  # fmt: skip


def _a(size: int, var: int = 0) -> dict[str, Any]:
    """An a/an/ans/z field in ASCII; fixed ones are padded by the message builders."""
    return {"data_enc": "ascii", "len_enc": "bcd", "len_type": var, "max_len": size, "desc": ""}


def _b(size: int, var: int = 0) -> dict[str, Any]:
    """A b field; ``size`` in bytes."""
    return {"data_enc": "b", "len_enc": "bcd", "len_type": var, "max_len": size, "len_count": "bytes", "desc": ""}


SPEC: Final[dict[str, dict[str, Any]]] = {
    "h": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 0, "desc": "header (framed outside)"},
    "t": _b(2),  # MTI, 4 digits BCD
    "p": _b(8),  # primary bitmap
    "2": _n(19, 1),
    "3": _n(6),
    "4": _n(12),
    "11": _n(6),
    "12": _n(6),
    "13": _n(4),
    "14": _n(4),
    "15": _n(4),
    "22": _n(3),
    "23": _n(3),
    "25": _n(2),
    "26": _n(2),
    "32": _n(11, 1),
    "35": _a(37, 1),
    "36": _a(104, 2),
    "37": _a(12),
    "38": _a(6),
    "39": _a(2),
    "41": _a(8),
    "42": _a(15),
    "44": _a(25, 1),
    "48": _n(322, 2),
    "49": _a(3),
    "52": _b(8),
    "53": _n(16),
    "55": _b(255, 2),
    "60": _n(17, 2),
    "61": _n(29, 2),
    "62": _b(512, 2),
    "63": _a(163, 2),
    "64": _b(MAC_LEN),
}


class WireError(Exception):
    """Bytes that are not a readable frame or message: treated exactly like no answer."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One message between the length prefix and its end."""

    destination: bytes  # TPDU destination address, 2 bytes
    source: bytes  # TPDU source address, 2 bytes
    header: bytes  # 6 bytes
    body: bytes  # MTI, bitmap, fields

    @property
    def processing_requirement(self) -> int:
        return self.header[2] & 0x0F

    def to_bytes(self) -> bytes:
        rest = bytes([TPDU_ID]) + self.destination + self.source + self.header + self.body
        return len(rest).to_bytes(2, "big") + rest


def read_frame(rest: bytes) -> Frame:
    """A frame from the bytes after its length prefix."""
    if len(rest) < 11 + 2 + 8 or rest[0] != TPDU_ID:
        raise WireError("not a TPDU-framed message")
    return Frame(rest[1:3], rest[3:5], rest[5:11], rest[11:])


def encode(fields: dict[str, str]) -> bytes:
    """MTI, bitmap and fields; with field 64 present, its 8 bytes come last (where the MAC goes)."""
    try:
        raw, _ = iso8583.encode(dict(fields), SPEC)
    except iso8583.EncodeError as exc:
        raise WireError(f"cannot encode: {exc}") from None
    return bytes(raw)


def decode(body: bytes) -> dict[str, str]:
    try:
        doc, _ = iso8583.decode(body, SPEC)
    except (iso8583.DecodeError, KeyError, ValueError) as exc:
        raise WireError(f"unreadable message: {exc}") from None
    return doc


def answer_mti(mti: str) -> str:
    """0200 → 0210, 0220 → 0230, 0400 → 0410 …"""
    return mti[:2] + str(int(mti[2]) + 1) + mti[3]
