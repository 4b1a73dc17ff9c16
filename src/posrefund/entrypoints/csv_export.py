"""CSV for spreadsheet programs, written one way for every download (the console's reports and
reconciliation exports; the API's export can use it too).

Two things make a CSV safe to open in a spreadsheet program: a byte-order mark, so the Chinese in it is
read as UTF-8 and not as the local code page; and no cell that the program would run as a formula (text
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is quoted with a leading ``'``).

The rows are read while the file is sent: ``csv_response`` hands Starlette a plain iterator, which it
runs on its thread pool, so the database reads of a long export never hold the event loop.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from starlette.responses import StreamingResponse

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def safe_cell(value: Any) -> str:
    """A cell's text, quoted with a leading ``'`` where a spreadsheet program would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The byte-order mark and the header, then the rows, a few hundred at a time."""
    buf = io.StringIO()
    buf.write(BOM)
    out = csv.writer(buf)
    out.writerow(header)
    for n, row in enumerate(rows, 1):
        out.writerow([safe_cell(v) for v in row])
        if n % ROWS_PER_CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> StreamingResponse:
    """A download named ``filename``; ``rows`` is read on a worker thread while the file is sent."""
    return StreamingResponse(
        csv_chunks(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
