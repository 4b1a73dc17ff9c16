"""Which CSV files the bulk readers may take: a CRLF file is plain wherever its blocks happen to end.

The files are read a block at a time; a CRLF's CR may end one block and its LF start the next. Every block size
from 1 to 9 bytes puts a block's end at every place of these short lines, so each case meets every split."""

from __future__ import annotations

from pathlib import Path

import pytest

from posrefund.adapters import tabular

HEADER = "paid_at,channel,amount_fen"
ROWS = ["2026-11-19 10:00:00,wechat,100", "2026-11-19 10:00:01,alipay,2", "2026-11-19 10:00:02,card,30000"]
BLOCKS = range(1, 10)


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sales.csv"
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("end", ["\r\n", "\n"])
def test_a_file_of_one_line_ending_is_plain_whatever_the_blocks(tmp_path: Path, block: int, end: str) -> None:
    path = _file(tmp_path, end.join([HEADER, *ROWS]) + end)
    assert tabular._plain_lines(path, block) is True


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize(
    "text",
    [
        f"{HEADER}\r\n{ROWS[0]}\r{ROWS[1]}\r\n",  # a bare CR inside
        f"{HEADER}\r\n{ROWS[0]}\r\n\r\n{ROWS[1]}\r\n",  # a blank CRLF line
        f"{HEADER}\n{ROWS[0]}\n\n{ROWS[1]}\n",  # a blank LF line
        f"{HEADER}\r\n{ROWS[0]}\r\n{ROWS[1]}\r",  # a CR that ends the file
        f"{HEADER}\r\n{ROWS[0]}\r\r\n{ROWS[1]}\r\n",  # CR CR LF
    ],
    ids=["bare-cr", "blank-crlf", "blank-lf", "cr-at-end", "cr-cr-lf"],
)
def test_a_file_the_row_reader_must_read_is_never_plain(tmp_path: Path, block: int, text: str) -> None:
    assert tabular._plain_lines(_file(tmp_path, text), block) is False


def test_a_crlf_export_split_between_cr_and_lf_at_a_mebibyte_keeps_its_header(tmp_path: Path) -> None:
    """What a POS export of a million rows meets: the first block ends between a CR and its LF."""
    rows = [HEADER]
    size = len(HEADER) + 2
    while size < (1 << 20) + 1000:
        rows.append(f"2026-11-19 10:00:00,wechat,{len(rows)}")
        size += len(rows[-1]) + 2
    data = "\r\n".join(rows).encode() + b"\r\n"
    cut = data.find(b"\r\n", (1 << 20) - 100)
    data = data[:cut] + b"0" * ((1 << 20) - 1 - cut) + data[cut:]  # a longer amount: its CR ends the block
    assert data[(1 << 20) - 1 : (1 << 20) + 1] == b"\r\n"
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    assert tabular.plain_csv_header(path, ["paid_at", "channel", "amount_fen"]) == HEADER.split(",")
