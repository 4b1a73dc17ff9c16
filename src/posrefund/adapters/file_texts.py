"""Every line of the log files and the evidence store, as text, for the personal-data scan.

Files are read as bytes, a line at a time, and decoded as UTF-8 with each undecodable byte replaced: the
ASCII digits of a binary file (a photo, a PDF) survive as they are, and so do digits of any other script
written in UTF-8. The text of a PDF usually sits in compressed (Flate) streams, so those are inflated and
read too, line by line, as part of the same file.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

# A PDF stream's bytes: after ``stream`` and its end of line, up to ``endstream``.
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)
# An inflated stream larger than this is not text anyone typed (and could be a zip bomb).
_MAX_INFLATED = 32 * 1024 * 1024

Place = dict[str, Any]


def evidence_files(root: Path) -> list[Path]:
    """The stored evidence files (``<root>/ab/cdef…``), half-written temporary files included."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def log_files(log_file: Path | None) -> list[Path]:
    """The configured log file and its rotated siblings (``posrefund.log.1``, ``posrefund.log.2026-12-01``)."""
    if log_file is None or not log_file.parent.is_dir():
        return []
    return sorted(p for p in log_file.parent.glob(log_file.name + "*") if p.is_file())


def _inflated(content: bytes) -> Iterator[tuple[int, bytes]]:
    """(index, inflated bytes) of each Flate-compressed stream of a PDF; others are left as they are."""
    for index, match in enumerate(_PDF_STREAM.finditer(content), 1):
        inflate = zlib.decompressobj()
        try:
            data = inflate.decompress(match.group(1), _MAX_INFLATED)
        except zlib.error:
            continue
        yield index, data


def _lines(chunks: Iterable[bytes], place: Place) -> Iterator[tuple[Place, str]]:
    offset = 0
    for number, line in enumerate(chunks, 1):
        if line.strip():
            yield {**place, "line": number, "offset": offset}, line.decode("utf-8", "replace")
        offset += len(line)


def _file_lines(path: Path) -> Iterator[tuple[Place, str]]:
    """A file's lines streamed from disk (a log may be larger than memory); a PDF's inflated streams after."""
    with open(path, "rb") as fh:
        head = fh.read(5)
        fh.seek(0)
        yield from _lines(fh, {"file": str(path)})
    if head == b"%PDF-":
        for index, data in _inflated(path.read_bytes()):
            yield from _lines(data.splitlines(keepends=True), {"file": str(path), "stream": index})


class FileTexts:
    """Iterating yields ``(where, text)`` for every line of every file: where is its path, line number and
    byte offset (and the stream, for a PDF's inflated text). ``on_bytes`` hears each file's size once read."""

    def __init__(self, paths: Iterable[Path], on_bytes: Callable[[int], None] | None = None) -> None:
        self.paths = list(paths)
        self.on_bytes = on_bytes

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.paths if p.exists())

    def __iter__(self) -> Iterator[tuple[Place, str]]:
        for path in self.paths:
            try:
                yield from _file_lines(path)
            except OSError:
                continue  # rotated away or unreadable between listing and reading
            if self.on_bytes is not None:
                self.on_bytes(path.stat().st_size if path.exists() else 0)
