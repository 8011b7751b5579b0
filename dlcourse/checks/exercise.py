"""The entry every check goes through: what a student sees when an exercise is unfinished or wrong.

Each public check is decorated with :func:`exercise`, which decides three things once for all
lectures:

- **Unfinished.** The stub nbgrader leaves in a solution cell raises ``NotImplementedError``.
  A check that a notebook cell calls directly then prints one line to stdout::

      ◻ affine_forward: not written yet (Exercise 1)

  and returns, so that Run All goes on to the end of the notebook. Under nbgrader (autograde
  and the Validate button set ``NBGRADER_EXECUTION``) the exception propagates instead, so the
  cell scores 0 and validation reports the exercise as unfinished. Code that calls a check
  (rather than a cell doing so at its top level, e.g. a helper that falls back to the
  reference while an exercise is unfinished, or a test) gets the exception too, to act on it.
- **Wrong.** A :class:`CheckFailure` propagates with the check's own frames removed from its
  traceback: the student sees their cell's line and the message, not the checker's internals.
- **Crashed.** An exception raised inside the student's code keeps the student's frames and
  loses the check's, so the traceback starts at the student's function. An exception that
  never reached student code (a bug in a check) keeps its whole traceback.

Frames are removed by re-raising with a shortened ``__traceback__``; a bare ``raise`` adds no
frame of its own on Python ≥ 3.11 (on 3.10 the full traceback shows, which is still correct).
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TypeVar

from dlcourse.checks.errors import CheckFailure

__all__ = ["exercise", "grading", "GRADING_VARIABLE"]

# nbgrader sets it to "autograde" or "validate" while it executes a notebook.
GRADING_VARIABLE = "NBGRADER_EXECUTION"

# Frames whose code lives under the package are the checker's (checks, and the reference they
# compare with); every other frame is the student's (or a library the student called).
_PACKAGE = str(Path(__file__).resolve().parent.parent) + os.sep

Check = TypeVar("Check", bound=Callable[..., Any])


def grading() -> bool:
    """True while nbgrader executes the notebook (autograde, or the Validate button)."""
    return bool(os.environ.get(GRADING_VARIABLE))


def exercise(name: str) -> Callable[[Check], Check]:
    """Decorate ``check_<name>(student, hidden=False)`` as the check of the exercise ``name``.

    Args:
        name: what the student writes, e.g. "affine_forward" or "Value"; used in the
            not-written-yet line when the object the student passes has no usable ``__name__``.

    The decorated check accepts one more keyword argument, ``label`` (e.g. "Exercise 1"), shown
    in that line. See the module docstring for what happens on an unfinished, wrong or crashing
    answer.
    """

    def decorate(check: Check) -> Check:
        @functools.wraps(check)
        def run(student: Any, *args: Any, label: str | None = None, **kwargs: Any) -> Any:
            try:
                return check(student, *args, **kwargs)
            except NotImplementedError as exc:
                origin = _student_origin(exc)
                caller = sys._getframe(1)
                if origin is not None and not grading() and _is_cell_top_level(caller):
                    print(_not_written_line(_display_name(student, name), origin, label))
                    return None
                _drop_checker_frames(exc)
                raise  # a bare raise adds no frame (see the module docstring)
            except Exception as exc:
                _drop_checker_frames(exc)
                raise

        # help() and signature() show the check's own parameters plus ``label``.
        signature = inspect.signature(check)
        label = inspect.Parameter("label", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None")
        run.__signature__ = signature.replace(parameters=[*signature.parameters.values(), label])  # type: ignore
        run.exercise = name  # type: ignore[attr-defined]  # marks a check that goes through this entry
        return run  # type: ignore[return-value]

    return decorate


def _is_cell_top_level(frame: FrameType) -> bool:
    """Whether ``frame`` runs a cell's (or a script's) top-level code rather than a function."""
    return frame.f_code.co_name == "<module>"


def _is_checker(frame: FrameType) -> bool:
    return frame.f_code.co_filename.startswith(_PACKAGE)


def _first_student_frame(tb: TracebackType | None) -> TracebackType | None:
    """The traceback from the first frame that is not the checker's (None if there is none)."""
    while tb is not None and _is_checker(tb.tb_frame):
        tb = tb.tb_next
    return tb


def _student_origin(exc: BaseException) -> str | None:
    """The student's function that raised ``exc`` (its innermost frame), or None if it is the checker's."""
    tb = exc.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    if _is_checker(tb.tb_frame):
        return None
    code = tb.tb_frame.f_code
    # "Value.__add__" names the method with its class; "outer.<locals>.f" is just "f" to a student.
    return getattr(code, "co_qualname", code.co_name).rsplit("<locals>.", 1)[-1]


def _display_name(student: Any, name: str) -> str:
    """The student's own name for the object (e.g. ``batchnorm_backward_alt``), else the exercise's."""
    own = getattr(student, "__name__", None)
    return own if isinstance(own, str) and own.isidentifier() else name


def _not_written_line(name: str, origin: str, label: str | None) -> str:
    where = f" ({label})" if label else ""
    if origin == name or origin.startswith(name + "."):
        return f"◻ {name}: not written yet{where}."
    # The student's function calls another one that is still a stub.
    return f"◻ {name}: cannot be checked yet{where}: {origin} is not written yet."


def _drop_checker_frames(exc: BaseException) -> None:
    """Remove the checker's frames from the tracebacks of ``exc`` and the exceptions chained to it.

    A CheckFailure keeps no frame (its message is the feedback); an exception from student code
    keeps the frames from the student's function on; any other exception (a bug in a check)
    keeps its traceback whole.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        student = _first_student_frame(e.__traceback__)
        if student is not None or isinstance(e, CheckFailure):
            e.__traceback__ = student
        todo += [e.__cause__, e.__context__]
