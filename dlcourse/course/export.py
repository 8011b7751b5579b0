"""Grades as CSV files: the results of one autograde run, and the gradebook for an LMS upload.

:func:`write_grades_csv` writes what ``dlcourse autograde`` just graded: a row per submission.

:func:`export_grades` writes the whole gradebook: a row per student, a column per assignment and
cell. Scores come from nbgrader's gradebook, so manual grades entered in the formgrader count. Layout
(Canvas's import format, which other LMSs read too): a header row, a ``Points Possible`` row, then
one row per student with, for each assignment, its total, a status and the points of each graded
cell (``<assignment>: <grade_id>``). A submission that the last ``dlcourse autograde`` could not
grade has an empty total and its reason as status, never a zero.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from dlcourse.course.assignment import Assignment
from dlcourse.course.config import Course, nbgrader_environment
from dlcourse.course.errors import CourseError
from dlcourse.course.results import GRADED, SubmissionResult, read_statuses

__all__ = ["POINTS_POSSIBLE", "export_grades", "write_grades_csv"]

POINTS_POSSIBLE = "Points Possible"


def _fmt(value: float | None) -> str:
    """A score as the CSV shows it: ``2`` rather than ``2.0``, empty when there is none."""
    return "" if value is None else f"{value:g}"


def write_grades_csv(results: Sequence[SubmissionResult], path: Path | str) -> Path:
    """Write ``student, assignment, score, max_score, status`` and one column per graded cell.

    Cells appear in notebook order; a submission that was not graded has empty score cells. When
    a submission ran without a sandbox, a last column ``sandbox`` says so for every row.
    """
    path = Path(path)
    cells: dict[str, None] = {}
    for result in results:
        cells.update(dict.fromkeys(result.per_cell))
    # a last column "sandbox" when any submission ran unsandboxed: said where it matters, and
    # sandboxed runs keep the columns an LMS import already knows
    loud = any(r.unsandboxed for r in results)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        extra = ["sandbox"] if loud else []
        writer.writerow(["student", "assignment", "score", "max_score", "status", *cells, *extra])
        for r in results:
            per_cell = r.per_cell
            points = [_fmt(per_cell[c][0]) if c in per_cell else "" for c in cells]
            row = [r.student, r.assignment, _fmt(r.score), _fmt(r.max_score), r.status, *points]
            writer.writerow(row + ([r.sandbox] if loud else []))
    return path


def export_grades(root: Path | str, names: Iterable[str] | None = None, path: Path | str | None = None) -> Path:
    """Write the grades of ``names`` (default: every assignment in the gradebook) to ``path``.

    Default ``path``: ``<root>/grades-export.csv``. Raises :class:`CourseError` when the gradebook
    holds no graded assignment.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course = Course.load(root)
    statuses = read_statuses(course)
    with nbgrader_environment(), Gradebook(course.db_url, course.course_id) as gb:
        in_db = [a.name for a in gb.assignments]
        wanted = course.resolve(names) if names else sorted(n for n in in_db if n in course.assignments())
        unknown = [n for n in wanted if n not in in_db]
        if not wanted or unknown:
            raise CourseError(
                f"nothing to export for {', '.join(unknown) or 'this course'}: run `dlcourse autograde NAME` first"
            )
        assignments = {n: Assignment.load(course, n) for n in wanted}
        cells = {n: a.cells for n, a in assignments.items()}
        several = {n: len(a.notebooks) > 1 for n, a in assignments.items()}
        header = ["student"]
        possible = [POINTS_POSSIBLE]
        for n in wanted:
            assignment = gb.find_assignment(n)
            header += [n, f"{n}: status"]
            possible += [_fmt(assignment.max_score), ""]
            for nb_id, gid in cells[n]:
                header.append(f"{n}: {nb_id + '/' if several[n] else ''}{gid}")
                possible.append(_fmt(gb.find_grade_cell(gid, nb_id, n).max_score))
        students = sorted({s.id for s in gb.students} | {s for n in wanted for s in statuses.get(n, {})})
        rows = []
        for student in students:
            row = [student]
            for n in wanted:
                status = statuses.get(n, {}).get(student)
                try:
                    submission = gb.find_submission(n, student)
                except MissingEntry:
                    submission = None
                if submission is None or (status is not None and status != GRADED):
                    row += ["", status or "no submission"] + [""] * len(cells[n])
                    continue
                row += [_fmt(submission.score), "needs manual grading" if submission.needs_manual_grade else "graded"]
                for nb_id, gid in cells[n]:
                    try:
                        row.append(_fmt(gb.find_grade(gid, nb_id, n, student).score))
                    except MissingEntry:
                        row.append("")
            rows.append(row)
    out = Path(path) if path is not None else course.root / "grades-export.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerow(possible)
        writer.writerows(rows)
    return out
