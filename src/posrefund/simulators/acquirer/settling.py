"""Settlement (结算, 0500/0510) and batch upload (批上送, 0320/0330) of a terminal's batch.

0500 carries 60.2 = the batch and 48 = the terminal's totals, n62: for domestic cards debit amount n12, debit
count n3, credit amount n12, credit count n3, balance code n1, then the same 31 digits for foreign cards. The host
compares them with its own (``HostLedger.totals``: debit = the batch's sales and 预授权完成, request and
notification; credit = its 消费撤销, 退货 and 预授权完成撤销; a voided sale or cancelled completion stays in debit;
foreign: none) and answers 0510 with 39 = 00 and 48 = the terminal's totals with each balance code set:
1 balanced, 2 not balanced. Balanced: the batch is closed. Not balanced: the terminal uploads its transactions,
one 0320 per transaction (60.3 = 201, 11 = the uploaded transaction's trace, 4 its amount), each answered 0330
00 when the host executed that trace for that amount and 25 otherwise, then a last 0320 with 60.3 = 207, after
which the batch is closed. An offline 预授权完成(通知) uploaded (0320, 60.1 = 24) is answered by
``HoldRules.upload_notice`` whenever it comes."""

from __future__ import annotations

from typing import Final

from posrefund.simulators.acquirer import protocol
from posrefund.simulators.acquirer.exchange import Answering, Exchange, Reply
from posrefund.simulators.acquirer.ledger import SHANGHAI

TOTALS_DIGITS: Final = 62
BALANCED: Final = "1"
NOT_BALANCED: Final = "2"


def totals_text(debit: int, debit_n: int, credit: int, credit_n: int, code: str = "0") -> str:
    """31 digits of settlement totals for one card class."""
    return f"{debit:012d}{debit_n:03d}{credit:012d}{credit_n:03d}{code}"


class Settling:
    """Settlement and batch upload over the host's ledger; called with the ledger lock held."""

    def __init__(self, host: Answering) -> None:
        self.host = host
        self.ledger = host.ledger
        self.uploaded: dict[tuple[str, str], list[str]] = {}

    def settle(self, ex: Exchange) -> Reply:
        theirs = ex.get("48")
        if len(theirs) != TOTALS_DIGITS or not theirs.isdigit() or ex.get("60")[8:11] != protocol.NET_SETTLE:
            return self.host.send(ex, ex.answer("30"), "settlement")
        ours_domestic = totals_text(*self.ledger.totals(ex.terminal_no, ex.batch_no))
        domestic_ok = theirs[:30] == ours_domestic[:30]
        foreign_ok = theirs[31:61] == totals_text(0, 0, 0, 0)[:30]
        domestic_code = BALANCED if domestic_ok else NOT_BALANCED
        foreign_code = BALANCED if foreign_ok else NOT_BALANCED
        answered = theirs[:30] + domestic_code + theirs[31:61] + foreign_code
        if domestic_ok and foreign_ok:
            self.ledger.close_batch(ex.terminal_no, ex.batch_no)
        else:
            self.uploaded[(ex.terminal_no, ex.batch_no)] = []
        fields = ex.answer("00", **{"48": answered}) | self._when()
        return self.host.send(ex, fields, "settlement", key=f"{ex.terminal_no}:{ex.batch_no}")

    def upload(self, ex: Exchange) -> Reply:
        batch = (ex.terminal_no, ex.batch_no)
        code_60_3 = ex.get("60")[8:11]
        if batch not in self.uploaded:
            return self.host.send(ex, ex.answer("12"), "batch_upload")  # no unbalanced settlement to upload for
        if code_60_3 == protocol.NET_UPLOAD_END:
            self.ledger.close_batch(*batch)
            count = len(self.uploaded.pop(batch))
            note = f"{ex.terminal_no}:{ex.batch_no}:end:{count}"
            return self.host.send(ex, ex.answer("00"), "batch_upload_end", key=note)
        if code_60_3 != protocol.NET_SETTLE:
            return self.host.send(ex, ex.answer("30"), "batch_upload")
        entry = self.ledger.entries.get((ex.terminal_no, ex.batch_no, ex.get("11")))
        amount = ex.get("4")
        known = entry is not None and entry.status == "executed" and amount.isdigit()
        code = "00" if known and entry is not None and entry.amount_fen == int(amount) else "25"
        if code == "00":
            self.uploaded[batch].append(ex.get("11"))
        return self.host.send(ex, ex.answer(code), "batch_upload")

    def _when(self) -> dict[str, str]:
        local = self.ledger.now().astimezone(SHANGHAI)
        return {"12": f"{local:%H%M%S}", "13": f"{local:%m%d}"}
