"""Tests of ``dlcourse.course`` on small synthetic courses (see ``course_fixtures``).

The notebooks executed here (through nbgrader) take about a second each; the whole file runs
in well under a minute.
"""

from __future__ import annotations

import csv
import json
import pickle
import shutil
from pathlib import Path

import nbformat
import pytest
from course_fixtures import (
    CORRECT,
    MAX_SCORE,
    NAME,
    PARTIAL,
    POINTS,
    answered,
    make_course,
    release_path,
    source_notebook,
    source_path,
    submit,
    write_notebook,
)

from dlcourse.ansi import strip_ansi
from dlcourse.course import (
    Assignment,
    Course,
    CourseError,
    NotebookScore,
    SubmissionResult,
    autograde,
    autograde_notebook,
    check_source_notebook,
    committed_bytes,
    find_course_root,
    notebook_model,
    release,
    release_bytes,
    cell_role,
    validate,
    write_grades_csv,
)
from dlcourse.course.config import sqlite_url
from dlcourse.course.errors import EXIT_USAGE, nbgrader_error_text
from dlcourse.course.limits import GradingLimits, execute_config
from dlcourse.course.parallel import build_template, prepare_job
from dlcourse.course.submission import grade_in_directory
from dlcourse.course.validate import format_table


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A synthetic course whose release is current."""
    root = make_course(tmp_path / "course")
    release(root)
    return root


# --- finding and loading the course -------------------------------------------------------


def test_find_course_root_walks_up(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    nested = root / "solutions" / NAME
    assert find_course_root(nested) == root.resolve()
    assert find_course_root(source_path(root)) == root.resolve()


def test_find_course_root_without_config_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(CourseError, match=r"nbgrader_config\.py") as info:
        find_course_root(tmp_path)
    assert info.value.exit_code == EXIT_USAGE
    assert str(tmp_path.resolve()) in info.value.message


def test_course_config_is_loaded_from_the_file(tmp_path: Path) -> None:
    from nbgrader.preprocessors import Execute, OverwriteCells

    root = make_course(tmp_path / "course").resolve()
    course = Course.load(root)
    assert course.course_id == "dlcourse"
    assert course.source_dir == root / "solutions"
    assert course.release_dir == root / "notebooks"
    assert course.submitted_dir == root / "submitted"
    assert course.db_url == f"sqlite:///{root / 'gradebook.db'}"
    assert course.assignments() == [NAME]
    # nbgrader's own classes see the settings (Execute subclasses ExecutePreprocessor)
    assert Execute(config=course.config).timeout == 300
    assert OverwriteCells(config=course.config).add_missing_cells is True


def test_broken_config_is_a_usage_error(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = undefined_name\n"
    )
    with pytest.raises(CourseError, match="NameError") as info:
        Course.load(root)
    assert info.value.exit_code == EXIT_USAGE


def test_unknown_assignment_lists_the_known_ones(course: Path) -> None:
    with pytest.raises(CourseError, match=r"unknown assignment\(s\): 99-nope .*01-add") as info:
        release(course, ["99-nope"])
    assert info.value.exit_code == EXIT_USAGE


# --- the notebook model -------------------------------------------------------------------


def test_notebook_model_finds_graded_cells(tmp_path: Path) -> None:
    path = write_notebook(source_notebook(free_points=1.5), tmp_path / "nb.ipynb")
    model = notebook_model(path)
    assert model.name == "nb"
    assert model.grade_ids == ["test_add", "test_mul", "test_free"]
    assert model.max_score == MAX_SCORE + 1.5
    assert [c.kind for c in model.cells] == ["solution", "test", "solution", "test", "test"]


# The cell types nbgrader's "Create Assignment" toolbar makes, and the kind each one is here.
NBGRADER_CELL_TYPES = {
    "manually graded answer": ({"solution": True, "grade": True, "points": 2}, "manual"),
    "manually graded task": ({"task": True, "locked": True, "points": 2}, "task"),
    "autograded answer": ({"solution": True}, "solution"),
    "autograder tests": ({"grade": True, "locked": True, "points": 2}, "test"),
    "read-only": ({"locked": True}, "locked"),
}


@pytest.mark.parametrize("cell_type", sorted(NBGRADER_CELL_TYPES))
def test_cell_role_agrees_with_nbgrader(cell_type: str) -> None:
    from nbgrader import utils

    flags, kind = NBGRADER_CELL_TYPES[cell_type]
    meta = {"grade": False, "solution": False, "locked": False, "task": False, **flags, "grade_id": "c1"}
    cell = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": meta})
    role = cell_role(cell)
    assert role is not None and (role.kind, role.grade_id) == (kind, "c1")
    assert role.is_grade == bool(utils.is_grade(cell))
    assert role.is_solution == bool(utils.is_solution(cell))
    assert (role.kind == "task") == bool(utils.is_task(cell))
    only_locked = utils.is_locked(cell) and not (utils.is_grade(cell) or utils.is_task(cell))
    assert (role.kind == "locked") == bool(only_locked)
    assert role.points == float(meta.get("points", 0))


def test_cell_role_of_cells_without_nbgrader_metadata_and_bad_points() -> None:
    assert cell_role(nbformat.v4.new_code_cell("x = 1")) is None
    assert cell_role(nbformat.v4.new_markdown_cell("text", metadata={"nbgrader": {}})) is None
    cell = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade": True, "points": "two"}})
    role = cell_role(cell)
    assert role is not None and (role.kind, role.grade_id, role.points, role.declared_points) == ("test", "", 0.0, "two")


def test_assignment_holds_the_models_of_its_notebooks(course: Path) -> None:
    assignment = Assignment.load(Course.load(course), NAME)
    assert assignment.notebook_ids == [NAME] and assignment.max_score == MAX_SCORE
    assert assignment.cells == [(NAME, gid) for gid in POINTS]
    assert assignment.cell_ids == {"add", "mul", *POINTS}
    assert assignment.notebook(NAME) is assignment.notebooks[0]
    assert assignment.notebook_for(Path("anything.ipynb")) == NAME  # the only notebook
    with pytest.raises(CourseError, match="01-add has no notebook 02-other"):
        assignment.notebook("02-other")


def test_assignment_checked_lists_the_problems(course: Path) -> None:
    raw = json.loads(source_path(course).read_text())
    raw["cells"][3]["metadata"]["nbgrader"]["points"] = 0
    source_path(course).write_text(json.dumps(raw))
    assert Assignment.load(Course.load(course), NAME).max_score == POINTS["test_mul"]
    with pytest.raises(CourseError, match="cell 3 \\(test_add\\) is graded but has no positive 'points'"):
        Assignment.checked(Course.load(course), NAME)


def test_results_of_several_notebooks_key_cells_by_notebook() -> None:
    first = NotebookScore("a", 1.0, 3.0, {"t1": (1.0, 1.0), "t2": (0.0, 2.0)}, {"t2": "AssertionError: no"})
    second = NotebookScore("b", 2.0, 2.0, {"t1": (2.0, 2.0)})
    result = SubmissionResult("s", "09-two", "graded", 5.0, (first, second))
    assert result.score == 3.0
    assert result.per_cell == {"a/t1": (1.0, 1.0), "a/t2": (0.0, 2.0), "b/t1": (2.0, 2.0)}
    assert result.errors == {"a/t2": "AssertionError: no"}
    single = SubmissionResult("s", "09-two", "graded", 3.0, (first,))
    assert list(single.per_cell) == ["t1", "t2"] and single.errors == {"t2": "AssertionError: no"}
    assert pickle.loads(pickle.dumps(result)) == result


def test_strip_ansi_removes_terminal_codes_only() -> None:
    coloured = "\x1b[0;31mValueError\x1b[0m: shapes (2,3) \x1b[1mand\x1b[22m [x]\x1b[2K"
    assert strip_ansi(coloured) == "ValueError: shapes (2,3) and [x]"


def _broken_sources() -> dict[str, tuple[str, str]]:
    """name -> (what to do to the source notebook JSON, expected message)."""
    return {
        "duplicate grade_id": ("duplicate", r"grade_id 'test_add' is used by cells 3 and 5"),
        "test cell without points": (
            "no_points",
            r"cell 3 \(test_add\) is graded but has no positive 'points'",
        ),
        "solution without markers": (
            "no_markers",
            r"cell 2 \(add\) is a solution cell without '### BEGIN SOLUTION'",
        ),
        "missing cell ids": ("no_ids", r"not a valid nbformat 4\.5 notebook"),
        "unbalanced hidden tests": ("hidden", r"unbalanced '### BEGIN HIDDEN TESTS'"),
    }


def _break(nb: dict, how: str) -> None:
    """Damage the JSON of the source notebook the way ``how`` says."""
    cells = nb["cells"]
    if how == "duplicate":
        cells[5]["metadata"]["nbgrader"]["grade_id"] = "test_add"
    elif how == "no_points":
        del cells[3]["metadata"]["nbgrader"]["points"]
    elif how == "no_markers":
        cells[2]["source"] = "def add(a, b):\n    return a + b"
    elif how == "no_ids":
        for cell in cells:
            del cell["id"]
    elif how == "hidden":
        cells[3]["source"] = "assert add(1, 2) == 3\n### BEGIN HIDDEN TESTS\nassert add(-1, 1) == 0"


@pytest.mark.parametrize("case", sorted(_broken_sources()))
def test_release_rejects_broken_sources(course: Path, case: str) -> None:
    how, message = _broken_sources()[case]
    before = release_path(course).read_bytes()
    nb = json.loads(source_path(course).read_text())
    _break(nb, how)
    source_path(course).write_text(json.dumps(nb))
    with pytest.raises(CourseError, match=message) as info:
        release(course)
    assert "cannot be released" in info.value.message
    assert release_path(course).read_bytes() == before  # notebooks/ untouched


def test_release_rejects_invalid_json(course: Path) -> None:
    source_path(course).write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(CourseError, match=r"corrupt notebook \(01-add\.ipynb is not valid JSON"):
        release(course)


def test_check_source_notebook_accepts_the_fixture(tmp_path: Path) -> None:
    path = write_notebook(source_notebook(), tmp_path / "ok.ipynb")
    assert check_source_notebook(path).grade_ids == ["test_add", "test_mul"]


# --- release --------------------------------------------------------------------------------


def test_release_strips_solutions_and_hidden_tests(course: Path) -> None:
    nb = nbformat.read(str(release_path(course)), as_version=4)
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    assert by_id["add"].source == (
        'def add(a, b):\n    # YOUR CODE HERE\n    raise NotImplementedError("Replace this line with your solution.")'
    )
    assert "return a * b" not in by_id["mul"].source
    assert by_id["test_add"].source == "assert add(1, 2) == 3"
    assert by_id["test_mul"].source == "assert mul(2, 3) == 6"
    assert by_id["test_mul"].metadata["nbgrader"]["points"] == POINTS["test_mul"]
    assert by_id["test_mul"].metadata["editable"] is False
    assert "HIDDEN" not in release_path(course).read_text()
    # what the author's kernel left behind is gone; what students and nbgrader need stays
    assert nb.metadata == {
        "kernelspec": source_notebook().metadata["kernelspec"],
        "language_info": {"name": "python"},
    }
    assert all(c.get("outputs", []) == [] for c in nb.cells)
    # the release needs no gradebook and does not create one
    assert not (course / "gradebook.db").exists()


def test_release_is_deterministic(course: Path, tmp_path: Path) -> None:
    first = release_path(course).read_bytes()
    release(course, [NAME])
    assert release_path(course).read_bytes() == first
    assert release_bytes(course, NAME) == {f"{NAME}.ipynb": first}
    # another checkout, elsewhere on disk, gives the same bytes
    other = make_course(tmp_path / "elsewhere" / "copy")
    assert release_bytes(other, NAME) == {f"{NAME}.ipynb": first}


def test_release_replaces_stale_files(course: Path) -> None:
    stale = course / "notebooks" / NAME / "old-data.csv"
    stale.write_text("x\n")
    (course / "solutions" / NAME / "data.csv").write_text("a,b\n1,2\n")
    written = release(course)
    assert sorted(p.name for p in written) == [f"{NAME}.ipynb", "data.csv"]
    assert not stale.exists()
    assert committed_bytes(course, NAME)["data.csv"] == b"a,b\n1,2\n"


# --- validate -------------------------------------------------------------------------------


def _by_check(results: list) -> dict[str, object]:
    return {r.check: r for r in results}


def test_validate_passes_for_a_good_course(course: Path) -> None:
    results = validate(course)
    checks = _by_check(results)
    assert list(checks) == [
        "source", "release current", "solution full marks", "blank scores zero", "solution runs cleanly"
    ]
    assert all(r.ok for r in results), format_table(results)
    assert checks["solution full marks"].message == f"{MAX_SCORE}/{MAX_SCORE}"
    assert not (course / "gradebook.db").exists()  # graded in a throwaway copy


def test_validate_fails_when_release_is_stale(course: Path) -> None:
    nb = source_notebook(mul_answer="return b * a")  # answers are stripped: this alone changes nothing
    write_notebook(nb, source_path(course))
    assert validate(course)[1].ok
    nb.cells[0].source += "\n\nA new sentence."
    write_notebook(nb, source_path(course))
    checks = _by_check(validate(course, [NAME]))
    stale = checks["release current"]
    assert not stale.ok
    assert "01-add.ipynb differs" in stale.message
    assert "run `dlcourse release 01-add`" in stale.message
    assert checks["solution full marks"].ok and checks["blank scores zero"].ok


def test_validate_fails_when_release_is_missing(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    stale = _by_check(validate(root))["release current"]
    assert not stale.ok and "01-add.ipynb is missing" in stale.message


def test_validate_fails_when_the_solution_is_wrong(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", add_answer="return a - b")
    release(root)
    checks = _by_check(validate(root))
    wrong = checks["solution full marks"]
    assert not wrong.ok
    assert "the solution scores 3/5" in wrong.message
    assert "test_add 0/2 (AssertionError" in wrong.message
    assert checks["release current"].ok and checks["blank scores zero"].ok


def test_validate_fails_when_the_blank_release_scores(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", free_points=1)
    release(root)
    checks = _by_check(validate(root))
    blank = checks["blank scores zero"]
    assert not blank.ok
    assert "the blank release scores 1/6" in blank.message
    assert "test_free 1/1" in blank.message
    assert checks["solution full marks"].ok


def test_validate_fails_when_a_cell_outside_the_tests_raises(tmp_path: Path) -> None:
    """Full marks are not enough: nbgrader goes on after an error, so a broken demonstration cell is reported."""
    root = make_course(tmp_path / "course")
    nb = nbformat.read(str(source_path(root)), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("plot = {}\nplot['missing']", id="demo"))
    write_notebook(nb, source_path(root))
    release(root)
    checks = _by_check(validate(root))
    assert checks["solution full marks"].ok and checks["blank scores zero"].ok
    clean = checks["solution runs cleanly"]
    assert not clean.ok
    assert clean.message == f"the solution raised: {NAME} cell {len(nb.cells) - 1}: KeyError: 'missing'"


def test_validate_reports_a_broken_source_without_grading(course: Path) -> None:
    nb = json.loads(source_path(course).read_text())
    _break(nb, "no_points")
    source_path(course).write_text(json.dumps(nb))
    (result,) = validate(course)
    assert (result.check, result.ok) == ("source", False)
    assert "has no positive 'points'" in result.message


def test_format_table_aligns_columns() -> None:
    from dlcourse.course import ValidationResult

    table = format_table(
        [
            ValidationResult("01-add", "source", True),
            ValidationResult("01-add", "release current", False, "x"),
        ]
    )
    assert table.splitlines() == [
        "assignment  check            result",
        "01-add      source           ok",
        "01-add      release current  FAIL: x",
    ]


# --- grading --------------------------------------------------------------------------------


def test_autograde_notebook_scores_per_cell(course: Path, tmp_path: Path) -> None:
    partial = write_notebook(answered(release_path(course), PARTIAL), tmp_path / "partial.ipynb")
    score = autograde_notebook(course, NAME, partial, student_id="pat")
    assert (score.notebook, score.score, score.max_score) == (NAME, 2.0, 5.0)
    assert score.per_cell == {"test_add": (2.0, 2.0), "test_mul": (0.0, 3.0)}
    assert score.errors == {"test_mul": "AssertionError:"}
    assert not (course / "gradebook.db").exists()


def test_one_grading_job_runs_in_its_own_folder(course: Path, tmp_path: Path) -> None:
    """The seam a sandbox or a remote worker uses: a folder in, a picklable result out, nothing else written."""
    submit(course, "alice", answered(release_path(course), PARTIAL))
    real = Course.load(course)
    template = build_template(real, NAME, tmp_path / "template")
    root = prepare_job(template, real.submitted_dir / "alice" / NAME, tmp_path / "job", NAME, "alice")
    config = execute_config(real, GradingLimits().resolved(real))
    # a configuration that names the real gradebook must not make the job write it
    config["CourseDirectory"] = {"db_url": sqlite_url(course / "gradebook.db")}
    result = grade_in_directory(root, NAME, "alice", config)
    assert result.graded and result.score == POINTS["test_add"]
    assert result.per_cell == {"test_add": (2.0, 2.0), "test_mul": (0.0, 3.0)}
    assert pickle.loads(pickle.dumps(result)) == result
    assert (root / "autograded" / "alice" / NAME / f"{NAME}.ipynb").is_file()
    assert not (course / "gradebook.db").exists() and not (course / "autograded").exists()


def test_autograde_notebook_refuses_a_corrupt_file(course: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    with pytest.raises(CourseError, match="not graded: corrupt notebook"):
        autograde_notebook(course, NAME, bad)


def test_autograde_grades_every_submission_and_writes_csv(course: Path) -> None:
    submit(course, "alice", answered(release_path(course), CORRECT))
    submit(course, "bob", answered(release_path(course), PARTIAL))
    submit(course, "carol", answered(release_path(course), {}))
    submit(course, "dave", text='{"cells": [')
    (course / "submitted" / "erin" / NAME).mkdir(parents=True)

    results = autograde(course, NAME)
    by_student = {r.student: r for r in results}
    assert list(by_student) == ["alice", "bob", "carol", "dave", "erin"]
    assert [by_student[s].score for s in ("alice", "bob", "carol")] == [5.0, 2.0, 0.0]
    assert by_student["bob"].per_cell == {"test_add": (2.0, 2.0), "test_mul": (0.0, 3.0)}
    assert by_student["dave"].score is None
    assert by_student["dave"].status.startswith(
        "not graded: corrupt notebook (01-add.ipynb is not valid JSON"
    )
    assert by_student["erin"].status == "not graded: missing notebook (01-add.ipynb not submitted)"

    path = write_grades_csv(results, course / "grades.csv")
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["student", "assignment", "score", "max_score", "status", "review", "test_add", "test_mul"]
    assert rows[1] == ["alice", NAME, "5", "5", "graded", "", "2", "3"]
    assert rows[2] == ["bob", NAME, "2", "5", "graded", "", "2", "0"]
    assert rows[3] == ["carol", NAME, "0", "5", "graded", "", "0", "0"]
    assert rows[4][:4] == ["dave", NAME, "", "5"] and rows[4][4].startswith("not graded: corrupt notebook")
    assert rows[4][5:] == ["", "", ""]
    assert rows[5][:5] == ["erin", NAME, "", "5", "not graded: missing notebook (01-add.ipynb not submitted)"]


def test_autograde_keeps_manual_grades(course: Path) -> None:
    from nbgrader.api import Gradebook

    submit(course, "bob", answered(release_path(course), PARTIAL))
    (first,) = autograde(course, NAME)
    assert first.score == 2.0
    db = Course.load(course).db_url
    with Gradebook(db, "dlcourse") as gb:
        grade = gb.find_grade("test_mul", NAME, NAME, "bob")
        grade.manual_score = 1.5
        gb.db.commit()
    (again,) = autograde(course, NAME, ["bob"])
    assert again.per_cell["test_mul"] == (1.5, 3.0)
    assert again.score == 3.5
    with Gradebook(db, "dlcourse") as gb:
        grade = gb.find_grade("test_mul", NAME, NAME, "bob")
        assert (grade.manual_score, grade.auto_score) == (1.5, 0.0)


def test_autograde_refuses_to_change_graded_cells(course: Path) -> None:
    submit(course, "alice", answered(release_path(course), CORRECT))
    autograde(course, NAME)
    write_notebook(source_notebook(free_points=1), source_path(course))
    with pytest.raises(CourseError, match="Cannot add or remove cells .* submissions") as info:
        autograde(course, NAME)
    assert "cannot record 01-add in the gradebook" in info.value.message


def test_autograde_restores_deleted_test_cells(course: Path) -> None:
    nb = answered(release_path(course), CORRECT)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_mul"]
    submit(course, "mallory", nb)
    (result,) = autograde(course, NAME)
    assert result.per_cell == {"test_add": (2.0, 2.0), "test_mul": (3.0, 3.0)}


# --- error text -----------------------------------------------------------------------------


def test_nbgrader_error_text_keeps_what_matters() -> None:
    result = {
        "success": False,
        "error": "Traceback (most recent call last):\n  ...\nnbgrader.converters.base.NbGraderException: Please see ...",
        "log": "[INFO] Updating/creating assignment '01-add'\n"
        "[ERROR] There was an error processing assignment: /tmp/x\n"
        "[ERROR] Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "    RuntimeError: Cannot add or remove cells for notebook '01-add'\n"
        "[ERROR] Please see the the above traceback for details on the specific errors on the above failures.\n",
    }
    assert nbgrader_error_text(result) == "RuntimeError: Cannot add or remove cells for notebook '01-add'"
    assert nbgrader_error_text({"success": False, "error": "Trace\nValueError: boom"}) == "ValueError: boom"


def test_sandbox_leaves_no_temporary_folders(
    course: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    release_bytes(course, NAME)
    assert list(scratch.iterdir()) == []
    shutil.rmtree(scratch)


def test_gradebook_schema_revision_matches_nbgrader(monkeypatch: pytest.MonkeyPatch) -> None:
    """dlcourse reads the revision in-process; nbgrader runs ``alembic heads``: they must agree."""
    import os
    import sys

    import nbgrader.api

    from dlcourse.course.config import _alembic_head

    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    assert _alembic_head() == nbgrader.api.get_alembic_version()
