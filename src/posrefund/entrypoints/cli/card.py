"""``posrefund card settle``: close the card terminal's batch (结算), with the batch upload when the host's totals
differ. An operator runs it at the day's cut-off (or a scheduler does); the settlement is audited."""

from __future__ import annotations

from dataclasses import asdict

import typer

from posrefund.entrypoints.cli.common import OPERATOR, JsonOpt, build_deps, card_app, emit, err, settings


@card_app.command("settle")
def settle(as_json: JsonOpt = False) -> None:
    """Settle the open batch of the terminal configured in ``[card]`` of the channels file."""
    from posrefund import bootstrap
    from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel, SignOnFailed
    from posrefund.adapters.channels.acquirer.settlement import SettlementFailed
    from posrefund.adapters.channels.acquirer.settlement import settle as settle_batch
    from posrefund.service.records import record

    deps = build_deps()
    channel = bootstrap.build_router(settings(), deps).channels.get("card")
    if not isinstance(channel, CardAcquirerChannel):
        err.print("[red]no [card] section in the channels file (POSREFUND_CHANNELS_FILE)[/red]")
        raise typer.Exit(2)
    try:
        done = settle_batch(channel)
    except (SettlementFailed, SignOnFailed) as exc:
        err.print(f"[red]settlement failed, the batch stays open: {exc}[/red]")
        raise typer.Exit(1) from None
    facts = asdict(done) | {"terminal_id": channel.terminal.terminal_id}
    action = "card.batch_settled" if done.balanced else "card.batch_not_balanced"
    with deps.uow() as uow:
        record(uow, OPERATOR, None, action, deps.clock.now(), **facts)
        uow.commit()
    if not done.balanced:  # the host's totals differ: the batch was uploaded, the acquirer's file decides
        err.print(f"[yellow]the host's totals differ from the terminal's (balance code {done.balance_code!r})[/yellow]")
    emit(facts, as_json, title="card batch settled / 批结算")
