"""One check per exercise, called by the notebooks' test cells and by pytest.

Every check has the form ``check_<exercise>(student_fn, hidden=False)``:

- it runs public cases (or, with ``hidden=True``, randomized shapes, edge cases and gradient
  checks too), computing every expected value from ``dlcourse.ref`` at check time;
- it examines the answer in teaching order — type, then shape, then values, then known
  mistakes — and raises :class:`CheckFailure` (an ``AssertionError``) whose message says which;
- it runs the student's function under an anti-shortcut guard: calling ``dlcourse.ref`` or
  ``dlcourse.gpu`` from inside it fails the check;
- it writes to stdout only (nbgrader scores a test cell 0 when anything reaches stderr).

Modules: ``errors`` (CheckFailure), ``compare`` (type/shape/value diagnostics),
``guard`` (calling student code safely), ``backprop`` (lecture 04),
``optim`` (lecture 05), ``neurons`` (lecture 02), ``losses`` (lecture 03),
``conv`` (lecture 08).
"""

from dlcourse.checks.errors import CheckFailure

__all__ = ["CheckFailure"]
