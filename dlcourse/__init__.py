"""dlcourse: the helper package of a Jupyter-native deep-learning course.

Sub-packages (imported on demand, so ``import dlcourse`` stays light):

- ``dlcourse.ref``      NumPy reference implementations (the answer key, public on purpose)
- ``dlcourse.gpu``      PyTorch twins of ``ref`` with the same names (imports torch)
- ``dlcourse.checks``   one check per exercise, used by the notebooks' test cells
- ``dlcourse.widgets``  interactive figures (imports matplotlib and ipywidgets)
- ``dlcourse.data``     synthetic generators, embedded and downloadable data sets
- ``dlcourse.course``   release / validate / autograde on top of nbgrader, and the CLI

``import dlcourse`` imports neither torch, matplotlib nor ipywidgets.
"""

from __future__ import annotations

from typing import Any

from dlcourse.version import __version__

__all__ = ["__version__", "setup", "doctor", "yours_or_reference"]


def setup(seed: int = 0, *, verbose: bool = True) -> str:
    """Seed every random generator a lecture uses and pick the device; returns ``"cuda"`` or ``"cpu"``."""
    from dlcourse.session import setup as _setup

    return _setup(seed, verbose=verbose)


def doctor(*, file: Any = None) -> dict[str, str]:
    """Print an environment report a student can paste into a help request, and return it."""
    from dlcourse.environment import doctor as _doctor

    return _doctor(file=file)


def yours_or_reference(yours: Any, reference: Any = None) -> Any:
    """``yours``, falling back to the reference of the same name while it raises NotImplementedError.

    For lecture cells that use an exercise before it is written (see :mod:`dlcourse.fallback`).
    """
    from dlcourse.fallback import yours_or_reference as _wrap

    return _wrap(yours, reference)
