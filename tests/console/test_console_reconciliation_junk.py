"""No reconciliation page answers 500, whatever query string, form or id a client throws at it (Hypothesis,
SQLite), with real ids of a run, a discrepancy, a wrong-charge case, a job and a file of merchant A."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posrefund.service import reconciliation, wrong_charges
from tests.conftest import World
from tests.console.conftest import Browser
from tests.console.test_console_junk import JUNK_ID, SETTINGS, VALUE
from tests.console.test_console_reconciliation import FIXTURES, duplicate_charge, reconciled, upload, wait_job

FIELDS = [
    "source",
    "date_from",
    "date_to",
    "window_minutes",
    "class",
    "page",
    "cause",
    "responsible",
    "analysis",
    "evidence_kind",
    "contact_method",
    "contact_note",
    "amount",
    "phone",
    "name",
    "note",
    "reason",
]
FORM = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), VALUE, max_size=8)
GETS = [
    "/console/recon/runs/{run}",
    "/console/recon/runs/{run}/export.csv",
    "/console/recon/discrepancies/{d}",
    "/console/recon/wrong-charges/{wc}",
    "/console/recon/jobs/{job}",
    "/console/recon/jobs/{job}/progress",
    "/console/recon/files/{file}",
]
POSTS = [
    "/console/recon/discrepancies/{d}/wrong-charge",
    "/console/recon/discrepancies/{d}/recover",
    "/console/recon/wrong-charges/{wc}/update",
    "/console/recon/wrong-charges/{wc}/contact",
    "/console/recon/wrong-charges/{wc}/correction",
]


def _ids(as_user: Any, deps: Any, world: World, tmp: Path) -> dict[str, str]:
    m = world.a
    _first, twin = duplicate_charge(deps, m)
    b: Browser = as_user("a.finance")
    run_path = reconciled(b, deps, m, tmp, twin.paid_at)
    run_id = run_path.rsplit("/", 1)[1]
    rows, _ = reconciliation.list_discrepancies(deps, m.actors["finance"], run_id)
    other, _ = reconciliation.list_discrepancies(deps, m.actors["finance"], run_id, "duplicate_charge")
    wc = wrong_charges.open_case(deps, m.actors["finance"], int(other[0]["id"]))
    r = upload(b, FIXTURES / "card_acquirer.csv", "card")
    job = r.headers["location"].rsplit("/", 1)[1]
    file = re.search(r"/console/recon/files/([\w-]+)", wait_job(b, r.headers["location"]))
    assert file
    return {"run": run_id, "d": str(rows[0]["id"]), "wc": str(wc["id"]), "job": job, "file": file.group(1)}


def _path(template: str, ids: dict[str, str], junk_id: str | None) -> str:
    junk = quote(junk_id, safe="") if junk_id else None
    return template.format(**{k: junk or v for k, v in ids.items()})


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("route", GETS)
def test_no_500_on_any_query_string(route: str, as_user: Any, world: World, deps: Any, tmp_path: Path) -> None:
    ids = _ids(as_user, deps, world, tmp_path)
    users = {"finance": as_user("a.finance"), "cashier": as_user("a.cashier"), "b": as_user("b.finance")}

    @SETTINGS
    @given(params=FORM, junk_id=JUNK_ID, who=st.sampled_from(sorted(users)))
    def run(params: dict[str, str], junk_id: str | None, who: str) -> None:
        r = users[who].client.get(_path(route, ids, junk_id), params=params, follow_redirects=False)
        assert r.status_code < 500, (route, params, r.text[:500])

    run()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("route", POSTS)
def test_no_500_on_any_form(route: str, as_user: Any, world: World, deps: Any, tmp_path: Path) -> None:
    ids = _ids(as_user, deps, world, tmp_path)
    users = {"finance": as_user("a.finance"), "risk": as_user("a.risk"), "b": as_user("b.admin")}
    seen: set[int] = set()

    @SETTINGS
    @given(form=FORM, junk_id=JUNK_ID, who=st.sampled_from(sorted(users)), multipart=st.booleans())
    def run(form: dict[str, str], junk_id: str | None, who: str, multipart: bool) -> None:
        b: Browser = users[who]
        data = {**form, "csrf": b.csrf}
        files = {"evidence": ("x.bin", b"\x00\xff junk", "application/octet-stream")} if multipart else None
        r = b.client.post(_path(route, ids, junk_id), data=data, files=files, follow_redirects=False)
        assert r.status_code < 500, (route, form, r.text[:500])
        seen.add(r.status_code)

    run()
    assert seen - {403}, "every form was refused before reaching its page: the test would prove nothing"
