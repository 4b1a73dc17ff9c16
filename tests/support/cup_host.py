"""A tiny acquirer front end for the card terminal's contract tests, with its own minimal codec and MAC.

It knows only the fields the terminal sends and answers, written here from the spec independently of the adapter's
codec: fixed n fields BCD right-aligned, variable ones left-aligned with a trailing 0 nibble, LLVAR/LLLVAR lengths BCD (digits for n, bytes otherwise), an/ans ASCII,
b binary. One message per connection. Faults are set per MTI: ``drop`` (read it, close without answering), ``hang``
(read it, answer nothing until the terminal gives up), ``bad_mac`` (answer with a wrong MAC), ``sign_on`` (answer
with processing requirement 3 and refuse), ``forge`` (an unMACed approval), ``code:NN`` (answer code NN)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

# field: (kind, max length, length-prefix bytes)
FIELDS: dict[int, tuple[str, int, int]] = {
    3: ("n", 6, 0), 4: ("n", 12, 0), 11: ("n", 6, 0), 12: ("n", 6, 0), 13: ("n", 4, 0), 25: ("n", 2, 0),
    32: ("n", 11, 1), 37: ("a", 12, 0), 38: ("a", 6, 0), 39: ("a", 2, 0), 41: ("a", 8, 0), 42: ("a", 15, 0),
    48: ("n", 322, 2), 49: ("a", 3, 0), 60: ("n", 17, 2), 61: ("n", 29, 2), 62: ("b", 512, 2), 63: ("a", 163, 2),
    64: ("b", 8, 0),
}  # fmt: skip


def des(key: bytes, block: bytes, *, decrypt: bool = False) -> bytes:
    """DES with an 8-byte key, 2-key 3DES with a 16-byte one; ECB over whole blocks."""
    full = key * 3 if len(key) == 8 else key + key[:8]
    cipher = Cipher(TripleDES(full), modes.ECB())
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return op.update(block) + op.finalize()


def ecb_mac(mak: bytes, data: bytes) -> bytes:
    """The spec's ECB MAC, written out: zero-pad, XOR blocks, hex, encrypt first half, XOR second, encrypt, hex[:8]."""
    data = data + b"\x00" * (-len(data) % 8)
    x = bytes(8)
    for i in range(0, len(data), 8):
        x = bytes(a ^ b for a, b in zip(x, data[i : i + 8], strict=True))
    h = x.hex().upper().encode()
    e1 = des(mak, h[:8])
    e2 = des(mak, bytes(a ^ b for a, b in zip(e1, h[8:], strict=True)))
    return e2.hex().upper().encode()[:8]


def parse(body: bytes) -> dict[int | str, Any]:
    """MTI, bitmap and fields of one message body (after TPDU and header)."""
    doc: dict[int | str, Any] = {"mti": body[:2].hex()}
    bitmap = int.from_bytes(body[2:10], "big")
    pos = 10
    for bit in range(1, 65):
        if not bitmap >> (64 - bit) & 1:
            continue
        kind, size, var = FIELDS[bit]
        if var:
            size = int(body[pos : pos + var].hex())
            pos += var
        width = (size + 1) // 2 if kind == "n" else size
        raw = body[pos : pos + width]
        pos += width
        digits = raw.hex()[:size] if var else raw.hex()[-size:]  # variable n: left-aligned, trailing 0 nibble
        doc[bit] = digits if kind == "n" else (raw.decode() if kind == "a" else raw)
    assert pos == len(body), "trailing bytes"
    return doc


def build(mti: str, fields: dict[int, Any]) -> bytes:
    bitmap = 0
    out = b""
    for bit in sorted(fields):
        bitmap |= 1 << (64 - bit)
        kind, size, var = FIELDS[bit]
        value = fields[bit]
        if kind == "n":
            length = len(value) if var else size
            padded = value.ljust(length + length % 2, "0") if var else value.zfill(length + length % 2)
            data = bytes.fromhex(padded)
        else:
            data = value.encode() if kind == "a" else value
            length = len(data)
        prefix = bytes.fromhex(f"{length:0{2 * var}d}") if var else b""
        out += prefix + data
    return bytes.fromhex(mti) + bitmap.to_bytes(8, "big") + out


@dataclass
class HostState:
    tmk: bytes
    pik: bytes = bytes.fromhex("11111111111111112222222222222222")
    mak: bytes = bytes.fromhex("3333333333333333")
    faults: dict[str, list[str]] = field(default_factory=dict)  # MTI → faults to apply, one per message
    balance: str = "1"
    bad_check_value: bool = False
    received: list[dict[int | str, Any]] = field(default_factory=list)
    answers: dict[tuple[str, str, str], dict[int, Any]] = field(default_factory=dict)
    on_message: Callable[[dict[int | str, Any]], None] | None = None
    rrn: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, mti: str) -> int:
        return Counter(m["mti"] for m in self.received)[mti]

    def of(self, mti: str) -> list[dict[int | str, Any]]:
        return [m for m in self.received if m["mti"] == mti]


class FakeHost:
    """``with FakeHost(tmk) as host``: ``host.address``, ``host.state``."""

    def __init__(self, tmk: bytes) -> None:
        self.state = HostState(tmk)
        state = self.state

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                size = int.from_bytes(_read(conn, 2), "big")
                _answer(state, conn, _read(conn, size))

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address: tuple[str, int] = self.server.server_address[:2]  # type: ignore[assignment]
        self.thread = threading.Thread(target=self.server.serve_forever, name="cup-host", daemon=True)

    def __enter__(self) -> FakeHost:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _read(conn: socket.socket, size: int) -> bytes:
    out = b""
    while len(out) < size:
        chunk = conn.recv(size - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def _answer(state: HostState, conn: socket.socket, rest: bytes) -> None:
    tpdu, header, body = rest[:5], rest[5:11], rest[11:]
    assert tpdu[0] == 0x60 and header == bytes.fromhex("603100311003"), (tpdu.hex(), header.hex())
    doc = parse(body)
    with state.lock:
        state.received.append(doc)
        pending = state.faults.get(doc["mti"], [])
        fault = pending.pop(0) if pending else ""
    if state.on_message:
        state.on_message(doc)
    if fault == "drop":
        return
    if fault == "hang":
        conn.settimeout(5)
        with contextlib.suppress(OSError):
            conn.recv(1)  # until the terminal closes
        return
    header_out = header
    if fault == "forge":  # what a man in the middle could send: an approval without a MAC, "sign on again"
        header_out = header[:2] + b"\x03" + header[3:]
        reply = {4: doc[4], 11: doc[11], 37: "999999999999", 38: "FORGED", 39: "00", 41: doc[41], 42: doc[42]}
    elif fault == "sign_on":
        header_out = header[:2] + b"\x03" + header[3:]
        reply = {11: doc[11], 39: "A0", 41: doc[41], 42: doc[42]}
    elif doc["mti"] == "0800":
        reply = _sign_on(state, doc)
    elif 64 in doc and ecb_mac(state.mak, body[:-8]) != doc[64]:
        reply = {11: doc[11], 39: "A0", 41: doc[41], 42: doc[42]}  # our MAC failed: refused, unMACed
    else:
        reply = _business(state, doc)
        if fault.startswith("code:"):
            reply[39] = fault[5:]
        reply[64] = b"\x00" * 8
    mti = doc["mti"][:2] + str(int(doc["mti"][2]) + 1) + doc["mti"][3]
    out = build(mti, reply)
    if 64 in reply:
        mac = ecb_mac(state.mak, out[:-8])
        out = out[:-8] + (b"BADMAC00" if fault == "bad_mac" else mac)
    frame = bytes([0x60]) + tpdu[3:5] + tpdu[1:3] + header_out + out
    conn.sendall(len(frame).to_bytes(2, "big") + frame)


def _sign_on(state: HostState, doc: dict[int | str, Any]) -> dict[int, Any]:
    pik_cv = des(state.pik, bytes(8))[:4]
    mak_cv = des(state.mak, bytes(8))[:4]
    if state.bad_check_value:
        mak_cv = bytes(4)
    f62 = des(state.tmk, state.pik) + pik_cv + des(state.tmk, state.mak) + bytes(8) + mak_cv
    return {11: doc[11], 12: "103000", 13: "1204", 32: "00010344", 37: "000000000000", 39: "00", 41: doc[41],
            42: doc[42], 60: doc[60], 62: f62}  # fmt: skip


def _business(state: HostState, doc: dict[int | str, Any]) -> dict[int, Any]:
    key = (doc[41], doc[60][2:8], doc[11])
    with state.lock:
        if doc["mti"] in ("0200", "0220") and key in state.answers:
            return dict(state.answers[key])  # a repeat gets the first answer
        state.rrn += 1
        rrn = f"{state.rrn:012d}"
    reply: dict[int, Any] = {11: doc[11], 39: "00", 41: doc[41], 42: doc[42]}
    if doc["mti"] in ("0200", "0220"):
        code = "25" if doc.get(37) == "NOTINBATCH00" else "00"
        reply |= {4: doc[4], 12: "103001", 13: "1204", 37: rrn, 38: "AUTH01", 39: code, 60: doc[60]}
        with state.lock:
            state.answers[key] = dict(reply)
    elif doc["mti"] == "0500":
        reply |= {48: doc[48][:30] + state.balance + doc[48][31:], 60: doc[60]}
    return reply
