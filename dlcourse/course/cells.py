"""What nbgrader makes of a notebook cell: its ``metadata.nbgrader``, read in this one place.

nbgrader marks a cell with flags (``grade``, ``solution``, ``locked``, ``task``), a ``grade_id``
and ``points``, and reads them with ``nbgrader.utils.is_grade``/``is_solution``/``is_task``.
:func:`cell_role` turns the flags into one of five kinds, the way nbgrader treats the cell:

============  ======================  ===================================================
kind          flags                   what nbgrader does with it
============  ======================  ===================================================
``test``      grade                   scores it from its outputs (an error or stderr: 0)
``manual``    grade and solution      the student's answer, scored by a person
``solution``  solution                the student's answer, not scored
``task``      task                    a task (markdown) scored by a person
``locked``    none of the above       restored from its checksum if a student edits it
============  ======================  ===================================================

Everything in :mod:`dlcourse.course` that asks "is this a test cell?" asks :func:`cell_role`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["LOCKED", "MANUAL", "SOLUTION", "TASK", "TEST", "CellKind", "CellRole", "cell_role"]

CellKind = Literal["test", "manual", "solution", "task", "locked"]
TEST: CellKind = "test"
MANUAL: CellKind = "manual"
SOLUTION: CellKind = "solution"
TASK: CellKind = "task"
LOCKED: CellKind = "locked"


@dataclass(frozen=True)
class CellRole:
    """One cell's nbgrader metadata, classified.

    ``grade_id`` is ``""`` when the metadata has none; ``points`` is 0 when absent or not a
    number, and ``declared_points`` is the value as written (the source check reports bad ones).
    """

    kind: CellKind
    grade_id: str
    points: float
    declared_points: object = None

    @property
    def is_test(self) -> bool:
        """Autograded from its outputs: nbgrader scores it 0 when it raises or writes to stderr."""
        return self.kind == TEST

    @property
    def is_grade(self) -> bool:
        """nbgrader's ``grade`` flag: the cell has a score in the gradebook (test or manual)."""
        return self.kind in (TEST, MANUAL)

    @property
    def is_solution(self) -> bool:
        """nbgrader's ``solution`` flag: the student writes this cell."""
        return self.kind in (SOLUTION, MANUAL)

    @property
    def needs_points(self) -> bool:
        """A cell nbgrader scores (test, manual or task), which must declare positive points."""
        return self.kind in (TEST, MANUAL, TASK)


def cell_role(cell: Mapping[str, Any]) -> CellRole | None:
    """The nbgrader role of ``cell`` (a notebook cell), ``None`` when it has no nbgrader metadata."""
    meta = cell.get("metadata", {}).get("nbgrader")
    if not meta:
        return None
    declared = meta.get("points")
    return CellRole(
        kind=_kind(meta),
        grade_id=str(meta.get("grade_id") or ""),
        points=_points(declared),
        declared_points=declared,
    )


def _kind(meta: Mapping[str, Any]) -> CellKind:
    """The flags as nbgrader reads them (a task is a task whatever else is set)."""
    if meta.get("task"):
        return TASK
    if meta.get("grade"):
        return MANUAL if meta.get("solution") else TEST
    if meta.get("solution"):
        return SOLUTION
    return LOCKED


def _points(declared: Any) -> float:
    """The points of a cell as nbgrader counts them (``float(points)``), 0 when absent or not a number."""
    try:
        return float(declared or 0)
    except (TypeError, ValueError):
        return 0.0
