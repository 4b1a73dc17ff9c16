"""The README's configuration table names every setting posrefund reads: a newcomer (or an operator) finds each
one there by its environment variable, nested settings with ``__`` as pydantic-settings reads them."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from posrefund.config import Settings

README = Path(__file__).parents[2] / "README.md"


def _variables(model: type[BaseModel], prefix: str) -> list[str]:
    found: list[str] = []
    for name, spec in model.model_fields.items():
        kind = spec.annotation
        variable = prefix + name.upper()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found += _variables(kind, variable + "__")
        else:
            found.append(variable)
    return found


def test_every_setting_is_in_the_readme() -> None:
    variables = _variables(Settings, "POSREFUND_")
    assert len(variables) > 40
    readme = README.read_text(encoding="utf-8")
    assert [v for v in variables if f"`{v}`" not in readme] == []
