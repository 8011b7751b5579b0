"""Where a check's cases come from: the seed policy for public and hidden cases.

Every check draws its random inputs from :func:`case_rng`, so this function is the one place
that decides which cases students see and which ones grade them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PUBLIC_SEED", "case_rng"]

# Public cases are the same on every run and for every student: they are the feedback loop.
PUBLIC_SEED = 0


def case_rng(hidden: bool, salt: int) -> np.random.Generator:
    """The generator a check draws its cases from.

    Args:
        hidden: draw the hidden (graded) cases rather than the public ones.
        salt: the lecture's own number (a constant ``SALT`` in each lecture's check module), so
            that two lectures never draw the same hidden cases.

    Public cases come from :data:`PUBLIC_SEED`; hidden ones from ``salt`` alone for now, fixed so
    that grading is reproducible. An instructor's secret for hidden cases enters here and nowhere
    else (e.g. ``np.random.default_rng([secret, salt])``).
    """
    return np.random.default_rng(salt if hidden else PUBLIC_SEED)
