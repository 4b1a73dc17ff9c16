"""The acquirer host's wire protocol: ISO 8583 messages (pyiso8583), a 2-byte length frame and a stand-in MAC.

This is the simulator's own copy. The adapter (``posrefund.adapters.channels.acquirer.client``) keeps an independent
one on purpose: the two sides of a contract test must not share a codec, or a bug in it would be invisible.

Framing: every message on the TCP stream is preceded by its length as 2 bytes, big-endian (no TPDU header).

MAC: field 64, the last field of the primary bitmap, holds HMAC-SHA256 truncated to 8 bytes, computed with a key
shared by terminal and acquirer over the packed message up to (not including) the MAC bytes — the bitmap already
has bit 64 set. A real acquirer uses its own MAC algorithm (e.g. ANSI X9.19 retail MAC, or the CUP ECB variant,
with a session MAC key delivered under the terminal master key at sign-on); this HMAC stands in for it. Messages
never use the secondary bitmap, so the MAC is always the last 8 bytes.

Messages (CHANNELS.md §3, CUP POS style; 60.1 is the CUP transaction type code):

============  =====  ======  ====  ===================================================================
transaction   MTI    3       60.1  references
============  =====  ======  ====  ===================================================================
void 消费撤销   0200   200000  23    4 = full original amount, 37 RRN, 38 auth code, 61 = batch(6) trace(6) MMDD(4)
refund 退货     0220   200000  25    4 = refund amount (partial allowed), same 37/38/61 references
status query  0200   330000  00    48 = refund_no only (our design: 33 is unused in the 30–39 enquiry range)
reversal 冲正   0400   as orig as    repeats the original's 3, 4, 11, 37, 38, 41, 42, 48, 60, 61; 39 = reason
============  =====  ======  ====  ===================================================================

Responses are MTI + 10 (0210, 0230, 0410) echoing 11, 41, 42, 48, with 39 = response code. An approved void or
refund carries 37 = the acquirer's new RRN for it (our ``channel_refund_id``), 38 = its auth code and 12/13 = when
it was executed (Shanghai local time, repeated unchanged when a duplicate is answered). A query answer carries the
same fields plus 62 = ``KIND=VOID|REFUND;STATE=EXECUTED|REVERSED;ORIG_RRN=…;AMT=…``.

Field 48 (private) carries our refund_no on every void, refund, query and reversal: the acquirer's ledger is keyed
by it, so the same refund_no executes at most once and a repeat gets the first answer again.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
from typing import Any, Final

import iso8583
from iso8583.specs import default as _default_spec

_FIELDS = (
    "h",
    "t",
    "p",
    "1",
    "3",
    "4",
    "11",
    "12",
    "13",
    "37",
    "38",
    "39",
    "41",
    "42",
    "48",
    "49",
    "60",
    "61",
    "62",
    "64",
)
# pyiso8583's default spec (ASCII fields, binary bitmap and MAC), narrowed to the fields this protocol uses.
SPEC: Final[dict[str, dict[str, Any]]] = {k: dict(_default_spec[k]) for k in _FIELDS}
SPEC["48"].update(max_len=64, desc="Private: our refund_no")
SPEC["62"].update(desc="Private: stored result of a status query")

MAC_LEN: Final = 8
MAX_FRAME: Final = 0xFFFF

MTI_FINANCIAL: Final = "0200"
MTI_ADVICE: Final = "0220"
MTI_REVERSAL: Final = "0400"
PROC_VOID_OR_REFUND: Final = "200000"
PROC_STATUS_QUERY: Final = "330000"
TYPE_VOID: Final = "23"
TYPE_REFUND: Final = "25"
TYPE_QUERY: Final = "00"
CURRENCY_CNY: Final = "156"


class ProtocolError(Exception):
    """A frame or message that cannot be read at all: the connection is dropped, nothing is answered."""


def mac(key: bytes, data: bytes) -> bytes:
    """The stand-in MAC: HMAC-SHA256 truncated to 8 bytes."""
    return hmac.new(key, data, hashlib.sha256).digest()[:MAC_LEN]


def pack(fields: dict[str, str], key: bytes | None) -> bytes:
    """Encode a message; with a key, append the MAC as field 64 (without one, the message goes unMACed)."""
    doc = {k: v for k, v in fields.items() if k not in ("p", "1", "64")}
    if key is None:
        raw, _ = iso8583.encode(doc, SPEC)
        return bytes(raw)
    doc["64"] = "00" * MAC_LEN
    raw, _ = iso8583.encode(doc, SPEC)
    body = bytes(raw[:-MAC_LEN])
    return body + mac(key, body)


def mac_ok(raw: bytes, key: bytes) -> bool:
    """True when the message has field 64 as its last 8 bytes and they are the MAC of everything before."""
    if len(raw) < 4 + 8 + MAC_LEN or raw[4] & 0x80 or not raw[11] & 0x01:
        return False
    return hmac.compare_digest(raw[-MAC_LEN:], mac(key, raw[:-MAC_LEN]))


def unpack(raw: bytes) -> dict[str, str]:
    """Decode a message, refusing anything outside the fields this protocol defines."""
    try:
        doc, _ = iso8583.decode(raw, SPEC)
    except (iso8583.DecodeError, KeyError, ValueError) as exc:
        raise ProtocolError(f"unreadable message: {exc}") from None
    return doc


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


def write_frame(conn: socket.socket, message: bytes) -> None:
    if len(message) > MAX_FRAME:
        raise ProtocolError("message longer than a 2-byte length allows")
    conn.sendall(len(message).to_bytes(2, "big") + message)


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
