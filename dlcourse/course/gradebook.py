"""Writes to the course's real gradebook: the assignment before grading, each graded submission after.

nbgrader's gradebook is one SQLite file, and SQLite handles concurrent writers badly, so only
the process that runs a class writes it, one submission at a time; grading jobs work against
gradebooks of their own (see :mod:`dlcourse.course.parallel`). Scores are read back with
:func:`dlcourse.course.results.read_scores`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from dlcourse.course.assignment import Assignment
from dlcourse.course.cells import cell_role
from dlcourse.course.config import Course, nbgrader_environment, nbgrader_logger
from dlcourse.course.errors import CourseError
from dlcourse.course.notebook import read_notebook
from dlcourse.course.release import generate_assignment, sandbox

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["record_autograded", "stderr_as_stdout", "sync_gradebook"]


def sync_gradebook(course: Course, assignment: Assignment) -> None:
    """Record ``assignment`` (its graded cells and their sources) in the course gradebook.

    ``assignment`` should come from :meth:`.Assignment.checked`. nbgrader's autograde needs the
    record and ``dlcourse release`` does not write it. Runs nbgrader's generate step in a
    temporary copy, so ``notebooks/`` is untouched. Existing submissions and grades stay;
    nbgrader refuses (and this raises) if graded cells were added or removed since students were
    graded.
    """
    name = assignment.name
    with sandbox(course, [name]) as tmp:
        try:
            generate_assignment(
                tmp.with_config({"CourseDirectory": {"db_url": course.db_url}}), name, database=True
            )
        except CourseError as exc:
            detail = exc.message.split("\n", 1)[-1]
            raise CourseError(
                f"cannot record {name} in the gradebook ({course.db_url}), which autograde needs:\n{detail}"
            ) from exc


def record_autograded(course: Course, assignment: Assignment, student: str, autograded: Path) -> None:
    """Move a job's autograded notebooks (folder ``autograded``) into ``autograded/`` and save their scores.

    ``SaveAutoGrades`` is the preprocessor nbgrader's own ``Autograde`` ends with: it sets each
    cell's automatic score and leaves the manual score and comments a grader entered untouched.
    """
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import SaveAutoGrades

    name = assignment.name
    dest = course.autograded_dir / student / name
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(autograded, dest)
    submitted = course.submitted_dir / student / name
    timestamp = course.coursedir().get_existing_timestamp(str(submitted))
    with nbgrader_environment():
        with Gradebook(course.db_url, course.course_id) as gb:
            gb.update_or_create_student(student)
            if timestamp:
                gb.update_or_create_submission(name, student, timestamp=timestamp)
            else:
                gb.update_or_create_submission(name, student)
        for notebook_id in assignment.notebook_ids:
            nb = stderr_as_stdout(read_notebook(dest / f"{notebook_id}.ipynb"))
            resources = {
                "nbgrader": {"notebook": notebook_id, "assignment": name, "student": student, "db_url": course.db_url}
            }
            SaveAutoGrades(log=nbgrader_logger()).preprocess(nb, resources)


def stderr_as_stdout(nb: NotebookNode) -> NotebookNode:
    """``nb`` with the stderr output of its test cells relabelled stdout, for scoring only.

    nbgrader scores a test cell 0 when anything in it writes to stderr: a warning from NumPy, a
    debug print to ``sys.stderr`` in the student's function. Scores here depend on errors alone;
    the autograded notebook on disk (and so the feedback) keeps the stderr text as it was.
    """
    for cell in nb.cells:
        role = cell_role(cell)
        if role is not None and role.is_test and cell.cell_type == "code":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    out["name"] = "stdout"
    return nb
