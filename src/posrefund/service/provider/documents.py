"""A return's documents: each checked for its kind (photos are images; invoices, warranty cards, the signed
return form and identity papers images or PDF scans) and size, kept as evidence of the merchant who returns
the device; and the return form posrefund prints for the merchant to sign."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from posrefund.domain import device_return as dr
from posrefund.domain.errors import Invalid, NotFound
from posrefund.domain.roles import Actor
from posrefund.ports import EvidenceRow
from posrefund.service import evidence
from posrefund.service.deps import Deps
from posrefund.service.provider.desk import device_by_sn, scope_of
from posrefund.service.provider.returns import load

DOCUMENT_MAX_BYTES = 4 * 1024 * 1024
# The printed form's own style: whoever serves the page allows exactly this style by its hash.
FORM_STYLE = (
    "body{font:16px sans-serif;max-width:40em;margin:1em auto;padding:0 1em}table{width:100%;"
    "border-collapse:collapse}th,td{border:1px solid #999;padding:.4em;text-align:left}.sign{margin-top:3em}"
)
# Who may add which document: the merchant's papers by whoever opens returns, the inspection photos by the
# provider's staff who receive the device.
UPLOADERS = {"device_return.handle": {dr.DocumentKind.INSPECTION_PHOTO}}


def upload(deps: Deps, actor: Actor, *, sn: str, kind: str, filename: str, content: bytes) -> EvidenceRow:
    try:
        doc = dr.DocumentKind(kind)
    except ValueError:
        allowed = [k.value for k in dr.DocumentKind]
        raise Invalid("device_return.invalid_document_kind", kind=kind, allowed=allowed) from None
    actor.require("device_return.handle" if doc in UPLOADERS["device_return.handle"] else "device_return.open")
    if len(content) > DOCUMENT_MAX_BYTES:
        raise Invalid("device_return.document_too_large", max_bytes=DOCUMENT_MAX_BYTES, size=len(content))
    dr.check_document_type(doc, evidence.sniff(content) or "unknown")
    with deps.uow(readonly=True) as uow:
        device = device_by_sn(uow, scope_of(uow, actor), sn)
    return evidence.store(deps, actor, device["merchant_id"], content=content, filename=filename, kind=doc.value)


def return_form(deps: Deps, actor: Actor, sn: str) -> str:
    """A printable page: the device, the merchant, what was paid and the documents the return needs, with
    room for the merchant's signature and stamp. The signed form is photographed and uploaded."""
    actor.require("device_return.open")
    with deps.uow(readonly=True) as uow:
        device = device_by_sn(uow, scope_of(uow, actor), sn)
        merchant = uow.merchants.get_merchant(device["merchant_id"])
        assert merchant is not None
    rows: list[tuple[str, Any]] = [
        ("商户 Merchant", f"{merchant['name']}（{merchant['code']}）"),
        ("机具序列号 SN", device["sn"]),
        ("型号 Model", device["model"]),
        ("签收日期 Signed for", device["signed_on"] or "—"),
        ("已付金额 Paid", f"¥{(device['price_fen'] + device['charge_fen']) / 100:.2f}"),
        ("支付方式 Paid by", device["route"]),
        ("打印日期 Printed", deps.local_date(deps.clock.now())),
    ]
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    needed = "".join(f"<li>{escape(k.value)}</li>" for k in dr.required_documents(False))
    return (
        "<!doctype html><html lang=zh-CN><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'><title>POS 机具退机申请表</title>"
        f"<style>{FORM_STYLE}</style></head><body><h1>POS 机具退机申请表</h1>"
        f"<table>{cells}</table><h2>随附材料 Documents</h2><ul>{needed}</ul>"
        "<p>7 天内无理由退机；超过 7 天仅限保修期内故障。</p>"
        "<p class=sign>商户签章 Merchant's signature and stamp：________________　日期：__________</p>"
        "</body></html>"
    )


def return_documents(deps: Deps, actor: Actor, return_id: str) -> list[EvidenceRow]:
    """The files of a return the actor's scope reaches (its provider's staff, its merchant), in the order
    they were attached: the merchant's papers, then the inspection photos."""
    actor.require("device_return.read")
    with deps.uow(readonly=True) as uow:
        _, ret = load(uow, actor, return_id)
        ids = [str(d["evidence_id"]) for d in json.loads(ret["documents"])]
        rows = {r["id"]: r for r in uow.evidence.evidence_rows(ret["merchant_id"], ids)}
    return [rows[i] for i in ids if i in rows]


def return_document(deps: Deps, actor: Actor, return_id: str, evidence_id: str) -> tuple[EvidenceRow, bytes]:
    """One file of a return, checked against its SHA-256; a file not attached to this return, or a return
    out of the actor's scope, is not found (the same answer as a file that does not exist)."""
    found = [r for r in return_documents(deps, actor, return_id) if r["id"] == evidence_id]
    if not found:
        raise NotFound("evidence.not_found")
    return found[0], evidence.checked_content(deps, actor, found[0])
