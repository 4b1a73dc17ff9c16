"""Bank-card refunds through the acquirer host: voids (消费撤销), refunds (退货) and reversals (冲正) in ISO 8583.

The adapter acts as a POS terminal towards the acquirer: one short TCP connection per message, each message framed
by a 2-byte big-endian length and MACed in field 64. Messages follow a CUP POS style (CHANNELS.md §3):

- void: 0200, processing code 200000, 60.1 = 23, field 4 = the full original amount;
- refund: 0220 (the CUP 退货 advice), processing code 200000, 60.1 = 25, field 4 = the amount (partial allowed);
- both quote the original: 37 RRN, 38 auth code, 61 = batch (60.2 → 61.1) + trace (11 → 61.2) + date MMDD (13 → 61.3);
- status query: 0200, processing code 330000 (our choice in the 30–39 enquiry range), 48 = refund_no; the answer is
  00 with 62 ``KIND=…;STATE=EXECUTED|REVERSED;…`` or 25 (unable to locate);
- reversal: 0400 repeating the original's key fields (3, 4, 11, 12, 13, 37, 38, 41, 42, 48, 60, 61) with 39 = why
  (98 no answer, A0 answer failed its MAC); 00 or 25 in the 0410 answer both mean "acknowledged".

Our refund_no travels in field 48 on every message so the acquirer keys its ledger by it: submitting the same
refund_no again executes nothing new and repeats the first answer.

MAC: HMAC-SHA256 over the packed message without the MAC bytes, truncated to 8 bytes, with a key shared with the
host. A real acquirer uses its own algorithm (e.g. ANSI X9.19 with a session MAC key from the terminal master key);
this stands in for it. The codec below is deliberately independent of the simulator's copy.

What the answers mean for a refund is in ``mapping``. When a void or refund got no valid answer in time, the
adapter sends a reversal (up to 3 tries, as terminals do) so the acquirer undoes whatever it did, and answers
UNKNOWN with details saying so; a query then finds either nothing / a reversed entry (NOT_FOUND: submit again
with the same refund_no) or, if no reversal got through, the executed refund (SUCCEEDED).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
import secrets
import socket
import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import iso8583
from iso8583.specs import default as _default_spec

from posrefund.adapters.channels.acquirer.mapping import (
    REVERSAL_ACKS,
    SHANGHAI,
    TRANSACTION_TYPE,
    query_answer,
    submit_answer,
    unanswered,
)
from posrefund.domain.channel import ChannelAnswer, Method, Outcome, RefundOrder

log = logging.getLogger(__name__)

# ---- wire codec (pyiso8583's default spec narrowed to our fields; framing and MAC are ours) -------------------

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
SPEC: Final[dict[str, dict[str, Any]]] = {k: dict(_default_spec[k]) for k in _FIELDS}
SPEC["48"].update(max_len=64, desc="Private: refund_no")
SPEC["62"].update(desc="Private: status query result")
_MAC_LEN: Final = 8
_HEADER_LEN: Final = 4 + 8  # MTI + binary primary bitmap


class _WireError(Exception):
    """Bytes that are not a valid answer: treated exactly like no answer."""


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()[:_MAC_LEN]


def _pack(fields: dict[str, str], key: bytes) -> bytes:
    raw, _ = iso8583.encode({**fields, "64": "00" * _MAC_LEN}, SPEC)
    body = bytes(raw[:-_MAC_LEN])  # field 64 is the last field: everything before it is MACed
    return body + _mac(key, body)


def _has_mac(raw: bytes) -> bool:
    return len(raw) >= _HEADER_LEN + _MAC_LEN and not raw[4] & 0x80 and bool(raw[11] & 0x01)


def _unpack(raw: bytes) -> dict[str, str]:
    try:
        doc, _ = iso8583.decode(raw, SPEC)
    except (iso8583.DecodeError, KeyError, ValueError) as exc:
        raise _WireError(f"unreadable answer: {exc}") from None
    return doc


def _recv_exact(conn: socket.socket, size: int, deadline: float) -> bytes:
    out = bytearray()
    while len(out) < size:
        remaining = deadline - _time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer in time")
        conn.settimeout(remaining)
        chunk = conn.recv(size - len(out))
        if not chunk:
            raise _WireError("connection closed without an answer" if not out else "connection closed mid-answer")
        out += chunk
    return bytes(out)


@dataclass(frozen=True, slots=True)
class _Exchange:
    """One request/answer round trip: the answer, or why there was none and whether the request left us."""

    answer: dict[str, str] | None
    sent: bool
    reason: str = ""


class CardAcquirerChannel:
    """``PaymentChannel`` for bank cards. ``terminal_id`` (≤8) and ``merchant_id`` (≤15) are used when the sale
    does not name its own: a void must come from the terminal whose batch holds the sale, so the sale's wins.
    ``timeout`` bounds each exchange (connect, send, answer); a void/refund that times out costs up to
    ``1 + reversal_tries`` timeouts.

    ``ChannelAnswer.details`` of a submit: ``method``, ``stan``, ``terminal_no``; ``auth_code`` when approved;
    ``hint=use_refund`` when a void is refused (12/64); and when no valid answer came: ``sent``, ``reason``,
    ``reversal_sent``, ``reversal_acknowledged``, ``reversal_tries``, ``reversal_code`` (, ``reversal_error``)."""

    name = "card"

    def __init__(
        self,
        host: str,
        port: int,
        mac_key: bytes,
        terminal_id: str,
        merchant_id: str,
        timeout: float = 10.0,
        *,
        reversal_tries: int = 3,
        clock: Callable[[], datetime] | None = None,
        trace_start: int | None = None,
    ) -> None:
        if not mac_key:
            raise ValueError("a MAC key is required")
        if not (0 < len(terminal_id) <= 8 and 0 < len(merchant_id) <= 15):
            raise ValueError("terminal_id is 1–8 characters, merchant_id 1–15")
        self.host, self.port = host, port
        self._key = mac_key
        self.terminal_id, self.merchant_id = terminal_id, merchant_id
        self.timeout = timeout
        self.reversal_tries = reversal_tries
        self._clock = clock or (lambda: datetime.now(UTC))
        # A real terminal persists its trace number; a random start keeps a restarted adapter from reusing
        # recent traces, which the acquirer uses (with the terminal id) to find what a reversal undoes.
        start = trace_start if trace_start is not None else secrets.randbelow(999_999)
        self._traces = itertools.count(start)
        self._trace_lock = threading.Lock()

    # ---- PaymentChannel --------------------------------------------------------------------------------------

    def submit(self, order: RefundOrder) -> ChannelAnswer:
        """Send a void or a refund for ``order``; a lost answer is reversed and reported UNKNOWN."""
        if order.method not in TRANSACTION_TYPE:
            return ChannelAnswer(Outcome.DECLINED, code="unsupported_method", message=f"card cannot {order.method}")
        problem = self._invalid(order)
        if problem:
            return ChannelAnswer(Outcome.DECLINED, code="invalid_request", message=problem)
        request = self._request(order)
        exchange = self._exchange(request)
        base = {"method": str(order.method), "stan": request["11"], "terminal_no": request["41"].strip()}
        if exchange.answer is None:
            if not exchange.sent:
                return ChannelAnswer(
                    Outcome.UNKNOWN,
                    message=f"not sent: {exchange.reason}",
                    details=base | {"sent": "false", "reversal_sent": "false"},
                )
            return self._reverse(request, exchange.reason, base)
        return submit_answer(order, exchange.answer, base, self._clock())

    def query(self, order: RefundOrder) -> ChannelAnswer:
        """Ask the acquirer what it holds under ``order.refund_no`` (status enquiry, processing code 330000)."""
        now = self._clock().astimezone(SHANGHAI)
        request = {
            "t": "0200",
            "3": "330000",
            "11": self._next_trace(),
            "12": f"{now:%H%M%S}",
            "13": f"{now:%m%d}",
            "41": self._terminal(order),
            "42": self._merchant(order),
            "48": order.refund_no,
            "60": "00000000",
        }
        exchange = self._exchange(request)
        doc = exchange.answer
        if doc is None:
            return ChannelAnswer(Outcome.UNKNOWN, message=f"query unanswered: {exchange.reason}")
        return query_answer(order, doc, self._clock())

    # ---- messages --------------------------------------------------------------------------------------------

    def _request(self, order: RefundOrder) -> dict[str, str]:
        sale = order.sale
        now = self._clock().astimezone(SHANGHAI)
        batch = sale.batch_no.zfill(6)
        return {
            "t": "0200" if order.method is Method.VOID else "0220",
            "3": "200000",
            "4": f"{order.amount_fen:012d}",
            "11": self._next_trace(),
            "12": f"{now:%H%M%S}",
            "13": f"{now:%m%d}",
            "37": sale.rrn,
            "38": sale.auth_code.ljust(6),
            "41": self._terminal(order),
            "42": self._merchant(order),
            "48": order.refund_no,
            "49": "156",
            # 60.1 type + 60.2 batch: a void lives in the sale's (open) batch; a refund's batch is the host's to set.
            "60": TRANSACTION_TYPE[order.method] + (batch if order.method is Method.VOID else "000000"),
            "61": batch + sale.voucher_no.zfill(6) + f"{sale.paid_at.astimezone(SHANGHAI):%m%d}",
        }

    def _reverse(self, request: dict[str, str], reason: str, base: dict[str, str]) -> ChannelAnswer:
        """冲正: ask the host to undo ``request``, up to ``reversal_tries`` times; the answer stays UNKNOWN."""
        keep = ("3", "4", "11", "12", "13", "37", "38", "41", "42", "48", "49", "60", "61")
        reversal = {k: request[k] for k in keep} | {"t": "0400", "39": "A0" if "MAC" in reason else "98"}
        log.warning("card %s %s unanswered (%s): sending a reversal", base["method"], request["48"], reason)
        ack_code, tries, last = "", 0, ""
        while not ack_code and tries < self.reversal_tries:
            tries += 1
            exchange = self._exchange(reversal)
            code = exchange.answer.get("39", "") if exchange.answer else ""
            if code in REVERSAL_ACKS:
                ack_code = code
            else:
                last = exchange.reason or f"answered {code}"
        if not ack_code:
            log.error("card reversal for %s not acknowledged after %d tries: %s", request["48"], tries, last)
        return unanswered(base, reason, ack_code, tries, last)

    # ---- transport -------------------------------------------------------------------------------------------

    def _exchange(self, request: dict[str, str]) -> _Exchange:
        """One connection, one message, one answer, all within ``timeout``. Never raises for network trouble."""
        try:
            raw = _pack(request, self._key)
        except iso8583.EncodeError as exc:
            return _Exchange(None, sent=False, reason=f"cannot encode: {exc}")
        deadline = _time.monotonic() + self.timeout
        try:
            conn = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            return _Exchange(None, sent=False, reason=f"cannot connect: {exc}")
        with conn:
            try:
                conn.sendall(len(raw).to_bytes(2, "big") + raw)
            except OSError as exc:
                return _Exchange(None, sent=True, reason=f"send failed: {exc}")
            try:
                size = int.from_bytes(_recv_exact(conn, 2, deadline), "big")
                answer = _recv_exact(conn, size, deadline)
                doc = self._verified(answer, request)
            except TimeoutError:
                return _Exchange(None, sent=True, reason=f"timeout after {self.timeout:g}s")
            except (OSError, _WireError) as exc:
                return _Exchange(None, sent=True, reason=str(exc))
        return _Exchange(doc, sent=True)

    def _verified(self, raw: bytes, request: dict[str, str]) -> dict[str, str]:
        """Accept an answer only if it is MACed with our key and answers this very request.

        The one exception is an unMACed A0 (the host could not check our MAC, so it cannot trust the key either):
        it can only ever say "nothing was done", which is what a refusal means anyway."""
        doc = _unpack(raw)
        if _has_mac(raw):
            if not hmac.compare_digest(raw[-_MAC_LEN:], _mac(self._key, raw[:-_MAC_LEN])):
                raise _WireError("answer failed its MAC check")
        elif doc.get("39") != "A0":
            raise _WireError("answer without a MAC")
        expected_mti = request["t"][:2] + str(int(request["t"][2]) + 1) + request["t"][3]
        if (doc.get("t"), doc.get("11"), doc.get("41"), doc.get("48")) != (
            expected_mti,
            request["11"],
            request["41"],
            request.get("48"),
        ):
            raise _WireError("answer does not match the request")
        return doc

    # ---- helpers ---------------------------------------------------------------------------------------------

    def _next_trace(self) -> str:
        with self._trace_lock:
            return f"{next(self._traces) % 999_999 + 1:06d}"

    def _terminal(self, order: RefundOrder) -> str:
        return (order.sale.terminal_no or self.terminal_id).ljust(8)

    def _merchant(self, order: RefundOrder) -> str:
        return (order.sale.merchant_no or self.merchant_id).ljust(15)

    def _invalid(self, order: RefundOrder) -> str:
        sale = order.sale
        checks = [
            (order.currency == "CNY", "only CNY card refunds are supported"),
            (0 < order.amount_fen < 10**12, "amount must be 1 to 999999999999 fen"),
            (0 < len(order.refund_no) <= 64 and order.refund_no.isascii(), "refund_no must be 1–64 ASCII characters"),
            (len(sale.rrn) == 12 and sale.rrn.isascii(), "the sale's RRN must be 12 characters"),
            (len(sale.auth_code) <= 6 and sale.auth_code.isascii(), "the sale's auth code must be ≤6 characters"),
            (sale.voucher_no.isdigit() and len(sale.voucher_no) <= 6, "the sale's voucher (trace) no. is ≤6 digits"),
            (sale.batch_no.isdigit() and len(sale.batch_no) <= 6, "the sale's batch no. is ≤6 digits"),
            (len(sale.terminal_no) <= 8 and len(sale.merchant_no) <= 15, "terminal ≤8 and merchant ≤15 characters"),
            (sale.paid_at.tzinfo is not None, "the sale's paid_at must be timezone-aware"),
        ]
        return next((why for ok, why in checks if not ok), "")
