"""Is the code the checks rely on still the code that was installed? (Asked before and after every check.)

A notebook runs in the same process as its checks, so a solution cell can replace what a check
uses: the check itself (``dlcourse.checks.backprop.check_affine_forward = ...``), a comparison
helper (``backprop.expect_array = ...``), a NumPy function (``np.isclose = ...``), a builtin, or
install a trace function that edits the answer while the check compares it. :func:`broken_seals`
looks for each of these; the check's entry (:func:`dlcourse.checks.exercise.exercise`) turns
what it finds into an :class:`~dlcourse.checks.errors.IntegrityFailure`.

What is verified, and against what:

- **dlcourse's own modules** (``dlcourse.checks.*``, ``dlcourse.ref.*``, ``dlcourse.gpu.*`` as
  loaded) against their source files: each name a module binds at its top level by ``import``
  must still be the imported object, each ``def``/``class`` must still be code from the package,
  each constant (``SALT = 20_404``) its literal value; and ``sys.modules`` must hold the modules
  loaded from those files. This needs no snapshot, so it holds even when a notebook changed
  something before the first check ran.
- **NumPy and the builtins** against a snapshot taken when this module is first imported (a
  notebook's setup cell, before any solution cell): every callable in ``numpy``'s loaded modules
  and every builtin function and type must be the same object; and, whenever the snapshot was
  taken, none of them may be code from outside the libraries (a lambda from a notebook cell).
- **Events that cannot be undone** (recorded by the audit hook of :mod:`dlcourse.checks.guard`):
  an audit hook added by the notebook (it would run in the check's thread, where it could read
  the expected values), a function's ``__code__`` or a class's attributes changed in
  ``dlcourse`` or NumPy.
- **While grading** (``NBGRADER_EXECUTION``): no trace or profile function in the check's thread
  (nbgrader runs none; a notebook's would see every frame of the check).

None of this makes in-process grading tamper-proof (nothing can: the student's code runs with
the checker's rights); it makes tampering fail loudly. What it cannot see, the static scan of the
submission (:mod:`dlcourse.course.integrity`) reports for review.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import operator
import os
import sys
import sysconfig
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["broken_seals", "instrumented", "record_tamper", "is_trusted_code", "PACKAGE_DIR"]

#: The dlcourse package folder (with a trailing separator): code from here is the checker's.
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent) + os.sep

# Where trusted code lives: the package, the standard library and the installed packages. A
# notebook cell's code comes from a temporary file of the kernel (or "<ipython-input-…>").
_TRUSTED_ROOTS = tuple(
    dict.fromkeys(
        str(Path(p).resolve()) + os.sep
        for p in (
            PACKAGE_DIR,
            *(sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")),
        )
        if p
    )
)
_SEALED_PREFIXES = ("dlcourse.checks", "dlcourse.ref", "dlcourse.gpu")
_SEALED_SUBMODULES = tuple(p + "." for p in _SEALED_PREFIXES)
# Builtins a kernel swaps in and out by itself (ipykernel's input, IPython's exit/display).
_KERNEL_BUILTINS = {"input", "breakpoint", "help", "exit", "quit", "display", "get_ipython",
                    "copyright", "credits", "license"}

_tampered: list[str] = []  # events recorded by the audit hook; they stay for the kernel's life
_instruments: dict[int, Any] = {}  # id -> object: replacements a test made on purpose (instrumented)


@contextlib.contextmanager
def instrumented(*replacements: Any) -> Iterator[None]:
    """For tests that instrument the checker (a spy in place of a helper): let these objects pass.

    A notebook has no business here; the static scan of submissions flags any use of this module.
    """
    added = {id(r): r for r in replacements if id(r) not in _instruments}
    _instruments.update(added)
    try:
        yield
    finally:
        for key in added:
            _instruments.pop(key, None)


def record_tamper(reason: str) -> None:
    """Remember an irreversible change (e.g. an audit hook added): every later check fails with it."""
    if reason not in _tampered:
        _tampered.append(reason)


def _trusted_file(filename: str) -> bool:
    return filename.startswith("<frozen ") or filename.startswith(_TRUSTED_ROOTS)


def is_trusted_code(obj: Any) -> bool:
    """Whether ``obj`` (a function, method, partial or class) is code from the package or a library."""
    seen = 0
    while seen < 8:  # unwrap bound methods, partials and decorators
        seen += 1
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
        elif isinstance(obj, functools.partial):
            obj = obj.func
        else:
            break
    if isinstance(obj, types.FunctionType):
        return _trusted_file(obj.__code__.co_filename)
    if isinstance(obj, type):
        module = sys.modules.get(obj.__module__)
        return _trusted_file(getattr(module, "__file__", None) or "<frozen >") and obj.__module__ != "__main__"
    return True  # builtins and C objects: only a snapshot can tell them apart


# --------------------------------------------------------------------------- snapshot (NumPy, builtins)


def _callables(namespace: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in namespace.items() if callable(v) and not isinstance(v, types.ModuleType)}


def _take_snapshot() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(name, live namespace, {key: object})`` for NumPy's loaded modules and the builtins."""
    snap = [("builtins", vars(builtins), {k: v for k, v in vars(builtins).items()
                                          if isinstance(v, (types.BuiltinFunctionType, type))
                                          and k not in _KERNEL_BUILTINS})]
    for name, module in list(sys.modules.items()):
        if (name == "numpy" or name.startswith("numpy.")) and isinstance(module, types.ModuleType):
            snap.append((name, vars(module), _callables(vars(module))))
    return snap


_SNAPSHOT = _take_snapshot()


_SNAPSHOT_KEYS = [(tuple(objects), list(objects.values())) for _, _, objects in _SNAPSHOT]


def _snapshot_changes() -> Iterator[str]:
    for (name, namespace, objects), (keys, values) in zip(_SNAPSHOT, _SNAPSHOT_KEYS):
        if all(map(operator.is_, map(namespace.get, keys), values)):
            continue  # compared in C: this runs before and after every check
        for key, obj in objects.items():
            if namespace.get(key) is not obj:
                yield f"{name}.{key} was replaced"


def _foreign(value: Any) -> bool:
    """A callable defined outside the package and the libraries (in a notebook cell, typically)."""
    if id(value) in _instruments:
        return False
    if isinstance(value, (types.FunctionType, types.MethodType, functools.partial, type)):
        return not is_trusted_code(value)
    if callable(value) and not isinstance(value, (types.BuiltinFunctionType, types.ModuleType)):
        kind = type(value)
        return kind.__module__ == "__main__" or not is_trusted_code(kind)
    return False


# What each namespace held when it last showed nothing foreign (see _module_changes for why).
_clean: dict[str, tuple[dict[str, Any], tuple[str, ...], list[Any]]] = {}


def _provenance_changes() -> Iterator[str]:
    """NumPy's loaded modules and the builtins must hold only library code, whenever the snapshot was taken.

    The snapshot cannot see a replacement made before the checks were first imported (a cell
    that patches ``np.isclose`` and then runs a test cell that imports its check); this can: the
    replacement's code comes from the notebook, not from NumPy.
    """
    spaces = [("builtins", vars(builtins))] + [
        (name, vars(module)) for name, module in list(sys.modules.items())
        if (name == "numpy" or name.startswith("numpy.")) and isinstance(module, types.ModuleType)
    ]
    for name, namespace in spaces:
        known = _clean.get(name)
        if (known is not None and known[0] is namespace and len(namespace) == len(known[2])
                and tuple(namespace) == known[1] and all(map(operator.is_, namespace.values(), known[2]))):
            continue  # the same objects as last time (compared in C: this runs before every check)
        bad = [key for key, value in list(namespace.items())
               if key not in _KERNEL_BUILTINS and _foreign(value)]
        for key in bad:
            yield f"{name}.{key} was replaced"
        if not bad:
            _clean[name] = (namespace, tuple(namespace), list(namespace.values()))


# --------------------------------------------------------------------------- dlcourse's modules


@functools.lru_cache(maxsize=None)
def _bindings(path: str, module_name: str, package: str) -> tuple[tuple[str, str, Any], ...]:
    """``(kind, name, detail)`` for each name the file binds once at top level.

    kinds: ``"import"`` (detail: (module, attribute or None)), ``"def"``, ``"class"``,
    ``"const"`` (detail: the literal value).
    """
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return ()
    found: list[tuple[str, str, Any]] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found.append(("import", alias.asname, (alias.name, None)))
                else:
                    top = alias.name.split(".")[0]
                    found.append(("import", top, (top, None)))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = (package or module_name).split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                if alias.name != "*":
                    found.append(("import", alias.asname or alias.name, (base, alias.name)))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(("def", node.name, None))
        elif isinstance(node, ast.ClassDef):
            found.append(("class", node.name, None))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found.append(("const", node.targets[0].id, ast.literal_eval(node.value)))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                found.append(("other", node.targets[0].id, None))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            found.append(("other", node.target.id, None))
    counts: dict[str, int] = {}
    for _, name, _ in found:
        counts[name] = counts.get(name, 0) + 1
    # A name bound twice (a fallback import, a redefinition) has no single expected value.
    return tuple(b for b in found if counts[b[1]] == 1 and b[0] != "other")


_MISSING = object()


def _expected_import(source: str, attribute: str | None) -> Any:
    module = sys.modules.get(source)
    if module is None:
        return _MISSING
    if attribute is None:
        return module
    value = getattr(module, attribute, _MISSING)
    if value is _MISSING:
        value = sys.modules.get(f"{source}.{attribute}", _MISSING)
    return value


def _own_code(value: Any, module: str) -> bool:
    """Whether ``value`` (a def of ``module``) is code from the package: a function, a wrapper of one, a class."""
    if id(value) in _instruments:
        return True
    if isinstance(value, type):  # its methods' code may come from exec (dataclasses): the module says enough
        return value.__module__ == module
    inner = value
    for _ in range(5):  # decorators (``@exercise``, ``@contextmanager``) keep the function in __wrapped__
        inner = getattr(inner, "__wrapped__", inner)
    if isinstance(inner, types.FunctionType) and not inner.__code__.co_filename.startswith(PACKAGE_DIR):
        return False
    return callable(value) and is_trusted_code(value)


@functools.lru_cache(maxsize=None)
def _resolved(path: str) -> str:
    return str(Path(path).resolve())


# The bindings of each module as last verified against its source: while every one is still the
# same object, verifying again would find the same (this keeps a check's overhead near 1 ms).
# Constants are compared by value every time (a dict constant can be changed in place).
_verified: dict[str, tuple[Any, dict[str, Any], list[tuple[str, Any]]]] = {}


def _module_changes(name: str, module: Any) -> Iterator[str]:
    known = _verified.get(name)
    if known is not None and known[0] is module:
        namespace = vars(module)
        if all(namespace.get(key, _MISSING) is value for key, value in known[1].items()) and all(
            type(namespace.get(key)) is type(literal) and namespace.get(key) == literal for key, literal in known[2]
        ):
            return
    path = getattr(module, "__file__", None)
    if not isinstance(module, types.ModuleType) or not isinstance(path, str):
        yield f"sys.modules[{name!r}] is not the module of that name"
        return
    real = _resolved(path)
    stem, _, _ = real.rpartition(os.sep)[2].partition(".")
    if not real.startswith(PACKAGE_DIR) or stem not in (name.rsplit(".", 1)[-1], "__init__"):
        yield f"sys.modules[{name!r}] was replaced"
        return
    namespace = vars(module)
    package = name if stem == "__init__" else name.rpartition(".")[0]
    checked: dict[str, Any] = {}
    constants: list[tuple[str, Any]] = []
    broken = False
    for kind, key, detail in _bindings(real, name, package):
        value = namespace.get(key, _MISSING)
        if value is _MISSING:
            continue  # deleted names fail the check that needs them, loudly
        reason = None
        if kind == "import":
            expected = _expected_import(*detail)
            if expected is not _MISSING and value is not expected:
                reason = f"{name}.{key} was replaced"
        elif kind in ("def", "class"):
            if not _own_code(value, name):
                reason = f"{name}.{key} was replaced"
        elif kind == "const":
            if type(value) is not type(detail) or value != detail:
                reason = f"{name}.{key} was changed"
        if reason:
            broken = True
            yield reason
        elif kind == "const":
            constants.append((key, detail))
        else:
            checked[key] = value
    if not broken:
        _verified[name] = (module, checked, constants)


def _dlcourse_changes() -> Iterator[str]:
    for name, module in list(sys.modules.items()):
        if name in _SEALED_PREFIXES or name.startswith(_SEALED_SUBMODULES):
            yield from _module_changes(name, module)


def broken_seals(check: Callable[..., Any] | None = None, *, grading: bool = False) -> list[str]:
    """What was changed that the checks rely on (empty when nothing was).

    Args:
        check: the check about to run (or that just ran): it must be the package's own code.
        grading: also refuse a trace or profile function in this thread (nbgrader runs none).
    """
    reasons = list(_tampered)
    if check is not None and not (is_trusted_code(check) and _own_code(check, getattr(check, "__module__", ""))):
        reasons.append(f"the check {getattr(check, '__qualname__', check)!s} is not the package's code")
    reasons += _dlcourse_changes()
    reasons += _snapshot_changes()
    reasons += _provenance_changes()
    if grading:
        if sys.gettrace() is not None:
            reasons.append("a trace function was installed (sys.settrace)")
        if sys.getprofile() is not None:
            reasons.append("a profile function was installed (sys.setprofile)")
    return list(dict.fromkeys(reasons))
