"""The terminal's messages as field dicts (docs/channels.md, "Messages"): what each one carries and why.

Every transaction names the terminal (41, 8 characters) and merchant (42, 15), its own trace number (11) and, in
60, its type (60.1), open batch (60.2) and network management code (60.3). Financial messages end with field 64
(the MAC, filled in by the transport); the sign-on cannot, since it fetches the keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from posrefund.ports.terminal import JournalEntry, TerminalNumbers

VOID_TYPE: Final = "23"  # 消费撤销
REFUND_TYPE: Final = "25"  # 退货
ADMIN_TYPE: Final = "00"  # sign-on, settlement, batch upload
NO_NMC: Final = "000"
SIGN_ON_NMC: Final = "003"  # double-length PIK + MAK in the answer's field 62
SETTLE_NMC: Final = "201"
UPLOAD_END_NMC: Final = "207"
CNY: Final = "156"
REFUND_PROCESSING: Final = "200000"
OPERATOR: Final = "001"
MAC_PLACEHOLDER: Final = "00" * 8
REVERSAL_KEEPS: Final = ("3", "4", "11", "25", "41", "42", "49", "60", "61")
NO_ANSWER: Final = "98"  # reversal reason: no answer in time
ANSWER_MAC_FAILED: Final = "A0"  # reversal reason: the answer failed its MAC

Builder = Callable[[TerminalNumbers], dict[str, str]]  # a message, once its trace number is allocated


@dataclass(frozen=True, slots=True)
class Terminal:
    """Who the terminal is on the wire."""

    terminal_id: str
    merchant_id: str

    def ids(self) -> dict[str, str]:
        return {"41": self.terminal_id.ljust(8), "42": self.merchant_id.ljust(15)}


@dataclass(frozen=True, slots=True)
class Original:
    """The sale a void or refund quotes: its RRN, authorisation code, batch, trace and local date (MMDD)."""

    rrn: str
    auth_code: str
    batch_no: str
    trace_no: str
    date_mmdd: str


def sign_on(terminal: Terminal, numbers: TerminalNumbers) -> dict[str, str]:
    return {
        "t": "0800",
        "11": numbers.trace_no,
        **terminal.ids(),
        "60": ADMIN_TYPE + numbers.batch_no + SIGN_ON_NMC,
        "63": OPERATOR,
    }


def void(terminal: Terminal, numbers: TerminalNumbers, amount_fen: int, original: Original) -> dict[str, str]:
    """0200 消费撤销: the whole original amount, quoting the sale's RRN, auth code, batch and trace."""
    return _financial("0200", VOID_TYPE, terminal, numbers, amount_fen, original) | {
        "61": original.batch_no + original.trace_no
    }


def refund(terminal: Terminal, numbers: TerminalNumbers, amount_fen: int, original: Original) -> dict[str, str]:
    """0220 退货: any amount up to what is left, quoting the sale's RRN, auth code and date (61 = 0…0 + MMDD)."""
    return _financial("0220", REFUND_TYPE, terminal, numbers, amount_fen, original) | {
        "61": "000000" + "000000" + original.date_mmdd
    }


def _financial(
    mti: str, kind: str, terminal: Terminal, numbers: TerminalNumbers, amount_fen: int, original: Original
) -> dict[str, str]:
    return {
        "t": mti,
        "3": REFUND_PROCESSING,
        "4": f"{amount_fen:012d}",
        "11": numbers.trace_no,
        "25": "00",
        "37": original.rrn,
        "38": original.auth_code.ljust(6),
        **terminal.ids(),
        "49": CNY,
        "60": kind + numbers.batch_no + NO_NMC,
        "64": MAC_PLACEHOLDER,
    }


def reversal(sent: dict[str, str], why: str) -> dict[str, str]:
    """0400 冲正: the original's own 3, 4, 11, 25, 41, 42, 49, 60, 61, and 39 = why it is reversed."""
    return {"t": "0400", **{k: sent[k] for k in REVERSAL_KEEPS if k in sent}, "39": why, "64": MAC_PLACEHOLDER}


def totals(credit_fen: int, credit_count: int) -> str:
    """Field 48 of a settlement (n62): domestic debit amount n12 + count n3, credit amount n12 + count n3, balance
    code n1; then the same 31 digits for foreign cards. The terminal only gives money back: all is credit."""
    domestic = f"{0:012d}{0:03d}{credit_fen:012d}{credit_count:03d}0"
    return domestic + "0" * 31


def settlement(
    terminal: Terminal, numbers: TerminalNumbers, batch_no: str, credit_fen: int, count: int
) -> dict[str, str]:
    return {
        "t": "0500",
        "11": numbers.trace_no,
        **terminal.ids(),
        "48": totals(credit_fen, count),
        "49": CNY,
        "60": ADMIN_TYPE + batch_no + SETTLE_NMC,
        "63": OPERATOR,
        "64": MAC_PLACEHOLDER,
    }


def upload(terminal: Terminal, numbers: TerminalNumbers, batch_no: str, entry: JournalEntry) -> dict[str, str]:
    """0320 批上送 of one executed void/refund: amount, its RRN and auth code, and 61 = its batch + trace."""
    return {
        "t": "0320",
        "3": REFUND_PROCESSING,
        "4": f"{entry.amount_fen:012d}",
        "11": numbers.trace_no,
        "37": entry.rrn.ljust(12),
        "38": entry.auth_code.ljust(6),
        **terminal.ids(),
        "49": CNY,
        "60": ADMIN_TYPE + batch_no + SETTLE_NMC,
        "61": entry.batch_no + entry.trace_no,
        "64": MAC_PLACEHOLDER,
    }


def upload_end(terminal: Terminal, numbers: TerminalNumbers, batch_no: str, count: int) -> dict[str, str]:
    """0320 end of the batch upload: 48 = how many transactions were uploaded (n4)."""
    return {
        "t": "0320",
        "11": numbers.trace_no,
        **terminal.ids(),
        "48": f"{count:04d}",
        "60": ADMIN_TYPE + batch_no + UPLOAD_END_NMC,
        "64": MAC_PLACEHOLDER,
    }
