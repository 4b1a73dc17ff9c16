"""An abnormal WeChat Pay refund sent to a bank card from the case's page (退款至银行卡): a supervisor records the
customer's consent and the card; the same use case as ``POST /v1/refunds/{id}/abnormal-refund`` (role checks,
audit, refusals). The card number typed is never put back into the page, not even beside an error."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from posrefund.domain.errors import Invalid
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.forms import posted, texts
from posrefund.entrypoints.console.pages.case_actions import MAX_REASON, step_on_case
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute
from posrefund.service import abnormal_refunds
from posrefund.service.abnormal_refunds import CardRefundRequest

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
SHOWN_AGAIN = ("card_kind", "bank_type", "real_name", "consent_by", "consent_how", "consent_at", "card_reason")
# Where each refusal's message goes on the form.
FIELD_OF = {
    "abnormal_refund.consent_required": "consent_by",
    "abnormal_refund.consent_channel": "consent_how",
    "abnormal_refund.consent_time": "consent_at",
    "abnormal_refund.invalid_kind": "card_kind",
    "abnormal_refund.invalid_bank": "bank_type",
    "abnormal_refund.invalid_account": "bank_account",
    "abnormal_refund.invalid_name": "real_name",
}


def _consent_at(text: str) -> datetime | None:
    """The time typed (``2026-12-04T18:00``), in Shanghai; none typed: None (the use case asks for it)."""
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip()[:16]).replace(tzinfo=fmt.SHANGHAI)
    except ValueError:
        raise Invalid("console.invalid_date", field="consent_at") from None


@router.post("/cases/{case_id}/abnormal-refund")
async def to_card(request: Request, case_id: str) -> Response:
    """Send the abnormal refund to the customer's card (or the merchant's account) with the consent recorded."""
    actor, c, form = await posted(request, abnormal_refunds.PERMISSION)
    typed = texts(form, *SHOWN_AGAIN)

    async def step() -> None:
        req = CardRefundRequest(
            kind=typed["card_kind"],
            bank_type=typed["bank_type"],
            account=str(form.get("bank_account") or ""),
            real_name=typed["real_name"],
            consent_by=typed["consent_by"],
            consent_how=typed["consent_how"],
            consent_at=_consent_at(typed["consent_at"]),
            reason=fmt.bounded(typed["card_reason"], "card_reason", MAX_REASON),
        )
        try:
            await c.run_apart(abnormal_refunds.apply_to_card, c.deps, c.router.channels, actor, case_id[:64], req)
        except Invalid as err:
            if err.code in FIELD_OF and "field" not in err.params:
                err.params["field"] = FIELD_OF[err.code]
            raise

    return await step_on_case(request, case_id, step, "card_reason", typed)
