"""``posrefund refund to-card``: an abnormal WeChat Pay refund sent to a bank card (异常退款), from the host.

The card number and the holder's name are asked for with hidden input, never taken as arguments: arguments stay
in shell history and process lists (and the CLI refuses a card number there anyway)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from posrefund.domain.errors import DomainError
from posrefund.domain.roles import Role
from posrefund.entrypoints.cli.common import (
    JsonOpt,
    MerchantOpt,
    acting_as,
    build_deps,
    emit,
    fail,
    refund_app,
    settings,
)


@refund_app.command("to-card")
def refund_to_card(
    merchant: MerchantOpt,
    refund_id: str,
    consent_by: Annotated[str, typer.Option(help="who agreed: the customer or who speaks for them")],
    consent_how: Annotated[str, typer.Option(help="phone | counter")],
    consent_at: Annotated[str, typer.Option(help="when they agreed, ISO 8601 with a time zone")],
    reason: Annotated[str, typer.Option(help="why, kept on the audit trail")],
    kind: Annotated[str, typer.Option("--type", help="USER_BANK_CARD | MERCHANT_BANK_CARD")] = "USER_BANK_CARD",
    bank_type: Annotated[str, typer.Option(help="USER_BANK_CARD: WeChat Pay's bank code, e.g. ICBC_DEBIT")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Send an abnormal WeChat Pay refund to the customer's debit card (or the merchant's account)."""
    from posrefund import bootstrap
    from posrefund.service import abnormal_refunds
    from posrefund.service.abnormal_refunds import CardRefundRequest

    account = name = ""
    if kind == "USER_BANK_CARD":
        account = typer.prompt("银行卡号 / card number", hide_input=True)
        name = typer.prompt("收款人姓名 / account holder", hide_input=True)
    try:
        at = datetime.fromisoformat(consent_at)
    except ValueError:
        at = None
    deps = build_deps()
    actor = acting_as(deps, merchant, Role.ADMIN)
    router = bootstrap.build_router(settings(), deps)
    req = CardRefundRequest(kind, bank_type, account, name, consent_by, consent_how, at, reason)
    try:
        case, view = abnormal_refunds.apply_to_card(deps, router.channels, actor, refund_id, req)
    except DomainError as exc:
        fail(exc)
    emit({"refund_no": case.refund_no, "status": case.status.value, **view.__dict__}, as_json, "to card")
