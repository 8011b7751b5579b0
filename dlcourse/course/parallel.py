"""Grade a class in parallel: one worker process per submission, the gradebook written by the parent only.

Design (nbgrader's gradebook is one SQLite file, and SQLite handles concurrent writers badly):

1. The parent records the assignment in the real gradebook (:func:`.sync_gradebook`) and builds a
   *template*: a throwaway course with the assignment's sources and its own gradebook.
2. Submissions that cannot be graded (missing, corrupt, wrong assignment) are reported at once,
   without starting anything.
3. Every other submission is graded by a worker process in its own copy of the template: nbgrader's
   ``Autograde`` runs there, against the copy's gradebook, and writes the autograded notebooks
   into the copy. Workers never open the real gradebook. Up to ``jobs`` run at the same time.
4. The kernel of each worker runs under an address-space limit (``RLIMIT_AS``, set by the kernel's
   first line), nbgrader's per-cell timeout interrupts a cell that runs too long, and the parent
   kills a worker, its kernel included, that takes longer than the per-notebook time limit.
5. When a worker finishes, the parent (one at a time) moves its autograded notebooks into
   ``autograded/`` and runs nbgrader's own ``SaveAutoGrades`` on them against the real gradebook:
   it writes the automatic score of each cell and leaves manual scores and comments alone.

A worker that dies, a kernel that dies and a time limit that runs out all give
``not graded: <reason>``; the other submissions are graded anyway.

What this does not do: isolate student code. It runs as the grader's user, so it can read and
write the grader's files (the gradebook, other students' submissions, ``~/.ssh``), reach the
network, start processes that outlive the kernel, and lift its own soft limits (as root, its hard
ones too). A real sandbox needs the kernel in a separate, unprivileged identity: a container or
VM per worker (or nsjail/bubblewrap) with a read-only file system except its own copy of the
submission, no network, cgroup limits on memory, CPU time and process count, and only the
autograded notebook copied back out. This module's worker boundary (one directory in, one
notebook out, the parent alone writes the gradebook) is where such a sandbox would plug in.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlcourse.course.config import CONFIG_FILENAME, Course, nbgrader_environment, nbgrader_logger, sqlite_url
from dlcourse.course.errors import EXIT_USAGE, CourseError
from dlcourse.course.notebook import notebook_model, read_notebook

__all__ = ["GradingLimits", "STATUS_FILE", "autograde_class", "read_statuses"]

#: Where the last status of every submission is kept (``export`` reads it): inside ``autograded/``,
#: which is gitignored, as a dot-file that nbgrader's ``*/NAME`` globs never match.
STATUS_FILE = ".dlcourse-status.json"
_RESULT_FILE = "result.json"
_POLL_S = 0.05


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


def _worker(template: str, work: str, submitted: str, name: str, student: str, settings: dict[str, Any]) -> None:
    """Grade one submission inside a copy of the template course (runs in a child process).

    Writes ``<work>/result.json`` with the status; the autograded notebooks stay in the copy.
    """
    from dlcourse.course.grading import grade_submission

    threads = str(settings.pop("_threads", 1))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)  # the kernel inherits these
    root = Path(work) / "course"
    shutil.copytree(template, root)
    base = Course.load(root)
    here = {"root": str(root), "db_url": sqlite_url(root / "gradebook.db")}
    course = base.with_config({"CourseDirectory": here, **settings})
    shutil.copytree(submitted, course.submitted_dir / student / name)
    result = grade_submission(course, name, student)
    (Path(work) / _RESULT_FILE).write_text(json.dumps({"status": result.status}), encoding="utf-8")


@dataclass
class _Running:
    student: str
    process: Any
    work: Path
    started: float
    deadline: float


def _kill_tree(pid: int) -> None:
    """Kill a worker and everything it started (its kernel runs in a session of its own)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        return
    try:
        parent = psutil.Process(pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.Error:
        return
    for proc in family:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(family, timeout=5)


def _context() -> Any:
    """Fork where it is safe and cheap (Linux: nbgrader is already imported), spawn elsewhere."""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def autograde_class(
    course: Course,
    name: str,
    students: Iterable[str],
    limits: GradingLimits,
    progress: Callable[[Any], None] | None = None,
) -> list[Any]:
    """Grade ``students``' submissions of ``name`` under ``limits`` (resolved); results in input order.

    The gradebook must already know the assignment. ``progress`` is called with each result as
    it is known.
    """
    from dlcourse.course.grading import GRADED, SubmissionResult, submission_problem
    from dlcourse.course.release import generate_assignment, sandbox

    models = [notebook_model(p) for p in course.source_notebooks(name)]
    max_score = float(sum(m.max_score for m in models))
    wanted = list(dict.fromkeys(students))
    results: dict[str, Any] = {}
    statuses: dict[str, str] = {}

    def done(result: Any) -> None:
        results[result.student] = result
        statuses[result.student] = result.status
        if progress is not None:
            progress(result)

    queue: deque[str] = deque()
    for student in wanted:
        problem = submission_problem(course, name, student)
        if problem is None:
            queue.append(student)
        else:
            done(SubmissionResult(student, name, f"not graded: {problem}", max_score))

    settings: dict[str, Any] = {
        "Execute": {
            "timeout": int(max(1, round(float(limits.cell_timeout or 1)))),
            "extra_arguments": kernel_arguments(course, int(limits.memory_limit_mb or 0)),
        },
        # one BLAS/OpenMP thread per kernel: course notebooks use small arrays, and several
        # kernels with a thread per core each spin-wait against each other (set the variables
        # yourself to override)
        "_threads": 1,
    }
    per_notebook = float(limits.notebook_time_limit or 1)
    time_limit = per_notebook * max(1, len(models))
    running: dict[str, _Running] = {}
    if queue:
        scratch = Path(tempfile.mkdtemp(prefix="dlcourse-grade-")).resolve()
        try:
            with sandbox(course, [name]) as tmp:
                generate_assignment(tmp, name, database=True)
                template = scratch / "template"
                shutil.copytree(tmp.root, template)
            shutil.copyfile(course.root / CONFIG_FILENAME, template / CONFIG_FILENAME)
            ctx = _context()
            counter = 0
            while queue or running:
                while queue and len(running) < int(limits.jobs or 1):
                    student = queue.popleft()
                    counter += 1
                    work = scratch / f"job{counter}"
                    work.mkdir()
                    proc = ctx.Process(
                        target=_worker,
                        args=(
                            str(template),
                            str(work),
                            str(course.submitted_dir / student / name),
                            name,
                            student,
                            json.loads(json.dumps(settings)),
                        ),
                        daemon=False,
                    )
                    proc.start()
                    now = time.monotonic()
                    running[student] = _Running(student, proc, work, now, now + time_limit)
                for student, job in list(running.items()):
                    if job.process.exitcode is not None:
                        job.process.join()
                        del running[student]
                        done(_finish(course, name, job, max_score, models, GRADED))
                    elif time.monotonic() > job.deadline:
                        _kill_tree(job.process.pid)
                        job.process.join()
                        del running[student]
                        reason = (
                            f"timeout (stopped after {time.monotonic() - job.started:.0f} s: the limit is "
                            f"{per_notebook:g} s per notebook: a cell that ignores interrupts, or too many slow "
                            "cells)"
                        )
                        done(SubmissionResult(student, name, f"not graded: {reason}", max_score))
                        shutil.rmtree(job.work, ignore_errors=True)
                if running:
                    time.sleep(_POLL_S)
        finally:
            for job in running.values():
                _kill_tree(job.process.pid)
            shutil.rmtree(scratch, ignore_errors=True)
            _save_statuses(course, name, statuses)
    else:
        _save_statuses(course, name, statuses)
    return [results[s] for s in wanted]


def _finish(course: Course, name: str, job: _Running, max_score: float, models: list[Any], graded: str) -> Any:
    """Turn a finished worker into a result; record a graded submission in the real gradebook."""
    from dlcourse.course.grading import SubmissionResult, read_scores

    result_file = job.work / _RESULT_FILE
    student = job.student
    try:
        if not result_file.is_file():
            code = job.process.exitcode
            why = "killed: out of memory?" if code in (-9, 137) else f"exit code {code}"
            return SubmissionResult(student, name, f"not graded: grader process died ({why})", max_score)
        status = str(json.loads(result_file.read_text(encoding="utf-8"))["status"])
        if status != graded:
            return SubmissionResult(student, name, _explain(status), max_score)
        autograded = job.work / "course" / "autograded" / student / name
        record_autograded(course, name, student, autograded, [m.name for m in models])
        scores = read_scores(course, name, student, [m.grade_ids for m in models], [m.name for m in models])
        return SubmissionResult(student, name, graded, max_score, tuple(scores))
    finally:
        shutil.rmtree(job.work, ignore_errors=True)


def _explain(status: str) -> str:
    """nbgrader's failure text turned into a reason an instructor reads at a glance."""
    if "DeadKernelError" in status or "kernel died" in status.lower():
        return "not graded: kernel died (the student's code crashed the kernel or exceeded the memory limit)"
    if "CellTimeoutError" in status or "Timeout waiting for execute reply" in status:
        return "not graded: timeout (a cell kept running after the per-cell timeout and ignored the interrupt)"
    return status


def record_autograded(course: Course, name: str, student: str, autograded: Path, notebook_ids: list[str]) -> None:
    """Move a worker's autograded notebooks into ``autograded/`` and save their scores in the gradebook.

    Runs in the parent only, one submission at a time. ``SaveAutoGrades`` is the preprocessor
    nbgrader's own ``Autograde`` ends with: it sets each cell's automatic score and leaves the
    manual score and comments a grader entered untouched.
    """
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import SaveAutoGrades

    dest = course.autograded_dir / student / name
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(autograded, dest)
    submitted = course.submitted_dir / student / name
    timestamp = course.coursedir().get_existing_timestamp(str(submitted))
    with nbgrader_environment():
        with Gradebook(course.db_url, course.course_id) as gb:
            gb.update_or_create_student(student)
            if timestamp:
                gb.update_or_create_submission(name, student, timestamp=timestamp)
            else:
                gb.update_or_create_submission(name, student)
        for notebook_id in notebook_ids:
            nb = stderr_as_stdout(read_notebook(dest / f"{notebook_id}.ipynb"))
            resources = {
                "nbgrader": {"notebook": notebook_id, "assignment": name, "student": student, "db_url": course.db_url}
            }
            SaveAutoGrades(log=nbgrader_logger()).preprocess(nb, resources)


def stderr_as_stdout(nb: Any) -> Any:
    """``nb`` with the stderr output of its graded cells relabelled stdout, for scoring only.

    nbgrader scores a test cell 0 when anything in it writes to stderr: a warning from NumPy, a
    debug print to ``sys.stderr`` in the student's function. Scores here depend on errors alone;
    the autograded notebook on disk (and so the feedback) keeps the stderr text as it was.
    """
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    out["name"] = "stdout"
    return nb


def _save_statuses(course: Course, name: str, statuses: dict[str, str]) -> None:
    """Merge this run's statuses into ``autograded/.dlcourse-status.json``."""
    if not statuses:
        return
    path = course.autograded_dir / STATUS_FILE
    known = read_statuses(course)
    known.setdefault(name, {}).update(statuses)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def read_statuses(course: Course) -> dict[str, dict[str, str]]:
    """``{assignment: {student: status}}`` from the last autograde runs (empty when none)."""
    path = course.autograded_dir / STATUS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
