"""Run reference code as if a student had written it, so the anti-shortcut guard lets it through.

The guard flags any call into a file under ``dlcourse/ref`` or ``dlcourse/gpu``. Tests need
"the reference passes its own check", so :func:`as_student` copies a function with its code
objects re-labelled to another file name, and swaps the reference functions it calls for such
copies too. Only tests use this; a notebook has no reason to.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Callable

import dlcourse

_PACKAGE = str(Path(dlcourse.__file__).resolve().parent)
_cache: dict[int, Callable[..., Any]] = {}


def _relabel(code: types.CodeType) -> types.CodeType:
    consts = tuple(_relabel(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=f"<student copy of {Path(code.co_filename).name}>", co_consts=consts)


def _is_reference(obj: Any) -> bool:
    return isinstance(obj, types.FunctionType) and obj.__code__.co_filename.startswith(_PACKAGE)


def as_student(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of the reference function ``fn`` (and of the reference functions it calls)."""
    if id(fn) in _cache:
        return _cache[id(fn)]
    namespace = dict(fn.__globals__)
    copy = types.FunctionType(_relabel(fn.__code__), namespace, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    _cache[id(fn)] = copy
    for name, value in list(namespace.items()):
        namespace[name] = _with_student_copies(value)
    return copy


def _with_student_copies(value: Any) -> Any:
    """``value`` with reference functions swapped for student copies, also inside the dicts and
    tuples a module dispatches through (e.g. ``activations._BY_NAME``); other values unchanged."""
    if _is_reference(value):
        return as_student(value)
    if isinstance(value, tuple):
        items = tuple(_with_student_copies(v) for v in value)
        return items if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, dict):
        entries = {k: _with_student_copies(v) for k, v in value.items()}
        return entries if any(entries[k] is not v for k, v in value.items()) else value
    return value
