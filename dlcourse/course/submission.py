"""Grade one submission: check it, run nbgrader's ``Autograde`` on it, read its scores back.

- :func:`submission_problem` says why a submission cannot be graded (missing, corrupt or
  another assignment's notebook): such a submission is reported ``not graded: ...`` and nbgrader
  never sees it, so it never gets a silent 0.
- :func:`grade_submission` grades ``submitted/<student>/<name>/`` of a course in this process,
  against that course's gradebook. ``validate`` and :func:`autograde_notebook` call it in
  throwaway courses; a grading job calls it through :func:`grade_in_directory`.
- :func:`grade_in_directory` is the whole of one grading job: a self-contained course folder in,
  a plain (picklable) :class:`.SubmissionResult` out, nothing written outside the folder. It is
  what a worker process runs (:mod:`dlcourse.course.parallel`), and what a sandbox or a
  remote worker would run.

Grading goes through nbgrader's ``Autograde``, which keeps manual grades: it only rewrites the
automatic score of each cell.
"""

from __future__ import annotations

import glob
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dlcourse.course.assignment import Assignment
from dlcourse.course.cells import cell_role
from dlcourse.course.config import Course, nbgrader_logger, run_converter, sqlite_url
from dlcourse.course.errors import CourseError
from dlcourse.course.notebook import read_notebook
from dlcourse.course.release import generate_assignment, sandbox
from dlcourse.course.results import GRADED, NotebookScore, SubmissionResult, read_scores

__all__ = [
    "autograde_notebook",
    "grade_in_directory",
    "grade_submission",
    "students",
    "submission_problem",
    "submit",
]


def students(course: Course, name: str) -> list[str]:
    """Students with a ``submitted/<student>/<name>/`` folder, sorted."""
    if not course.submitted_dir.is_dir():
        return []
    return sorted(p.name for p in course.submitted_dir.iterdir() if (p / name).is_dir())


def submit(course: Course, name: str, student: str, notebooks: Mapping[str, Path]) -> Path:
    """Copy ``{notebook id: file}`` to ``submitted/<student>/<name>/<id>.ipynb``, replacing what was there."""
    folder = course.submitted_dir / student / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for notebook_id, path in notebooks.items():
        shutil.copyfile(path, folder / f"{notebook_id}.ipynb")
    return folder


def submission_problem(course: Course, assignment: Assignment, student: str) -> str | None:
    """Why the submission cannot be graded (missing, corrupt or wrong-assignment notebook), or ``None``."""
    folder = course.submitted_dir / student / assignment.name
    for notebook_id in assignment.notebook_ids:
        path = folder / f"{notebook_id}.ipynb"
        if not path.exists():
            found = sorted(p.name for p in folder.glob("*.ipynb"))
            hint = f"; found {', '.join(found)}" if found else ""
            return f"missing notebook ({path.name} not submitted{hint})"
        try:
            nb = read_notebook(path)
        except CourseError as exc:
            return exc.message
        submitted = {role.grade_id for cell in nb.cells if (role := cell_role(cell)) and role.grade_id}
        wrong = _wrong_assignment(course, assignment, notebook_id, submitted)
        if wrong is not None:
            return wrong
    return None


def _wrong_assignment(course: Course, assignment: Assignment, notebook_id: str, submitted: set[str]) -> str | None:
    """A reason when submitted notebook ``notebook_id`` (its cells' ``grade_id``s) shares no cell with its source.

    Such a file is another assignment's notebook (or a fresh one) saved under this name: grading
    it would give a zero that looks real. The assignment it belongs to is named when it is known.
    """
    name = assignment.name
    file_name = f"{notebook_id}.ipynb"
    if submitted & assignment.notebook(notebook_id).cell_ids:
        return None
    if not submitted:
        return (
            f"wrong assignment ({file_name} has none of the cells of {name}: it was not made from "
            f"the released notebook)"
        )
    for other in course.assignments():
        if other != name and submitted & Assignment.load(course, other).cell_ids:
            return f"wrong assignment ({file_name} is a notebook of {other}, not {name})"
    return f"wrong assignment ({file_name} has none of the cells of {name})"


def grade_submission(course: Course, assignment: Assignment, student: str) -> SubmissionResult:
    """Autograde ``submitted/<student>/<name>/`` (forcing a regrade) and read the scores back.

    The course's gradebook must already know the assignment (:func:`.sync_gradebook`, or a
    course made with :func:`.generate_assignment` and ``database=True``). Never raises for a bad
    submission: the reason is in the result's ``status``.
    """
    from nbgrader.converters import Autograde

    name = assignment.name
    problem = submission_problem(course, assignment, student)
    if problem is None:
        coursedir = course.coursedir(assignment_id=name, student_id=glob.escape(student))
        app = Autograde(coursedir=coursedir, config=course.config, log=nbgrader_logger())
        app.force = True
        app.create_student = True
        try:
            run_converter(app, f"autograde {name} for {student}")
        except CourseError as exc:
            problem = "nbgrader failed: " + " / ".join(exc.message.splitlines()[1:] or [exc.message])
    if problem is not None:
        return SubmissionResult.not_graded(student, assignment, problem)
    return SubmissionResult(student, name, GRADED, assignment.max_score, read_scores(course, assignment, student))


def grade_in_directory(
    work: Path, name: str, student: str, config: dict[str, dict[str, Any]] | None = None
) -> SubmissionResult:
    """Grade ``student``'s submission of ``name`` in the self-contained course folder ``work``.

    ``work`` holds a course of its own: ``nbgrader_config.py``, the assignment's sources, a
    ``gradebook.db`` that knows the assignment, and ``submitted/<student>/<name>/``. ``config``
    (``{"Section": {"trait": value}}``, e.g. from :func:`.execute_config`) goes on top of the
    course's configuration. The gradebook used is always ``work/gradebook.db``, whatever the
    configuration says, so nothing outside ``work`` is written: the autograded notebooks stay
    in ``work/autograded/<student>/<name>/``. The result holds only plain values: it pickles.
    """
    work = Path(work).resolve()
    own = {"CourseDirectory": {"root": str(work), "db_url": sqlite_url(work / "gradebook.db")}}
    course = Course.load(work).with_config(config or {}).with_config(own)
    return grade_submission(course, Assignment.load(course, name), student)


def autograde_notebook(
    root: Path | str,
    assignment: str,
    notebook_path: Path | str,
    student_id: str = "student",
    notebook_id: str | None = None,
) -> NotebookScore:
    """Autograde one notebook file as ``student_id``'s submission of ``assignment``, in a throwaway course.

    ``notebook_id`` says which notebook of the assignment the file stands for (default: the one
    with the file's name, or the assignment's only notebook). The real gradebook is not touched.
    Raises :class:`CourseError` if the notebook could not be graded.
    """
    course = Course.load(root)
    (name,) = course.resolve([assignment])
    notebook_path = Path(notebook_path)
    model = Assignment.load(course, name)
    notebook_id = model.notebook(notebook_id).name if notebook_id else model.notebook_for(notebook_path)
    try:
        read_notebook(notebook_path)  # fail before building a throwaway course for nothing
    except CourseError as exc:
        raise CourseError(f"{notebook_path}: not graded: {exc.message}") from exc
    with sandbox(course, [name]) as tmp:
        generate_assignment(tmp, name, database=True)
        others = {p.stem: p for p in (tmp.release_dir / name).glob("*.ipynb") if p.stem != notebook_id}
        submit(tmp, name, student_id, {**others, notebook_id: notebook_path})
        # the instructor's own notebook: no sandbox, but the kernel client without stalled widget cells
        from dlcourse.course.kernel import grading_preprocessors

        result = grade_submission(tmp.with_config(grading_preprocessors(tmp.config)), model, student_id)
    if not result.graded:
        raise CourseError(f"{notebook_path}: {result.status}")
    return next(nb for nb in result.notebooks if nb.notebook == notebook_id)
