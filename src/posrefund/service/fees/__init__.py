"""Fee contracts, the fee-refund check, one-off charges and the payouts that give money back (docs/fees.md)."""

from posrefund.service.fees.charges import charges, record_charge, request_charge_refund
from posrefund.service.fees.contracts import add_period, periods, record_consent
from posrefund.service.fees.payouts import approve, check_overcharges, pay, payout, payouts, reject

__all__ = [
    "add_period",
    "approve",
    "charges",
    "check_overcharges",
    "pay",
    "payout",
    "payouts",
    "periods",
    "record_charge",
    "record_consent",
    "reject",
    "request_charge_refund",
]
