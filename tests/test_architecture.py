"""The shape of the code, held: modules and functions a reader can take in
at once, and imports that only run one way (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("etl", "agingkb_site")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

pytestmark = pytest.mark.unit


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules `name` imports anywhere in its text (imports
    inside functions count: they still tie the two modules together)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in known and target != name)
    return found


def test_no_module_is_longer_than_a_reader_can_hold():
    long = {
        name: n for name, path in _modules().items() if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_a_screen():
    long = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {length} lines")
    assert long == []


def test_imports_run_one_way():
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    # A package's face (__init__) re-exporting its modules is not a cycle.
    for name, path in modules.items():
        if path.name == "__init__.py":
            graph[name] = set()
    cycles, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(trail[trail.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


# The one module of the ETL the site reads the wiki with; its wheel carries it.
SITE_SHARES = {"etl", "etl.wiki", "etl.wiki.syntax"}


def test_the_site_imports_nothing_of_the_etl_but_the_wiki_grammar():
    """The site runs where the ETL's heavy dependencies need not be: it
    shares only the wiki's grammar, a module that imports nothing else."""
    modules = _modules()
    site = {name: path for name, path in modules.items() if name.startswith("agingkb_site")}
    reaching = {
        name: sorted(t for t in _imports(name, path, set(modules)) if t.startswith("etl") and t not in SITE_SHARES)
        for name, path in site.items()
    }
    assert {name: targets for name, targets in reaching.items() if targets} == {}
    shared = _imports("etl.wiki.syntax", modules["etl.wiki.syntax"], set(modules))
    assert shared == set()
