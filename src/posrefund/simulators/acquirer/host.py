"""The acquirer host's front: reads a frame, signs terminals on, checks the MAC, hands the message to the rule
that answers it, and packs the answer (TPDU addresses swapped, MACed under the terminal's MAK). No sockets here:
``Host.handle`` takes one frame and says what to send back, so a test can drive it directly."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from posrefund.simulators.acquirer import protocol
from posrefund.simulators.acquirer.exchange import Exchange, Reply, Rules, Terminals
from posrefund.simulators.acquirer.holds import HoldRules
from posrefund.simulators.acquirer.keys import WorkingKeys
from posrefund.simulators.acquirer.ledger import SHANGHAI, Entry, HostLedger
from posrefund.simulators.acquirer.money import DEFAULT_RATE_FAULTS, FAULTS, SUBMIT_FAULTS, MoneyRules
from posrefund.simulators.acquirer.settling import Settling
from posrefund.simulators.common.faults import Fault

__all__ = ["DEFAULT_RATE_FAULTS", "FAULTS", "SUBMIT_FAULTS", "Host", "Reply", "Rules", "Terminals"]


class Host:
    """Reads a message, applies the rules to the ledger, answers with the (MACed) response."""

    def __init__(self, ledger: HostLedger, terminals: Terminals, rules: Rules) -> None:
        self.ledger = ledger
        self.terminals = terminals
        self.rules = rules
        self._messages: list[dict[str, Any]] = []
        self._note_lock = threading.Lock()
        self.money = MoneyRules(self)
        self.holds = HoldRules(self, self.money)
        self.settling = Settling(self)

    def messages(self) -> list[dict[str, Any]]:
        """Every message received, in order, with the code answered (None when nothing was answered)."""
        with self._note_lock:
            return [dict(m) for m in self._messages]

    def handle(self, frame: bytes) -> Reply:
        """Process one frame (TPDU + header + message, without the 2-byte length)."""
        try:
            msg = protocol.unpack(frame)
        except protocol.ProtocolError:
            self.note({"mti": "", "kind": "unreadable", "key": "", "code": None})
            return Reply(None)
        terminal = msg.fields.get("41", "").strip()
        with self.ledger.lock:
            if msg.mti == protocol.MTI_SIGN_ON:
                return self._sign_on(Exchange(msg, terminal, None))
            keys = self.terminals.working.get(terminal)
            ex = Exchange(msg, terminal, keys.mak if keys else None)
            if keys is None:
                return self.refuse(ex, "77", "not_signed_on", protocol.SIGN_ON_AGAIN)
            if not protocol.mac_ok(msg.body, keys.mak):
                return self.refuse(ex, "A0", "bad_mac", protocol.PROCESS_NORMALLY)
            return self._route(ex)

    def _route(self, ex: Exchange) -> Reply:
        mti, proc, kind = ex.msg.mti, ex.get("3"), ex.get("60")[:2]
        if mti == protocol.MTI_FINANCIAL and proc == protocol.PROC_VOID_OR_REFUND and kind == protocol.TYPE_VOID:
            return self.money.submit(ex, "void")
        if mti == protocol.MTI_ADVICE and proc == protocol.PROC_VOID_OR_REFUND and kind == protocol.TYPE_REFUND:
            return self.money.submit(ex, "refund")
        if mti == protocol.MTI_REVERSAL:
            return self.money.reverse(ex)
        hold = self.holds.route(ex)
        if hold is not None:
            return hold
        if mti == protocol.MTI_SETTLEMENT:
            return self.settling.settle(ex)
        if mti == protocol.MTI_BATCH_UPLOAD and kind == protocol.TYPE_COMPLETION_NOTICE:
            return self.holds.upload_notice(ex)  # an offline completion, uploaded before (or after) settling
        if mti == protocol.MTI_BATCH_UPLOAD:
            return self.settling.upload(ex)
        return self.send(ex, ex.answer("40"), "unsupported")

    def _sign_on(self, ex: Exchange) -> Reply:
        """0800 (60.1 00, 60.3 003) → 0810 with fresh PIK and MAK under the terminal's TMK in field 62."""
        tmk = self.terminals.tmk(ex.terminal_no)
        if tmk is None:
            return self.send(ex, ex.answer("97"), "sign_on")
        if ex.get("60")[8:11] != protocol.NET_SIGN_ON:
            return self.send(ex, ex.answer("30"), "sign_on")
        keys = WorkingKeys.fresh()
        self.terminals.working[ex.terminal_no] = keys
        rrn, _, now = self.ledger.next_reference()
        local = now.astimezone(SHANGHAI)
        extra = {"12": f"{local:%H%M%S}", "13": f"{local:%m%d}", "37": rrn, "62": keys.field_62(tmk).hex().upper()}
        return self.send(ex, ex.answer("00", **extra), "sign_on")

    def refuse(self, ex: Exchange, code: str, kind: str, requirement: int) -> Reply:
        """An answer without a MAC (the keys are missing or in doubt); nothing was done."""
        return self.send(ex, ex.answer(code), kind, requirement=requirement, mac=False)

    def send(
        self,
        ex: Exchange,
        fields: dict[str, str],
        kind: str,
        *,
        requirement: int = protocol.PROCESS_NORMALLY,
        mac: bool = True,
        fault: Fault | None = None,
        key: str = "",
    ) -> Reply:
        """Pack the answer for ``ex`` and note it; a fault may drop it, delay it or break its MAC."""
        name = fault.name if fault else None
        dropped = name in ("no_answer_after_accept", "host_reversal", "reversal_lost")
        self.note(self.summary(ex, kind, None if dropped else fields["39"], key) | {"fault": name})
        if dropped:
            return Reply(None)
        tpdu, header = ex.msg.answer_prefix(requirement)
        packed = protocol.pack(fields, ex.mak if mac and fields["t"] != "0810" else None, tpdu, header)
        if name == "bad_response_mac":
            packed = packed[:-1] + bytes([packed[-1] ^ 0x01])
        return Reply(packed, delay=self.rules.slow_seconds if name == "latency" else 0.0)

    def summary(self, ex: Exchange, kind: str, code: str | None, key: str = "") -> dict[str, Any]:
        trace_key = key or f"{ex.terminal_no}:{ex.batch_no}:{ex.get('11')}"
        return {"mti": ex.msg.mti, "kind": kind, "key": trace_key, "terminal_no": ex.terminal_no, "code": code}

    def note(self, row: dict[str, Any]) -> None:
        with self._note_lock:
            self._messages.append(row)

    def entry_fields(self, entry: Entry) -> dict[str, str]:
        local = entry.executed_at.astimezone(SHANGHAI)
        return {"12": f"{local:%H%M%S}", "13": f"{local:%m%d}", "37": entry.rrn, "38": entry.auth_code}


def tmks_from(mapping: Mapping[str, bytes] | None) -> dict[str, bytes]:
    """Per-terminal master keys, checked: 16 bytes each (double-length 3DES)."""
    out = {t.strip(): k for t, k in (mapping or {}).items()}
    if any(len(k) != 16 for k in out.values()):
        raise ValueError("a terminal master key is 16 bytes")
    return out
