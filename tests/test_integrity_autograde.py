"""Hostile submissions graded end to end: one class, one ``dlcourse autograde`` call.

A small assignment (``02-guarded``) asks for ``affine_forward`` (graded by
``dlcourse.checks.backprop.check_affine_forward``) and ``im2col`` (``dlcourse.checks.conv``), each
with a visible and a hidden test cell written as every lecture's are (the cell imports its check).
Each student below tries one way of getting points without the work; the honest control gets
full marks, unflagged. Every attack either loses the points of the wrong function or is flagged
in the ``review`` column (grades.csv, the summary table, ``dlcourse export``), most of them both.
The course sets an instructor's secret for hidden cases, so the hidden cells run under it.
"""

from __future__ import annotations

import csv
import inspect
import shutil
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_fixtures import REPO_ROOT, answered, graded_cell, solution_cell, submit_to, write_notebook
from dlcourse.course.cli import main
from dlcourse.course.release import release
from mutants_conv import im2col_sliding_window_view

NAME = "02-guarded"

AFFINE = "def affine_forward(x, w, b):\n    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)\n"
IM2COL = inspect.getsource(im2col_sliding_window_view).replace("im2col_sliding_window_view", "im2col")
WRONG = "def affine_forward(x, w, b):\n    return np.zeros((x.shape[0], w.shape[1])), (x, w, b)\n"

# student -> (affine_forward cell, im2col cell)
ATTACKS: dict[str, tuple[str, str]] = {
    "honest": (AFFINE, IM2COL),
    "rebinds_the_check": (WRONG + "check_affine_forward = lambda f, hidden=False: print('✔ all cases passed.')\n", IM2COL),
    "patches_the_check_module": (
        WRONG + "import dlcourse.checks.backprop as _m\n_m.check_affine_forward = lambda f, hidden=False: print('✔')\n",
        IM2COL,
    ),
    "patches_expect_array": (WRONG + "import dlcourse.checks.backprop as _m\n_m.expect_array = lambda *a, **k: None\n",
                             IM2COL),
    "patches_numpy": (WRONG + "np.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, bool)\n"
                      "np.allclose = lambda *a, **k: True\n", IM2COL),
    "patches_builtins": (WRONG + "import builtins\nbuiltins.abs = lambda v: 0\n", IM2COL),
    "switches_the_guard_off": (
        "import sys\nfrom dlcourse.ref import affine_forward as _key\n\ndef affine_forward(x, w, b):\n"
        "    try:\n        sys.setprofile(None)\n    except Exception:\n        pass\n    return _key(x, w, b)\n",
        IM2COL,
    ),
    "uses_a_thread": (
        "from concurrent.futures import ThreadPoolExecutor\nimport dlcourse.ref as _r\n_pool = ThreadPoolExecutor(1)\n"
        "_pool.submit(int).result()\n\ndef affine_forward(x, w, b):\n"
        "    return _pool.submit(_r.affine_forward, x, w, b).result()\n",
        IM2COL,
    ),
    "relabels_the_reference": (
        "import types\nimport dlcourse.ref as _r\n_f = _r.affine_forward\n"
        "_copy = types.FunctionType(_f.__code__.replace(co_filename='mine.py'), _f.__globals__)\n\n"
        "def affine_forward(x, w, b):\n    return _copy(x, w, b)\n",
        IM2COL,
    ),
    "torch_for_im2col": (
        AFFINE,
        "import torch\nimport torch.nn.functional as F\n\ndef im2col(x, kh, kw, stride=1, pad=0):\n"
        "    return F.unfold(torch.from_numpy(x), (kh, kw), padding=pad, stride=stride).numpy()\n",
    ),
    "peeks_at_frames": (
        "import sys\n\ndef affine_forward(x, w, b):\n    n, m = x.shape[0], w.shape[1]\n"
        "    frame = sys._getframe(1)\n    while frame is not None:\n"
        "        for v in list(frame.f_locals.values()):\n"
        "            if isinstance(v, np.ndarray) and v.shape == (n, m):\n                return v, (x, w, b)\n"
        "        frame = frame.f_back\n    try:\n        raise RuntimeError\n    except RuntimeError as e:\n"
        "        frame = e.__traceback__.tb_frame.f_back\n    return np.ones((n, m)), (x, w, b)\n",
        IM2COL,
    ),
    "rewrites_itself_in_the_comparison": (
        "class Out(np.ndarray):\n    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):\n"
        "        for i in inputs:\n            if isinstance(i, np.ndarray) and i is not self and i.shape == self.shape:\n"
        "                self.view(np.ndarray)[...] = i\n"
        "        inputs = [i.view(np.ndarray) if isinstance(i, Out) else i for i in inputs]\n"
        "        return getattr(ufunc, method)(*inputs, **kwargs)\n\n"
        "def affine_forward(x, w, b):\n    return np.zeros((x.shape[0], w.shape[1])).view(Out), (x, w, b)\n",
        IM2COL,
    ),
}

AFFINE_CELLS = {"affine-forward-test", "affine-forward-hidden"}
IM2COL_CELLS = {"im2col-test", "im2col-hidden"}


def _notebook():
    def exercise(stem: str, check_module: str, check: str, solution: str):
        return [
            solution_cell(f"{stem}-solution", solution.replace("\n    ", "\n    ### BEGIN SOLUTION\n    ", 1)
                          + "    ### END SOLUTION\n", f"{stem}-solution"),
            graded_cell(f"{stem}-test", f"from {check_module} import {check}\n{check}({stem.replace('-', '_')})",
                        1, f"{stem}-test"),
            graded_cell(f"{stem}-hidden", f"from {check_module} import {check}\n### BEGIN HIDDEN TESTS\n"
                        f"{check}({stem.replace('-', '_')}, hidden=True)\n### END HIDDEN TESTS", 1, f"{stem}-hidden"),
        ]

    cells = [
        new_markdown_cell("# Guarded\n\nWrite `affine_forward` and `im2col`.", id="intro"),
        new_code_cell("import numpy as np", id="setup"),
        *exercise("affine-forward", "dlcourse.checks.backprop", "check_affine_forward", AFFINE),
        *exercise("im2col", "dlcourse.checks.conv", "check_im2col", IM2COL),
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}})


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, str]], str]:
    pytest.importorskip("torch")
    root = tmp_path_factory.mktemp("guarded") / "course"
    root.mkdir()
    config = (REPO_ROOT / "nbgrader_config.py").read_text()
    (root / "nbgrader_config.py").write_text(config + '\nc.DlcourseGrading.hidden_secret = "e2e secret"\n')
    write_notebook(_notebook(), root / "solutions" / NAME / f"{NAME}.ipynb")
    release(root, [NAME])
    released = root / "notebooks" / NAME / f"{NAME}.ipynb"
    for student, (affine, im2col) in ATTACKS.items():
        submit_to(root, NAME, student, answered(released, {"affine-forward-solution": affine,
                                                           "im2col-solution": im2col}))
    import asyncio
    import contextlib
    import io

    # A test that ran asyncio.run() earlier in this process (tests/test_grading_kernel.py,
    # tests/test_sandbox.py) leaves no current event loop, and nbclient's sync API needs one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["autograde", NAME, "--root", str(root), "--jobs", "2", "--cell-timeout", "120"])
    assert code == 0, err.getvalue()
    with (root / "grades.csv").open(newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    yield root, rows, out.getvalue()
    shutil.rmtree(root, ignore_errors=True)


def _lost(row: dict[str, str]) -> set[str]:
    return {cell for cell in AFFINE_CELLS | IM2COL_CELLS if row[cell] != "1"}


def test_the_honest_control_gets_full_marks_unflagged(graded):
    _, rows, table = graded
    assert rows["honest"]["score"] == "4" and rows["honest"]["review"] == ""
    assert next(line for line in table.splitlines() if line.startswith("honest ")).rstrip().endswith("graded")


@pytest.mark.parametrize("student,lost,reasons", [
    ("rebinds_the_check", AFFINE_CELLS, ["cell affine-forward-solution assigns to check_affine_forward"]),
    ("patches_the_check_module", IM2COL_CELLS,
     ["assigns to dlcourse.checks.backprop.check_affine_forward",
      "IntegrityFailure: the checks cannot be trusted in this notebook: "
      "dlcourse.checks.backprop.check_affine_forward was replaced"]),
    ("patches_expect_array", AFFINE_CELLS | IM2COL_CELLS,
     ["assigns to dlcourse.checks.backprop.expect_array", "dlcourse.checks.backprop.expect_array was replaced"]),
    ("patches_numpy", AFFINE_CELLS | IM2COL_CELLS, ["assigns to numpy.isclose", "numpy.isclose was replaced"]),
    ("patches_builtins", AFFINE_CELLS | IM2COL_CELLS, ["imports builtins", "builtins.abs was replaced"]),
    ("switches_the_guard_off", AFFINE_CELLS, ["uses sys.setprofile", "switched the guard off (sys.setprofile)"]),
    ("uses_a_thread", AFFINE_CELLS, ["imports concurrent.futures.ThreadPoolExecutor", "handed work to another thread"]),
    ("relabels_the_reference", AFFINE_CELLS,
     ["relabels a code object", "ran a relabelled copy of dlcourse.ref.layers.affine_forward"]),
    ("torch_for_im2col", IM2COL_CELLS, []),
    ("peeks_at_frames", AFFINE_CELLS, ["uses sys._getframe", "uses the attribute tb_frame"]),
    ("rewrites_itself_in_the_comparison", AFFINE_CELLS, []),
])
def test_each_attack_loses_its_points_or_is_flagged(graded, student: str, lost: set[str], reasons: list[str]):
    _, rows, table = graded
    row = rows[student]
    assert row["status"] == "graded"
    assert _lost(row) == lost, row
    for reason in reasons:
        assert reason in row["review"], row["review"]
    if not reasons:
        assert row["review"] == ""
    line = next(line for line in table.splitlines() if line.startswith(student + " "))
    assert (reasons == []) == line.rstrip().endswith("graded"), line  # the table's review column


def test_torch_in_a_numpy_exercise_is_explained(graded):
    root, _, _ = graded
    from dlcourse.course.results import cell_errors

    errors = cell_errors(root / "autograded" / "torch_for_im2col" / NAME / f"{NAME}.ipynb")
    assert "called torch" in errors["im2col-test"] and "this exercise is NumPy" in errors["im2col-test"]


def test_the_export_carries_the_review_column(graded):
    root, _, _ = graded
    out = root / "export.csv"
    assert main(["export", NAME, "--root", str(root), "-o", str(out)]) == 0
    with out.open(newline="") as fh:
        rows = list(csv.reader(fh))
    column = rows[0].index(f"{NAME}: review")
    by_student = {row[0]: row for row in rows[2:]}
    assert by_student["honest"][column] == ""
    assert "assigns to numpy.isclose" in by_student["patches_numpy"][column]


def test_the_summary_counts_the_submissions_to_review(graded):
    _, rows, table = graded
    flagged = sum(1 for row in rows.values() if row["review"])
    assert f"{len(ATTACKS)} graded, 0 not graded, {len(ATTACKS)} in all; {flagged} to review" in table
