"""An abnormal WeChat Pay refund sent to a bank card (异常退款至银行卡), with the customer's consent recorded.

The card number arrives here (the card guard lets ``bank_account`` of exactly this route through) and leaves
only encrypted: stored with the PII key, sent to WeChat Pay under its public key, answered as ``****1234``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from posrefund.domain.abnormal_refund import BANK_TYPES, CONSENT_CHANNELS, SENT, CardKind
from posrefund.domain.errors import NotFound
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, Out, RefundOut, answers
from posrefund.entrypoints.api.schemas import Body
from posrefund.entrypoints.api.views import refund_view
from posrefund.service import abnormal_refunds, refunds
from posrefund.service.abnormal_refunds import CardApplicationView, CardRefundRequest

router = APIRouter(prefix="/v1/refunds", tags=["refunds"])
STEP = (*SIGNED_IN, 404, 409, *WITH_BODY)
KINDS = " | ".join(k.value for k in CardKind)


class CardRefundIn(Body):
    type: Annotated[str, Field(min_length=1, max_length=24, description=KINDS)]
    bank_type: Annotated[str, Field(max_length=16, description="USER_BANK_CARD: " + ", ".join(BANK_TYPES))] = ""
    bank_account: Annotated[str, Field(max_length=40, description="USER_BANK_CARD: the debit card's number")] = ""
    real_name: Annotated[str, Field(max_length=50, description="USER_BANK_CARD: the card holder's name")] = ""
    consent_by: Annotated[str, Field(max_length=40, description="who agreed: the customer or who speaks for them")]
    consent_how: Annotated[str, Field(max_length=16, description=" | ".join(CONSENT_CHANNELS))]
    consent_at: datetime | None = Field(default=None, description="when they agreed (with a time zone)")
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class CardApplicationOut(Out):
    kind: str
    bank_type: str
    account_masked: str = Field(description="the card number's last four: ****1234")
    real_name_masked: str
    consent_by_masked: str
    consent_how: str
    consent_at: datetime
    applied_by: str
    applied_at: datetime
    status: str = Field(description="sent (outcome not known yet) | accepted | declined")
    sends: int
    last_code: str


class CardRefundOut(BaseModel):
    refund: RefundOut
    application: CardApplicationOut


def _application(view: CardApplicationView) -> dict[str, Any]:
    return {name: getattr(view, name) for name in CardApplicationOut.model_fields}


@router.post(
    "/{refund_id}/abnormal-refund",
    summary="Send an abnormal WeChat Pay refund to a bank card",
    description="200: WeChat Pay took it (the refund is processing again). 202: its answer was lost and it is "
    "not known yet whether it was applied; the case stays abnormal and applying again asks WeChat Pay first.",
    **answers(CardRefundOut, *STEP, permission="refund.abnormal_refund"),
)
async def apply(refund_id: str, body: CardRefundIn, actor: CurrentActor, c: Ctx, response: Response) -> dict[str, Any]:
    req = CardRefundRequest(
        kind=body.type,
        bank_type=body.bank_type,
        account=body.bank_account,
        real_name=body.real_name,
        consent_by=body.consent_by,
        consent_how=body.consent_how,
        consent_at=body.consent_at,
        reason=body.reason,
    )
    case, view = await c.run_apart(abnormal_refunds.apply_to_card, c.deps, c.router.channels, actor, refund_id, req)
    if view.status == SENT:
        response.status_code = 202
    shown = await c.run(refunds.get_case, c.deps, actor, case.id)
    return {"refund": refund_view(shown.case, shown.customer), "application": _application(view)}


@router.get(
    "/{refund_id}/abnormal-refund",
    summary="A case's application to send its abnormal refund to a bank card (masked)",
    **answers(CardApplicationOut, *SIGNED_IN, 404, permission="refund.read"),
)
async def application(refund_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    view = await c.run(abnormal_refunds.application_of, c.deps, actor, refund_id)
    if view is None:
        raise NotFound("abnormal_refund.none")
    return _application(view)
