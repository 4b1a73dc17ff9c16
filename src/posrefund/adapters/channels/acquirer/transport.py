"""One request, one answer: a short TCP connection to the acquirer's front end per message.

The transport frames (TPDU + header), MACs (field 64 under the MAK of the current sign-on) and checks that the
answer is the answer to this very message (MTI + 10, same trace and terminal) and carries a valid MAC. It never
raises for network trouble: an ``Exchange`` says what came back, whether anything left us, and why not."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from posrefund.adapters.channels.acquirer import codec, keys


@dataclass(frozen=True, slots=True)
class Exchange:
    """``answer`` is None when no usable answer came; ``left`` says whether our bytes reached the network.
    ``mac_ok`` is True for an answer whose MAC verified, False for one whose MAC failed (``answer`` is then None),
    None for an answer that carries no MAC. ``sign_on_again`` is the header's processing requirement 3."""

    answer: dict[str, str] | None
    left: bool
    reason: str = ""
    mac_ok: bool | None = None
    sign_on_again: bool = False


def _recv_exact(conn: socket.socket, size: int, deadline: float) -> bytes:
    out = bytearray()
    while len(out) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer in time")
        conn.settimeout(remaining)
        chunk = conn.recv(size - len(out))
        if not chunk:
            raise codec.WireError("connection closed before the whole answer came")
        out += chunk
    return bytes(out)


class Link:
    """The terminal's line to the host: address, TPDU addresses and the time one exchange may take."""

    def __init__(self, host: str, port: int, destination: bytes, source: bytes, timeout: float) -> None:
        if len(destination) != 2 or len(source) != 2:
            raise ValueError("TPDU addresses are 2 bytes each")
        self.host, self.port = host, port
        self.destination, self.source = destination, source
        self.timeout = timeout

    def frame(self, fields: dict[str, str], mak: bytes | None) -> bytes:
        """The bytes of one message; with field 64 present and a MAK, the MAC fills its 8 bytes."""
        body = codec.encode(fields)
        if "64" in fields:
            if mak is None:
                raise codec.WireError("a MACed message needs the working keys of a sign-on")
            body = body[: -codec.MAC_LEN] + keys.mac(mak, body[: -codec.MAC_LEN])
        return codec.Frame(self.destination, self.source, codec.HEADER, body).to_bytes()

    def exchange(self, fields: dict[str, str], mak: bytes | None, deadline: float) -> Exchange:
        """Send one message and wait for its answer until ``timeout`` or ``deadline``, whichever comes first."""
        try:
            raw = self.frame(fields, mak)
        except codec.WireError as exc:
            return Exchange(None, left=False, reason=str(exc))
        limit = min(time.monotonic() + self.timeout, deadline)
        if limit <= time.monotonic():
            return Exchange(None, left=False, reason="out of time before sending")
        try:
            conn = socket.create_connection((self.host, self.port), timeout=limit - time.monotonic())
        except OSError as exc:
            return Exchange(None, left=False, reason=f"cannot connect: {exc}")
        with conn:
            try:
                conn.sendall(raw)
                size = int.from_bytes(_recv_exact(conn, 2, limit), "big")
                frame = codec.read_frame(_recv_exact(conn, size, limit))
            except TimeoutError:
                return Exchange(None, left=True, reason=f"no answer within {self.timeout:g}s")
            except (OSError, codec.WireError) as exc:
                return Exchange(None, left=True, reason=str(exc))
        return self._check(frame, fields, mak)

    def _check(self, frame: codec.Frame, fields: dict[str, str], mak: bytes | None) -> Exchange:
        sign_on_again = frame.processing_requirement == codec.SIGN_ON_REQUIRED
        try:
            doc = codec.decode(frame.body)
        except codec.WireError as exc:
            return Exchange(None, left=True, reason=str(exc), sign_on_again=sign_on_again)
        expected = (codec.answer_mti(fields["t"]), fields["11"], fields["41"])
        if (doc.get("t"), doc.get("11"), doc.get("41")) != expected:
            return Exchange(None, left=True, reason="the answer is not to this message", sign_on_again=sign_on_again)
        if "64" not in doc:
            return Exchange(doc, left=True, mac_ok=None, sign_on_again=sign_on_again)
        given = frame.body[-codec.MAC_LEN :]
        if mak is None or not keys.verify_mac(mak, frame.body[: -codec.MAC_LEN], given):
            return Exchange(None, left=True, reason="answer failed its MAC check", mac_ok=False)
        return Exchange(doc, left=True, mac_ok=True, sign_on_again=sign_on_again)
