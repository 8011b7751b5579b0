"""Make every graded test cell import the check it calls, in the cell itself.

A test cell that calls ``check_affine_forward(affine_forward)`` through a name the notebook's
setup cell imported runs whatever that name holds when the cell runs, and a solution cell can
rebind it (``check_affine_forward = lambda f, hidden=False: None``). So each call of a check in a
test cell is preceded by its own import from the check's module::

    from dlcourse.checks.backprop import check_affine_forward
    check_affine_forward(affine_forward)

Run it over the solution notebooks (idempotent; ``--check`` only reports), then ``dlcourse release``::

    python scripts/fresh_check_imports.py [--check] [solutions/NN-topic/NN-topic.ipynb ...]

``tests/test_integrity.py`` asserts that every solution notebook is in this form.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
_CALL = re.compile(r"^(?P<indent>[ \t]*)(?P<name>check_\w+)\s*\(")


def check_modules() -> dict[str, str]:
    """``{check name: module}`` for every public check of ``dlcourse.checks``."""
    import dlcourse.checks as package

    owners: dict[str, str] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name in getattr(module, "__all__", ()):
            if name.startswith("check_") and getattr(getattr(module, name), "exercise", None):
                owners[name] = module.__name__
    return owners


def import_line(module: str, name: str) -> str:
    return f"from {module} import {name}"


_BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
_IMPORT = re.compile(r"^[ \t]*from dlcourse\.checks\.\w+ import check_\w+[ \t]*$")


def fresh_source(source: str, owners: dict[str, str]) -> str:
    """``source`` importing each check it calls, before the first call (unchanged when already so).

    In a hidden-test block the import goes right above ``### BEGIN HIDDEN TESTS``, so that the
    released cell shows it: it says which check runs, and the hidden part stays only the call.
    """
    lines = [line for line in source.split("\n") if not _IMPORT.match(line)]
    out: list[str] = []
    imported: set[str] = set()
    begin = None  # where the hidden block starts in `out`, while inside it
    for line in lines:
        if line.strip() == _BEGIN_HIDDEN:
            begin = len(out)
        elif line.strip() == "### END HIDDEN TESTS":
            begin = None
        match = _CALL.match(line)
        if match and match["name"] in owners and match["name"] not in imported:
            imported.add(match["name"])
            where = begin if begin is not None else len(out)
            indent = "" if begin is not None else match["indent"]
            out.insert(where, indent + import_line(owners[match["name"]], match["name"]))
            if begin is not None:
                begin += 1
        out.append(line)
    return "\n".join(out)


def unbound_calls(source: str, owners: dict[str, str]) -> list[str]:
    """The checks ``source`` calls without importing them from their module earlier in the cell."""
    missing = []
    seen: set[str] = set()
    for line in source.split("\n"):
        if _IMPORT.match(line):
            seen.add(line.strip())
        match = _CALL.match(line)
        if match and match["name"] in owners and import_line(owners[match["name"]], match["name"]) not in seen:
            missing.append(match["name"])
    return missing


def is_test_cell(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def rewrite(path: Path, owners: dict[str, str], write: bool) -> list[str]:
    """Rewrite the test cells of ``path``; return the grade ids of the cells that changed (or would)."""
    nb = nbformat.read(str(path), as_version=4)
    changed = []
    for cell in nb.cells:
        if is_test_cell(cell):
            new = fresh_source(cell.source, owners)
            if new != cell.source:
                changed.append(cell.metadata["nbgrader"].get("grade_id", "?"))
                cell.source = new
    if changed and write:
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report the cells that need it, change nothing")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    owners = check_modules()
    paths = args.notebooks or sorted(ROOT.glob("solutions/*/*.ipynb"))
    pending = 0
    for path in paths:
        changed = rewrite(path, owners, write=not args.check)
        if changed:
            pending += len(changed)
            verb = "needs" if args.check else "rewrote"
            print(f"{path}: {verb} {len(changed)} test cell(s): {', '.join(changed)}")
    return 1 if args.check and pending else 0


if __name__ == "__main__":
    sys.exit(main())
