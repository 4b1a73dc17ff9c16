"""Settlement files for trying reconciliation: realistic card / WeChat Pay / Alipay files written from a ledger,
with chosen faults injected, plus the list of what reconciliation must report.

Two uses: ``posrefund demo settlement`` writes the files for the demo merchant's recorded sales and refunds
(faults on the file side only, ``recorded``), and the tests and ``bench/reconcile.py`` build a synthetic ledger
and its file together (``synthetic``), streaming, so a million rows never sit in memory. ``writers`` holds the
three file layouts, ``model`` what both generators share.
"""

from posrefund.demo.settlement.model import Expected, Faults, RefundTx, Tx, payer_for, yuan
from posrefund.demo.settlement.recorded import from_ledger
from posrefund.demo.settlement.synthetic import Ledger, Synthetic, synthetic
from posrefund.demo.settlement.writers import ENCODING, WRITERS, AlipayWriter, CardWriter, WechatWriter, Writer

__all__ = [
    "ENCODING",
    "WRITERS",
    "AlipayWriter",
    "CardWriter",
    "Expected",
    "Faults",
    "Ledger",
    "RefundTx",
    "Synthetic",
    "Tx",
    "WechatWriter",
    "Writer",
    "from_ledger",
    "payer_for",
    "synthetic",
    "yuan",
]
