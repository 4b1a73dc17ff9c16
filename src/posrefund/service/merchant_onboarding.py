"""A provider onboards its merchants: the business licence's credit code and the settlement account the
merchant's money goes back to (fee refunds, a returned one-off charge). The account is kept as bank, holder, last
four and a keyed fingerprint (domain/merchant_profile.py says why the number itself is not)."""

from __future__ import annotations

from posrefund.domain.errors import NotFound
from posrefund.domain.free_text import free_text
from posrefund.domain.merchant_profile import checked_account, checked_licence_no
from posrefund.domain.roles import Actor, manages_provider
from posrefund.ports import MerchantRow
from posrefund.service.deps import Deps
from posrefund.service.records import record

MAX_REASON = 500


def profile_values(deps: Deps, licence_no: str, bank: str, holder: str, number: str) -> dict[str, str]:
    """The columns of a merchant's profile from what was typed; an account only when any part of it was."""
    values = {"licence_no": checked_licence_no(licence_no)}
    if bank.strip() or holder.strip() or number.strip():
        values |= account_values(deps, bank, holder, number)
    return values


def account_values(deps: Deps, bank: str, holder: str, number: str) -> dict[str, str]:
    account = checked_account(bank, holder, number)
    return {
        "settlement_bank": account.bank,
        "settlement_account_name": account.holder,
        "settlement_account_masked": account.masked,
        "settlement_account_fingerprint": deps.cipher.blind_index(account.number),
    }


def change_settlement_account(
    deps: Deps, actor: Actor, merchant_id: str, *, bank: str, holder: str, account_no: str, reason: str
) -> MerchantRow:
    """The provider's administrator records a new settlement account for one of its merchants, with why (the
    merchant's letter, a closed account); audited with the old and new last four, never a number."""
    actor.require("merchant.create")
    why = free_text(reason, "reason", limit=MAX_REASON)
    values = account_values(deps, bank, holder, account_no)
    now = deps.clock.now()
    with deps.uow() as uow:
        row = uow.merchants.get_merchant(merchant_id)
        if row is None or not manages_provider(actor, row["provider_id"]):
            raise NotFound("merchant.not_found")
        same = uow.merchants.settlement_fingerprint(merchant_id) == values["settlement_account_fingerprint"]
        uow.merchants.set_merchant_profile(merchant_id, values)
        record(
            uow,
            actor,
            merchant_id,
            "merchant.settlement_account_changed",
            now,
            reason=why,
            before=row.get("settlement_account_masked", ""),
            after=values["settlement_account_masked"],
            bank=values["settlement_bank"],
            same_account=same,
        )
        fresh = uow.merchants.get_merchant(merchant_id)
        uow.commit()
    assert fresh is not None
    return fresh
