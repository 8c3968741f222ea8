"""Checks the house keeps its shape: no module past 400 lines and no function past 60 (outside
tests and migrations), and no import circle between any two modules. ``make test`` runs it:

    .venv/bin/python scripts/structure.py

The import-linter contracts (``lint-imports``) keep the layers and which area uses which, and
their ``acyclic_siblings`` contract keeps packages apart; this finds a circle between any two
modules, a package's ``__init__`` included, from the same import graph (grimp).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "warehouse": ROOT / "src",
    "warehouse_drivers": ROOT / "drivers",
    "warehouse_edge": ROOT / "edge",
}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def sources() -> list[Path]:
    """Every module of the three packages but the migrations."""
    return sorted(
        path
        for name, base in PACKAGES.items()
        for path in (base / name).rglob("*.py")
        if "migrations" not in path.parts
    )


def long_modules(paths: list[Path]) -> list[str]:
    """Modules over the limit, with their length."""
    out = []
    for path in paths:
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            out.append(f"{path.relative_to(ROOT)}: {lines} lines (at most {MAX_MODULE_LINES})")
    return out


def long_functions(paths: list[Path]) -> list[str]:
    """Functions and methods over the limit (from ``def`` to their last line)."""
    out = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    out.append(
                        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines "
                        f"(at most {MAX_FUNCTION_LINES})"
                    )
    return out


def import_circles() -> list[str]:
    """Each set of modules that import one another in a circle (strongly connected)."""
    graph = grimp.build_graph(*PACKAGES)
    modules = sorted(m for m in graph.modules if m.split(".")[0] in PACKAGES)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & set(modules)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[str] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative: the graph is deep
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    circles.append(" <-> ".join(sorted(members)))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])

    for module in modules:
        if module not in index:
            visit(module)
    return circles


def main() -> int:
    paths = sources()
    problems = [
        *long_modules(paths),
        *long_functions(paths),
        *(f"import circle: {c}" for c in import_circles()),
    ]
    for problem in problems:
        print(problem)
    print(
        f"structure: {len(paths)} modules, {len(problems)} problems "
        f"(modules <= {MAX_MODULE_LINES} lines, functions <= {MAX_FUNCTION_LINES}, no circles)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
