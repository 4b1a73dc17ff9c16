"""The reconciliation desk in the console: finance describes an acquirer's layout (对账单映射) field by field,
previews a file's first lines read with it — each column's error said beside the line — and stores it; imports
then name it. Every rule is the service's and the domain's (``service.reconciliation.mappings``,
``domain.settlement_mapping``); this module reads the form by shape and renders."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import DomainError, Invalid
from posrefund.domain.settlement_mapping import (
    AMOUNT_UNITS,
    BUILT_IN,
    ENCODINGS,
    KINDS,
    SIGNS,
    MappingSpec,
    spec_from_dict,
)
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, signed_in
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, render
from posrefund.entrypoints.mapping_files import preview_of, preview_view
from posrefund.service.reconciliation import mappings

router = APIRouter(prefix=PREFIX + "/recon/mappings", route_class=ConsoleRoute, include_in_schema=False)
# The fields a layout names columns for, in the order the form shows them.
FIELDS = (
    "date",
    "time",
    "datetime",
    "kind",
    "amount",
    "fee",
    "merchant_no",
    "terminal_no",
    "card_no",
    "voucher_no",
    "rrn",
    "batch_no",
    "auth_code",
    "merchant_order_no",
    "channel_trade_no",
    "merchant_refund_no",
    "currency",
)
OPTIONS = (
    "encoding",
    "delimiter",
    "header_rows",
    "amount_unit",
    "sign",
    "date_format",
    "time_format",
    "datetime_format",
)
DELIMITERS = {",": ",", ";": ";", "|": "|", "tab": "\t"}
MAX_PREVIEW = 2 * 1024 * 1024


def _form_of(spec: MappingSpec, name: str = "", version: int = 0) -> dict[str, str]:
    """A layout as the editor's fields."""
    form = {f"col_{f}": spec.columns.get(f, "") for f in FIELDS}
    form |= {f"kind_{k}": "、".join(spec.kinds.get(k, ())) for k in KINDS}
    form |= {k: str(getattr(spec, k)) for k in OPTIONS}
    form["delimiter"] = next((k for k, v in DELIMITERS.items() if v == spec.delimiter), ",")
    return form | {"name": name, "version": str(version)}


def _spec_of(form: dict[str, str]) -> dict[str, Any]:
    """The editor's fields as a layout, for the domain to check (kinds listed with 、 or commas)."""
    kinds = {}
    for k in KINDS:
        names = [v.strip() for v in form[f"kind_{k}"].replace(",", "、").replace("，", "、").split("、")]
        if any(names):
            kinds[k] = [v for v in names if v]
    if not form["header_rows"].isdigit():
        raise Invalid("recon.mapping_bad_value", field="header_rows")
    return {
        "columns": {f: form[f"col_{f}"].strip() for f in FIELDS if form[f"col_{f}"].strip()},
        "kinds": kinds,
        **{k: form[k] for k in OPTIONS if k not in ("header_rows", "delimiter")},
        "header_rows": int(form["header_rows"]),
        "delimiter": DELIMITERS.get(form["delimiter"], form["delimiter"]),
    }


def _field_of(err: DomainError) -> str | None:
    """Where a layout's refusal is shown: ``columns.amount`` beside the amount column's input."""
    name = str(err.params.get("field", ""))
    if name.startswith("columns."):
        return f"col_{name.split('.', 1)[1]}"
    if name.startswith("kinds."):
        return f"kind_{name.split('.', 1)[1]}" if name.split(".", 1)[1] in KINDS else "kind_sale"
    if name == "columns":
        return "col_amount"
    return name if name in (*OPTIONS, "name") else None


def _read(form: FormData) -> dict[str, str]:
    names = ["name", "version", *OPTIONS, *(f"col_{f}" for f in FIELDS), *(f"kind_{k}" for k in KINDS)]
    return {n: str(form.get(n) or "")[:200] for n in names}


async def _page(request: Request, status: int = 200, **extra: Any) -> Response:
    actor, c = allowed(request, "recon.read")
    listed = await c.run(mappings.list_mappings, c.deps, actor)
    form = extra.pop("form", None) or _form_of(BUILT_IN["standard"])
    return render(
        request,
        "recon_mappings.html",
        status,
        mappings=listed,
        form=form,
        fields=FIELDS,
        kinds=KINDS,
        encodings=ENCODINGS,
        units=AMOUNT_UNITS,
        signs=SIGNS,
        delimiters=list(DELIMITERS),
        errors=extra.pop("errors", None) or Errors(lang_of(request)),
        saved=extra.pop("saved", False),
        preview=extra.pop("preview", None),
        based_on=extra.pop("based_on", ""),
    )


@router.get("")
async def mappings_page(request: Request) -> Response:
    name = request.query_params.get("name", "")[:40]
    if not name:
        return await _page(request)
    actor, c = signed_in(request)
    found = await c.run(mappings.get_mapping, c.deps, actor, name)
    spec = spec_from_dict(found["spec"])
    editing = "" if found["built_in"] else found["name"]
    form = _form_of(spec, editing, int(found["version"]))
    return await _page(request, form=form, based_on=found["name"], saved=bool(request.query_params.get("saved")))


@router.post("")
async def save_or_preview(request: Request) -> Response:
    """One form, two buttons: 预览 reads the attached file's first lines with the layout as typed; 保存 stores it
    (a new name, or the stored one at the version the form was opened with)."""
    actor, c, posted_form = await posted(request, "recon.import")
    form = _read(posted_form)
    errors = Errors(lang_of(request))
    spec: dict[str, Any] = {}
    with errors.catch(_field_of, only=_LAYOUT_CODES):
        spec = spec_from_dict(_spec_of(form)).as_dict()
    if errors:
        return await _page(request, 422, form=form, errors=errors)
    if posted_form.get("action") == "preview":
        return await _preview(request, posted_form, form, spec, errors)
    actor.require("recon.mapping")
    version = int(form["version"]) if form["version"].isdigit() and form["version"] != "0" else None
    with errors.catch(_field_of, only=(*_LAYOUT_CODES, "recon.mapping_exists", "recon.mapping_changed")):
        await c.run(mappings.put_mapping, c.deps, actor, form["name"], spec, version=version)
    if errors:
        return await _page(request, 422, form=form, errors=errors)
    return RedirectResponse(f"{PREFIX}/recon/mappings?name={form['name'].strip()}&saved=1", status_code=303)


async def _preview(
    request: Request, posted_form: FormData, form: dict[str, str], spec: dict[str, Any], errors: Errors
) -> Response:
    actor, c = signed_in(request)
    upload = posted_form.get("file")
    data = await upload.read(MAX_PREVIEW) if isinstance(upload, UploadFile) else b""
    if not data:
        errors.put("file", Invalid("recon.file_required"))
        return await _page(request, 422, form=form, errors=errors)
    preview = None
    with errors.catch(lambda _e: "file", only=("recon.preview_undecodable", "recon.preview_no_header")):
        preview = await c.run(preview_of, c.deps, actor, data, name=None, spec=json.dumps(spec, ensure_ascii=False))
    if preview is None:
        return await _page(request, 422, form=form, errors=errors)
    return await _page(request, form=form, preview=preview_view(preview, lang_of(request)))


_LAYOUT_CODES = (
    "recon.mapping_bad_name",
    "recon.mapping_unknown_field",
    "recon.mapping_missing_field",
    "recon.mapping_bad_value",
    "recon.mapping_built_in",
)
