"""Where a check's cases come from: the seed policy for public and hidden cases.

Every check draws its random inputs from :func:`case_rng`, so this function is the one place
that decides which cases students see and which ones grade them.

**The instructor's secret.** ``dlcourse.checks`` is public, so anyone can run
``check_x(f, hidden=True)`` and see the hidden cases of the public default. When the grader's
kernel has ``DLCOURSE_HIDDEN_SECRET`` in its environment (``dlcourse autograde`` sets it from
``c.DlcourseGrading.hidden_secret`` in ``nbgrader_config.py``, or passes on the variable of the
shell it runs in), the hidden cases are drawn from the secret and the lecture's salt instead:
cases of the same kinds (same shapes where a check fixes them, same edge cases), other numbers
and other random sizes. Without the secret, ``hidden=True`` uses the public default.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

__all__ = ["PUBLIC_SEED", "SECRET_VARIABLE", "case_rng", "hidden_secret"]

# Public cases are the same on every run and for every student: they are the feedback loop.
PUBLIC_SEED = 0
#: The environment variable that holds the instructor's secret for hidden cases.
SECRET_VARIABLE = "DLCOURSE_HIDDEN_SECRET"


def hidden_secret() -> str:
    """The instructor's secret for hidden cases in this process ("" when there is none)."""
    return os.environ.get(SECRET_VARIABLE, "")


def case_rng(hidden: bool, salt: int) -> np.random.Generator:
    """The generator a check draws its cases from.

    Args:
        hidden: draw the hidden (graded) cases rather than the public ones.
        salt: the lecture's own number (a constant ``SALT`` in each lecture's check module), so
            that two lectures never draw the same hidden cases.

    Public cases come from :data:`PUBLIC_SEED`; hidden ones from ``salt`` and, when set, the
    instructor's secret (:func:`hidden_secret`, hashed into the seed), fixed for a given secret
    so that grading is reproducible.
    """
    if not hidden:
        return np.random.default_rng(PUBLIC_SEED)
    secret = hidden_secret()
    if not secret:
        return np.random.default_rng(salt)
    words = np.frombuffer(hashlib.sha256(secret.encode("utf-8")).digest(), dtype=np.uint32)
    return np.random.default_rng([salt, *(int(w) for w in words)])
