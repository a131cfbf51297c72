"""The shape of layers/: folders in one direction, no cycles, no hidden imports, modules of a readable size."""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

from layers.core import paths

LAYERS = paths.LAYERS_DIR
#: Which folders each folder may import from (the pipeline: core ← build ← imports; core ← map ← export/scenes ← app).
ALLOWED = {
    "core": set(),
    "build": {"core"},
    "imports": {"core", "build"},
    "map": {"core"},
    "export": {"core", "map"},
    "scenes": {"core", "map"},
    "app": {"core", "build", "imports", "map", "export", "scenes"},
}
#: One cohesive algorithm, left whole on purpose.
LONG_MODULES_ALLOWED = {"build/partition.py"}
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(LAYERS.rglob("*.py")):
        name = ".".join(path.relative_to(LAYERS.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


@functools.cache
def _tree(path: Path) -> ast.Module:
    """Each module parsed once per session: three tests walk the same trees."""
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(path: Path, *, top_level_only: bool = False) -> list[tuple[str, int]]:
    tree = _tree(path)
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            base = node.module if not node.level else "<relative>"
            out.extend((f"{base}.{a.name}", node.lineno) for a in node.names)
        elif isinstance(node, ast.Import):
            out.extend((a.name, node.lineno) for a in node.names)
    return out


@functools.cache
def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for target, _ in _imports(path):
            while target and target not in mods:
                target = target.rpartition(".")[0]
            if target and target != name and target != "layers":
                graph[name].add(target)
    return graph


def test_no_import_cycles():
    graph = _graph()
    cycles, done = [], set()

    def visit(node: str, stack: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in stack:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in done:
                visit(nxt, stack + [nxt])
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node, [node])
    assert not cycles, cycles


def test_folders_import_only_downstream():
    wrong = []
    for name, targets in _graph().items():
        folder = name.split(".")[1] if name.count(".") >= 1 else None
        for target in targets:
            other = target.split(".")[1] if target.count(".") >= 1 else None
            if folder in ALLOWED and other in ALLOWED and other != folder and other not in ALLOWED[folder]:
                wrong.append(f"{name} -> {target}")
    assert not wrong, wrong


def test_relative_and_function_level_imports_are_not_used():
    found = []
    for name, path in _modules().items():
        top = {lineno for _, lineno in _imports(path, top_level_only=True)}
        for target, lineno in _imports(path):
            if target.startswith("<relative>"):
                found.append(f"{name}:{lineno} relative import")
            elif lineno not in top and target.startswith("layers"):
                found.append(f"{name}:{lineno} import inside a function: {target}")
    assert not found, found


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_is_of_a_readable_size(module):
    path = _modules()[module]
    rel = path.relative_to(LAYERS).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert rel in LONG_MODULES_ALLOWED or lines <= MAX_LINES, f"{rel}: {lines} lines"


def test_only_the_app_folder_imports_streamlit():
    offenders = [name for name, path in _modules().items()
                 if not name.startswith("layers.app")
                 and any(t.split(".")[0] == "streamlit" for t, _ in _imports(path))]
    assert not offenders, offenders


def test_streamlit_folium_is_a_bench_peer_only():
    """The app, its pages and its tests never import streamlit-folium; only bench/ does (bench/requirements.txt)."""
    root = paths.PROJECT_DIR
    files = [*LAYERS.rglob("*.py"), *(root / "pages").glob("*.py"), root / "app.py", *(root / "tests").rglob("*.py")]
    offenders = [str(p.relative_to(root)) for p in files
                 if any(t.split(".")[0] == "streamlit_folium" for t, _ in _imports(p))]
    assert not offenders, offenders
    requirements = (root / "requirements.txt").read_text(encoding="utf-8").lower()
    assert "streamlit-folium" not in requirements and "streamlit_folium" not in requirements
    assert "streamlit-folium" in (root / "bench" / "requirements.txt").read_text(encoding="utf-8")


def test_every_folder_names_what_it_offers():
    for folder in ALLOWED:
        init = LAYERS / folder / "__init__.py"
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{folder}/__init__.py has no docstring"
        names = [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                 if isinstance(t, ast.Name)]
        assert "__all__" in names, f"{folder}/__init__.py has no __all__"
