"""One assignment of a course: its source notebooks' models, built once and passed around.

Grading a submission, grading a class, writing feedback and exporting grades all need the same
facts about an assignment: which notebooks it has, their graded cells in order, and the maximum
score. :class:`Assignment` reads the instructor notebooks once and answers all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlcourse.course.config import Course
from dlcourse.course.errors import CourseError
from dlcourse.course.notebook import NotebookModel, check_source_notebook, notebook_model

__all__ = ["Assignment"]


@dataclass(frozen=True)
class Assignment:
    """Assignment ``name``: the model of each of its source notebooks, sorted by file name."""

    name: str
    notebooks: tuple[NotebookModel, ...]

    @classmethod
    def load(cls, course: Course, name: str) -> Assignment:
        """Read the source notebooks of ``name`` (``solutions/NAME/*.ipynb``) without checking them."""
        return cls(name, tuple(notebook_model(p) for p in course.source_notebooks(name)))

    @classmethod
    def checked(cls, course: Course, name: str) -> Assignment:
        """Read and check the source notebooks of ``name``: :class:`CourseError` lists every problem.

        What a release and the gradebook need (see :func:`.check_source_notebook`).
        """
        return cls(name, tuple(check_source_notebook(p) for p in course.source_notebooks(name)))

    @property
    def notebook_ids(self) -> list[str]:
        """The notebook ids nbgrader uses (file names without ``.ipynb``), in order."""
        return [m.name for m in self.notebooks]

    @property
    def max_score(self) -> float:
        """Total points of the assignment."""
        return float(sum(m.max_score for m in self.notebooks))

    @property
    def cells(self) -> list[tuple[str, str]]:
        """``(notebook id, grade_id)`` of every graded cell, in notebook order."""
        return [(m.name, gid) for m in self.notebooks for gid in m.grade_ids]

    @property
    def cell_ids(self) -> frozenset[str]:
        """The ``grade_id`` of every nbgrader cell (graded or not) of every notebook."""
        return frozenset().union(*(m.cell_ids for m in self.notebooks))

    def notebook(self, notebook_id: str) -> NotebookModel:
        """The model of notebook ``notebook_id``; :class:`CourseError` when the assignment has none."""
        for model in self.notebooks:
            if model.name == notebook_id:
                return model
        raise CourseError(
            f"{self.name} has no notebook {notebook_id} (its notebooks: {', '.join(self.notebook_ids) or 'none'})"
        )

    def notebook_for(self, path: Path) -> str:
        """Which notebook of the assignment the file at ``path`` stands for: same name, or the only one."""
        if path.stem in self.notebook_ids:
            return path.stem
        if len(self.notebooks) == 1:
            return self.notebooks[0].name
        raise CourseError(
            f"{path.name} is none of the notebooks of {self.name} ({', '.join(self.notebook_ids)}); pass notebook_id"
        )
