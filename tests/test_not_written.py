"""What a student sees in a real kernel: Run All passes unfinished exercises, nbgrader still scores them 0.

Executes a small notebook with nbclient, as Jupyter does, and reads the rendered outputs: the
"not written yet" line, the cells after it, and the tracebacks IPython shows for wrong answers.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CELLS = [
    "from dlcourse.checks.backprop import check_affine_forward",
    # The stub nbgrader leaves in a solution cell, then its visible test.
    'def affine_forward(x, w, b):\n    raise NotImplementedError("Replace this line with your solution.")',
    'check_affine_forward(affine_forward, label="Exercise 1")',
    'print("the next cell ran")',
    # A wrong answer that returns: the check's message, no checker frames.
    "def affine_forward(x, w, b):\n    return x.reshape(len(x), -1) @ w, (x, w, b)",
    "check_affine_forward(affine_forward)",
    # A wrong answer that crashes in the student's own helper.
    "def flatten(x):\n    return x.reshape(len(x), 3)\n\ndef affine_forward(x, w, b):\n    return flatten(x) @ w + b, (x, w, b)",
    "check_affine_forward(affine_forward)",
]


def _execute(tmp_path, monkeypatch, env: dict[str, str]):
    # A kernel spec for this interpreter, so that a machine-wide "python3" spec cannot swap it.
    spec = tmp_path / "jupyter" / "kernels" / "dlcourse-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the kernel inherits it, as it inherits nbgrader's
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nbclient.NotebookClient(nb, timeout=60, kernel_name="dlcourse-test", allow_errors=True).execute()
    return nb.cells


def _stdout(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def _error(cell):
    errors = [o for o in cell.outputs if o.output_type == "error"]
    return errors[0] if errors else None


def _rendered(cell) -> str:
    """The traceback as the notebook shows it, without colour codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(_error(cell).traceback))


def test_run_all_passes_an_unfinished_exercise_and_shows_the_students_frames(tmp_path, monkeypatch):
    cells = _execute(tmp_path, monkeypatch, {})
    assert _stdout(cells[2]) == "◻ affine_forward: not written yet (Exercise 1).\n"
    assert _error(cells[2]) is None
    assert not [o for c in cells for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
    assert _stdout(cells[3]) == "the next cell ran\n"

    wrong = _rendered(cells[5])
    assert _error(cells[5]).ename == "CheckFailure" and "the bias b is missing" in wrong
    assert "check_affine_forward(affine_forward)" in wrong
    assert "dlcourse/checks" not in wrong and "dlcourse" + "\\checks" not in wrong

    crash = _rendered(cells[7])
    assert _error(cells[7]).ename == "ValueError"
    assert "in affine_forward(x, w, b)" in crash and "in flatten(x)" in crash and "x.reshape(len(x), 3)" in crash
    assert "dlcourse/checks" not in crash and "guard.py" not in crash


def test_under_nbgrader_the_unfinished_exercise_still_fails_its_cell(tmp_path, monkeypatch):
    # autograde here; the Validate button's "validate" is covered in-process (test_checks_machinery).
    cells = _execute(tmp_path, monkeypatch, {"NBGRADER_EXECUTION": "autograde"})
    error = _error(cells[2])
    assert error is not None and error.ename == "NotImplementedError"
    assert "not written yet" not in _stdout(cells[2])
    rendered = _rendered(cells[2])
    assert 'raise NotImplementedError("Replace this line with your solution.")' in rendered
    assert "dlcourse/checks" not in rendered
