"""The merchant's fee rates per channel (费率), the contract the fee check in a run compares against."""

from __future__ import annotations

from posrefund.domain.errors import Invalid
from posrefund.domain.reconciliation import (
    FeeRate,
)
from posrefund.domain.refund import RefundStatus
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Channel
from posrefund.service.deps import Deps
from posrefund.service.records import record

S = RefundStatus
BATCH = 5_000
PAGE_MAX = 500


def put_fee_rate(
    deps: Deps,
    actor: Actor,
    channel: str,
    rate_bp: int,
    large_rate_bp: int | None = None,
    large_from_fen: int | None = None,
) -> FeeRate:
    """The merchant's contracted fee for a channel, in basis points; reconciliation checks every sale's fee."""
    actor.require("recon.fee_rates")
    if channel not in Channel.__members__.values() or channel in ("cash", "cheque"):
        raise Invalid("recon.invalid_fee_rate", channel=channel)
    rate = FeeRate(channel, rate_bp, large_rate_bp, large_from_fen)
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.fee_rates.put_fee_rate(actor.merchant_id or "", rate, actor.id, now)
        record(
            uow,
            actor,
            actor.merchant_id,
            "recon.fee_rate_set",
            now,
            channel=channel,
            rate_bp=rate_bp,
            large_rate_bp=large_rate_bp,
            large_from_fen=large_from_fen,
        )
        uow.commit()
    return rate


def fee_rates(deps: Deps, actor: Actor) -> list[FeeRate]:
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        return uow.fee_rates.fee_rates(actor.merchant_id or "")


# ---- runs --------------------------------------------------------------------------------------------------
