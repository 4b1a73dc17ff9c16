"""``POST /v1/reconciliation/refund-imports``: finance's import of the refunds the channel made; a file with a bad
row is refused whole (422) with every row's line, code and message in the caller's language."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World
from tests.support.channel_refunds import BAD, GOOD, HEADER, seed_sales


def test_the_api_refuses_the_whole_file_with_each_row_worded(
    client: TestClient, auth: Auth, deps: Deps, world: World, tmp_path: Path
) -> None:
    seed_sales(deps, world, tmp_path)
    url = "/v1/reconciliation/refund-imports"
    bad = "\n".join([HEADER, *BAD]).encode()
    r = client.post(
        url, files={"file": ("b.csv", bad, "text/csv")}, headers=auth("a.finance", **{"Accept-Language": "en"})
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "refund_import.rows_refused"
    assert [(e["line"], e["code"]) for e in body["params"]["errors"]][:2] == [
        (3, "refund_import.sale_not_found"),
        (5, "refund_import.over_refund"),  # RT2 and RT4 leave 300 of the card sale
    ]
    assert body["params"]["errors"][1]["message"] == "The refund is more than the sale still holds (¥3.00)"
    r = client.post(url, files={"file": ("b.csv", bad, "text/csv")}, headers=auth("a.cashier"))
    assert r.status_code == 403
    good = "\n".join([HEADER, *GOOD]).encode()
    r = client.post(url, files={"file": ("g.csv", good, "text/csv")}, headers=auth("a.finance"))
    assert r.status_code == 201, r.text
    assert (r.json()["imported"], r.json()["duplicates"]) == (2, 0)


def test_quoting_polars_cannot_read_is_read_as_csv_reads_it(
    client: TestClient, auth: Auth, deps: Deps, world: World, tmp_path: Path
) -> None:
    """A stray quote runs to the end of the file as ``csv`` reads it: that row is refused with its line and so the
    whole file — a 422, never a 500."""
    seed_sales(deps, world, tmp_path)
    data = "\n".join([HEADER, GOOD[0], GOOD[1].replace(",W1,", ',"W1,')]).encode()
    r = client.post(
        "/v1/reconciliation/refund-imports",
        files={"file": ("q.csv", data, "text/csv")},
        headers=auth("a.finance", **{"Accept-Language": "en"}),
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "refund_import.rows_refused"
    assert [e["line"] for e in r.json()["params"]["errors"]] == [3]
