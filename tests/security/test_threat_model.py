"""docs/security.md names, for every threat, the test that proves its control: a renamed or deleted test
would leave a row that promises what nothing checks any more."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
_ONE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
_LISTED = re.compile(r"`(tests/[\w/]+\.py)` \(([^)]*)\)")


def _defined(path: str, name: str) -> bool:
    return re.search(rf"^(?:async )?def {name}\b", (ROOT / path).read_text(encoding="utf-8"), re.M) is not None


def test_every_test_the_threat_model_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = [(path, name) for path, name in _ONE.findall(text)]
    named += [(path, name) for path, names in _LISTED.findall(text) for name in re.findall(r"`(\w+)`", names)]
    assert len(named) >= 40
    missing = [f"{path}::{name}" for path, name in named if not _defined(path, name)]
    assert missing == []


def test_every_security_test_file_is_in_the_threat_model() -> None:
    text = DOC.read_text(encoding="utf-8")
    files = sorted(p.name for p in (ROOT / "tests" / "security").glob("test_*.py") if p.name != Path(__file__).name)
    assert [name for name in files if f"tests/security/{name}" not in text] == []
