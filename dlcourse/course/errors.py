"""The one exception the course tooling raises, and how nbgrader's failures become it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dlcourse.ansi import strip_ansi

__all__ = ["CourseError", "EXIT_FAILURE", "EXIT_USAGE", "nbgrader_error_text"]

#: Exit status for a check or grading failure (a stale release, a wrong solution, a corrupt submission).
EXIT_FAILURE = 1
#: Exit status for a usage or configuration error (no course found, unknown assignment, bad config file).
EXIT_USAGE = 2

# nbgrader repeats the same generic sentences after every failure; they add nothing to our message.
_BOILERPLATE = (
    "Please see the the above traceback",
    "Please see the above traceback",
    "Please see the error log",
    "There was an error processing assignment",
)


class CourseError(Exception):
    """Anything that stops a course command: the message says what went wrong and what to do.

    ``exit_code`` is what the CLI exits with: :data:`EXIT_FAILURE` (1) for a failed check or
    grading step, :data:`EXIT_USAGE` (2) for a usage or configuration error.
    """

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


def nbgrader_error_text(result: Mapping[str, Any], *, max_lines: int = 12) -> str:
    """The part of an nbgrader ``{"success": False, "error": ..., "log": ...}`` result that matters.

    nbgrader's converters log the real cause as ``[ERROR]`` lines (often with a full traceback)
    and then raise a generic exception, so the useful text is the error lines of the log plus
    the last line of each traceback in it, not the final traceback.
    """
    log = strip_ansi(str(result.get("log") or ""))
    lines: list[str] = []
    for line in log.splitlines():
        stripped = line.strip()
        if stripped.startswith("[ERROR]") or stripped.startswith("[CRITICAL]"):
            text = stripped.split("]", 1)[1].strip()
            if text and not text.startswith(_BOILERPLATE) and not text.startswith("Traceback"):
                lines.append(text)
        elif _is_exception_line(stripped):
            lines.append(stripped)
    if not lines:
        error = strip_ansi(str(result.get("error") or "")).strip().splitlines()
        lines = [error[-1].strip()] if error else ["nbgrader failed without saying why"]
    unique = list(dict.fromkeys(lines))
    if len(unique) > max_lines:
        unique = unique[: max_lines - 1] + [f"... ({len(unique) - max_lines + 1} more lines)"]
    return "\n".join(unique)


def _is_exception_line(line: str) -> bool:
    """Whether ``line`` is the last line of a Python traceback (``SomeError: message``)."""
    return bool(re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b(: .*)?$", line))
