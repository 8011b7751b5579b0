"""One check per exercise, called by the notebooks' test cells and by pytest.

Every check has the form ``check_<exercise>(student_fn, hidden=False)``:

- it runs public cases (or, with ``hidden=True``, randomized shapes, edge cases and gradient
  checks too), computing every expected value from ``dlcourse.ref`` at check time;
- it examines the answer in teaching order — type, then shape, then values, then known
  mistakes — and raises :class:`CheckFailure` (an ``AssertionError``) whose message says which;
- it runs the student's function under an anti-shortcut guard: calling ``dlcourse.ref`` or
  ``dlcourse.gpu`` from inside it fails the check;
- on an unfinished exercise (the stub's ``NotImplementedError``) it prints one "not written
  yet" line and lets Run All go on, except under nbgrader, where the cell still scores 0;
- it writes to stdout only (nbgrader scores a test cell 0 when anything reaches stderr).

Machinery, shared by every lecture (a new lecture uses it rather than writing its own):
``exercise`` (the ``@exercise("name")`` entry every public check goes through: unfinished
exercises, tracebacks that show the student's frames, not the check's), ``cases`` (the seed
policy: ``case_rng(hidden, SALT)`` for every random case), ``compare`` (type/shape/value
diagnostics; ``CheckRun``, which drives every case loop and names a ``Mistake`` only when the
answer matches it on every case; the pass line), ``gradients`` (``GRAD_TOL`` and the
finite-difference checks), ``guard`` (calling student code safely: ``call_student``,
``call_strict``, ``unpack``), ``seal`` (is the code the checks rely on still the installed
code?), ``errors`` (``CheckFailure``, ``IntegrityFailure``).

Lectures: ``tensors`` (00), ``autodiff`` (01), ``neurons`` (02), ``losses`` (03),
``backprop`` (04), ``optim`` (05), ``init`` and ``norm`` (06), ``regularization`` (07),
``conv`` (08), ``cnns`` (09), ``rnn`` (10), ``attention`` (11),
``generative`` (12), ``rl`` (13), ``uncertainty`` (14).
"""

from dlcourse.checks.errors import CheckFailure

__all__ = ["CheckFailure"]
