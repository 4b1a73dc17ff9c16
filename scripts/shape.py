"""The shape rules of src/: no module over 400 lines, no function over 60 lines, no import cycle, and a
domain that imports the standard library only.

Run by ``make test`` (scripts/test). A rule broken prints each offender and exits 1. An exception is
listed below with its reason; an exception that no longer applies is reported too, so the list cannot rot.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp
from grimp import ImportGraph

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PACKAGE = "posrefund"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# Alembic migrations are history: each is the schema as it was shipped, applied once and never edited, so
# one long ``upgrade()`` per release is the record, not code that grows.
EXEMPT_FOLDERS = ("posrefund/adapters/db/migrations/",)
# path relative to src/ (module) or "path:function" → why it may be longer.
EXCEPTIONS: dict[str, str] = {}


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _functions(path: Path) -> list[tuple[str, int, int]]:
    """(qualified name, first line, length) of every function and method in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                found.append((name, child.lineno, (child.end_lineno or child.lineno) - start + 1))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return found


def size_offences() -> tuple[list[str], set[str]]:
    offences: list[str] = []
    used: set[str] = set()
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(EXEMPT_FOLDERS):
            continue
        if (n := _lines(path)) > MAX_MODULE_LINES:
            if rel in EXCEPTIONS:
                used.add(rel)
            else:
                offences.append(f"{rel}: {n} lines (at most {MAX_MODULE_LINES})")
        for name, line, length in _functions(path):
            key = f"{rel}:{name}"
            if length > MAX_FUNCTION_LINES:
                if key in EXCEPTIONS:
                    used.add(key)
                else:
                    offences.append(f"{rel}:{line} {name}: {length} lines (at most {MAX_FUNCTION_LINES})")
    return offences, used


def import_cycles(graph: ImportGraph) -> list[list[str]]:
    """Strongly connected groups of modules that import each other, directly or through others (an outside
    package imports nothing of ours, so it never stands in a group)."""
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def connect(module: str) -> None:
        nonlocal counter
        index[module] = low[module] = counter
        counter += 1
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph.find_modules_directly_imported_by(module)):
            if other not in index:
                connect(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in modules:
        if module not in index:
            connect(module)
    return groups


def impure_domain_imports(graph: ImportGraph) -> list[str]:
    """The domain's imports of anything but the standard library and the domain itself: its rules must run
    and be tested with nothing installed."""
    found = []
    for module in sorted(graph.find_children(f"{PACKAGE}.domain") | {f"{PACKAGE}.domain"}):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            top = imported.split(".")[0]
            if imported.startswith(f"{PACKAGE}.domain") or top in sys.stdlib_module_names:
                continue
            found.append(f"{module} imports {imported}")
    return found


def main() -> int:
    offences, used = size_offences()
    stale = sorted(set(EXCEPTIONS) - used)
    graph = grimp.build_graph(PACKAGE, include_external_packages=True)
    cycles = import_cycles(graph)
    impure = impure_domain_imports(graph)
    for line in impure:
        sys.stdout.write(f"domain is standard library only: {line}" + "\n")
    for line in offences:
        sys.stdout.write(f"too long: {line}" + "\n")
    for key in stale:
        sys.stdout.write(f"exception no longer needed, remove it from scripts/shape.py: {key}" + "\n")
    for group in cycles:
        sys.stdout.write("import cycle: " + " ⇄ ".join(group) + "\n")
    if offences or stale or cycles or impure:
        return 1
    summary = f"every module ≤ {MAX_MODULE_LINES} lines, every function ≤ {MAX_FUNCTION_LINES}, no import cycle"
    sys.stdout.write(f"shape: {summary}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
