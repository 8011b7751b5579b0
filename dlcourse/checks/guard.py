"""Run a student's function safely: no shortcuts through the reference, no mutated inputs."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from dlcourse.checks.errors import CheckFailure

_PACKAGE = Path(__file__).resolve().parent.parent
# Any Python frame whose code lives in these folders is an answer key. Paths are used rather
# than function identities so that aliases (`from dlcourse.ref import *`, `f = ref.relu_forward`)
# are caught too, and so that dlcourse.gpu need not be imported (it pulls in torch).
_FORBIDDEN_DIRS = tuple(str(_PACKAGE / name) + "/" for name in ("ref", "gpu"))


def _is_forbidden(filename: str) -> bool:
    return filename.replace("\\", "/").startswith(tuple(d.replace("\\", "/") for d in _FORBIDDEN_DIRS))


def _qualified_name(frame: FrameType) -> str:
    module = frame.f_globals.get("__name__", "?")
    return f"{module}.{frame.f_code.co_name}"


def call_student(fn: Callable[..., Any], *args: Any, name: str, allow_inplace: bool = False, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` as a check must, and return its result.

    - Exceptions raised by the student's code propagate unchanged; the check's entry
      (:func:`dlcourse.checks.exercise.exercise`) reports an unfinished stub's
      ``NotImplementedError`` and trims the checker's frames from the traceback.
    - A call into ``dlcourse.ref`` or ``dlcourse.gpu`` while ``fn`` runs fails the check: the
      exercise is to write the code, and the reference is what the answer is compared to.
    - Array arguments changed in place fail the check: callers (and caches) rely on them.

    Args:
        fn: the student's function.
        args, kwargs: its arguments; copies are kept to detect in-place changes.
        name: the exercise's function name, used in messages.
        allow_inplace: skip the in-place check (for functions that perturb and restore an
            argument by design; the caller then checks the restoration itself).
    """
    if not callable(fn):
        raise CheckFailure(f"{name} should be a function, got {type(fn).__name__}: pass the function itself.")
    originals = None if allow_inplace else copy.deepcopy((args, kwargs))
    shortcut: list[str] = []

    def profiler(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and not shortcut and _is_forbidden(frame.f_code.co_filename):
            shortcut.append(_qualified_name(frame))

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        result = fn(*args, **kwargs)
    finally:
        sys.setprofile(previous)
    if shortcut:
        raise CheckFailure(
            f"{name} called {shortcut[0]} while it was being checked. The reference implementation "
            f"is the answer key: write {name} yourself with NumPy (you may call your own functions)."
        )
    if originals is not None:
        _raise_if_mutated(name, originals, (args, kwargs))
    return result


def call_strict(fn: Callable[..., Any], *args: Any, name: str, hint: str, **kwargs: Any) -> Any:
    """:func:`call_student` with NumPy's overflow, invalid and divide-by-zero warnings as failures.

    Such a warning means an inf or nan was produced somewhere (even if masked away later: a bug
    waiting to happen), and in a graded notebook the warning itself reaches stderr, which scores
    the cell 0. Used where the exercise is numerical stability (softmax, sigmoid, log-losses).

    Args:
        fn, args, kwargs, name: as for :func:`call_student`.
        hint: what to tell the student when their code overflows (e.g. "subtract the max").
    """
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return call_student(fn, *args, name=name, **kwargs)
    except (FloatingPointError, OverflowError, ZeroDivisionError) as exc:
        raise CheckFailure(f"{name} raised {type(exc).__name__} ({exc}).\n  Hint: {hint}") from None


def _raise_if_mutated(name: str, before: Any, after: Any, path: str = "argument") -> None:
    """Compare argument trees; arrays must be bitwise unchanged (NaNs count as equal)."""
    if isinstance(before, np.ndarray):
        if not (before.shape == after.shape and np.array_equal(before, after, equal_nan=True)):
            raise CheckFailure(
                f"{name} changed its {path} in place. Work on new arrays (e.g. `x * mask`, or "
                f"`x.copy()` before editing): callers, and caches kept for the backward pass, "
                f"still need the original values."
            )
    elif isinstance(before, dict):
        for key in before:
            _raise_if_mutated(name, before[key], after[key], f"{path}[{key!r}]")
    elif isinstance(before, (tuple, list)):
        for i, (b, a) in enumerate(zip(before, after)):
            _raise_if_mutated(name, b, a, _nth(path, i))


def _nth(path: str, i: int) -> str:
    if path == "argument":  # top level: (args, kwargs)
        return "arguments" if i == 0 else "keyword arguments"
    if path == "arguments":
        return f"argument #{i + 1}"
    return f"{path}[{i}]"


def unpack(result: Any, n: int, *, name: str, names: Sequence[str]) -> tuple[Any, ...]:
    """Check that ``result`` is a tuple of ``n`` items (e.g. ``(out, cache)``) and return it."""
    wanted = "(" + ", ".join(names) + ")"
    if not isinstance(result, (tuple, list)):
        raise CheckFailure(f"{name} should return a tuple {wanted}, got a single {type(result).__name__}.")
    if len(result) != n:
        raise CheckFailure(f"{name} should return {n} values {wanted}, got {len(result)}.")
    return tuple(result)
