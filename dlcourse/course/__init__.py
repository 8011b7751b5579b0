"""Instructor tooling: release, validate and autograde the course on top of nbgrader, and the CLI.

nbgrader itself is imported only when a function needs it, so importing this package is cheap.

Modules, lowest first (each imports only modules above it in this list):

- ``errors`` -- :class:`CourseError`, the one exception all of these raise, and exit codes
- ``config``, ``settings`` -- :class:`Course` (the folder and its ``nbgrader_config.py``), dlcourse's settings
- ``cells`` -- :func:`cell_role`: what nbgrader makes of a cell, the one reader of its metadata
- ``notebook`` -- :func:`read_notebook`, :func:`notebook_model`, :func:`check_source_notebook`
- ``assignment`` -- :class:`Assignment`: an assignment's notebook models and max score, built once
- ``release`` -- :func:`release`, :func:`release_bytes`: ``notebooks/`` from ``solutions/`` (deterministic)
- ``kernel`` -- ``GradingExecute``: nbgrader's ``Execute`` with a kernel client that never sleeps through a reply
- ``results`` -- :class:`SubmissionResult`, :class:`NotebookScore`, :func:`read_scores`, saved statuses
- ``gradebook`` -- :func:`sync_gradebook`, ``record_autograded``: the writes to the real gradebook
- ``submission`` -- :func:`grade_submission`: one submission; :func:`autograde_notebook`: one file
- ``limits`` -- ``GradingLimits``: what each submission runs under
- ``sandbox`` -- the bubblewrap sandbox of each submission's kernel (``sandbox_launcher``: its first program)
- ``job`` -- one grading job: a submission in, its status and autograded notebooks out
- ``cluster`` -- grading jobs on a Dask cluster (``--scheduler``)
- ``parallel`` -- :func:`autograde`: a class, in a pool of worker processes or on a Dask cluster
- ``validate`` -- :func:`validate`: releases current, solutions score full marks, blank releases zero
- ``collect`` -- an LMS zip into ``submitted/``; ``feedback`` -- HTML without hidden tests;
  ``export`` -- :func:`write_grades_csv`, :func:`export_grades`: grades as CSV
- ``cli`` -- the ``dlcourse`` command
"""

from __future__ import annotations

from dlcourse.course.assignment import Assignment
from dlcourse.course.cells import CellRole, cell_role
from dlcourse.course.collect import CollectReport, collect
from dlcourse.course.config import Course, find_course_root, load_config
from dlcourse.course.errors import CourseError
from dlcourse.course.export import export_grades, write_grades_csv
from dlcourse.course.feedback import feedback
from dlcourse.course.gradebook import sync_gradebook
from dlcourse.course.notebook import (
    GradedCell,
    NotebookModel,
    check_source_notebook,
    notebook_model,
    read_notebook,
)
from dlcourse.course.parallel import autograde
from dlcourse.course.release import committed_bytes, release, release_bytes, release_differences
from dlcourse.course.results import NotebookScore, SubmissionResult
from dlcourse.course.submission import autograde_notebook, grade_submission
from dlcourse.course.validate import ValidationResult, format_table, validate

__all__ = [
    "Assignment",
    "CellRole",
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
    "cell_role",
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
