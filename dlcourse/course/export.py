"""Export the gradebook as one CSV for an LMS upload: a row per student, a column per assignment and cell.

Scores come from nbgrader's gradebook, so manual grades entered in the formgrader count. Layout
(Canvas's import format, which other LMSs read too): a header row, a ``Points Possible`` row, then
one row per student with, for each assignment, its total, a status and the points of each graded
cell (``<assignment>: <grade_id>``). A submission that the last ``dlcourse autograde`` could not
grade has an empty total and its reason as status, never a zero.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from dlcourse.course.config import Course, nbgrader_environment
from dlcourse.course.errors import CourseError

__all__ = ["POINTS_POSSIBLE", "export_grades"]

POINTS_POSSIBLE = "Points Possible"


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def export_grades(root: Path | str, names: Iterable[str] | None = None, path: Path | str | None = None) -> Path:
    """Write the grades of ``names`` (default: every assignment in the gradebook) to ``path``.

    Default ``path``: ``<root>/grades-export.csv``. Raises :class:`CourseError` when the gradebook
    holds no graded assignment.
    """
    from nbgrader.api import Gradebook, MissingEntry

    from dlcourse.course.notebook import notebook_model
    from dlcourse.course.parallel import read_statuses

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
        cells = {
            n: [(m.name, gid) for m in (notebook_model(p) for p in course.source_notebooks(n)) for gid in m.grade_ids]
            for n in wanted
        }
        several = {n: len(course.source_notebooks(n)) > 1 for n in wanted}
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
                if submission is None or (status is not None and status != "graded"):
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
