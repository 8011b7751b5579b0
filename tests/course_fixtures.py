"""Synthetic nbgrader courses for the tests of ``dlcourse.course`` and the CLI.

A course here is a folder with the repository's real ``nbgrader_config.py`` and one small
assignment, ``01-add``: two solution cells (``add``, ``mul``) each followed by a test cell with
points and a hidden-test block. Its notebooks execute in about a second.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO_ROOT = Path(__file__).resolve().parents[1]
NAME = "01-add"
POINTS = {"test_add": 2, "test_mul": 3}
MAX_SCORE = sum(POINTS.values())

CORRECT = {"add": "def add(a, b):\n    return a + b", "mul": "def mul(a, b):\n    return a * b"}
# mul passes the visible test (2 * 3 == 6) but not the hidden one (0 * 5 == 0): hidden tests matter.
PARTIAL = {"add": "def add(a, b):\n    return a + b", "mul": "def mul(a, b):\n    return 6"}


def solution_cell(grade_id: str, source: str, cell_id: str) -> Any:
    """A code cell nbgrader treats as a student answer."""
    cell = new_code_cell(source, id=cell_id)
    cell.metadata["nbgrader"] = {
        "solution": True,
        "grade": False,
        "locked": False,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    return cell


def graded_cell(grade_id: str, source: str, points: float, cell_id: str) -> Any:
    """A locked, autograded code cell worth ``points``."""
    cell = new_code_cell(source, id=cell_id)
    cell.metadata["nbgrader"] = {
        "solution": False,
        "grade": True,
        "locked": True,
        "points": points,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    return cell


def source_notebook(
    *, add_answer: str = "return a + b", mul_answer: str = "return a * b", free_points: float = 0
) -> Any:
    """The instructor notebook of ``01-add``; ``free_points`` adds a test cell that needs no student code."""
    cells = [
        new_markdown_cell("# Adding and multiplying\n\nWrite `add` and `mul`.", id="intro"),
        new_code_cell("import math", id="setup"),
        solution_cell(
            "add",
            f"def add(a, b):\n    ### BEGIN SOLUTION\n    {add_answer}\n    ### END SOLUTION",
            "add-answer",
        ),
        graded_cell(
            "test_add",
            "assert add(1, 2) == 3\n### BEGIN HIDDEN TESTS\nassert add(-1, 1) == 0\n### END HIDDEN TESTS",
            POINTS["test_add"],
            "add-test",
        ),
        solution_cell(
            "mul",
            f"def mul(a, b):\n    ### BEGIN SOLUTION\n    {mul_answer}\n    ### END SOLUTION",
            "mul-answer",
        ),
        graded_cell(
            "test_mul",
            "assert mul(2, 3) == 6\n### BEGIN HIDDEN TESTS\nassert mul(0, 5) == 0\n### END HIDDEN TESTS",
            POINTS["test_mul"],
            "mul-test",
        ),
    ]
    if free_points:
        cells.append(graded_cell("test_free", "assert math.pi > 3", free_points, "free-test"))
    metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        # what an author's kernel leaves behind; the release must not carry it
        "language_info": {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"},
    }
    return new_notebook(cells=cells, metadata=metadata)


def write_notebook(nb: Any, path: Path) -> Path:
    """Write ``nb`` to ``path`` (creating folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def make_course(root: Path, **source_options: Any) -> Path:
    """A course at ``root``: the repository's ``nbgrader_config.py`` and ``solutions/01-add/01-add.ipynb``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    write_notebook(source_notebook(**source_options), source_path(root))
    return root


def source_path(root: Path) -> Path:
    """Where the course's instructor notebook lives."""
    return root / "solutions" / NAME / f"{NAME}.ipynb"


def release_path(root: Path) -> Path:
    """Where the course's student notebook is released."""
    return root / "notebooks" / NAME / f"{NAME}.ipynb"


def answered(release: Path, answers: dict[str, str]) -> Any:
    """The released notebook with the solution cells named in ``answers`` filled in."""
    nb = nbformat.read(str(release), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def submit(root: Path, student: str, nb: Any | None = None, *, text: str | None = None) -> Path:
    """Put a submission of ``01-add`` for ``student`` in ``submitted/`` (a notebook, or raw ``text``)."""
    path = root / "submitted" / student / NAME / f"{NAME}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        path.write_text(text, encoding="utf-8")
    else:
        write_notebook(nb, path)
    return path


# --- a second assignment for grading tests: a check with a hidden case and the anti-shortcut guard ---

RELU = "02-relu"
RELU_POINTS = {"test_relu": 2, "test_relu_hidden": 1}
RELU_CORRECT = {"relu": "def relu(x):\n    return np.maximum(x, 0.0)"}
# Calls the answer key: the checks' guard (call_student) must score it 0 and say why.
RELU_SHORTCUT = {"relu": "from dlcourse.ref import relu_forward\n\ndef relu(x):\n    return relu_forward(x)[0]"}
# Right on the visible case, wrong on the hidden one (it keeps values below -5).
RELU_PARTIAL = {"relu": "def relu(x):\n    return np.where(x < -5, x, np.maximum(x, 0.0))"}
#: Text that appears only in the hidden tests of 02-relu: no feedback file may contain any of it.
RELU_HIDDEN_MARKERS = ("SECRET_CASE", "-7.25", "HIDDEN_SENTINEL_4711", "relu_hidden_check")


def relu_notebook() -> Any:
    """The instructor notebook of ``02-relu``: a visible check that teaches, and a hidden test cell."""
    cells = [
        new_markdown_cell("# ReLU\n\nWrite `relu(x)`: the element-wise maximum of `x` and 0.", id="intro"),
        new_code_cell("import numpy as np\nfrom dlcourse.checks.guard import call_student", id="setup"),
        solution_cell(
            "relu",
            "def relu(x):\n    ### BEGIN SOLUTION\n    return np.maximum(x, 0.0)\n    ### END SOLUTION",
            "relu-answer",
        ),
        graded_cell(
            "test_relu",
            "out = call_student(relu, np.array([-1.0, 2.0]), name='relu')\n"
            "assert np.allclose(out, [0.0, 2.0]), f'relu([-1, 2]) should be [0, 2], got {out}: negatives become 0'\n"
            "print('relu: the visible case passes')",
            RELU_POINTS["test_relu"],
            "relu-test",
        ),
        graded_cell(
            "test_relu_hidden",
            "# hidden tests: other inputs\n"
            "### BEGIN HIDDEN TESTS\n"
            "def relu_hidden_check(fn):\n"
            "    SECRET_CASE = np.array([-7.25, 3.5])  # HIDDEN_SENTINEL_4711\n"
            "    got = call_student(fn, SECRET_CASE, name='relu')\n"
            "    print('checking', SECRET_CASE)\n"
            "    assert np.allclose(got, [0.0, 3.5]), f'relu({SECRET_CASE}) returned {got}'\n"
            "relu_hidden_check(relu)\n"
            "### END HIDDEN TESTS",
            RELU_POINTS["test_relu_hidden"],
            "relu-hidden",
        ),
    ]
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return new_notebook(cells=cells, metadata=metadata)


def add_relu_assignment(root: Path) -> Path:
    """Add ``solutions/02-relu/02-relu.ipynb`` to the course at ``root``."""
    return write_notebook(relu_notebook(), root / "solutions" / RELU / f"{RELU}.ipynb")


def submit_to(root: Path, assignment: str, student: str, nb: Any | None = None, *, text: str | None = None) -> Path:
    """Like :func:`submit`, for any assignment (the notebook is named after the assignment)."""
    path = root / "submitted" / student / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        path.write_text(text, encoding="utf-8")
    else:
        write_notebook(nb, path)
    return path
