"""A refusal's message as a person reads it: the values it names shown in their words, not the program's.

An error carries ``params`` for programs (``{"amount_fen": 12000, "current": "approved", "role": "cashier"}``);
the message built from them for a person must say ``¥120.00``, ``已批准`` and ``收银员`` (or the English labels),
never the fen and the codes. The API's error bodies, the console's forms and the CLI all ask here, so one
table decides how every named value is worded; the params themselves go out unchanged for machines.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from posrefund.domain.money import format_yuan
from posrefund.i18n import message as catalogue_message

# Which label table words a named value; the same name in another area (a dispute's status, a risk alert's
# state) is set by the code's prefix below.
KIND_OF_PARAM: dict[str, str] = {
    "action": "action",
    "channel": "channel",
    "current": "status",
    "direction": "direction",
    "event": "event",
    "field": "field",
    "kind": "evidence",
    "language": "language",
    "method": "method",
    "own": "role",
    "party": "party",
    "reason": "reason",
    "resolution": "resolution",
    "role": "role",
    "rule": "risk_rule",
    "source": "source",
    "status": "status",
    "target": "status",
    "where": "field",
}
KIND_BY_CODE: dict[str, dict[str, str]] = {
    "dispute.": {"status": "dispute_status"},
    "risk.": {"current": "alert_status", "target": "alert_status", "status": "alert_status"},
    "risk.invalid_setting": {"field": "risk_setting"},
    "contact.": {"kind": "contact_kind"},
    "notify.unknown_gateway_kind": {"kind": "notify_channel"},
    "notify.unknown_event": {"event": "notify_event"},
    "refund.invalid_resolution": {"target": "resolve_to"},
    "followup.invalid_channel": {"channel": "contact"},
    "recon.not_recoverable": {"current": "status|discrepancy"},  # the refund's state, or the finding's class
    "recon.": {"source": "source"},
    "bank_application.": {"status": "bank_application|status"},
    "bank_application.case_state": {"status": "status"},
    "fees.": {"status": "payout_status"},
    "device_return.": {"status": "return_status"},
    "device_return.document_type": {"kind": "return_document"},
    "deposit.proposal_closed": {"status": "deposit_proposal"},
    "deposit.payout_not_awaiting": {"status": "deposit_payout"},
}
# Values that list several fields or codes at once (``policy.unknown_field``: ``a, b``).
LISTS = frozenset({"fields", "missing", "allowed"})
KIND_OF_LIST: dict[str, str] = {"fields": "field", "missing": "evidence|return_document", "allowed": "file_type"}


def label(kind: str, value: str, lang: str) -> str:
    """The console's label table (imported when first needed: the console's pages import this module,
    and the table lives in the console's package)."""
    from posrefund.entrypoints.console.texts import label as table_label

    return table_label(kind, value, lang)


def _local(at: datetime) -> str:
    """A time as the console shows it (Shanghai), from the console's one formatter, imported as ``label`` is."""
    from posrefund.entrypoints.console.fmt import local

    return local(at)


def _kinds(code: str) -> dict[str, str]:
    kinds = dict(KIND_OF_PARAM)
    for prefix, override in KIND_BY_CODE.items():
        if code == prefix or (prefix.endswith(".") and code.startswith(prefix)):
            kinds.update(override)
    return kinds


def _field_label(value: str, lang: str) -> str:
    """``customer.phone`` has a label of its own; ``evidence_required.goods_quality`` is the policy's
    evidence rule for one reason: the field's label, then the reason's."""
    worded = label("field", value, lang)
    if worded != value or "." not in value:
        return worded
    head, _, tail = value.partition(".")
    for kind in ("reason", "channel", "field"):
        tail_worded = label(kind, tail, lang)
        if tail_worded != tail:
            head_worded = label("field", head, lang)
            return f"{head_worded}（{tail_worded}）" if lang == "zh" else f"{head_worded} ({tail_worded})"
    return worded


def worded(code: str, params: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The params with each value put in the person's words: fen as yuan, codes as labels, times in
    Shanghai; a value no table knows (what the person typed) stays as it was."""
    kinds = _kinds(code)
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
            out[name] = format_yuan(value, str(params.get("currency", "CNY")))
        elif isinstance(value, datetime):
            out[name] = _local(value)
        elif name in LISTS and isinstance(value, (list, tuple, set, frozenset, str)):
            items = value.split(",") if isinstance(value, str) else list(value)
            out[name] = "、".join(_one(KIND_OF_LIST[name], str(v).strip(), lang) for v in items)
        elif name in kinds and isinstance(value, str):
            out[name] = _one(kinds[name], value, lang)
        else:
            out[name] = value
    return out


def _one(kinds: str, value: str, lang: str) -> str:
    """The label from the first table (``a|b``: tried in order) that knows the value."""
    for kind in kinds.split("|"):
        said = _field_label(value, lang) if kind == "field" else label(kind, value, lang)
        if said != value:
            return said
    return value


# What a request's validation found, per pydantic error type, in words (the type itself stays in ``errors``).
PROBLEMS: dict[str, tuple[str, str]] = {
    "missing": ("必填", "is required"),
    "string_too_long": ("过长", "is too long"),
    "string_too_short": ("过短", "is too short"),
    "string_type": ("须为文字", "must be text"),
    "string_pattern_mismatch": ("格式不正确", "has the wrong format"),
    "int_parsing": ("须为整数", "must be a whole number"),
    "int_type": ("须为整数", "must be a whole number"),
    "int_from_float": ("须为整数", "must be a whole number"),
    "bool_parsing": ("须为是或否", "must be true or false"),
    "bool_type": ("须为是或否", "must be true or false"),
    "extra_forbidden": ("不是可接受的字段", "is not an accepted field"),
    "enum": ("取值不在允许范围内", "is not one of the allowed values"),
    "literal_error": ("取值不在允许范围内", "is not one of the allowed values"),
    "json_invalid": ("不是合法的 JSON", "is not valid JSON"),
    "list_type": ("须为列表", "must be a list"),
    "dict_type": ("格式不正确", "has the wrong shape"),
    "model_attributes_type": ("格式不正确", "has the wrong shape"),
    "greater_than": ("超出允许范围", "is out of range"),
    "greater_than_equal": ("超出允许范围", "is out of range"),
    "less_than": ("超出允许范围", "is out of range"),
    "less_than_equal": ("超出允许范围", "is out of range"),
    "datetime_parsing": ("时间格式不正确", "is not a valid time"),
    "datetime_from_date_parsing": ("时间格式不正确", "is not a valid time"),
    "datetime_type": ("时间格式不正确", "is not a valid time"),
    "date_parsing": ("日期格式不正确", "is not a valid date"),
    "date_from_datetime_parsing": ("日期格式不正确", "is not a valid date"),
    "timezone_aware": ("须带时区", "must carry a time zone"),
}


def _validation_detail(errors: list[dict[str, Any]], lang: str) -> str:
    """``amount_fen: missing; note: string_too_long`` as ``金额必填；备注过长`` (or in English)."""
    said = []
    for e in errors[:10]:
        loc = [str(p) for p in e.get("loc", ())]
        where = ".".join(loc[1:])
        problem = PROBLEMS.get(str(e.get("type", "")), ("取值不合法", "is not valid"))
        whole = len(loc) < 2  # the body itself (not JSON, or not an object), not one of its fields
        name = ("请求内容" if lang == "zh" else "the request") if whole else _field_label(where, lang)
        said.append(f"{name}{problem[0]}" if lang == "zh" else f"{name} {problem[1]}")
    return ("；" if lang == "zh" else "; ").join(said)


def message(code: str, lang: str, params: Mapping[str, Any] | None = None) -> str:
    """The catalogue's message for ``code`` in ``lang``, naming the values in words a person reads."""
    said = worded(code, params or {}, lang)
    if code == "request.invalid" and isinstance(said.get("errors"), list):
        said["detail"] = _validation_detail(said["errors"], lang)
    return catalogue_message(code, lang, said)
