"""Instructor tooling: release, validate and autograde the course on top of nbgrader, and the CLI.

nbgrader itself is imported only when a function needs it, so importing this package is cheap.

- :func:`find_course_root`, :class:`Course` -- the course folder and its ``nbgrader_config.py``
- :func:`release`, :func:`release_bytes` -- generate ``notebooks/`` from ``solutions/`` (deterministic)
- :func:`validate` -- releases current, solutions score full marks, blank releases score zero
- :func:`autograde`, :func:`autograde_notebook`, :func:`write_grades_csv` -- grading
- :func:`check_source_notebook`, :func:`notebook_model`, :func:`read_notebook` -- the notebook model
- :func:`collect` -- an LMS zip into ``submitted/``; :func:`feedback` -- HTML without hidden tests;
  :func:`export_grades` -- the gradebook as a CSV for an LMS upload
- :class:`CourseError` -- the one exception all of these raise
"""

from __future__ import annotations

from dlcourse.course.collect import CollectReport, collect
from dlcourse.course.config import Course, find_course_root, load_config
from dlcourse.course.errors import CourseError
from dlcourse.course.export import export_grades
from dlcourse.course.feedback import feedback
from dlcourse.course.grading import (
    NotebookScore,
    SubmissionResult,
    autograde,
    autograde_notebook,
    grade_submission,
    sync_gradebook,
    write_grades_csv,
)
from dlcourse.course.notebook import (
    GradedCell,
    NotebookModel,
    check_source_notebook,
    notebook_model,
    read_notebook,
)
from dlcourse.course.release import committed_bytes, release, release_bytes, release_differences
from dlcourse.course.validate import ValidationResult, format_table, validate

__all__ = [
    "CollectReport",
    "Course",
    "CourseError",
    "GradedCell",
    "NotebookModel",
    "NotebookScore",
    "SubmissionResult",
    "ValidationResult",
    "autograde",
    "autograde_notebook",
    "check_source_notebook",
    "collect",
    "committed_bytes",
    "export_grades",
    "feedback",
    "find_course_root",
    "format_table",
    "grade_submission",
    "load_config",
    "notebook_model",
    "read_notebook",
    "release",
    "release_bytes",
    "release_differences",
    "sync_gradebook",
    "validate",
    "write_grades_csv",
]
