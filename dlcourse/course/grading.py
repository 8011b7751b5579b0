"""Autograde submissions with nbgrader and export the grades.

:func:`grade_submission` grades one submission in-process (``validate`` and
:func:`autograde_notebook` use it in throwaway courses); :func:`autograde` grades a class in
parallel worker processes under time and memory limits (:mod:`dlcourse.course.parallel`). A
submission whose notebook is missing, corrupt or belongs to another assignment is never a silent
0: it is reported ``not graded: ...`` and nbgrader never sees it. Grading goes through nbgrader's
``Autograde``, which keeps manual grades: it only rewrites the automatic score of each cell.
"""

from __future__ import annotations

import csv
import glob
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dlcourse.course.config import Course, nbgrader_environment, nbgrader_logger, run_converter
from dlcourse.course.errors import CourseError
from dlcourse.course.notebook import notebook_model, read_notebook
from dlcourse.course.release import check_sources, generate_assignment, sandbox

__all__ = [
    "GRADED",
    "NotebookScore",
    "SubmissionResult",
    "autograde",
    "autograde_notebook",
    "grade_submission",
    "read_scores",
    "students",
    "submission_problem",
    "submit",
    "sync_gradebook",
    "write_grades_csv",
]

GRADED = "graded"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


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

    @property
    def graded(self) -> bool:
        """Whether nbgrader graded the submission."""
        return self.status == GRADED

    @property
    def score(self) -> float | None:
        """Total score, ``None`` when not graded."""
        return float(sum(nb.score for nb in self.notebooks)) if self.graded else None

    @property
    def per_cell(self) -> dict[str, tuple[float, float]]:
        """``(score, max)`` per graded cell, keyed ``grade_id`` (``notebook/grade_id`` with several notebooks)."""
        several = len(self.notebooks) > 1
        return {
            (f"{nb.notebook}/{gid}" if several else gid): value
            for nb in self.notebooks
            for gid, value in nb.per_cell.items()
        }


def sync_gradebook(course: Course, name: str) -> None:
    """Record assignment ``name`` (its graded cells and their sources) in the course gradebook.

    nbgrader's autograde needs them and ``dlcourse release`` does not write them. Runs nbgrader's
    generate step in a temporary copy, so ``notebooks/`` is untouched. Existing submissions and
    grades stay; nbgrader refuses (and this raises) if graded cells were added or removed since
    students were graded.
    """
    check_sources(course, name)
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


def submission_problem(course: Course, name: str, student: str) -> str | None:
    """Why the submission cannot be graded (missing, corrupt or wrong-assignment notebook), or ``None``."""
    folder = course.submitted_dir / student / name
    for source in course.source_notebooks(name):
        path = folder / source.name
        if not path.exists():
            found = sorted(p.name for p in folder.glob("*.ipynb"))
            hint = f"; found {', '.join(found)}" if found else ""
            return f"missing notebook ({source.name} not submitted{hint})"
        try:
            nb = read_notebook(path)
        except CourseError as exc:
            return exc.message
        wrong = _wrong_assignment(course, name, source, nb)
        if wrong is not None:
            return wrong
    return None


_submission_problem = submission_problem  # the name before collect/parallel autograde


def _grade_ids(nb: object) -> set[str]:
    """The ``grade_id`` of every nbgrader cell of a notebook."""
    ids = set()
    for cell in getattr(nb, "cells", []):
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if meta.get("grade_id"):
            ids.add(str(meta["grade_id"]))
    return ids


def _wrong_assignment(course: Course, name: str, source: Path, nb: object) -> str | None:
    """A reason when the submitted notebook shares no nbgrader cell with the assignment's notebook.

    Such a file is another assignment's notebook (or a fresh one) saved under this name: grading
    it would give a zero that looks real. The assignment it belongs to is named when it is known.
    """
    submitted = _grade_ids(nb)
    if submitted & {c.grade_id for c in notebook_model(source).cells}:
        return None
    if not submitted:
        return (
            f"wrong assignment ({source.name} has none of the cells of {name}: it was not made from "
            f"the released notebook)"
        )
    for other in course.assignments():
        if other == name:
            continue
        for path in course.source_notebooks(other):
            if submitted & {c.grade_id for c in notebook_model(path).cells}:
                return f"wrong assignment ({source.name} is a notebook of {other}, not {name})"
    return f"wrong assignment ({source.name} has none of the cells of {name})"


def grade_submission(course: Course, name: str, student: str) -> SubmissionResult:
    """Autograde ``submitted/<student>/<name>/`` (forcing a regrade) and read the scores back.

    The gradebook must already know the assignment (:func:`sync_gradebook`). Never raises for
    a bad submission: the reason is in the result's ``status``.
    """
    from nbgrader.converters import Autograde

    models = [notebook_model(p) for p in course.source_notebooks(name)]
    max_score = float(sum(m.max_score for m in models))
    problem = submission_problem(course, name, student)
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
        return SubmissionResult(student, name, f"not graded: {problem}", max_score)
    scores = read_scores(course, name, student, [m.grade_ids for m in models], [m.name for m in models])
    return SubmissionResult(student, name, GRADED, max_score, tuple(scores))


def read_scores(
    course: Course, name: str, student: str, grade_ids: Sequence[Sequence[str]], notebook_ids: Sequence[str]
) -> list[NotebookScore]:
    """Per-notebook scores of a graded submission, from the gradebook, cells in notebook order."""
    from nbgrader.api import Gradebook

    scores = []
    with nbgrader_environment(), Gradebook(course.db_url, course.course_id) as gb:
        for notebook_id, ids in zip(notebook_ids, grade_ids, strict=True):
            nb = gb.find_submission_notebook(notebook_id, name, student)
            grades = {g.name: (float(g.score or 0.0), float(g.max_score)) for g in nb.grades}
            order = [gid for gid in ids if gid in grades] + sorted(set(grades) - set(ids))
            per_cell = {gid: grades[gid] for gid in order}
            path = course.autograded_dir / student / name / f"{notebook_id}.ipynb"
            lost = {gid for gid, (got, best) in per_cell.items() if got < best}
            errors = {gid: why for gid, why in _cell_errors(path).items() if gid in lost}
            scores.append(NotebookScore(notebook_id, float(nb.score), float(nb.max_score), per_cell, errors))
    return scores


_read_scores = read_scores


def _cell_errors(path: Path) -> dict[str, str]:
    """What each graded cell of an autograded notebook raised or wrote to stderr (first line)."""
    try:
        nb = read_notebook(path)
    except CourseError:
        return {}
    errors = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                if out.get("ename") in ("CellTimeoutError", "KeyboardInterrupt"):
                    errors[meta["grade_id"]] = "timeout: the cell ran longer than the per-cell limit"
                else:
                    errors[meta["grade_id"]] = _ANSI.sub("", f"{out.get('ename')}: {out.get('evalue')}").strip()
                break
            if out.get("output_type") == "stream" and out.get("name") == "stderr" and meta["grade_id"] not in errors:
                first = _ANSI.sub("", str(out.get("text", ""))).strip().splitlines()
                errors[meta["grade_id"]] = "wrote to stderr: " + (first[0] if first else "")
    return errors


def autograde(
    root: Path | str,
    name: str,
    student_ids: Iterable[str] | None = None,
    *,
    jobs: int | None = None,
    cell_timeout: float | None = None,
    notebook_time_limit: float | None = None,
    memory_limit_mb: int | None = None,
    progress: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Autograde every ``submitted/*/NAME/`` (or only ``student_ids``) of the course at ``root``.

    The gradebook is brought up to date with the source first. Submissions are graded by up to
    ``jobs`` worker processes under a per-cell timeout, a per-notebook time limit and a memory
    limit (each ``None`` takes the value configured in ``nbgrader_config.py``); see
    :mod:`dlcourse.course.parallel`. Raises :class:`CourseError` only for course-level problems
    (unknown assignment, invalid source, nbgrader refusing the gradebook update, bad limits);
    each submission's outcome is in its result.
    """
    from dlcourse.course.parallel import GradingLimits, autograde_class

    course = Course.load(root)
    (name,) = course.resolve([name])
    limits = GradingLimits(jobs, cell_timeout, notebook_time_limit, memory_limit_mb).resolved(course)
    sync_gradebook(course, name)
    wanted = list(student_ids) if student_ids is not None else students(course, name)
    return autograde_class(course, name, wanted, limits, progress)


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
    (assignment,) = course.resolve([assignment])
    notebook_path = Path(notebook_path)
    notebook_id = notebook_id or _notebook_id_for(course, assignment, notebook_path)
    try:
        read_notebook(notebook_path)  # fail before building a throwaway course for nothing
    except CourseError as exc:
        raise CourseError(f"{notebook_path}: not graded: {exc.message}") from exc
    with sandbox(course, [assignment]) as tmp:
        generate_assignment(tmp, assignment, database=True)
        others = {p.stem: p for p in (tmp.release_dir / assignment).glob("*.ipynb") if p.stem != notebook_id}
        submit(tmp, assignment, student_id, {**others, notebook_id: notebook_path})
        result = grade_submission(tmp, assignment, student_id)
    if not result.graded:
        raise CourseError(f"{notebook_path}: {result.status}")
    return next(nb for nb in result.notebooks if nb.notebook == notebook_id)


def _notebook_id_for(course: Course, assignment: str, path: Path) -> str:
    """Which notebook of ``assignment`` the file at ``path`` stands for."""
    ids = [p.stem for p in course.source_notebooks(assignment)]
    if path.stem in ids:
        return path.stem
    if len(ids) == 1:
        return ids[0]
    raise CourseError(
        f"{path.name} is none of the notebooks of {assignment} ({', '.join(ids)}); pass notebook_id"
    )


def _fmt(value: float | None) -> str:
    """A score as the CSV shows it: ``2`` rather than ``2.0``, empty when there is none."""
    return "" if value is None else f"{value:g}"


def write_grades_csv(results: Sequence[SubmissionResult], path: Path | str) -> Path:
    """Write ``student, assignment, score, max_score, status`` and one column per graded cell.

    Cells appear in notebook order; a submission that was not graded has empty score cells.
    """
    path = Path(path)
    cells: dict[str, None] = {}
    for result in results:
        cells.update(dict.fromkeys(result.per_cell))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "assignment", "score", "max_score", "status", *cells])
        for r in results:
            per_cell = r.per_cell
            points = [_fmt(per_cell[c][0]) if c in per_cell else "" for c in cells]
            writer.writerow([r.student, r.assignment, _fmt(r.score), _fmt(r.max_score), r.status, *points])
    return path
