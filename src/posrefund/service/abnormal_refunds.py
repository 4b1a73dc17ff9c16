"""A supervisor sends an abnormal WeChat Pay refund to a bank card (退款至银行卡), with the customer's consent.

The application is recorded (the number's last four only — the full number goes to the channel and is never stored;
holder and who consented encrypted) before it goes to the channel, so a crash or a lost answer leaves a trace: the
next attempt asks the channel first and sends again only when the refund is still ABNORMAL there — one application
never moves money twice. Once WeChat Pay takes it the case is ``processing`` again and the worker follows it (query,
notification) to ``succeeded`` like any refund. A refusal (a card WeChat cannot pay to) leaves the case abnormal,
with the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from posrefund.domain.abnormal_refund import (
    ACCEPTED,
    DECLINED,
    SENT,
    CardRefund,
    check_may_apply,
    checked_card,
    checked_consent,
)
from posrefund.domain.channel import ChannelAnswer, Outcome, RefundOrder
from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.pii import mask_name, refuse_card_data
from posrefund.domain.refund import MAX_REASON_TEXT, RefundCase, RefundStatus
from posrefund.domain.roles import Actor
from posrefund.ports import PaymentChannel, UnitOfWork
from posrefund.ports.abnormal_refunds import AbnormalRefundChannel, CardApplicationRow
from posrefund.service.channel_accounts import sub_merchant_of
from posrefund.service.deps import Deps
from posrefund.service.records import flush_case_events, record_on_case
from posrefund.service.refunds import settle_reservation
from posrefund.service.routing import order_of

PERMISSION = "refund.abnormal_refund"
TAKEN = (Outcome.ACCEPTED, Outcome.SUCCEEDED)
SENDS = 2  # an application whose answer was lost and that the channel shows not applied is sent once more


@dataclass(frozen=True)
class CardRefundRequest:
    """What the supervisor entered: the card, the customer's consent, and why."""

    kind: str
    bank_type: str
    account: str
    real_name: str
    consent_by: str
    consent_how: str
    consent_at: datetime | None
    reason: str


@dataclass(frozen=True)
class CardApplicationView:
    """An application as people see it: the number's last four, the holder's and consenter's first character."""

    kind: str
    bank_type: str
    account_masked: str
    real_name_masked: str
    consent_by_masked: str
    consent_how: str
    consent_at: datetime
    applied_by: str
    applied_at: datetime
    status: str
    sends: int
    last_code: str


def _load(uow: UnitOfWork, actor: Actor, case_id: str) -> RefundCase:
    case = uow.refunds.get_case(actor.merchant_id or "", case_id)
    if case is None or (actor.terminal_id is not None and case.terminal_id != actor.terminal_id):
        raise NotFound("refund.not_found")
    return case


def _order(uow: UnitOfWork, case: RefundCase) -> RefundOrder:
    sale = uow.sales.get_sale(case.merchant_id, case.sale_id)
    assert sale is not None
    terminal = uow.merchants.get_terminal(case.merchant_id, case.terminal_id)
    terminal_no = str(terminal["terminal_no"]) if terminal else ""
    return order_of(case, sale, terminal_no, sub_merchant_of(uow, case.merchant_id, case.channel))


def view_of(deps: Deps, row: CardApplicationRow) -> CardApplicationView:
    decrypt = deps.cipher.decrypt
    return CardApplicationView(
        kind=row["kind"],
        bank_type=row["bank_type"],
        account_masked=row["account_masked"],
        real_name_masked=mask_name(decrypt(row["real_name_enc"])) if row["real_name_enc"] else "",
        consent_by_masked=mask_name(decrypt(row["consent_by_enc"])),
        consent_how=row["consent_how"],
        consent_at=row["consent_at"],
        applied_by=row["applied_by"],
        applied_at=row["applied_at"],
        status=row["status"],
        sends=row["sends"],
        last_code=row["last_code"],
    )


def application_of(deps: Deps, actor: Actor, case_id: str) -> CardApplicationView | None:
    """The case's application, masked, for whoever may read the case."""
    actor.require("refund.read")
    with deps.uow(readonly=True) as uow:
        case = _load(uow, actor, case_id)
        row = uow.card_applications.get_application(case.merchant_id, case.id)
    return view_of(deps, row) if row is not None else None


def refuse_while_in_flight(uow: UnitOfWork, case: RefundCase, *, unpaid: bool = True) -> None:
    """Paying an abnormal case another way, or settling it as not paid (``unpaid``), waits while its application to
    a bank card is sent with no known outcome: WeChat Pay may have taken it (its answer lost, or the process that
    sent it died) and pay the card as well. Applying again asks WeChat Pay first and settles it. Settling it as
    paid, or handing it back to the worker, stays open."""
    if not unpaid:
        return
    row = uow.card_applications.get_application(case.merchant_id, case.id)
    if row is not None and row["status"] == SENT:
        raise Conflict("abnormal_refund.in_flight", current=case.status.value)


def _channel_of(channels: Mapping[str, PaymentChannel], name: str) -> AbnormalRefundChannel:
    channel = channels.get(name)
    if not isinstance(channel, AbnormalRefundChannel):
        raise Conflict("abnormal_refund.not_supported", channel=name)
    return channel


def apply_to_card(
    deps: Deps, channels: Mapping[str, PaymentChannel], actor: Actor, case_id: str, req: CardRefundRequest
) -> tuple[RefundCase, CardApplicationView]:
    """Check, record, send (asking first when an earlier answer was lost), then record what WeChat Pay said."""
    actor.require(PERMISSION)
    reason = req.reason.strip()
    if not reason:
        raise Invalid("review.reason_required")
    if len(reason) > MAX_REASON_TEXT:
        raise Invalid("review.reason_too_long", max=MAX_REASON_TEXT)
    refuse_card_data(reason, "reason")
    now = deps.clock.now()
    consent = checked_consent(req.consent_by, req.consent_how, req.consent_at, now)
    card = checked_card(req.kind, req.bank_type, req.account, req.real_name)
    with deps.uow(readonly=True) as uow:
        case = _load(uow, actor, case_id)
        check_may_apply(case.channel, case.status.value, case.channel_refund_id)
        channel = _channel_of(channels, case.channel)
        earlier = uow.card_applications.get_application(case.merchant_id, case.id)
        order = _order(uow, case)
    if earlier is not None and earlier["status"] == ACCEPTED:
        raise Conflict("abnormal_refund.already_applied", current=case.status.value)
    refund = CardRefund(order, case.channel_refund_id, card)
    if earlier is not None and earlier["status"] == SENT:
        seen = channel.query(order)
        if seen.outcome in TAKEN:  # the earlier application was applied; its answer was lost
            return _record_answer(deps, actor, case.id, seen, reason, sent=False)
        if seen.outcome is not Outcome.ABNORMAL:
            raise Conflict("abnormal_refund.outcome_unknown", channel_code=seen.code)
    row: CardApplicationRow = {
        "case_id": case.id,
        "merchant_id": case.merchant_id,
        "kind": card.kind.value,
        "bank_type": card.bank_type,
        "account_masked": card.masked_account,
        "real_name_enc": deps.cipher.encrypt(card.real_name) if card.real_name else "",
        "consent_by_enc": deps.cipher.encrypt(consent.given_by),
        "consent_how": consent.how,
        "consent_at": consent.at,
        "applied_by": actor.id,
        "applied_at": now,
        "reason": reason,
        "status": SENT,
        "sends": 0,
        "last_code": "",
        "updated_at": now,
    }
    with deps.uow() as uow:
        fresh = _load(uow, actor, case_id)
        check_may_apply(fresh.channel, fresh.status.value, fresh.channel_refund_id)
        if not uow.card_applications.save_application(row, earlier):
            raise Conflict("abnormal_refund.already_applied", current=fresh.status.value)
        record_on_case(uow, actor, fresh, "refund.abnormal_refund_applied", now, reason, **_facts(row))
        uow.commit()
    return _record_answer(deps, actor, case.id, _send(channel, refund), reason, sent=True)


def _facts(row: CardApplicationRow) -> dict[str, object]:
    """What the audit trail says of an application: never the number, the name or who consented in clear."""
    return {
        "kind": row["kind"],
        "bank_type": row["bank_type"],
        "account": row["account_masked"],
        "consent_how": row["consent_how"],
        "consent_at": row["consent_at"].isoformat(),
    }


def _send(channel: AbnormalRefundChannel, refund: CardRefund) -> ChannelAnswer:
    """Send; when nobody can tell whether it was applied, ask — and send again only if it still is ABNORMAL."""
    answer = channel.apply_abnormal_refund(refund)
    for _ in range(SENDS - 1):
        if answer.outcome not in (Outcome.UNKNOWN, Outcome.NOT_SENT):
            return answer
        seen = channel.query(refund.order)
        if seen.outcome is not Outcome.ABNORMAL:
            return seen if seen.outcome in TAKEN else answer
        answer = channel.apply_abnormal_refund(refund)
    return answer


def _record_answer(
    deps: Deps, actor: Actor, case_id: str, answer: ChannelAnswer, reason: str, *, sent: bool
) -> tuple[RefundCase, CardApplicationView]:
    """Taken: the case is processing again and due for the worker. Refused: it stays abnormal (4xx with the
    channel's code). Not known: the application stays ``sent``, and the next one asks first."""
    deps.failpoint("abnormal_refund.after_call")  # crash tests: WeChat Pay answered, nothing of it written yet
    now = deps.clock.now()
    with deps.uow() as uow:
        case = _load(uow, actor, case_id)
        before = case.status
        if answer.outcome in TAKEN and case.status is not RefundStatus.ABNORMAL:
            uow.card_applications.mark(case.id, ACCEPTED, answer.code, now)  # another person's send got there first
        elif answer.outcome in TAKEN:
            uow.card_applications.mark(case.id, ACCEPTED, answer.code, now, sent=sent)
            case.start_processing(case.method, now, actor, reason)
            last = case.pending_events[-1]
            case.pending_events[-1] = replace(last, data={**last.data, "via": "abnormal_refund"})
            case.submitted, case.checks, case.next_check_at = True, 0, now
            if answer.outcome is Outcome.SUCCEEDED:
                case.apply_answer(answer, now, "abnormal_refund")
            uow.refunds.save_case(case)
            settle_reservation(uow, case, before)
            flush_case_events(uow, case)
        elif answer.outcome is Outcome.DECLINED:
            uow.card_applications.mark(case.id, DECLINED, answer.code, now, sent=sent)
            record_on_case(uow, actor, case, "refund.abnormal_refund_declined", now, answer.message, code=answer.code)
        else:
            uow.card_applications.mark(case.id, SENT, answer.code, now, sent=sent)
            record_on_case(uow, actor, case, "refund.abnormal_refund_unknown", now, answer.message, code=answer.code)
        row = uow.card_applications.get_application(case.merchant_id, case.id)
        uow.commit()
    assert row is not None
    if answer.outcome is Outcome.DECLINED:
        raise Invalid("abnormal_refund.declined", channel_code=answer.code)
    return case, view_of(deps, row)
