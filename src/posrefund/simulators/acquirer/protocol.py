"""The wire between a POS terminal and a UnionPay-network acquirer host (中国银联 POS 终端消息域说明), host side.

This is the simulator's own codec. The terminal adapter keeps an independent one on purpose: the two sides of a
contract test must not share a codec, or a bug in it would be invisible.

Frame: 2-byte big-endian length of everything after it, TPDU (5 bytes: ``60``, destination address 2, source
address 2; the answer swaps the addresses), header (6 bytes, ``60 31 00 31 10 03``: application class 60,
software version 31, terminal status (high nibble) + processing requirement (low nibble), software sub-version
311003; the host answers processing requirement 3 to demand a new sign-on), then the ISO 8583 message: MTI
(2 bytes BCD), primary bitmap (8 bytes) and the fields.

Encodings: n fields BCD; fixed ones right-aligned (an odd digit count gets a leading 0 nibble), variable ones
(32, 48, 60, 61) left-aligned with a trailing 0 nibble, their BCD length counting digits; an/ans ASCII; b binary
with a BCD length counting bytes. LL lengths are 1 BCD byte, LLL lengths 2.
"""

from __future__ import annotations

import hmac
import socket
from dataclasses import dataclass, field
from typing import Any, Final

import iso8583

from posrefund.simulators.acquirer.keys import ecb_mac


def _n(digits: int) -> dict[str, Any]:
    return {"data_enc": "b", "len_enc": "bcd", "len_type": 0, "max_len": digits, "len_count": "nibbles",
            "left_pad": "0"}  # fmt: skip


def _nvar(len_type: int, digits: int) -> dict[str, Any]:
    return {"data_enc": "b", "len_enc": "bcd", "len_type": len_type, "max_len": digits, "len_count": "nibbles",
            "right_pad": "0"}  # fmt: skip


def _text(size: int, len_type: int = 0) -> dict[str, Any]:
    return {"data_enc": "ascii", "len_enc": "bcd", "len_type": len_type, "max_len": size, "len_count": "bytes"}


def _binary(size: int, len_type: int = 0) -> dict[str, Any]:
    return {"data_enc": "b", "len_enc": "bcd", "len_type": len_type, "max_len": size, "len_count": "bytes"}


SPEC: Final[dict[str, dict[str, Any]]] = {
    "h": _text(0),
    "t": _binary(2),
    "p": _binary(8),
    "1": _binary(8),
    "2": _nvar(1, 19),
    "3": _n(6),
    "4": _n(12),
    "11": _n(6),
    "12": _n(6),
    "13": _n(4),
    "14": _n(4),
    "15": _n(4),
    "22": _n(3),
    "25": _n(2),
    "32": _nvar(1, 11),
    "37": _text(12),
    "38": _text(6),
    "39": _text(2),
    "41": _text(8),
    "42": _text(15),
    "44": _text(25, 1),
    "48": _nvar(2, 322),
    "49": _text(3),
    "53": _n(16),
    "60": _nvar(2, 17),
    "61": _nvar(2, 29),
    "62": _binary(512, 2),
    "63": _text(163, 2),
    "64": _binary(8),
}
for _key, _spec in SPEC.items():
    _spec["desc"] = f"field {_key}"

TPDU_ID: Final = 0x60
HEADER: Final = bytes.fromhex("603100311003")
PREFIX_LEN: Final = 11  # TPDU 5 + header 6
MAC_LEN: Final = 8
MAX_FRAME: Final = 0xFFFF

PROCESS_NORMALLY: Final = 0
SIGN_ON_AGAIN: Final = 3

MTI_AUTHORISATION: Final = "0100"
MTI_SIGN_ON: Final = "0800"
MTI_FINANCIAL: Final = "0200"
MTI_ADVICE: Final = "0220"
MTI_BATCH_UPLOAD: Final = "0320"
MTI_REVERSAL: Final = "0400"
MTI_SETTLEMENT: Final = "0500"
PROC_VOID_OR_REFUND: Final = "200000"
PROC_PREAUTH: Final = "030000"
PROC_PURCHASE: Final = "000000"
CONDITION_PREAUTH: Final = "06"  # field 25 of the 预授权 family
TYPE_PREAUTH: Final = "10"  # 预授权
TYPE_PREAUTH_RELEASE: Final = "11"  # 预授权撤销
TYPE_COMPLETION: Final = "20"  # 预授权完成(请求)
TYPE_COMPLETION_VOID: Final = "21"  # 预授权完成撤销
TYPE_COMPLETION_NOTICE: Final = "24"  # 预授权完成(通知)
TYPE_VOID: Final = "23"
TYPE_REFUND: Final = "25"
NET_SIGN_ON: Final = "003"
NET_FINANCIAL: Final = "000"
NET_SETTLE: Final = "201"
NET_UPLOAD_END: Final = "207"
CURRENCY_CNY: Final = "156"


class ProtocolError(Exception):
    """A frame or message that cannot be read at all: the connection is dropped, nothing is answered."""


@dataclass(slots=True)
class Message:
    """One message with its transport prefix. ``fields`` holds ``t`` (the MTI) and the numbered fields, as text
    (BCD and binary fields as upper-case hex digits, except b fields which are hex of their bytes)."""

    fields: dict[str, str]
    tpdu: bytes = bytes.fromhex("6000060000")
    header: bytes = HEADER
    body: bytes = field(default=b"", repr=False)

    @property
    def mti(self) -> str:
        return self.fields.get("t", "")

    @property
    def processing_requirement(self) -> int:
        return self.header[2] & 0x0F if len(self.header) == 6 else 0

    def answer_prefix(self, requirement: int) -> tuple[bytes, bytes]:
        """The answer's TPDU (addresses swapped) and header (the request's, with the processing requirement)."""
        tpdu = self.tpdu[:1] + self.tpdu[3:5] + self.tpdu[1:3]
        header = self.header[:2] + bytes([(self.header[2] & 0xF0) | requirement]) + self.header[3:]
        return tpdu, header


def encode_body(fields: dict[str, str], mak: bytes | None) -> bytes:
    """The ISO 8583 part (MTI onwards); with a MAK, field 64 carries the ECB MAC of everything before it."""
    doc = {k: v for k, v in fields.items() if k not in ("p", "1", "64", "h")}
    if mak is None:
        raw, _ = iso8583.encode(doc, SPEC)
        return bytes(raw)
    doc["64"] = "00" * MAC_LEN
    raw, _ = iso8583.encode(doc, SPEC)
    body = bytes(raw[:-MAC_LEN])
    return body + ecb_mac(mak, body)


def pack(fields: dict[str, str], mak: bytes | None, tpdu: bytes, header: bytes) -> bytes:
    """A whole frame without its length: TPDU + header + ISO 8583 body."""
    if len(tpdu) != 5 or len(header) != 6:
        raise ValueError("the TPDU is 5 bytes and the header 6")
    return tpdu + header + encode_body(fields, mak)


def unpack(frame: bytes) -> Message:
    """Read a frame (without its length); refuse anything outside the fields this dialect defines."""
    if len(frame) < PREFIX_LEN + 10 or frame[0] != TPDU_ID:
        raise ProtocolError("no TPDU, header and MTI")
    body = frame[PREFIX_LEN:]
    try:
        doc, _ = iso8583.decode(body, SPEC)
    except (iso8583.DecodeError, KeyError, ValueError) as exc:
        raise ProtocolError(f"unreadable message: {exc}") from None
    fields = {k: v for k, v in doc.items() if k not in ("p", "h")}
    return Message(fields, frame[:5], frame[5:PREFIX_LEN], body)


def mac_ok(body: bytes, mak: bytes) -> bool:
    """True when field 64 is present, last, and is the ECB MAC under ``mak`` of everything before it."""
    if len(body) < 2 + 8 + MAC_LEN or body[2] & 0x80 or not body[9] & 0x01:
        return False

    return hmac.compare_digest(body[-MAC_LEN:], ecb_mac(mak, body[:-MAC_LEN]))


def read_frame(conn: socket.socket) -> bytes | None:
    """One length-prefixed frame; None when the peer closed the connection cleanly between frames."""
    head = _read_exact(conn, 2, allow_eof=True)
    if head is None:
        return None
    size = int.from_bytes(head, "big")
    if size == 0:
        raise ProtocolError("empty frame")
    body = _read_exact(conn, size, allow_eof=False)
    assert body is not None
    return body


def write_frame(conn: socket.socket, frame: bytes) -> None:
    if len(frame) > MAX_FRAME:
        raise ProtocolError("message longer than a 2-byte length allows")
    conn.sendall(len(frame).to_bytes(2, "big") + frame)


def _read_exact(conn: socket.socket, size: int, *, allow_eof: bool) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = conn.recv(size - len(chunks))
        if not chunk:
            if allow_eof and not chunks:
                return None
            raise ProtocolError("connection closed inside a frame")
        chunks += chunk
    return bytes(chunks)
