"""``posrefund refund list|show``: refund cases and their audited history, read on the host."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from posrefund.domain.errors import DomainError
from posrefund.domain.money import format_yuan
from posrefund.domain.roles import Role
from posrefund.entrypoints.cli.common import JsonOpt, MerchantOpt, acting_as, build_deps, emit, fail, out, refund_app
from posrefund.ports import RefundQuery


@refund_app.command("list")
def refund_list(
    merchant: MerchantOpt,
    status: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: JsonOpt = False,
) -> None:
    from posrefund.service import refunds

    deps = build_deps()
    actor = acting_as(deps, merchant, Role.AUDITOR)
    views, total = refunds.list_cases(deps, actor, RefundQuery(status=status, limit=limit))
    if as_json:
        from posrefund.entrypoints.api.views import refund_view

        emit({"items": [refund_view(v.case, v.customer) for v in views], "total": total}, True)
        return
    table = Table("refund_no", "status", "amount", "reason", "created", title=f"{total} refunds")
    for v in views:
        table.add_row(
            v.case.refund_no,
            v.case.status.value,
            format_yuan(v.case.amount_fen, v.case.currency),
            v.case.reason.value,
            v.case.created_at.isoformat(timespec="seconds"),
        )
    out.print(table)


@refund_app.command("show")
def refund_show(merchant: MerchantOpt, refund_id: str, as_json: JsonOpt = False) -> None:
    """A refund by its number (as printed on the slip and shown in the console) or by its internal id."""
    from posrefund.entrypoints.api.views import event_view, refund_view
    from posrefund.ports.refunds import RefundQuery
    from posrefund.service import refunds

    deps = build_deps()
    actor = acting_as(deps, merchant, Role.AUDITOR)
    try:
        numbered, _total = refunds.list_cases(deps, actor, RefundQuery(refund_no=refund_id, limit=1))
        if numbered:
            refund_id = numbered[0].case.id
        view = refunds.get_case(deps, actor, refund_id)
        events = refunds.case_events(deps, actor, refund_id)
    except DomainError as exc:
        fail(exc)
    data = refund_view(view.case, view.customer)
    data["events"] = [event_view(e) for e in events]
    if as_json:
        emit(data, True)
        return
    emit({k: v for k, v in data.items() if k != "events"}, False, "refund")
    table = Table("seq", "at", "action", "actor", "before→after", "reason")
    for e in data["events"]:
        table.add_row(
            "" if e["seq"] is None else str(e["seq"]),
            e["at"],
            e["action"],
            f"{e['actor_id']} ({e['actor_role']})",
            f"{e['before']}→{e['after']}",
            e["reason"],
        )
    out.print(table)
