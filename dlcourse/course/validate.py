"""Prove that each assignment's grading works: current release, full marks, blank scores zero.

For each assignment, in a throwaway copy of the course (the real gradebook is never touched):

1. ``source``: the instructor notebooks pass the source checks;
2. ``release current``: ``notebooks/NAME/`` has the bytes ``dlcourse release NAME`` would write;
3. ``solution full marks``: the instructor notebook, submitted as a student, scores the maximum;
4. ``blank scores zero``: the freshly generated student notebook, submitted untouched, scores 0
   (a test cell that passes without student code gives points away);
5. ``solution runs cleanly``: in that graded solution, no cell at all raised (nbgrader goes on
   after an error, so a broken demonstration or widget cell would otherwise go unnoticed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dlcourse.course.assignment import Assignment
from dlcourse.course.config import Course
from dlcourse.course.errors import CourseError
from dlcourse.course.notebook import read_notebook
from dlcourse.course.release import (
    committed_bytes,
    generate_assignment,
    release_bytes,
    release_differences,
    sandbox,
)
from dlcourse.course.results import SubmissionResult
from dlcourse.course.submission import grade_submission, submit

__all__ = [
    "BLANK_STUDENT",
    "SOLUTION_STUDENT",
    "ValidationResult",
    "format_table",
    "validate",
    "validate_assignment",
]

SOLUTION_STUDENT = "solution"
BLANK_STUDENT = "blank"
SOLUTION_CHECK = "solution full marks"
BLANK_CHECK = "blank scores zero"
CLEAN_CHECK = "solution runs cleanly"


@dataclass(frozen=True)
class ValidationResult:
    """One check of one assignment: ``ok`` and, when it failed, what to do about it."""

    assignment: str
    check: str
    ok: bool
    message: str = ""

    @property
    def result(self) -> str:
        """``ok`` or ``FAIL: <message>`` as the table shows it."""
        return "ok" + (f" ({self.message})" if self.message else "") if self.ok else f"FAIL: {self.message}"


def validate(root: Path | str, names: Iterable[str] | None = None) -> list[ValidationResult]:
    """Run every check on each of ``names`` (all assignments when empty); see the module docstring."""
    course = Course.load(root)
    results: list[ValidationResult] = []
    for name in course.resolve(names):
        results.extend(validate_assignment(course, name))
    return results


def validate_assignment(course: Course, name: str) -> list[ValidationResult]:
    """The checks of one assignment; later checks are skipped when the source itself is broken."""
    try:
        assignment = Assignment.checked(course, name)
    except CourseError as exc:
        return [ValidationResult(name, "source", False, exc.message)]
    results = [ValidationResult(name, "source", True)]
    try:
        results.append(_check_current(course, name))
    except CourseError as exc:
        results.append(ValidationResult(name, "release current", False, exc.message))
    try:
        solution, blank, errors = _grade_solution_and_blank(course, assignment)
    except CourseError as exc:  # nbgrader could not even generate or grade: every later check fails
        return results + [
            ValidationResult(name, check, False, exc.message) for check in (SOLUTION_CHECK, BLANK_CHECK, CLEAN_CHECK)
        ]
    return results + [_check_solution(name, solution), _check_blank(name, blank), _check_clean(name, errors)]


def _check_current(course: Course, name: str) -> ValidationResult:
    """Whether the committed release has the bytes a fresh release would have."""
    differences = release_differences(release_bytes(course.root, name), committed_bytes(course.root, name))
    if not differences:
        return ValidationResult(name, "release current", True)
    where = course.release_dir.relative_to(course.root).as_posix()
    return ValidationResult(
        name,
        "release current",
        False,
        f"{where}/{name} is stale ({'; '.join(differences)}): run `dlcourse release {name}`",
    )


def _grade_solution_and_blank(
    course: Course, assignment: Assignment
) -> tuple[SubmissionResult, SubmissionResult, list[str]]:
    """Autograde the instructor notebooks and the untouched student notebooks as two students.

    Returns both results and the errors raised anywhere in the graded solution (``"NB cell I: Error: ..."``).
    """
    name = assignment.name
    with sandbox(course, [name]) as tmp:
        release = generate_assignment(tmp, name, database=True)
        submit(tmp, name, SOLUTION_STUDENT, {p.stem: p for p in tmp.source_notebooks(name)})
        submit(tmp, name, BLANK_STUDENT, {p.stem: p for p in sorted(release.glob("*.ipynb"))})
        solution = grade_submission(tmp, assignment, SOLUTION_STUDENT)
        blank = grade_submission(tmp, assignment, BLANK_STUDENT)
        return solution, blank, _cell_errors(tmp.autograded_dir / SOLUTION_STUDENT / name)


def _cell_errors(folder: Path) -> list[str]:
    """Every error output in the notebooks of ``folder``, as ``"NB cell I: Name: value"`` (first line)."""
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            notebook = read_notebook(path)
        except CourseError as exc:
            found.append(f"{path.stem}: {exc.message}")
            continue
        for index, cell in enumerate(notebook.cells):
            for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
                if output.get("output_type") == "error":
                    value = (str(output.get("evalue", "")).splitlines() or [""])[0][:160]
                    found.append(f"{path.stem} cell {index}: {output.get('ename', 'Error')}: {value}")
    return found


def _check_solution(name: str, result: SubmissionResult) -> ValidationResult:
    """The solution must be graded and score the maximum."""
    check = SOLUTION_CHECK
    if not result.graded:
        return ValidationResult(name, check, False, f"the solution was {result.status}")
    if result.score == result.max_score:
        return ValidationResult(name, check, True, f"{result.score:g}/{result.max_score:g}")
    errors = result.errors
    lost = [
        f"{gid} {got:g}/{best:g}" + (f" ({errors[gid]})" if errors.get(gid) else "")
        for gid, (got, best) in result.per_cell.items()
        if got < best
    ]
    return ValidationResult(
        name,
        check,
        False,
        f"the solution scores {result.score:g}/{result.max_score:g}; lost points: {', '.join(lost)}",
    )


def _check_blank(name: str, result: SubmissionResult) -> ValidationResult:
    """The untouched student notebook must be graded and score nothing."""
    check = BLANK_CHECK
    if not result.graded:
        return ValidationResult(name, check, False, f"the blank release was {result.status}")
    if result.score == 0:
        return ValidationResult(name, check, True)
    free = [f"{gid} {got:g}/{best:g}" for gid, (got, best) in result.per_cell.items() if got > 0]
    return ValidationResult(
        name,
        check,
        False,
        f"the blank release scores {result.score:g}/{result.max_score:g}: these test cells pass without "
        f"student code: {', '.join(free)}",
    )


def _check_clean(name: str, errors: Sequence[str]) -> ValidationResult:
    """No cell of the graded solution raised, graded or not."""
    if not errors:
        return ValidationResult(name, CLEAN_CHECK, True)
    return ValidationResult(name, CLEAN_CHECK, False, "the solution raised: " + "; ".join(errors))


def format_table(results: Sequence[ValidationResult]) -> str:
    """The results as an aligned ``assignment  check  result`` table (continuation lines indented)."""
    rows = [("assignment", "check", "result")] + [(r.assignment, r.check, r.result) for r in results]
    width_a = max(len(a) for a, _, _ in rows)
    width_c = max(len(c) for _, c, _ in rows)
    lines = []
    for assignment, check, result in rows:
        first, *rest = result.splitlines() or [""]
        lines.append(f"{assignment:<{width_a}}  {check:<{width_c}}  {first}".rstrip())
        lines.extend(" " * (width_a + width_c + 4) + line for line in rest)
    return "\n".join(lines)
