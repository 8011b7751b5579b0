"""Grading a class: parallel autograde under limits, hostile submissions, feedback without hidden tests, export.

One synthetic class per assignment is graded once per module (two worker processes, a 2 s cell
timeout) and the tests below read its results; each hostile submission is one student. The
notebooks are tiny (see ``course_fixtures``), so the whole file runs in well under a minute.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from course_fixtures import (
    CORRECT,
    MAX_SCORE,
    NAME,
    PARTIAL,
    RELU,
    RELU_CORRECT,
    RELU_HIDDEN_MARKERS,
    RELU_PARTIAL,
    RELU_SHORTCUT,
    add_relu_assignment,
    answered,
    make_course,
    release_path,
    submit,
    submit_to,
)

from dlcourse.course import (
    Assignment,
    Course,
    CourseError,
    SubmissionResult,
    autograde,
    export_grades,
    feedback,
    release,
)
from dlcourse.course.cli import main
from dlcourse.course.feedback import hidden_tests
from dlcourse.course.gradebook import stderr_as_stdout
from dlcourse.course.limits import GradingLimits, kernel_arguments
from dlcourse.course.results import STATUS_FILE

LIMITS = {"jobs": 2, "cell_timeout": 2, "notebook_time_limit": 30, "memory_limit_mb": 2048}


def _without_cell(nb: Any, grade_id: str) -> Any:
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return nb


def _edit_cell(nb: Any, grade_id: str, source: str, *, strip_metadata: bool = False) -> Any:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            if strip_metadata:
                del cell.metadata["nbgrader"]
    return nb


@dataclass(frozen=True)
class Case:
    """A submission of 01-add and what grading it must give."""

    answers: dict[str, str]
    score: float | None  # None: not graded
    status: str  # "graded" or the start of the "not graded: ..." reason
    edit: Any = None  # a function that damages the notebook further
    text: Any = None  # raw file content (or a function giving it) instead of a notebook


def _cases(relu_release: Path) -> dict[str, Case]:
    loop_in_fn = "def add(a, b):\n    while True:\n        pass"
    return {
        "correct": Case(CORRECT, 5, "graded"),
        "partial": Case(PARTIAL, 2, "graded"),
        "loop_in_solution": Case({**CORRECT, "add": loop_in_fn}, 3, "graded"),
        "loop_after_definition": Case({**CORRECT, "add": CORRECT["add"] + "\nwhile True:\n    pass"}, 5, "graded"),
        "test_cell_deleted": Case(PARTIAL, 2, "graded", edit=lambda nb: _without_cell(nb, "test_mul")),
        "test_cell_replaced_by_pass": Case(PARTIAL, 2, "graded", edit=lambda nb: _edit_cell(nb, "test_mul", "pass")),
        "metadata_stripped": Case(
            PARTIAL, 2, "graded", edit=lambda nb: _edit_cell(nb, "test_mul", "pass", strip_metadata=True)
        ),
        "corrupt_json": Case({}, None, "not graded: corrupt notebook (01-add.ipynb is not valid JSON", text='{"cells": ['),
        "wrong_assignment": Case(
            {}, None, "not graded: wrong assignment (01-add.ipynb is a notebook of 02-relu, not 01-add)",
            text=lambda: relu_release.read_text(encoding="utf-8"),
        ),
        "stderr_in_student_code": Case(
            {**CORRECT, "add": "import sys\n\ndef add(a, b):\n    print('debug: adding', file=sys.stderr)\n    return a + b"},
            5,
            "graded",
        ),
        "memory_hog": Case(
            {**CORRECT, "add": "def add(a, b):\n    hog = bytearray(64 * 1024**3)\n    return a + b"}, 3, "graded"
        ),
        "kernel_killed": Case(
            {**CORRECT, "add": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"}, None, "not graded: kernel died"
        ),
        "ignores_interrupt": Case(
            {**CORRECT, "add": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"},
            None,
            "not graded: timeout",
        ),
    }


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, SubmissionResult]]:
    """A course with 01-add and 02-relu and one 01-add submission per case, autograded once."""
    root = make_course(tmp_path_factory.mktemp("class") / "course")
    add_relu_assignment(root)
    release(root)
    relu_release = root / "notebooks" / RELU / f"{RELU}.ipynb"
    for student, case in _cases(relu_release).items():
        if case.text is not None:
            submit(root, student, text=case.text() if callable(case.text) else case.text)
            continue
        nb = answered(release_path(root), case.answers)
        submit(root, student, case.edit(nb) if case.edit else nb)
    (root / "submitted" / "no_notebook" / NAME).mkdir(parents=True)
    results = autograde(root, NAME, **LIMITS)
    return root, {r.student: r for r in results}


@pytest.mark.parametrize("student", sorted(_cases(Path("unused")).keys()))
def test_hostile_submission(graded_class: tuple[Path, dict[str, SubmissionResult]], student: str) -> None:
    root, results = graded_class
    case = _cases(root / "notebooks" / RELU / f"{RELU}.ipynb")[student]
    result = results[student]
    assert result.status.startswith(case.status), result.status
    assert result.score == case.score, result.status
    if case.score is None:
        assert result.notebooks == () and result.per_cell == {}


def test_hostile_details(graded_class: tuple[Path, dict[str, SubmissionResult]]) -> None:
    """Why points were lost is specific: timeouts, memory errors and restored tests say so."""
    root, results = graded_class
    errors = {s: r.notebooks[0].errors for s, r in results.items() if r.graded}
    assert errors["loop_in_solution"] == {"test_add": "timeout: the cell ran longer than the per-cell limit"}
    assert errors["memory_hog"]["test_add"].startswith("MemoryError")
    # the restored test cells ran and failed on the wrong mul
    for student in ("test_cell_deleted", "test_cell_replaced_by_pass", "metadata_stripped"):
        assert results[student].per_cell == {"test_add": (2.0, 2.0), "test_mul": (0.0, 3.0)}, student
    # stderr costs no points, but the autograded notebook keeps it for the feedback
    text = (root / "autograded" / "stderr_in_student_code" / NAME / f"{NAME}.ipynb").read_text()
    assert "debug: adding" in text and '"name": "stderr"' in text
    assert results["no_notebook"].status == "not graded: missing notebook (01-add.ipynb not submitted)"
    assert "ignored the interrupt" in results["ignores_interrupt"].status


def test_workers_leave_the_gradebook_consistent(graded_class: tuple[Path, dict[str, SubmissionResult]]) -> None:
    """Every graded student is in the one gradebook with the scores the results report; no one else is."""
    from nbgrader.api import Gradebook

    root, results = graded_class
    course = Course.load(root)
    with Gradebook(course.db_url, course.course_id) as gb:
        in_db = {s.student.id: s.score for s in gb.assignment_submissions(NAME)}
    assert in_db == {s: r.score for s, r in results.items() if r.graded}
    assert sorted(p.name for p in (root / "autograded").iterdir() if p.is_dir()) == sorted(in_db)
    statuses = json.loads((root / "autograded" / STATUS_FILE).read_text())[NAME]
    assert statuses == {s: r.status for s, r in results.items()}


def test_rerun_keeps_manual_grades_and_comments(graded_class: tuple[Path, dict[str, SubmissionResult]]) -> None:
    from nbgrader.api import Gradebook

    root, _ = graded_class
    course = Course.load(root)
    student = "test_cell_deleted"  # 2/5: mul is wrong
    with Gradebook(course.db_url, course.course_id) as gb:
        gb.find_grade("test_mul", NAME, NAME, student).manual_score = 1.5
        gb.find_comment("mul", NAME, NAME, student).manual_comment = "Close: think about mul(0, x)."
        gb.db.commit()
    (again,) = autograde(root, NAME, [student], **LIMITS)
    assert again.per_cell["test_mul"] == (1.5, 3.0) and again.score == 3.5
    with Gradebook(course.db_url, course.course_id) as gb:
        grade = gb.find_grade("test_mul", NAME, NAME, student)
        assert (grade.manual_score, grade.auto_score) == (1.5, 0.0)
        assert gb.find_comment("mul", NAME, NAME, student).manual_comment == "Close: think about mul(0, x)."
    # the export reads the gradebook, so it has the manual score too
    with export_grades(root, [NAME], root / "out" / "manual.csv").open(newline="") as fh:
        row = next(r for r in csv.reader(fh) if r[0] == student)
    assert row[1:] == ["3.5", "needs manual grading", "", "2", "1.5"]


def test_export_has_per_cell_points_and_reasons(graded_class: tuple[Path, dict[str, SubmissionResult]]) -> None:
    root, results = graded_class
    path = export_grades(root, [NAME], root / "out" / "export.csv")
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["student", NAME, f"{NAME}: status", f"{NAME}: review", f"{NAME}: test_add", f"{NAME}: test_mul"]
    assert rows[1] == ["Points Possible", str(MAX_SCORE), "", "", "2", "3"]
    by_student = {row[0]: row for row in rows[2:]}
    assert set(by_student) == set(results)
    assert by_student["partial"][1:] == ["2", "graded", "", "2", "0"]
    assert by_student["correct"][1:] == ["5", "graded", "", "2", "3"]
    assert by_student["kernel_killed"][1] == "" and by_student["kernel_killed"][2].startswith("not graded: kernel died")
    assert by_student["no_notebook"][1:3] == ["", "not graded: missing notebook (01-add.ipynb not submitted)"]


def test_feedback_of_mixed_test_cells_hides_the_hidden_part(graded_class: tuple[Path, dict[str, SubmissionResult]]) -> None:
    root, results = graded_class
    pages = feedback(root, NAME)
    assert {p.parent.parent.name for p in pages} == {s for s, r in results.items() if r.graded}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for hidden in ("add(-1, 1)", "mul(0, 5)", "HIDDEN TESTS"):
            assert hidden not in text, (page, hidden)
    partial = (root / "feedback" / "partial" / NAME / f"{NAME}.html").read_text()
    assert "assert mul(2, 3) == 6" in partial  # the visible test the student was given
    assert "return 6" in partial  # the student's own code
    assert "test_mul: 0 / 3" in partial


# --- 02-relu: the anti-shortcut guard, and feedback without hidden tests ----------------------


@pytest.fixture(scope="module")
def relu_class(graded_class: tuple[Path, dict[str, SubmissionResult]]) -> tuple[Path, dict[str, SubmissionResult]]:
    root, _ = graded_class
    release_nb = root / "notebooks" / RELU / f"{RELU}.ipynb"
    reads_file = (
        "import glob\nfor name in glob.glob('*.ipynb'):\n    print(open(name).read())\n\n" + RELU_CORRECT["relu"]
    )
    spy = (
        "seen = []\n\ndef relu(x):\n    seen.append(x.copy())\n    print('relu got', x)\n    return np.maximum(x, 0.0)"
    )
    answers = {
        "r_correct": RELU_CORRECT,
        "r_partial": RELU_PARTIAL,
        "r_shortcut": RELU_SHORTCUT,
        "r_reads_notebook_file": {"relu": reads_file},
        "r_prints_its_inputs": {"relu": spy},
    }
    for student, answer in answers.items():
        submit_to(root, RELU, student, answered(release_nb, answer))
    results = autograde(root, RELU, list(answers), **LIMITS)
    return root, {r.student: r for r in results}


def test_relu_scores(relu_class: tuple[Path, dict[str, SubmissionResult]]) -> None:
    _, results = relu_class
    scores = {s: r.score for s, r in results.items()}
    assert scores == {
        "r_correct": 3,
        "r_partial": 2,
        "r_shortcut": 0,
        "r_reads_notebook_file": 3,
        "r_prints_its_inputs": 3,
    }


def test_shortcut_through_the_reference_scores_zero_with_a_clear_message(
    relu_class: tuple[Path, dict[str, SubmissionResult]],
) -> None:
    _, results = relu_class
    errors = results["r_shortcut"].notebooks[0].errors
    assert errors["test_relu"].startswith("CheckFailure: relu called dlcourse.ref.activations.relu_forward")
    assert "answer key" in errors["test_relu"]


def test_feedback_never_contains_hidden_tests(relu_class: tuple[Path, dict[str, SubmissionResult]]) -> None:
    root, results = relu_class
    pages = feedback(root, RELU, sorted(results))
    hidden = hidden_tests(Assignment.load(Course.load(root), RELU).notebook(RELU))
    assert hidden.hidden_cells == {"test_relu_hidden"} and hidden.hidden_lines
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for marker in (*RELU_HIDDEN_MARKERS, *hidden.hidden_lines, "BEGIN HIDDEN"):
            assert marker not in text, (page.name, marker)
    correct = (root / "feedback" / "r_correct" / RELU / f"{RELU}.html").read_text()
    assert "relu: the visible case passes" in correct  # the visible check's message is there
    assert "test_relu_hidden: 1 / 1" in correct
    shortcut = (root / "feedback" / "r_shortcut" / RELU / f"{RELU}.html").read_text()
    assert "called dlcourse.ref.activations.relu_forward" in shortcut  # the teaching message
    assert "hidden tests failed (CheckFailure)" in shortcut
    reader = (root / "feedback" / "r_reads_notebook_file" / RELU / f"{RELU}.html").read_text()
    assert "it contains hidden-test text" in reader
    # the student's print inside relu during the hidden test is withheld; the visible one is shown
    spy = (root / "feedback" / "r_prints_its_inputs" / RELU / f"{RELU}.html").read_text()
    assert "relu got [-1.  2.]" in spy


# --- limits and settings --------------------------------------------------------------------


def test_notebook_time_limit_stops_a_slow_submission(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    release(root)
    # every cell stays under the cell timeout; the notebook as a whole does not
    slow = "import time\n\ndef add(a, b):\n    time.sleep(30)\n    return a + b"
    submit(root, "slow", answered(release_path(root), {**CORRECT, "add": slow}))
    (result,) = autograde(root, NAME, jobs=2, cell_timeout=60, notebook_time_limit=2.5)
    assert result.status.startswith("not graded: timeout (stopped after")
    assert "2.5 s per notebook" in result.status
    assert not (root / "autograded" / "slow").exists()


def test_limits_come_from_the_config_and_are_checked(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    course = Course.load(root)
    limits = GradingLimits().resolved(course)
    assert (limits.jobs, limits.cell_timeout, limits.notebook_time_limit, limits.memory_limit_mb) == (1, 300, 900, 4096)
    with pytest.raises(CourseError, match="--jobs must be at least 1") as info:
        GradingLimits(jobs=0).resolved(course)
    assert info.value.exit_code == 2
    arguments = kernel_arguments(course, 100)
    assert arguments[0] == "--IPKernelApp.log_level=ERROR"
    assert "RLIMIT_AS, (104857600, 104857600)" in arguments[1]
    assert kernel_arguments(course, 0) == ["--IPKernelApp.log_level=ERROR"]


def test_bad_setting_type_is_a_usage_error(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.DlcourseGrading.jobs = 'many'\n")
    with pytest.raises(CourseError, match="bad DlcourseGrading setting") as info:
        GradingLimits().resolved(Course.load(root))
    assert info.value.exit_code == 2


def test_stderr_as_stdout_only_touches_graded_cells() -> None:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x"), nbformat.v4.new_code_cell("y")]
    )
    for cell in nb.cells:
        cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="warning\n")]
    nb.cells[1].metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1}
    stderr_as_stdout(nb)
    assert [c.outputs[0]["name"] for c in nb.cells] == ["stderr", "stdout"]


# --- command line ---------------------------------------------------------------------------


def test_cli_autograde_feedback_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_course(tmp_path / "course")
    release(root)
    submit(root, "alice", answered(release_path(root), CORRECT))
    submit(root, "bob", text="{")
    assert main(["autograde", NAME, "--root", str(root), "--jobs", "2", "--cell-timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-2] == "1 graded, 1 not graded, 2 in all"
    assert "bob: not graded: corrupt notebook" in captured.err
    assert main(["feedback", NAME, "--root", str(root)]) == 0
    assert capsys.readouterr().out == f"wrote feedback/alice/{NAME}/{NAME}.html\n"
    assert main(["feedback", NAME, "--root", str(root), "--student", "bob"]) == 1
    assert "no autograded submission of 01-add for bob" in capsys.readouterr().err
    out = tmp_path / "export.csv"
    assert main(["export", "--root", str(root), "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    rows = out.read_text().splitlines()
    assert rows[2] == "alice,5,graded,,2,3"
    assert rows[3].startswith("bob,,not graded: corrupt notebook") and rows[3].endswith(",,")


def test_cli_rejects_bad_jobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_course(tmp_path / "course")
    assert main(["autograde", NAME, "--root", str(root), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
    assert main(["export", "--root", str(root)]) == 1
    assert "run `dlcourse autograde NAME` first" in capsys.readouterr().err


# --- end to end on the real 04-backprop notebook (slow: run with -m notebooks) -----------------


@pytest.mark.notebooks
def test_04_backprop_class_end_to_end(tmp_path: Path) -> None:
    """Solution, blank release and a shortcut through dlcourse.ref, graded in parallel; feedback leak-free."""
    import shutil

    from course_fixtures import REPO_ROOT

    name = "04-backprop"
    root = tmp_path / "course"
    root.mkdir()
    shutil.copyfile(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(REPO_ROOT / "solutions" / name, root / "solutions" / name)
    release(root, [name])
    solution = root / "solutions" / name / f"{name}.ipynb"
    shortcut = nbformat.read(str(solution), as_version=4)
    for cell in shortcut.cells:
        if cell.get("id") == "affine-forward-solution":
            cell.source += (
                "\n\nfrom dlcourse.ref import affine_forward as _key\n\n"
                "def affine_forward(x, w, b):\n    return _key(x, w, b)\n"
            )
    submit_to(root, name, "solution", nbformat.read(str(solution), as_version=4))
    submit_to(root, name, "blank", nbformat.read(str(root / "notebooks" / name / f"{name}.ipynb"), as_version=4))
    submit_to(root, name, "shortcut", shortcut)
    results = {r.student: r for r in autograde(root, name, jobs=2, cell_timeout=120)}
    assert results["solution"].score == results["solution"].max_score
    assert results["blank"].score == 0
    lost = {gid for gid, (got, best) in results["shortcut"].per_cell.items() if got < best}
    # two_layer_net calls the student's affine_forward, so it loses its points too
    assert {"affine-forward-test", "affine-forward-hidden"} <= lost
    assert "called dlcourse.ref" in results["shortcut"].notebooks[0].errors["affine-forward-test"]
    hidden = hidden_tests(Assignment.load(Course.load(root), name).notebook(name))
    assert hidden.hidden_lines
    for page in feedback(root, name):
        text = page.read_text(encoding="utf-8")
        assert "hidden=True" not in text and "BEGIN HIDDEN" not in text, page
        for line in hidden.hidden_lines:
            assert line not in text, (page, line)


def test_hidden_lines_exclude_what_the_release_shows(tmp_path: Path) -> None:
    """A line that is both visible and inside a hidden block (the check's import) is no secret."""
    from dlcourse.course.notebook import GradedCell, NotebookModel

    shared = "from dlcourse.checks.backprop import check_gradient_descent"
    test = GradedCell(
        index=0,
        grade_id="gd-test",
        kind="test",
        cell_type="code",
        points=1,
        source=f"{shared}\ncheck_gradient_descent(gradient_descent)",
    )
    hidden_cell = GradedCell(
        index=1,
        grade_id="gd-hidden",
        kind="test",
        cell_type="code",
        points=1,
        source=f"### BEGIN HIDDEN TESTS\n{shared}\ncheck_gradient_descent(gradient_descent, hidden=True)\n"
        "### END HIDDEN TESTS",
    )
    hidden = hidden_tests(NotebookModel(tmp_path / "x.ipynb", (test, hidden_cell)))
    assert hidden.hidden_cells == {"gd-hidden"}
    assert hidden.hidden_lines == ("check_gradient_descent(gradient_descent, hidden=True)",)
    assert not hidden.leaks(f"{shared}\ncheck_gradient_descent(gradient_descent)")
    assert hidden.leaks("check_gradient_descent(gradient_descent, hidden=True)")
