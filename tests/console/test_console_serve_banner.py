"""``posrefund serve`` (``make serve``) says where the console is and, over the demo, who may sign in to it:
every operator the demo seeds, with the role and password it gave them."""

from __future__ import annotations

import pytest

from posrefund.demo.seed import DEMO_PASSWORD, seed
from posrefund.entrypoints.cli import serve
from posrefund.service.deps import Deps


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_serve_prints_the_console_and_the_demo_operators(deps: Deps, capsys: pytest.CaptureFixture[str]) -> None:
    serve.announce(deps, "0.0.0.0", 8000)
    before = capsys.readouterr().err
    assert "http://127.0.0.1:8000/console/" in before and "demo_" not in before  # no demo merchant yet
    made = seed(deps, sales_count=60)
    serve.announce(deps, "127.0.0.1", 8123)
    lines = capsys.readouterr().err.splitlines()
    assert "控制台 / console: http://127.0.0.1:8123/console/" in lines
    for user in made["users"]:
        if user["role"] == "provider_admin":
            continue  # the provider's admin has no console
        line = next(x for x in lines if x.split()[:1] == [user["username"]])
        assert line.split()[1] == user["role"] and line.endswith(f"password: {DEMO_PASSWORD}")
    assert any(x.split()[:3] == ["demo_cashier", "cashier", "收银员"] for x in lines)
