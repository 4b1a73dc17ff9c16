"""The terminal's messages as field dicts (docs/channels.md, "Messages"): what each one carries and why.

Every transaction names the terminal (41, 8 characters) and merchant (42, 15), its own trace number (11) and, in
60, its type (60.1), open batch (60.2) and network management code (60.3). Financial messages end with field 64
(the MAC, filled in by the transport); the sign-on cannot, since it fetches the keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from posrefund.ports.terminal import JournalEntry, TerminalNumbers

VOID_TYPE: Final = "23"  # 消费撤销
REFUND_TYPE: Final = "25"  # 退货
# The 预授权 family (docs/holds.md, "Messages"): 60.1 and 3 from the POS terminal's transaction table.
PREAUTH_TYPE: Final = "10"  # 预授权 0100, 3 = 030000
PREAUTH_RELEASE_TYPE: Final = "11"  # 预授权撤销 0100, 3 = 200000
COMPLETION_TYPE: Final = "20"  # 预授权完成(请求) 0200, 3 = 000000
COMPLETION_VOID_TYPE: Final = "21"  # 预授权完成撤销 0200, 3 = 200000
COMPLETION_NOTICE_TYPE: Final = "24"  # 预授权完成(通知) 0220, 3 = 000000: a notification, never reversed
PREAUTH_PROCESSING: Final = "030000"
PURCHASE_PROCESSING: Final = "000000"
PREAUTH_CONDITION: Final = "06"  # field 25 of every 预授权-family message
NORMAL_CONDITION: Final = "00"
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

SHANGHAI: Final = timezone(timedelta(hours=8), "Asia/Shanghai")  # the acquirer's dates are Beijing time
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


def quoting(rrn: str, auth_code: str, batch_no: str, trace_no: str, at: datetime) -> Original:
    """The references a later message quotes of an earlier one, as the wire wants them: batch and trace six
    digits, the date its MMDD in Beijing time."""
    return Original(rrn, auth_code, batch_no.zfill(6), trace_no.zfill(6), f"{at.astimezone(SHANGHAI):%m%d}")


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


def preauthorisation(terminal: Terminal, numbers: TerminalNumbers, amount_fen: int) -> dict[str, str]:
    """0100 预授权 (3 = 030000, 25 = 06, 60.1 = 10): what the terminal sends when the card is presented; the
    answer's 37 and 38 are what every later operation on the hold quotes."""
    return {
        "t": "0100",
        "3": PREAUTH_PROCESSING,
        "4": f"{amount_fen:012d}",
        "11": numbers.trace_no,
        "25": PREAUTH_CONDITION,
        **terminal.ids(),
        "49": CNY,
        "60": PREAUTH_TYPE + numbers.batch_no + NO_NMC,
        "64": MAC_PLACEHOLDER,
    }


def preauth_release(
    terminal: Terminal, numbers: TerminalNumbers, amount_fen: int, original: Original
) -> dict[str, str]:
    """0100 预授权撤销 (3 = 200000, 60.1 = 11): the whole held amount, quoting the 预授权's auth code (38) and its
    date (61 = 000000 000000 MMDD, as the terminal writes it), and its RRN (37: posrefund holds no card number)."""
    return _financial("0100", PREAUTH_RELEASE_TYPE, terminal, numbers, amount_fen, original, PREAUTH_CONDITION) | {
        "61": "000000" + "000000" + original.date_mmdd
    }


def completion(
    terminal: Terminal, numbers: TerminalNumbers, amount_fen: int, original: Original, *, notice: bool
) -> dict[str, str]:
    """预授权完成: request 0200 (60.1 = 20, reversible) or notification 0220 (60.1 = 24, resent, never reversed),
    3 = 000000, quoting the 预授权 as the release does."""
    mti, kind = ("0220", COMPLETION_NOTICE_TYPE) if notice else ("0200", COMPLETION_TYPE)
    fields = _financial(mti, kind, terminal, numbers, amount_fen, original, PREAUTH_CONDITION)
    return fields | {"3": PURCHASE_PROCESSING, "61": "000000" + "000000" + original.date_mmdd}


def completion_void(
    terminal: Terminal, numbers: TerminalNumbers, amount_fen: int, completed: Original
) -> dict[str, str]:
    """0200 预授权完成撤销 (3 = 200000, 60.1 = 21): the whole completion, quoting ITS RRN (37), auth code (38)
    and 61 = its batch + trace + date (MMDD)."""
    fields = _financial("0200", COMPLETION_VOID_TYPE, terminal, numbers, amount_fen, completed, PREAUTH_CONDITION)
    return fields | {"61": completed.batch_no + completed.trace_no + completed.date_mmdd}


def _financial(
    mti: str,
    kind: str,
    terminal: Terminal,
    numbers: TerminalNumbers,
    amount_fen: int,
    original: Original,
    condition: str = NORMAL_CONDITION,
) -> dict[str, str]:
    return {
        "t": mti,
        "3": REFUND_PROCESSING,
        "4": f"{amount_fen:012d}",
        "11": numbers.trace_no,
        "25": condition,
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


def totals(debit_fen: int, debit_count: int, credit_fen: int, credit_count: int) -> str:
    """Field 48 of a settlement (n62): domestic debit amount n12 + count n3, credit amount n12 + count n3, balance
    code n1; then the same 31 digits for foreign cards (none here: posrefund knows no foreign card)."""
    domestic = f"{debit_fen:012d}{debit_count:03d}{credit_fen:012d}{credit_count:03d}0"
    return domestic + "0" * 31


def settlement(
    terminal: Terminal,
    numbers: TerminalNumbers,
    batch_no: str,
    debit_fen: int,
    debit_count: int,
    credit_fen: int,
    credit_count: int,
) -> dict[str, str]:
    return {
        "t": "0500",
        "11": numbers.trace_no,
        **terminal.ids(),
        "48": totals(debit_fen, debit_count, credit_fen, credit_count),
        "49": CNY,
        "60": ADMIN_TYPE + batch_no + SETTLE_NMC,
        "63": OPERATOR,
        "64": MAC_PLACEHOLDER,
    }


def upload(terminal: Terminal, numbers: TerminalNumbers, batch_no: str, entry: JournalEntry) -> dict[str, str]:
    """0320 批上送 of one approved transaction, under its own trace (11): amount, its RRN and auth code, and 61 =
    its batch + trace; 3 = 000000 for a completion (debit), 200000 for a void, refund or completion cancel."""
    return {
        "t": "0320",
        "3": PURCHASE_PROCESSING if entry.kind in ("complete", "notice") else REFUND_PROCESSING,
        "4": f"{entry.amount_fen:012d}",
        "11": entry.trace_no,
        "37": entry.rrn.ljust(12),
        "38": entry.auth_code.ljust(6),
        **terminal.ids(),
        "49": CNY,
        "60": ADMIN_TYPE + batch_no + SETTLE_NMC,
        "61": entry.batch_no + entry.trace_no,
        "64": MAC_PLACEHOLDER,
    }


def offline_upload(entry: JournalEntry) -> dict[str, str]:
    """0320 批上送 of a 预授权完成(通知) whose answer never came: the notification itself (its own trace, 3 = 000000,
    25 = 06, 60.1 = 24, 60.3 = 000, 61 quoting the 预授权), as the terminal uploads an offline completion
    (OFF_CONFIRM_BAT in the terminal source docs/holds.md cites)."""
    return entry.fields | {"t": "0320"}


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
