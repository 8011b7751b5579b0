"""Terminal colour codes out of text that tools and kernels wrote for a terminal.

IPython colours its tracebacks, nbgrader and ``jupyter labextension list`` colour their logs; a
message, a CSV cell or an HTML page shows those codes as garbage, so every such text goes
through :func:`strip_ansi` first.
"""

from __future__ import annotations

import re

__all__ = ["strip_ansi"]

# CSI sequences: ESC [ parameters final-letter (colours end in "m", cursor moves in other letters)
_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences (``"\\x1b[31mError\\x1b[0m"`` -> ``"Error"``)."""
    return _CSI.sub("", text)
