"""Reconciliation (对账): import settlement files, set fee rates, run a reconciliation, read and export its
discrepancies, and recover refunds the channel paid but posrefund lost. One module per step; this face
names the use cases so callers write ``reconciliation.reconcile(...)``."""

from posrefund.service.reconciliation.discrepancies import (
    export_discrepancies,
    get_discrepancy,
    list_discrepancies,
    recover_refund,
)
from posrefund.service.reconciliation.fees import fee_rates, put_fee_rate
from posrefund.service.reconciliation.imports import ImportReport, get_file, import_file
from posrefund.service.reconciliation.integrity import withdraw_file
from posrefund.service.reconciliation.runs import get_run, reconcile

__all__ = [
    "ImportReport",
    "export_discrepancies",
    "fee_rates",
    "get_discrepancy",
    "get_file",
    "get_run",
    "import_file",
    "list_discrepancies",
    "put_fee_rate",
    "reconcile",
    "recover_refund",
    "withdraw_file",
]
