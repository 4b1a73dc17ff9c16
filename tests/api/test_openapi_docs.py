"""docs/api.md's route tables are generated from /openapi.json by scripts/api-docs: the committed file must
be what the script writes now, so the tables cannot drift from the routes."""

from __future__ import annotations

import runpy
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "api-docs"


def test_docs_api_md_is_what_scripts_api_docs_writes() -> None:
    script = runpy.run_path(str(SCRIPT))
    doc: Path = script["DOC"]
    current = doc.read_text(encoding="utf-8")
    assert script["MARKER"] in current, "docs/api.md lost its marker line: run scripts/api-docs"
    assert current == script["render"](current, script["build_openapi"]()), "docs/api.md is stale: run scripts/api-docs"


def test_the_tables_list_every_operation() -> None:
    script = runpy.run_path(str(SCRIPT))
    openapi = script["build_openapi"]()
    tables = script["render_tables"](openapi)
    for path, ops in openapi["paths"].items():
        for method in ops:
            assert f"| `{method.upper()}` | `{path}` |" in tables, (method, path)
