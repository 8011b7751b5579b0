"""The package's import graph: no module of ``dlcourse`` takes part in an import cycle, and imports
go one way between the layers that DESIGN.md names.

The graph is read from the source with :mod:`ast`, not by importing anything, so it sees every
import: module level, inside functions (the lazy imports that keep ``import dlcourse`` light) and
under ``if TYPE_CHECKING:``. An edge goes from a module to the ``dlcourse`` module it names:
``from dlcourse.ref import conv`` is an edge to ``dlcourse.ref.conv`` when that is a module, to
the package ``dlcourse.ref`` when ``conv`` is a name defined there. The parent packages Python
initialises on the way (``dlcourse.ref`` before ``dlcourse.ref.conv``) are not edges: a package
``__init__`` that imports its own submodules is the normal layout, not a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "dlcourse"

#: DESIGN.md, "Imports go one way": ``ref`` at the bottom; ``gpu`` beside it (it may use ``ref``);
#: ``checks``, ``widgets`` and ``data`` above ``ref``; ``course`` on top. Each layer may import
#: itself and the layers listed here; modules directly under ``dlcourse/`` are not a layer.
LAYERS: dict[str, frozenset[str]] = {
    "ref": frozenset(),
    "gpu": frozenset({"ref"}),
    "data": frozenset({"ref"}),
    # data sits below checks and widgets: a widget may show a data set, a check may draw its cases from one
    "checks": frozenset({"ref", "data"}),
    "widgets": frozenset({"ref", "data", "envs"}),
    # gymnasium environments (13): below widgets, which show them; they need nothing of ours
    "envs": frozenset(),
    "course": frozenset({"ref", "gpu", "checks", "widgets", "data"}),
}


def module_files(package_dir: Path) -> dict[str, Path]:
    """``{dotted module name: file}`` for every ``.py`` file of the package at ``package_dir``."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of ``modules`` (``None`` when it is outside them)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_modules(module: str, path: Path, modules: Mapping[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``module`` (the file at ``path``) imports anywhere in its code."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(t for alias in node.names if (t := _known(alias.name, modules)))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: ``from . import x`` / ``from ..ref import y``
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.update(t for t in [target if target in modules else _known(base, modules)] if t)
    found.discard(module)
    return found


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """``{module: the package's modules it imports}`` for the package at ``package_dir``."""
    modules = module_files(package_dir)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Cycles (``[a, b, ..., a]``) of ``graph``: together they pass through every module on a cycle.

    Tarjan's algorithm finds the groups of modules that reach each other; a breadth-first search
    inside each group then gives the shortest cycle through each module not yet shown, to print.
    """
    edges = {node: sorted(set(targets) & set(graph)) for node, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        # recursion is fine: the package has a few dozen modules, far below Python's limit
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges[node]:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    cycles = []
    for group in sorted(groups):
        covered: set[str] = set()
        for member in group:  # every module of the group shows up in some printed cycle
            if member not in covered:
                cycles.append(_shortest_cycle(member, set(group), edges))
                covered.update(cycles[-1])
    return cycles


def _shortest_cycle(start: str, group: set[str], edges: Mapping[str, list[str]]) -> list[str]:
    """The shortest path ``start -> ... -> start`` inside ``group``."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in edges[node]:
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if nxt in group and nxt not in came_from:
                    came_from[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{start} is in a strongly connected group but on no cycle")  # pragma: no cover


def layer_of(module: str) -> str | None:
    """The layer (``ref``, ``gpu``, ...) a module of ``dlcourse`` belongs to, ``None`` for top-level modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def layer_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Every import that goes against :data:`LAYERS`, as ``importer -> imported (layer -> layer)``."""
    wrong = []
    for module, targets in sorted(graph.items()):
        source = layer_of(module)
        for target in sorted(targets):
            dest = layer_of(target)
            if source is None or dest is None or dest == source or dest in LAYERS[source]:
                continue
            wrong.append(f"{module} -> {target} ({source} may not import {dest})")
    return wrong


# --- the package ------------------------------------------------------------------------------


def test_the_graph_covers_the_package_and_its_lazy_imports() -> None:
    graph = import_graph(PACKAGE_DIR)
    assert {"dlcourse", "dlcourse.ref", "dlcourse.course.cli"} <= set(graph)
    # ``import dlcourse`` stays light by importing dlcourse.session inside ``setup()`` only
    assert "dlcourse.session" in graph["dlcourse"]


def test_no_module_of_dlcourse_is_in_an_import_cycle() -> None:
    cycles = find_cycles(import_graph(PACKAGE_DIR))
    assert not cycles, "import cycles (function-level imports included):\n" + "\n".join(
        "  " + " -> ".join(cycle) for cycle in cycles
    )


def test_imports_go_one_way_between_layers() -> None:
    wrong = layer_violations(import_graph(PACKAGE_DIR))
    assert not wrong, "imports against DESIGN.md's layer rule:\n" + "\n".join(f"  {w}" for w in wrong)


# --- the graph and the checks themselves, on a made-up package ------------------------------


def _package(root: Path, files: Mapping[str, str]) -> Path:
    """A package ``dlcourse`` under ``root`` with ``files`` (``{path inside it: source}``) and an empty root."""
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / "dlcourse" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "dlcourse"


def test_a_cycle_through_a_function_level_and_a_relative_import_is_found(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "course/__init__.py": "",
            "course/a.py": "def f():\n    from dlcourse.course.b import g\n    return g\n",
            "course/b.py": "from . import c\n",
            "course/c.py": "import dlcourse.course.a as a_module\n",
            "course/d.py": "from dlcourse.course import a\n",  # imports into the cycle, not part of it
        },
    )
    graph = import_graph(package)
    assert graph["dlcourse.course.b"] == {"dlcourse.course.c"}
    assert graph["dlcourse.course.d"] == {"dlcourse.course.a"}
    assert find_cycles(graph) == [
        ["dlcourse.course.a", "dlcourse.course.b", "dlcourse.course.c", "dlcourse.course.a"]
    ]


def test_a_package_init_importing_its_submodules_is_no_cycle(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "ref/__init__.py": "from dlcourse.ref.conv import conv\nfrom .layers import affine\n",
            "ref/conv.py": "from dlcourse.ref.layers import affine\n",
            "ref/layers.py": "affine = None\n",
        },
    )
    assert find_cycles(import_graph(package)) == []


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        # a submodule that takes a name from its own package's __init__, which imports it
        (
            {"ref/__init__.py": "from dlcourse.ref.conv import conv\n", "ref/conv.py": "from dlcourse.ref import x\n"},
            ["dlcourse.ref", "dlcourse.ref.conv", "dlcourse.ref"],
        ),
        # the package root's lazy facade and a module that reads a name back from the root
        (
            {"__init__.py": "def setup():\n    from dlcourse.session import setup\n", "session.py": "import dlcourse\n"},
            ["dlcourse", "dlcourse.session", "dlcourse"],
        ),
    ],
)
def test_a_module_reading_back_from_the_package_that_imports_it_is_a_cycle(
    tmp_path: Path, files: dict[str, str], cycle: list[str]
) -> None:
    package = _package(tmp_path, files)
    assert find_cycles(import_graph(package)) == [cycle]


def test_an_import_against_the_layers_is_reported(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "ref/__init__.py": "def f():\n    from dlcourse.checks import check\n",
            "checks/__init__.py": "from dlcourse.ref import f\n\ndef check():\n    from dlcourse import gpu\n",
            "gpu/__init__.py": "from dlcourse.ref import f\n",
            "course/__init__.py": "from dlcourse import checks, gpu, ref\n",
        },
    )
    assert layer_violations(import_graph(package)) == [
        "dlcourse.checks -> dlcourse.gpu (checks may not import gpu)",
        "dlcourse.ref -> dlcourse.checks (ref may not import checks)",
    ]
