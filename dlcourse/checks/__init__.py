"""One check per exercise, called by the notebooks' test cells and by pytest.

Every check has the form ``check_<exercise>(student_fn, hidden=False)``:

- it runs public cases (or, with ``hidden=True``, randomized shapes, edge cases and gradient
  checks too), computing every expected value from ``dlcourse.ref`` at check time;
- it examines the answer in teaching order — type, then shape, then values, then known
  mistakes — and raises :class:`CheckFailure` (an ``AssertionError``) whose message says which;
- it runs the student's function under an anti-shortcut guard: calling ``dlcourse.ref`` or
  ``dlcourse.gpu`` from inside it fails the check;
- it writes to stdout only (nbgrader scores a test cell 0 when anything reaches stderr).

Machinery: ``errors`` (CheckFailure), ``compare`` (type/shape/value diagnostics),
``guard`` (calling student code safely).
Lectures: ``tensors`` (00), ``autodiff`` (01), ``neurons`` (02), ``losses`` (03),
``backprop`` (04), ``optim`` (05), ``init`` and ``norm`` (06), ``regularization`` (07),
``conv`` (08).
"""

from dlcourse.checks.errors import CheckFailure

__all__ = ["CheckFailure"]
