"""The text fields of an HTML form body, for the card-number guard (the console posts forms).

A form arrives URL-encoded (spaces as ``+``, digits maybe percent-encoded) or as multipart with files:
a guard that only searched the raw bytes would miss ``4111+1111+1111+1111`` and never look inside
multipart. Here each field is decoded as the route will see it; file contents are skipped (a photo's
bytes are not text), their file names are not.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header

MAX_FIELD = 1024 * 1024  # the route refuses bigger text parts anyway


class MalformedForm(Exception):
    pass


def media_type(content_type: str) -> str:
    """``Application/JSON; charset=utf-8`` → ``application/json``: media types are case-insensitive."""
    return content_type.split(";", 1)[0].strip().lower()


def form_fields(content_type: str, raw: bytes) -> Iterator[tuple[str, str]] | None:
    """(name, value) of every text field, every file's name and every part header (a part's own
    ``Content-Type`` may be kept with an upload), or None when the body is not a form."""
    kind, params = parse_options_header(content_type)
    kind = kind.lower()
    if kind == b"application/x-www-form-urlencoded":
        return iter(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    if kind == b"multipart/form-data":
        boundary = params.get(b"boundary")
        if not boundary:
            raise MalformedForm()
        return iter(_multipart(boundary, raw))
    return None


def _multipart(boundary: bytes, raw: bytes) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    state: dict[str, bytes | bool | list[bytes]] = {}

    def on_part_begin() -> None:
        state.clear()
        state["field"], state["value"], state["data"] = b"", b"", []

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] = bytes(state.get("field", b"")) + data[start:end]  # type: ignore[arg-type]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] = bytes(state.get("value", b"")) + data[start:end]  # type: ignore[arg-type]

    def on_header_end() -> None:
        header, value = bytes(state["field"]).lower(), bytes(state["value"])  # type: ignore[arg-type]
        state["field"], state["value"] = b"", b""
        if header != b"content-disposition":
            out.append(("part." + header.decode("latin-1"), value.decode("utf-8", "replace")))
            return
        _kind, opts = parse_options_header(value)
        state["name"] = name = opts.get(b"name", b"")
        if b"filename" in opts:
            state["file"] = True
            out.append((name.decode("utf-8", "replace") + ".filename", opts[b"filename"].decode("utf-8", "replace")))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunks = state["data"]
        assert isinstance(chunks, list)
        if not state.get("file") and sum(map(len, chunks)) < MAX_FIELD:
            chunks.append(data[start:end])

    def on_part_end() -> None:
        if not state.get("file"):
            chunks = state["data"]
            assert isinstance(chunks, list)
            name = bytes(state.get("name", b""))  # type: ignore[arg-type]
            out.append((name.decode("utf-8", "replace"), b"".join(chunks).decode("utf-8", "replace")))

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(raw)
        parser.finalize()
    except Exception as exc:  # python-multipart raises its own error types for a broken body
        raise MalformedForm() from exc
    return out
