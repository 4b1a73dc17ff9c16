"""A return's documents: each checked for its kind (photos are images; invoices, warranty cards, the signed
return form and identity papers images or PDF scans) and size, kept as evidence of the merchant who returns
the device; and the return form posrefund prints for the merchant to sign."""

from __future__ import annotations

from html import escape
from typing import Any

from posrefund.domain import device_return as dr
from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.ports import EvidenceRow
from posrefund.service import evidence
from posrefund.service.deps import Deps
from posrefund.service.provider.desk import device_by_sn, scope_of

DOCUMENT_MAX_BYTES = 4 * 1024 * 1024
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
        "<style>body{font:16px sans-serif;max-width:40em;margin:1em auto;padding:0 1em}table{width:100%;"
        "border-collapse:collapse}th,td{border:1px solid #999;padding:.4em;text-align:left}"
        ".sign{margin-top:3em}</style></head><body><h1>POS 机具退机申请表</h1>"
        f"<table>{cells}</table><h2>随附材料 Documents</h2><ul>{needed}</ul>"
        "<p>7 天内无理由退机；超过 7 天仅限保修期内故障。</p>"
        "<p class=sign>商户签章 Merchant's signature and stamp：________________　日期：__________</p>"
        "</body></html>"
    )
