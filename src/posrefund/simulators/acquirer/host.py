"""The acquirer host's answers to ISO 8583 messages (voids, refunds, status queries, reversals), with the faults
planned for a refund_no; the rules and codes are described in ``server``. No sockets here: ``Host.handle`` takes
one framed message and says what to send back, so a test can drive it directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from posrefund.simulators.acquirer import protocol
from posrefund.simulators.acquirer.ledger import (
    EXECUTED,
    REFUND,
    SHANGHAI,
    VOID,
    Execution,
    HostLedger,
    LedgerEntry,
    Payment,
)
from posrefund.simulators.common.faults import Fault

SUBMIT_FAULTS: Final = ("no_answer_after_accept", "decline", "system_error", "slow", "bad_response_mac")
REVERSAL_FAULTS: Final = ("reversal_lost",)
FAULTS: Final = SUBMIT_FAULTS + REVERSAL_FAULTS
DEFAULT_RATE_FAULTS: Final = ("no_answer_after_accept",)


@dataclass(slots=True)
class Reply:
    """What to do with one request: answer it (maybe late), or close the connection without a word."""

    response: bytes | None
    delay: float = 0.0


@dataclass
class Rules:
    """The limits acquirers differ on, and how late a ``slow`` answer comes."""

    slow_seconds: float = 3.0
    refund_window_days: int | None = None
    max_partial_refunds: int | None = None


class Host:
    """Reads a message, applies the rules to the ledger, answers with the (MACed) response."""

    def __init__(self, ledger: HostLedger, mac_key: bytes, rules: Rules) -> None:
        self.ledger = ledger
        self.rules = rules
        self._key = mac_key
        self._messages: list[dict[str, Any]] = []

    def messages(self) -> list[dict[str, Any]]:
        """Every message received, in order, with the code answered (None when nothing was answered)."""
        with self.ledger.lock:
            return [dict(m) for m in self._messages]

    def handle(self, raw: bytes) -> Reply:
        """Process one framed message."""
        try:
            doc = protocol.unpack(raw)
        except protocol.ProtocolError:
            self._note({"mti": raw[:4].decode("ascii", "replace"), "kind": "unreadable", "code": None})
            return Reply(None)
        if not protocol.mac_ok(raw, self._key):
            self._note(_summary(doc, "bad_mac", "A0"))
            return Reply(protocol.pack(_answer_base(doc, "A0"), key=None))  # no MAC: keys are in doubt
        mti, proc = doc.get("t", ""), doc.get("3", "")
        kind = doc.get("60", "")[:2]
        with self.ledger.lock:
            if mti == protocol.MTI_FINANCIAL and proc == protocol.PROC_VOID_OR_REFUND and kind == protocol.TYPE_VOID:
                return self._submit(doc, VOID)
            if mti == protocol.MTI_ADVICE and proc == protocol.PROC_VOID_OR_REFUND and kind == protocol.TYPE_REFUND:
                return self._submit(doc, REFUND)
            if mti == protocol.MTI_FINANCIAL and proc == protocol.PROC_STATUS_QUERY:
                return self._query(doc)
            if mti == protocol.MTI_REVERSAL:
                return self._reverse(doc)
            self._note(_summary(doc, "unsupported", "40"))
            return Reply(self._pack(_answer_base(doc, "40")))

    def _submit(self, doc: dict[str, str], kind: str) -> Reply:
        refund_no = doc.get("48", "")
        fault = self.ledger.faults.take(refund_no, SUBMIT_FAULTS) or self._draw_fault()
        amount = _amount(doc)
        if not refund_no or amount is None or "37" not in doc:
            return self._answer(doc, kind, "30", fault=None)
        if fault and fault.name == "decline":
            return self._answer(doc, kind, fault.code or "05", fault=None)
        entry = self.ledger.entries.get(refund_no)
        if entry is not None and entry.status == EXECUTED:
            if entry.original_rrn != doc["37"] or entry.amount_fen != amount:
                return self._answer(doc, kind, "94", fault=fault)
            self.ledger.record_journal(_field(doc, "41"), doc.get("11", ""), amount, entry)
            return self._answer(doc, kind, "00", fault=fault, entry=entry)
        code = self._check(doc, kind, amount)
        if code != "00":
            return self._answer(doc, kind, code, fault=fault)
        if fault and fault.name == "system_error" and fault.applied is False:
            return self._answer(doc, kind, "00", fault=fault)
        ask = Execution(refund_no, kind, amount, doc["37"], _field(doc, "41"), _field(doc, "42"), doc.get("11", ""))
        entry = self.ledger.execute(ask, previous=entry)
        return self._answer(doc, kind, "00", fault=fault, entry=entry)

    def _draw_fault(self) -> Fault | None:
        name = self.ledger.faults.draw()
        return Fault(name, applied=self.ledger.faults.rng.random() < 0.5) if name else None

    def _check(self, doc: dict[str, str], kind: str, amount: int) -> str:
        payment = self.ledger.payments.get(doc["37"])
        if payment is None or not _references_match(doc, payment):
            return "25"
        if amount <= 0:
            return "13"
        refunded = self.ledger.refunded(payment.rrn)
        if kind == VOID:
            if _field(doc, "41") != payment.terminal_no or not self.ledger.in_open_batch(payment) or refunded:
                return "12"
            return "64" if amount != payment.amount_fen else "00"
        window = self.rules.refund_window_days
        if window is not None and self.ledger.now() - payment.paid_at > timedelta(days=window):
            return "58"
        if amount > payment.amount_fen:
            return "13"
        if refunded + amount > payment.amount_fen:
            return "61"
        if self.rules.max_partial_refunds is not None and amount < payment.amount_fen:
            count = sum(1 for e in self.ledger.live_entries() if e.original_rrn == payment.rrn)
            if count >= self.rules.max_partial_refunds:
                return "65"
        return "00"

    def _reverse(self, doc: dict[str, str]) -> Reply:
        refund_no = doc.get("48", "")
        if self.ledger.faults.take(refund_no, REVERSAL_FAULTS):
            self._note(_summary(doc, "reversal", None))
            return Reply(None)
        undone = self.ledger.reverse(_field(doc, "41"), doc.get("11", ""), refund_no, _amount(doc))
        code = "00" if undone else "25"
        self._note(_summary(doc, "reversal", code))
        return Reply(self._pack(_answer_base(doc, code)))

    def _query(self, doc: dict[str, str]) -> Reply:
        entry = self.ledger.entries.get(doc.get("48", ""))
        out = _answer_base(doc, "00" if entry else "25")
        if entry:
            out.update(_entry_fields(entry))
            out["62"] = (
                f"KIND={entry.kind.upper()};STATE={entry.status.upper()};"
                f"ORIG_RRN={entry.original_rrn};AMT={entry.amount_fen:012d}"
            )
        self._note(_summary(doc, "query", out["39"]))
        return Reply(self._pack(out))

    def _answer(
        self, doc: dict[str, str], kind: str, code: str, *, fault: Fault | None, entry: LedgerEntry | None = None
    ) -> Reply:
        out = _answer_base(doc, code)
        if entry is not None and code == "00":
            out.update(_entry_fields(entry))
        name = fault.name if fault else None
        if name == "system_error":
            out["39"] = fault.code if fault and fault.code else "96"
            for k in ("37", "38"):
                out.pop(k, None)
        delivered = None if name == "no_answer_after_accept" else out["39"]
        self._note(_summary(doc, kind, delivered) | {"fault": name})
        if name == "no_answer_after_accept":
            return Reply(None)
        packed = self._pack(out)
        if name == "bad_response_mac":
            packed = packed[:-1] + bytes([packed[-1] ^ 0xFF])
        return Reply(packed, delay=self.rules.slow_seconds if name == "slow" else 0.0)

    def _pack(self, fields: dict[str, str]) -> bytes:
        return protocol.pack(fields, self._key)

    def _note(self, row: dict[str, Any]) -> None:
        with self.ledger.lock:
            self._messages.append(row)


def _references_match(doc: dict[str, str], p: Payment) -> bool:
    original = doc.get("61", "")
    local_mmdd = p.paid_at.astimezone(SHANGHAI).strftime("%m%d")
    return (
        doc.get("38", "").strip() == p.auth_code.strip()
        and original == f"{p.batch_no}{p.voucher_no}{local_mmdd}"
        and (not p.merchant_no or _field(doc, "42") == p.merchant_no)
    )


def _entry_fields(entry: LedgerEntry) -> dict[str, str]:
    return {
        "4": f"{entry.amount_fen:012d}",
        "12": entry.local_time,
        "13": entry.local_date,
        "37": entry.channel_refund_id,
        "38": entry.auth_code,
    }


def _answer_base(doc: dict[str, str], code: str) -> dict[str, str]:
    mti = doc.get("t", "0000")
    out = {"t": f"{mti[:2]}{int(mti[2]) + 1}{mti[3]}" if mti[2].isdigit() else mti, "39": code}
    for k in ("3", "4", "11", "41", "42", "48", "49", "60"):
        if k in doc:
            out[k] = doc[k]
    return out


def _summary(doc: dict[str, str], kind: str, code: str | None) -> dict[str, Any]:
    return {
        "mti": doc.get("t"),
        "kind": kind,
        "refund_no": doc.get("48", ""),
        "stan": doc.get("11", ""),
        "terminal_no": _field(doc, "41"),
        "code": code,
    }


def _field(doc: dict[str, str], key: str) -> str:
    """A fixed-length text field without its space padding (terminal and merchant ids are padded to 8 and 15)."""
    return doc.get(key, "").strip()


def _amount(doc: dict[str, str]) -> int | None:
    value = doc.get("4", "")
    return int(value) if value.isdigit() else None
