"""Acquirer layouts as data (对账单映射), per merchant: the built-in ones every merchant has, and the ones finance
describes for its own acquirers, stored, changed (compare-and-set on the version, audited with before and after)
and used by name by every import (API, console, CLI) and by the preview."""

from __future__ import annotations

from typing import Any

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.roles import Actor
from posrefund.domain.settlement_mapping import BUILT_IN, CHANNELS, MappingSpec, mapping_name, spec_from_dict
from posrefund.ports import MappingRow
from posrefund.service.deps import Deps
from posrefund.service.records import record


def _view(name: str, channel: str, spec: MappingSpec, row: MappingRow | None) -> dict[str, Any]:
    return {
        "name": name,
        "channel": channel,
        "built_in": row is None,
        "spec": spec.as_dict(),
        "version": row["version"] if row else 0,
        "updated_by": row["updated_by"] if row else "",
        "updated_at": row["updated_at"] if row else None,
    }


def list_mappings(deps: Deps, actor: Actor) -> list[dict[str, Any]]:
    """The built-in layouts first, then the merchant's own, by name."""
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        own = uow.settlement_mappings.mappings(actor.merchant_id or "")
    return [_view(n, "card", s, None) for n, s in BUILT_IN.items()] + [
        _view(r["name"], r["channel"], spec_from_dict(r["spec"]), r) for r in own
    ]


def get_mapping(deps: Deps, actor: Actor, name: str) -> dict[str, Any]:
    actor.require("recon.read")
    if name in BUILT_IN:
        return _view(name, "card", BUILT_IN[name], None)
    with deps.uow(readonly=True) as uow:
        row = uow.settlement_mappings.get_mapping(actor.merchant_id or "", name)
    if row is None:
        raise NotFound("recon.mapping_not_found", name=name[:40])
    return _view(row["name"], row["channel"], spec_from_dict(row["spec"]), row)


def mapping_spec(deps: Deps, actor: Actor, name: str) -> MappingSpec:
    """The layout an import or a preview reads a file with (``recon.mapping_not_found`` for an unknown name)."""
    actor.require("recon.import")
    return spec_from_dict(get_mapping(deps, actor, name)["spec"])


def put_mapping(
    deps: Deps, actor: Actor, name: str, spec: Any, *, channel: str = "card", version: int | None = None
) -> dict[str, Any]:
    """Create the layout ``name`` (no ``version``; ``recon.mapping_exists`` when it is taken), or change the stored
    one whose version is ``version`` (``recon.mapping_changed`` when it moved on, ``recon.mapping_not_found`` when
    there is none); a built-in name is refused (``recon.mapping_built_in``). Audited with what changed."""
    actor.require("recon.mapping")
    name = mapping_name(name)
    if name in BUILT_IN:
        raise Conflict("recon.mapping_built_in", name=name)
    if channel not in CHANNELS:
        raise Invalid("recon.mapping_bad_value", field="channel")
    checked = spec_from_dict(spec).as_dict()
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        old = uow.settlement_mappings.get_mapping(merchant_id, name)
        if old is None:
            if version is not None:
                raise NotFound("recon.mapping_not_found", name=name)
            row: MappingRow = {
                "merchant_id": merchant_id,
                "name": name,
                "channel": channel,
                "spec": checked,
                "created_by": actor.id,
                "created_at": now,
                "updated_by": actor.id,
                "updated_at": now,
                "version": 1,
            }
            uow.settlement_mappings.add_mapping(row)
        else:
            if version is None:
                raise Conflict("recon.mapping_exists", name=name)
            if version != old["version"]:
                raise Conflict("recon.mapping_changed", version=old["version"])
            row = {**old, "channel": channel, "spec": checked, "updated_by": actor.id, "updated_at": now}
            row["version"] = old["version"] + 1
            if not uow.settlement_mappings.save_mapping(row):
                raise Conflict("recon.mapping_changed", version=old["version"])
        record(
            uow,
            actor,
            merchant_id,
            "settlement.mapping_saved",
            now,
            name=name,
            channel=channel,
            version=row["version"],
            before=None if old is None else f"v{old['version']}",
            after=f"v{row['version']}",
            was=old["spec"] if old else None,
            spec=checked,
        )
        uow.commit()
    return _view(name, channel, spec_from_dict(checked), row)
