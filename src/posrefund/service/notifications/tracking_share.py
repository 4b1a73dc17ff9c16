"""Staff hand a customer the signed link to their case's tracking page (e.g. read out on the phone, pasted
into a WeChat chat). The link is the same the notifications carry (``NotifyRouter.link``: the app's public
URL, the configured validity); showing it is an audit event, as it opens the case's page to whoever holds it."""

from __future__ import annotations

from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.notifications.settings import load_case
from posrefund.service.records import record_on_case


def staff_link(deps: Deps, actor: Actor, router: NotifyRouter, case_id: str) -> str:
    """The case's tracking link for a role allowed to share it; another merchant's case is 404."""
    actor.require("tracking.link")
    now = deps.clock.now()
    with deps.uow() as uow:
        case = load_case(uow, actor, case_id)
        link = router.link(deps, case.id, now)
        record_on_case(
            uow,
            actor,
            case,
            "tracking.link_shown",
            now,
            valid_days=router.link_days,
        )
        uow.commit()
    return link
