"""Disputes (争议): open on a case, add evidence, escalate to a third party, record the outcome."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field, StrictInt

from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import AppContext, Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.responses_followup import Dispute, DisputeList
from posrefund.entrypoints.api.schemas import Body
from posrefund.service import disputes
from posrefund.service.disputes import Outcome

router = APIRouter(prefix="/v1/disputes", tags=["disputes"])
# A step on a dispute: it (or its case, its evidence) may not exist, or it may be past that step.
STEP = (*SIGNED_IN, *WITH_BODY, 404, 409)

EvidenceIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]], Field(max_length=20)]


class DisputeIn(Body):
    case_id: Annotated[str, Field(min_length=1, max_length=40)]
    claim: Annotated[str, Field(min_length=1, max_length=2000)]
    claimed_fen: Annotated[StrictInt | None, Field(gt=0, le=10**13)] = None
    evidence_ids: EvidenceIds = Field(default_factory=list)


class EvidenceIn(Body):
    evidence_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=40)]], Field(min_length=1, max_length=20)
    ]


class EscalateIn(Body):
    to: Literal["mediation", "arbitration", "acquirer"]
    reference: Annotated[str, Field(min_length=1, max_length=64)]


class OutcomeIn(Body):
    outcome: Literal["upheld", "rejected"]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    amount_fen: Annotated[StrictInt | None, Field(gt=0, le=10**13)] = None


async def _step(c: AppContext, actor: Actor, step: Callable[..., Mapping[str, Any]], *args: Any) -> dict[str, Any]:
    """Take one step on a dispute, then answer it with its age (days and hours open, on the service's clock)."""
    row = await c.run(step, c.deps, actor, *args)
    return disputes.with_age(row, c.deps.clock.now())


@router.post("", summary="Open a dispute on a case", **answers(Dispute, *STEP, status=201, permission="dispute.manage"))
async def open_dispute(body: DisputeIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _step(c, actor, disputes.open_dispute, body.case_id, body.claim, body.claimed_fen, body.evidence_ids)


@router.get("", summary="List disputes", **answers(DisputeList, *SIGNED_IN, permission="dispute.read"))
async def list_disputes(
    actor: CurrentActor,
    c: Ctx,
    status: Annotated[Literal["open", "escalated", "upheld", "rejected"] | None, Query()] = None,
    case_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    return {"items": await c.run(disputes.list_disputes, c.deps, actor, status, case_id, limit)}


@router.get("/{dispute_id}", summary="One dispute", **answers(Dispute, *SIGNED_IN, 404, permission="dispute.read"))
async def get_dispute(dispute_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(disputes.get, c.deps, actor, dispute_id)


@router.post(
    "/{dispute_id}/evidence",
    summary="Add evidence to a dispute",
    **answers(Dispute, *STEP, permission="dispute.manage"),
)
async def add_evidence(dispute_id: str, body: EvidenceIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _step(c, actor, disputes.add_evidence, dispute_id, body.evidence_ids)


@router.post(
    "/{dispute_id}/escalate", summary="Escalate a dispute", **answers(Dispute, *STEP, permission="dispute.manage")
)
async def escalate(dispute_id: str, body: EscalateIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _step(c, actor, disputes.escalate, dispute_id, body.to, body.reference)


@router.post(
    "/{dispute_id}/outcome",
    summary="Record a dispute's outcome",
    **answers(Dispute, *STEP, permission="dispute.decide"),
)
async def outcome(dispute_id: str, body: OutcomeIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _step(c, actor, disputes.decide, dispute_id, Outcome(body.outcome, body.reason, body.amount_fen))
