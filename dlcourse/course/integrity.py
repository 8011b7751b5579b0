"""A static scan of a submission: code in the student's cells that reaches around the checks.

The checks defend themselves while they run (:mod:`dlcourse.checks.guard`,
:mod:`dlcourse.checks.seal`), but a notebook runs with the checker's rights, so a determined
student can always find a way around them in-process. This scan reads the submitted notebook
(outside the kernel, in the grader's process) and lists what an honest answer has no reason to
contain. It never changes a score: the reasons go to the ``review`` column of the grades, for an
instructor to read.

What it reports, per cell (``cell affine-forward-solution assigns to numpy.allclose``):

- rebinding a check (``check_affine_forward = ...``, ``def check_...``, ``import ... as check_...``);
- assigning to, or deleting, an attribute of an imported module of the course, NumPy, PyTorch or
  the standard library's machinery (``np.allclose = ...``, ``dlcourse.checks.backprop.expect_array
  = ...``), ``setattr``/``delattr`` on anything but ``self``, writes through ``__dict__``,
  ``vars()``, ``globals()``, ``sys.modules``, and assignments to ``__code__``, ``__class__`` and
  the like;
- the machinery for reaching into the checker: ``builtins``/``__builtins__``, ``__import__``,
  ``importlib``, ``exec``/``eval``/``compile``, ``sys.setprofile``/``settrace``/``_getframe``/
  ``_current_frames``/``addaudithook``, ``inspect``, frames and tracebacks (``f_back``,
  ``tb_frame``, ``__traceback__``, ``gi_frame``), code objects (``__code__``, ``co_code``,
  ``types.CodeType``/``FunctionType``), ``threading``/``_thread``/``multiprocessing``/
  ``concurrent``, ``gc``, ``ctypes``, ``signal``, ``subprocess``, processes and the environment
  (``os.system``, ``os.environ``: the grader's secret for hidden cases is there), ``/proc``.

Which cells: every code cell except nbgrader's test and locked cells (nbgrader restores those
from the gradebook), and except cells whose source is exactly the released one. Honest
submissions are never flagged: ``tests/test_integrity.py`` scans every solution notebook and
every alternative and mutant implementation in ``tests/``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlcourse.course.cells import cell_role
from dlcourse.course.errors import CourseError
from dlcourse.course.notebook import read_notebook

__all__ = ["Finding", "merge", "review_reasons", "runtime_reasons", "scan_notebook", "scan_source", "student_cells"]

# Modules whose attributes a submission must not assign to (the roots of dotted paths).
_SEALED_ROOTS = {
    "dlcourse", "numpy", "torch", "builtins", "sys", "math", "operator", "functools", "itertools", "types",
    "copy", "contextvars", "threading", "inspect", "importlib", "os", "random", "warnings", "traceback",
}
# Honest configuration a notebook may set on those modules.
_ALLOWED_ASSIGNMENTS = ("torch.backends.", "numpy.random.bit_generator")
# Importing these is reaching for the machinery (nothing in an exercise needs them).
_MACHINERY_MODULES = {
    "builtins", "importlib", "inspect", "threading", "_thread", "multiprocessing", "concurrent", "gc", "ctypes",
    "signal", "subprocess", "marshal", "sys.monitoring",
}
# Dotted names (as resolved through the notebook's imports) that an honest answer never uses.
_MACHINERY_PATHS = {
    "sys.setprofile", "sys.settrace", "sys.getprofile", "sys.gettrace", "sys._getframe", "sys._current_frames",
    "sys.modules", "sys.addaudithook", "sys.audit", "sys._getframemodulename",
    "os.system", "os.popen", "os.fork", "os.forkpty", "os.kill", "os.killpg", "os.environ", "os.environb",
    "os.getenv", "os.putenv", "os.unsetenv", "os.execv", "os.execve", "os.execl", "os.execvp", "os.posix_spawn",
    "os.spawnl", "os.spawnv", "types.CodeType", "types.FunctionType", "types.ModuleType", "types.FrameType",
    "numpy.ctypeslib", "dlcourse.checks.seal", "dlcourse.checks.guard.torch_as_oracle",
}
_MACHINERY_BUILTINS = {"__import__", "exec", "eval", "compile", "__builtins__", "breakpointhook"}
# Attributes that read or change frames, tracebacks and code.
_FRAME_ATTRIBUTES = {
    "f_back", "f_locals", "f_globals", "f_builtins", "f_code", "tb_frame", "tb_next", "gi_frame", "cr_frame",
    "ag_frame", "__traceback__", "__code__", "__closure__", "__globals__", "__builtins__", "co_code",
    "co_consts", "cell_contents", "__subclasses__", "__wrapped__", "_getframe",
}
_WRITE_ATTRIBUTES = {"__dict__", "__class__", "__bases__", "__defaults__", "__kwdefaults__", "__module__"}
_SECRET_STRINGS = ("DLCOURSE_HIDDEN_SECRET", "/proc/", "NBGRADER_EXECUTION")


@dataclass(frozen=True)
class Finding:
    """One thing a submission's cell does that an honest answer has no reason to do."""

    cell: str  # the cell's grade_id, or "#N (added)" for a cell the student added
    line: int
    what: str

    def __str__(self) -> str:
        return f"cell {self.cell} {self.what} (line {self.line})"


def _python(source: str) -> str:
    """Cell source as Python: IPython's magics and shell escapes turned into calls (or dropped)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # no IPython, or a cell it cannot transform: drop the magic lines
        return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


def _imports(tree: ast.AST) -> dict[str, str]:
    """``{name bound by an import: the dotted module path or object it names}``."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    found[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name != "*":
                    found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


class _Scanner(ast.NodeVisitor):
    """Collects ``(line, what)`` for one cell; ``names`` maps import-bound names to dotted paths."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = dict(names)
        self.found: list[tuple[int, str]] = []

    def report(self, node: ast.AST, what: str) -> None:
        item = (getattr(node, "lineno", 0), what)
        if item not in self.found:
            self.found.append(item)

    # -- names and dotted paths

    def path(self, node: ast.AST) -> str | None:
        """``np.testing.assert_allclose`` -> ``numpy.testing.assert_allclose`` (None if not rooted in an import)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.names:
            return ".".join([self.names[node.id], *reversed(parts)])
        return None

    def _sealed(self, path: str | None) -> bool:
        return (path is not None and path.split(".")[0] in _SEALED_ROOTS
                and not path.startswith(_ALLOWED_ASSIGNMENTS))

    # -- bindings

    def bind(self, target: ast.AST, verb: str) -> None:
        if isinstance(target, ast.Name):
            if target.id.startswith("check_"):
                self.report(target, f"{verb} {target.id}, the name of a check")
            elif target.id == "__builtins__":
                self.report(target, f"{verb} __builtins__")
        elif isinstance(target, ast.Attribute):
            path = self.path(target)
            if self._sealed(path):
                self.report(target, f"{verb} {path}")
            elif target.attr in _WRITE_ATTRIBUTES | _FRAME_ATTRIBUTES:
                self.report(target, f"{verb} the attribute {target.attr}")
        elif isinstance(target, ast.Subscript):
            base = target.value
            path = self.path(base)
            if path in ("sys.modules", "os.environ") or self._sealed_dict(base):
                self.report(target, f"{verb} an entry of {self._describe(base)}")
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element, verb)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, verb)

    def _sealed_dict(self, node: ast.AST) -> bool:
        """``X.__dict__``, ``vars(...)``, ``globals()``, ``locals()``: namespaces written as dicts."""
        if isinstance(node, ast.Attribute) and node.attr == "__dict__":
            return True
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("vars", "globals", "locals"))

    def _describe(self, node: ast.AST) -> str:
        path = self.path(node)
        if path:
            return path
        try:
            return ast.unparse(node)
        except Exception:  # pragma: no cover - unparse handles every parsed node
            return "a namespace"

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.bind(target, "assigns to")
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Name):
            if node.value.id in self.names:  # m = np: m names the module too
                self.names[node.targets[0].id] = self.names[node.value.id]
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.bind(node.target, "assigns to")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.bind(node.target, "assigns to")
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.bind(target, "deletes")
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.bind(node.target, "assigns to")
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self.bind(node.target, "assigns to")
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self.bind(item.optional_vars, "assigns to")
        self.generic_visit(node)

    def _defines(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        if node.name.startswith("check_"):
            self.report(node, f"defines {node.name}, the name of a check")
        self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _defines

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(node, alias.name, alias.asname)
            if alias.asname:
                self.names[alias.asname] = alias.name
            else:
                self.names[alias.name.split(".")[0]] = alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            full = f"{module}.{alias.name}" if module else alias.name
            self._imported(node, full, alias.asname or alias.name)
            if alias.name == "*":
                if module.split(".")[0] in _MACHINERY_MODULES or module in ("sys", "os"):
                    self.report(node, f"imports everything from {module}")
                continue
            self.names[alias.asname or alias.name] = full

    def _imported(self, node: ast.AST, full: str, bound: str | None) -> None:
        root = full.split(".")[0]
        if root in _MACHINERY_MODULES or full in _MACHINERY_MODULES:
            self.report(node, f"imports {full}")
        elif full in _MACHINERY_PATHS or any(full.startswith(p + ".") for p in _MACHINERY_PATHS):
            self.report(node, f"imports {full}")
        if bound and bound.startswith("check_") and not full.startswith("dlcourse.checks."):
            self.report(node, f"imports {full} as {bound}, the name of a check")

    # -- uses

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in _MACHINERY_BUILTINS:
            self.report(node, f"uses {node.id}")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        path = self.path(node)
        if path is not None and (path in _MACHINERY_PATHS or path.split(".")[0] in _MACHINERY_MODULES
                                 or any(path.startswith(p + ".") for p in _MACHINERY_PATHS)):
            self.report(node, f"uses {path}")
        elif node.attr in _FRAME_ATTRIBUTES:
            self.report(node, f"uses the attribute {node.attr}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
            target = node.args[0]
            if not (isinstance(target, ast.Name) and target.id in ("self", "cls")):
                self.report(node, f"calls {func.id} on {self._describe(target)}")
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            if not isinstance(node.args[1], ast.Constant) and self.path(node.args[0]):
                self.report(node, f"reads an attribute of {self.path(node.args[0])} by a computed name")
        if isinstance(func, ast.Attribute) and func.attr in ("update", "setdefault", "__setitem__", "pop",
                                                             "__setattr__", "__delattr__", "clear"):
            base = func.value
            if self._sealed_dict(base) or self.path(base) in ("sys.modules", "os.environ"):
                self.report(node, f"changes {self._describe(base)}")
            elif func.attr in ("__setattr__", "__delattr__") and self._sealed(self.path(base)):
                self.report(node, f"changes {self.path(base)}")
        if isinstance(func, ast.Attribute) and func.attr == "replace" and any(
            (k.arg or "").startswith("co_") for k in node.keywords
        ):
            self.report(node, "relabels a code object (.replace(co_...))")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and any(s in node.value for s in _SECRET_STRINGS):
            self.report(node, f"mentions {next(s for s in _SECRET_STRINGS if s in node.value)!r}")


def scan_source(source: str, imports: Mapping[str, str] | None = None) -> list[tuple[int, str]]:
    """``(line, what)`` for each finding in one cell's (or file's) source; [] when it does not parse.

    Args:
        source: the code, IPython syntax allowed.
        imports: names bound by imports elsewhere in the notebook (``{"np": "numpy"}``).
    """
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError):
        return []  # it cannot run either: the student loses the points, nothing to review
    scanner = _Scanner(imports or {})
    scanner.visit(tree)
    return sorted(scanner.found)


def _cell_label(cell: Mapping[str, Any], index: int) -> str:
    role = cell_role(cell)
    if role is not None and role.grade_id:
        return role.grade_id
    return f"#{index + 1} (added)" if role is None else f"#{index + 1}"


def student_cells(nb: Any, released: Any | None = None) -> list[tuple[str, str]]:
    """``(label, source)`` of the code cells the student could write, in order.

    That is every code cell except nbgrader's test and locked cells (nbgrader restores those
    from the gradebook) and except cells whose source is exactly the one in ``released`` (the
    notebook as released, matched by cell id). The label is the cell's ``grade_id``, or
    ``#N (added)`` for a cell without nbgrader metadata.
    """
    baseline = {}
    if released is not None:
        baseline = {c.get("id"): c.get("source", "") for c in released.cells if c.get("cell_type") == "code"}
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        role = cell_role(cell)
        if role is not None and (role.is_test or role.kind == "locked"):
            continue
        source = cell.get("source", "")
        if cell.get("id") in baseline and baseline[cell.get("id")] == source:
            continue
        cells.append((_cell_label(cell, index), source))
    return cells


def scan_notebook(nb: Any, released: Any | None = None) -> list[Finding]:
    """The findings in the cells of ``nb`` the student could write (:func:`student_cells`).

    Args:
        nb: the submitted notebook (an ``nbformat`` node).
        released: the notebook as released; cells left as released are not scanned.
    """
    imports: dict[str, str] = {}
    for cell in nb.cells:  # every cell's imports: the setup cell's `np` names numpy in the others
        if cell.get("cell_type") == "code":
            try:
                imports.update(_imports(ast.parse(_python(cell.get("source", "")))))
            except (SyntaxError, ValueError):
                continue
    return [Finding(label, line, what)
            for label, source in student_cells(nb, released)
            for line, what in scan_source(source, imports)]


def runtime_reasons(errors: Mapping[str, str]) -> list[str]:
    """The test cells whose check raised an IntegrityFailure, from :func:`.cell_errors`'s ``{grade_id: error}``."""
    return [f"cell {gid}: {why}" for gid, why in errors.items() if why.startswith("IntegrityFailure")]


def review_reasons(submitted: Path, released: Path | None = None) -> tuple[str, ...]:
    """What an instructor should look at in the submitted notebook ``submitted`` (static findings).

    ``released`` is the student notebook as released (cells left as released are skipped).
    """
    try:
        nb = read_notebook(submitted)
    except CourseError:
        return ()
    base = None
    if released is not None and released.is_file():
        try:
            base = read_notebook(released)
        except CourseError:
            base = None
    return tuple(str(f) for f in scan_notebook(nb, base))


def merge(reasons: Iterable[str]) -> tuple[str, ...]:
    """Reasons without repeats, in order."""
    return tuple(dict.fromkeys(reasons))
