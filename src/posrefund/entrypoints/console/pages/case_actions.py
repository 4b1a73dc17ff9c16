"""A case's steps after its review, so a shift can take every refund to its end: withdraw it, send a failed one
again, settle an abnormal or unknown one by hand, pay it another way (a reviewer's exception), confirm that
cash or a cheque was handed over (a second person), tell the customer again.

Each step calls the API's service function (``refunds.cancel``, ``execution.retry|resolve|reroute|
confirm_payout``, ``resend.notify_again``): the same role checks, audit events and refusals. The page offers
a step only to the roles the permission table allows and in the states the case allows it; a refused step
shows the case again with the refusal's own status (403, 409, 422) and the message beside its field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import DomainError, Invalid
from posrefund.entrypoints.api.errors import status_of
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.case_steps import REROUTE_TO, RESOLVE_TO
from posrefund.entrypoints.console.form_errors import NOT_MINE, Errors
from posrefund.entrypoints.console.forms import posted
from posrefund.entrypoints.console.pages.cases import show_case
from posrefund.entrypoints.console.texts import label
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, lang_of
from posrefund.service import execution, refunds
from posrefund.service.notifications import resend

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
MAX_REASON = 500
STATES = frozenset({"current", "target"})  # the parameters of a refusal that name a case's state


async def step_on_case(
    request: Request, case_id: str, step: Callable[[], Awaitable[object]], field: str, typed: dict[str, str]
) -> Response:
    """Run one step; done, back to the case (303). Refused, the case again with the refusal's status and its
    message beside ``field`` or above the page (a missing case, or a role that may not: a page of its own)."""
    errors = Errors(lang_of(request))

    def field_of(err: DomainError) -> str | None:
        """A bad input beside its field; a refusal of the step itself (state, two-person rule) above the page,
        as its form may no longer be shown."""
        if not isinstance(err, Invalid):
            return None
        own = str(err.params.get("field") or "")
        return field if own in ("", "reason") else own

    def place(err: DomainError) -> None:
        """The states a refusal names, in words (``退款中``), never their codes."""
        if STATES.isdisjoint(err.params):
            errors.add(err, field_of)
            return
        words = {k: label("status", v, errors.lang) if k in STATES else v for k, v in err.params.items()}
        errors.add(DomainError(err.code, **words))  # a refusal of the step's state: above the page

    with errors.catch(passing=NOT_MINE, place=place) as got:
        await step()
    if got.error is None:
        done = f"{PREFIX}/cases/{case_id[:64]}"
        return RedirectResponse(done + ("?notified=1" if field == "notify" else ""), status_code=303)
    return await show_case(request, case_id, status_of(got.error), errors=errors, typed=typed)


def _reason(form: Any, name: str) -> str:
    return fmt.bounded(str(form.get(name) or ""), name, MAX_REASON)


async def _with_reason(
    request: Request, case_id: str, action: str, use_case: Callable[..., object], name: str
) -> Response:
    """A step whose only input is the reason kept on the case's trail (``name``, its field)."""
    actor, c, form = await posted(request, action)
    typed = {name: str(form.get(name) or "")}

    async def step() -> None:
        await c.run(use_case, c.deps, actor, case_id[:64], _reason(form, name))

    return await step_on_case(request, case_id, step, name, typed)


@router.post("/cases/{case_id}/cancel")
async def cancel(request: Request, case_id: str) -> Response:
    """Withdraw a request not yet sent: its requester or a reviewer, with a reason kept on the trail."""
    return await _with_reason(request, case_id, "refund.cancel", refunds.cancel, "cancel_reason")


@router.post("/cases/{case_id}/retry")
async def retry(request: Request, case_id: str) -> Response:
    """Send a failed refund again as a new attempt (a wallet gets a new number, linked to the old one)."""
    return await _with_reason(request, case_id, "refund.retry", execution.retry, "retry_reason")


@router.post("/cases/{case_id}/resolve")
async def resolve(request: Request, case_id: str) -> Response:
    """Settle an abnormal or unknown refund by hand: the outcome a person has proof of, and the proof."""
    actor, c, form = await posted(request, "refund.resolve")
    typed = {"resolve_reason": str(form.get("resolve_reason") or ""), "outcome": str(form.get("outcome") or "")}

    async def step() -> None:
        outcome = typed["outcome"]
        if outcome not in {o for targets in RESOLVE_TO.values() for o in targets}:
            raise Invalid("console.invalid_choice", field="outcome")
        await c.run(execution.resolve, c.deps, actor, case_id[:64], outcome, _reason(form, "resolve_reason"))

    return await step_on_case(request, case_id, step, "resolve_reason", typed)


@router.post("/cases/{case_id}/reroute")
async def reroute(request: Request, case_id: str) -> Response:
    """Pay a failed or abnormal refund by cash or bank transfer instead: a reviewer other than the requester,
    with a reason; a further person then confirms the payout."""
    actor, c, form = await posted(request, "refund.reroute")
    typed = {"reroute_reason": str(form.get("reroute_reason") or ""), "route": str(form.get("route") or "")}

    async def step() -> None:
        if typed["route"] not in REROUTE_TO:
            raise Invalid("case.reroute_method", field="route")
        await c.run(execution.reroute, c.deps, actor, case_id[:64], typed["route"], _reason(form, "reroute_reason"))

    return await step_on_case(request, case_id, step, "reroute_reason", typed)


@router.post("/cases/{case_id}/payout")
async def confirm_payout(request: Request, case_id: str) -> Response:
    """A second person confirms the cash was handed over (or the cheque or transfer cleared): the refund ends."""
    actor, c, form = await posted(request, "refund.confirm_payout")
    typed = {"payout_reference": str(form.get("payout_reference") or "")}

    async def step() -> None:
        reference = fmt.bounded(typed["payout_reference"].strip(), "payout_reference", 64)
        await c.run(execution.confirm_payout, c.deps, actor, case_id[:64], reference)

    return await step_on_case(request, case_id, step, "payout_reference", typed)


@router.post("/cases/{case_id}/notify-again")
async def notify_again(request: Request, case_id: str) -> Response:
    """Queue the message of the case's current state once more (the customer did not get it, or asks)."""
    actor, c, _form = await posted(request, "notify.contact")

    async def step() -> None:
        await c.run(resend.notify_again, c.deps, actor, case_id[:64])

    return await step_on_case(request, case_id, step, "notify", {})
