"""The limits every submission is graded under: jobs, per-cell timeout, per-notebook time, memory.

``None`` in :class:`GradingLimits` takes the value configured in ``nbgrader_config.py``
(``ExecutePreprocessor.timeout`` and the ``DlcourseGrading`` settings); :meth:`GradingLimits.resolved`
fills them in and checks them. :func:`execute_config` turns limits into the nbgrader settings a
grading job runs with, whatever runs the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlcourse.course.config import Course
from dlcourse.course.errors import EXIT_USAGE, CourseError

__all__ = ["GradingLimits", "execute_config", "kernel_arguments"]


@dataclass(frozen=True)
class GradingLimits:
    """What every submission runs under; ``None`` fields take the course's configured value."""

    jobs: int | None = None
    cell_timeout: float | None = None
    notebook_time_limit: float | None = None
    memory_limit_mb: int | None = None

    def resolved(self, course: Course) -> GradingLimits:
        """These limits with every ``None`` replaced by the course's setting, and checked."""
        from nbgrader.preprocessors import Execute

        from dlcourse.course.settings import grading_settings

        settings = grading_settings(course.config)
        limits = GradingLimits(
            jobs=self.jobs if self.jobs is not None else settings.jobs,
            cell_timeout=(
                self.cell_timeout if self.cell_timeout is not None else Execute(config=course.config).timeout
            ),
            notebook_time_limit=(
                self.notebook_time_limit if self.notebook_time_limit is not None else settings.notebook_time_limit
            ),
            memory_limit_mb=self.memory_limit_mb if self.memory_limit_mb is not None else settings.memory_limit_mb,
        )
        if not limits.jobs or limits.jobs < 1:
            raise CourseError(f"--jobs must be at least 1 (got {limits.jobs})", exit_code=EXIT_USAGE)
        for label, value in (("cell timeout", limits.cell_timeout), ("time limit", limits.notebook_time_limit)):
            if value is None or value <= 0:
                raise CourseError(f"the {label} must be positive (got {value})", exit_code=EXIT_USAGE)
        if limits.memory_limit_mb is None or limits.memory_limit_mb < 0:
            raise CourseError(
                f"the memory limit must be >= 0 MB (got {limits.memory_limit_mb})", exit_code=EXIT_USAGE
            )
        return limits


def kernel_arguments(course: Course, memory_limit_mb: int) -> list[str]:
    """nbgrader's configured kernel arguments plus the line that caps the kernel's address space."""
    from nbgrader.preprocessors import Execute

    arguments = list(Execute(config=course.config).extra_arguments)
    if memory_limit_mb > 0:
        limit = int(memory_limit_mb) * 1024 * 1024
        arguments.append(
            "--IPKernelApp.exec_lines=import resource as _dlcourse_resource; "
            f"_dlcourse_resource.setrlimit(_dlcourse_resource.RLIMIT_AS, ({limit}, {limit})); "
            "del _dlcourse_resource"
        )
    return arguments


def execute_config(course: Course, limits: GradingLimits) -> dict[str, dict[str, Any]]:
    """The nbgrader settings (``{"Execute": {...}}``) that apply resolved ``limits`` to one grading job.

    Plain JSON-able values, so they travel to a worker process (or another machine) as they are.
    """
    return {
        "Execute": {
            "timeout": int(max(1, round(float(limits.cell_timeout or 1)))),
            "extra_arguments": kernel_arguments(course, int(limits.memory_limit_mb or 0)),
        }
    }
