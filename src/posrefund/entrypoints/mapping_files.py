"""A stored acquirer layout put to work by the API, the console and the CLI alike: the parser's mapping for an
import by name, and the preview of a file's first lines said in the reader's language."""

from __future__ import annotations

import json
from typing import Any

from posrefund.adapters.settlement.card import CardMapping, card_mapping_of
from posrefund.adapters.settlement.preview import Preview, preview_card_file
from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.domain.settlement_mapping import spec_from_dict
from posrefund.entrypoints.wording import message
from posrefund.service.deps import Deps
from posrefund.service.reconciliation import mappings


def card_mapping_named(deps: Deps, actor: Actor, source: str, name: str | None) -> CardMapping | None:
    """The parser mapping of the stored (or built-in) layout ``name``; None without a name. Layouts are for the
    acquirer's card files only (``recon.mapping_card_only``)."""
    if not name:
        return None
    if source != "card":
        raise Invalid("recon.mapping_card_only")
    return card_mapping_of(mappings.mapping_spec(deps, actor, name))


def spec_text(text: str) -> dict[str, Any]:
    """A layout typed as JSON (the console's editor, a form field of the API's preview)."""
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise Invalid("recon.mapping_bad_value", field="mapping") from None
    return spec_from_dict(raw).as_dict()


def preview_of(deps: Deps, actor: Actor, data: bytes, *, name: str | None, spec: str | None) -> Preview:
    """The preview of ``data`` read with the stored layout ``name``, or with the unsaved layout ``spec``."""
    actor.require("recon.import")
    if spec:
        layout = card_mapping_of(spec_from_dict(spec_text(spec)))
    elif name:
        layout = card_mapping_of(mappings.mapping_spec(deps, actor, name))
    else:
        raise Invalid("recon.mapping_missing_field", field="name")
    return preview_card_file(data, layout)


def preview_view(p: Preview, lang: str) -> dict[str, Any]:
    """The preview as JSON, every error with its code and its message in ``lang``."""
    missing = [
        {"field": f, "column": c, "message": message("recon.preview_missing_column", lang, {"column": c})}
        for f, c in p.missing.items()
    ]
    lines = [
        {
            "line_no": line.line_no,
            "values": line.values,
            "parsed": line.parsed,
            "errors": [
                {"field": f, "code": code, "message": message(code, lang, params)}
                for f, (code, params) in line.errors.items()
            ],
        }
        for line in p.lines
    ]
    ok = not missing and all(not line["errors"] for line in lines)
    return {"encoding": p.encoding, "header": p.header, "missing": missing, "lines": lines, "ok": ok}
