"""The notebook model: read notebooks, find their nbgrader cells, and check instructor sources.

What each cell is comes from :func:`dlcourse.course.cells.cell_role`; an assignment's models
are built together, once, by :class:`dlcourse.course.assignment.Assignment`.

A source notebook (``solutions/NN-name/NN-name.ipynb``) must be valid nbformat, give every
nbgrader cell a unique ``grade_id``, give every test cell a positive number of points, and mark
the answer inside every code solution cell with ``### BEGIN SOLUTION`` / ``### END SOLUTION``.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dlcourse.course.cells import MANUAL, TEST, CellKind, CellRole, cell_role
from dlcourse.course.errors import CourseError

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "GradedCell",
    "NotebookModel",
    "check_source_notebook",
    "notebook_model",
    "read_notebook",
]

BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"


@dataclass(frozen=True)
class GradedCell:
    """One cell with nbgrader metadata.

    ``kind`` is ``"test"`` (autograded, has points), ``"solution"`` (student answer),
    ``"manual"`` (a solution cell graded by hand, has points), ``"task"`` or ``"locked"``
    (see :mod:`dlcourse.course.cells`).
    """

    index: int
    grade_id: str
    kind: CellKind
    cell_type: str
    points: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class NotebookModel:
    """A notebook's nbgrader cells, in notebook order."""

    path: Path
    cells: tuple[GradedCell, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """The notebook id nbgrader uses (the file name without ``.ipynb``)."""
        return self.path.stem

    @property
    def graded(self) -> tuple[GradedCell, ...]:
        """Cells that carry points (test cells and manually graded answers)."""
        return tuple(c for c in self.cells if c.points > 0 or c.kind in (TEST, MANUAL))

    @property
    def grade_ids(self) -> list[str]:
        """The ``grade_id`` of every graded cell, in notebook order."""
        return [c.grade_id for c in self.graded]

    @property
    def cell_ids(self) -> frozenset[str]:
        """The ``grade_id`` of every nbgrader cell, graded or not."""
        return frozenset(c.grade_id for c in self.cells if c.grade_id)

    @property
    def max_score(self) -> float:
        """Total points of the notebook."""
        return float(sum(c.points for c in self.graded))


def read_notebook(path: Path | str) -> NotebookNode:
    """Read a notebook file as an nbformat v4 ``NotebookNode``.

    Raises :class:`CourseError` whose message starts with ``corrupt notebook`` when the file is
    missing, not JSON or not a notebook at all. Schema warnings are ignored: nbgrader copes with
    notebooks saved by older front ends.
    """
    import nbformat

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CourseError(f"missing notebook ({path.name} not found)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"corrupt notebook ({path.name}: {exc})") from exc
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise CourseError(f"corrupt notebook ({path.name} is not valid JSON: {exc})") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
        _ = [cell.cell_type for cell in nb.cells]
    except Exception as exc:
        raise CourseError(
            f"corrupt notebook ({path.name} is not a Jupyter notebook: {type(exc).__name__}: {exc})"
        ) from exc
    return nb


def notebook_model(path: Path | str, nb: NotebookNode | None = None) -> NotebookModel:
    """The nbgrader cells of the notebook at ``path`` (read from disk unless ``nb`` is given)."""
    path = Path(path)
    nb = read_notebook(path) if nb is None else nb
    cells = []
    for index, cell in enumerate(nb.cells):
        role = cell_role(cell)
        if role is None:
            continue
        cells.append(
            GradedCell(
                index=index,
                grade_id=role.grade_id,
                kind=role.kind,
                cell_type=str(cell.cell_type),
                points=role.points,
                source=str(cell.source),
            )
        )
    return NotebookModel(path=path, cells=tuple(cells))


def check_source_notebook(path: Path | str) -> NotebookModel:
    """Read and check an instructor notebook; raise :class:`CourseError` listing every problem.

    Checks: readable JSON, valid nbformat (cell ids included, so releases are deterministic),
    unique ``grade_id``s, points on every test cell, solution markers in every code solution
    cell, and balanced hidden-test markers.
    """
    path = Path(path)
    try:
        nb = read_notebook(path)
    except CourseError as exc:
        raise CourseError(f"{path}: {exc.message}") from exc
    problems = _format_problems(path)
    problems.extend(_cell_problems(nb))
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise CourseError(f"{path} cannot be released:\n{listed}")
    return notebook_model(path, nb)


def _format_problems(path: Path) -> list[str]:
    """Schema problems of the file as stored (nbformat's reader silently repairs some of them).

    Missing cell ids matter most: nbformat fills them in with random ids when reading, so a
    release generated from such a file would change on every run.
    """
    import nbformat

    raw = json.loads(path.read_text(encoding="utf-8"))
    version = f"{raw.get('nbformat')}.{raw.get('nbformat_minor')}"
    problems = []
    if (raw.get("nbformat"), raw.get("nbformat_minor", 0)) >= (4, 5):
        missing = [i for i, cell in enumerate(raw.get("cells", [])) if not cell.get("id")]
        if missing:
            problems.append(
                f"not a valid nbformat {version} notebook: cells {missing} have no 'id' "
                "(open and save it in JupyterLab, or run nbformat's normalize)"
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(nbformat.from_dict(raw))
    except nbformat.ValidationError as exc:
        problems.append(f"not a valid nbformat {version} notebook: {_first_line(exc)}")
    return problems


def _cell_problems(nb: NotebookNode) -> list[str]:
    """Problems with the nbgrader metadata and markers of each cell."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        role = cell_role(cell)
        where = f"cell {index}"
        if role is not None:
            grade_id = role.grade_id
            where = f"cell {index} ({grade_id or None})"
            if not grade_id:
                problems.append(f"cell {index} has nbgrader metadata but no grade_id")
            elif grade_id in seen:
                problems.append(f"grade_id {grade_id!r} is used by cells {seen[grade_id]} and {index}")
            else:
                seen[grade_id] = index
            problems.extend(_metadata_problems(where, cell, role))
        problems.extend(_marker_problems(where, cell, role))
    return problems


def _metadata_problems(where: str, cell: NotebookNode, role: CellRole) -> list[str]:
    """Missing points on graded cells, missing solution markers in code solution cells."""
    problems = []
    if role.needs_points:
        points = role.declared_points
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
            problems.append(f"{where} is graded but has no positive 'points' (got {points!r})")
    if role.is_solution and cell.cell_type == "code":
        source = str(cell.source)
        if BEGIN_SOLUTION not in source or END_SOLUTION not in source:
            problems.append(
                f"{where} is a solution cell without '### {BEGIN_SOLUTION}' and '### {END_SOLUTION}'"
            )
    return problems


def _marker_problems(where: str, cell: NotebookNode, role: CellRole | None) -> list[str]:
    """Solution or hidden-test markers that nbgrader would ignore or choke on."""
    source = str(cell.source)
    problems = []
    if source.count(BEGIN_SOLUTION) != source.count(END_SOLUTION):
        problems.append(f"{where} has unbalanced '### {BEGIN_SOLUTION}' / '### {END_SOLUTION}' markers")
    elif BEGIN_SOLUTION in source and not (role and role.is_solution):
        problems.append(f"{where} has solution markers but is not marked as a solution cell")
    if source.count(BEGIN_HIDDEN) != source.count(END_HIDDEN):
        problems.append(f"{where} has unbalanced '### {BEGIN_HIDDEN}' / '### {END_HIDDEN}' markers")
    elif BEGIN_HIDDEN in source and not (role and role.is_grade):
        problems.append(f"{where} has hidden tests but is not a graded test cell")
    return problems


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message (jsonschema errors run to pages)."""
    text = str(getattr(exc, "message", "") or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
