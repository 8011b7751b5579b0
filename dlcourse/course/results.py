"""What grading gives: a score per notebook and a result per submission, read from the gradebook.

:class:`SubmissionResult` and :class:`NotebookScore` are frozen dataclasses of plain values
(strings, floats, tuples, dicts), so they pickle and cross process boundaries as they are. A
submission that was not graded has a status ``not graded: <reason>`` and no score, never a 0.
The last status of every submission is also kept on disk (:func:`save_statuses`), for
``dlcourse export``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dlcourse.ansi import strip_ansi
from dlcourse.course.assignment import Assignment
from dlcourse.course.cells import cell_role
from dlcourse.course.config import Course, nbgrader_environment
from dlcourse.course.errors import CourseError
from dlcourse.course.notebook import read_notebook

__all__ = [
    "GRADED",
    "NO_SANDBOX",
    "STATUS_FILE",
    "NotebookScore",
    "SubmissionResult",
    "cell_errors",
    "read_scores",
    "read_statuses",
    "save_statuses",
]

#: The status of a submission that nbgrader graded.
GRADED = "graded"
#: How a sandbox label starts when the kernel ran without a sandbox (``"none (why)"``).
NO_SANDBOX = "none"
#: Where the last status of every submission is kept (``export`` reads it): inside ``autograded/``,
#: which is gitignored, as a dot-file that nbgrader's ``*/NAME`` globs never match.
STATUS_FILE = ".dlcourse-status.json"


@dataclass(frozen=True)
class NotebookScore:
    """nbgrader's automatic (or manual, where a grader gave one) score of one notebook.

    ``per_cell`` maps each graded cell's ``grade_id`` to ``(score, max_score)``; ``errors`` maps
    the ``grade_id`` of each cell that lost points to why (the error it raised, or its stderr).
    """

    notebook: str
    score: float
    max_score: float
    per_cell: dict[str, tuple[float, float]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SubmissionResult:
    """The outcome of grading one student's submission of one assignment.

    ``status`` is ``"graded"`` or ``"not graded: <reason>"``; a submission that was not graded
    has no notebooks and no score (``score`` is ``None``), never a 0.
    """

    student: str
    assignment: str
    status: str
    max_score: float
    notebooks: tuple[NotebookScore, ...] = ()
    #: The sandbox the kernel ran in (:attr:`dlcourse.course.sandbox.SandboxInfo.label`), ``""`` when no kernel ran.
    sandbox: str = ""

    @classmethod
    def not_graded(cls, student: str, assignment: Assignment, reason: str) -> SubmissionResult:
        """The result of a submission that was not graded, and why."""
        return cls(student, assignment.name, f"not graded: {reason}", assignment.max_score)

    @property
    def graded(self) -> bool:
        """Whether nbgrader graded the submission."""
        return self.status == GRADED

    @property
    def unsandboxed(self) -> bool:
        """Whether the student's code ran without a sandbox, with the grader's permissions."""
        return self.sandbox.startswith(NO_SANDBOX)

    @property
    def score(self) -> float | None:
        """Total score, ``None`` when not graded."""
        return float(sum(nb.score for nb in self.notebooks)) if self.graded else None

    @property
    def per_cell(self) -> dict[str, tuple[float, float]]:
        """``(score, max)`` per graded cell, keyed ``grade_id`` (``notebook/grade_id`` with several notebooks)."""
        return {self._key(nb, gid): value for nb in self.notebooks for gid, value in nb.per_cell.items()}

    @property
    def errors(self) -> dict[str, str]:
        """Why each cell lost points (its error or stderr), keyed like :attr:`per_cell`."""
        return {self._key(nb, gid): why for nb in self.notebooks for gid, why in nb.errors.items()}

    def _key(self, nb: NotebookScore, grade_id: str) -> str:
        return f"{nb.notebook}/{grade_id}" if len(self.notebooks) > 1 else grade_id


def read_scores(course: Course, assignment: Assignment, student: str) -> tuple[NotebookScore, ...]:
    """Per-notebook scores of a graded submission, from the gradebook, cells in notebook order.

    The errors come from the autograded notebooks in ``autograded/<student>/<assignment>/``.
    """
    from nbgrader.api import Gradebook

    scores = []
    with nbgrader_environment(), Gradebook(course.db_url, course.course_id) as gb:
        for model in assignment.notebooks:
            nb = gb.find_submission_notebook(model.name, assignment.name, student)
            grades = {g.name: (float(g.score or 0.0), float(g.max_score)) for g in nb.grades}
            ids = model.grade_ids
            order = [gid for gid in ids if gid in grades] + sorted(set(grades) - set(ids))
            per_cell = {gid: grades[gid] for gid in order}
            path = course.autograded_dir / student / assignment.name / f"{model.name}.ipynb"
            lost = {gid for gid, (got, best) in per_cell.items() if got < best}
            errors = {gid: why for gid, why in cell_errors(path).items() if gid in lost}
            scores.append(NotebookScore(model.name, float(nb.score), float(nb.max_score), per_cell, errors))
    return tuple(scores)


def cell_errors(path: Path) -> dict[str, str]:
    """What each test cell of an autograded notebook raised or wrote to stderr (first line), by ``grade_id``."""
    try:
        nb = read_notebook(path)
    except CourseError:
        return {}
    errors = {}
    for cell in nb.cells:
        role = cell_role(cell)
        if role is None or not role.is_test or cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                if out.get("ename") in ("CellTimeoutError", "KeyboardInterrupt"):
                    errors[role.grade_id] = "timeout: the cell ran longer than the per-cell limit"
                else:
                    errors[role.grade_id] = strip_ansi(f"{out.get('ename')}: {out.get('evalue')}").strip()
                break
            if out.get("output_type") == "stream" and out.get("name") == "stderr" and role.grade_id not in errors:
                first = strip_ansi(str(out.get("text", ""))).strip().splitlines()
                errors[role.grade_id] = "wrote to stderr: " + (first[0] if first else "")
    return errors


def save_statuses(course: Course, name: str, statuses: Mapping[str, str]) -> None:
    """Merge ``{student: status}`` of assignment ``name`` into ``autograded/.dlcourse-status.json``."""
    if not statuses:
        return
    path = course.autograded_dir / STATUS_FILE
    known = read_statuses(course)
    known.setdefault(name, {}).update(statuses)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)  # atomic: an export running meanwhile reads the old file or the new one


def read_statuses(course: Course) -> dict[str, dict[str, str]]:
    """``{assignment: {student: status}}`` from the last autograde runs (empty when none)."""
    path = course.autograded_dir / STATUS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
