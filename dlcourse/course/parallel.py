"""Grade a class: the pool of worker processes and the class run; the gradebook is written here only.

Design (nbgrader's gradebook is one SQLite file, and SQLite handles concurrent writers badly):

1. :func:`autograde` reads the assignment once (:class:`.Assignment`), records it in the real
   gradebook (:func:`.sync_gradebook`) and builds a *template* (:func:`build_template`): a
   throwaway course with the assignment's sources and its own gradebook.
2. Submissions that cannot be graded (missing, corrupt, wrong assignment:
   :func:`.submission_problem`) are reported at once, without starting anything.
3. Every other submission is one *job*, run by a worker process: :func:`prepare_job` copies the
   template and the submission into a folder of the job's own, and :func:`.grade_in_directory`
   grades it there (nbgrader's ``Autograde`` against the copy's gradebook, the autograded
   notebooks written into the copy). Workers never open the real gradebook. Up to ``jobs`` run
   at the same time.
4. The kernel of each job runs under an address-space limit (``RLIMIT_AS``, set by the kernel's
   first line), nbgrader's per-cell timeout interrupts a cell that runs too long, and this
   process kills a worker, its kernel included, that takes longer than the per-notebook time
   limit (:mod:`dlcourse.course.limits`).
5. When a job finishes, this process (one job at a time) moves its autograded notebooks into
   ``autograded/`` and saves their scores in the real gradebook (:func:`.record_autograded`),
   then reads the scores back from it (:func:`.read_scores`), manual grades included.

A worker that dies, a kernel that dies and a time limit that runs out all give
``not graded: <reason>``; the other submissions are graded anyway.

One class run, module by module::

    cli autograde -> parallel.autograde -> Assignment.checked, GradingLimits.resolved,
        gradebook.sync_gradebook, submission.students
      -> parallel.autograde_class -> submission.submission_problem (each student)
           -> worker process: parallel._worker -> prepare_job, submission.grade_in_directory
                -> submission.grade_submission -> nbgrader Autograde, results.read_scores
           -> parallel._finish -> gradebook.record_autograded, results.read_scores
      -> results.save_statuses

What this does not do: isolate student code. It runs as the grader's user, so it can read and
write the grader's files (the gradebook, other students' submissions, ``~/.ssh``), reach the
network, start processes that outlive the kernel, and lift its own soft limits (as root, its hard
ones too). A real sandbox needs the kernel in a separate, unprivileged identity: a container or
VM per job (or nsjail/bubblewrap) with a read-only file system except the job's folder, no
network, cgroup limits on memory, CPU time and process count, and only the autograded notebooks
copied back out. The job boundary is where it plugs in: one folder in (:func:`prepare_job`), one
function run on it (:func:`.grade_in_directory`, whose result pickles, so a remote executor can
return it), the autograded notebooks out, and this process alone writing the gradebook.
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
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlcourse.course.assignment import Assignment
from dlcourse.course.config import CONFIG_FILENAME, Course
from dlcourse.course.gradebook import record_autograded, sync_gradebook
from dlcourse.course.limits import GradingLimits, execute_config
from dlcourse.course.release import generate_assignment, sandbox
from dlcourse.course.results import GRADED, SubmissionResult, read_scores, save_statuses
from dlcourse.course.submission import grade_in_directory, students, submission_problem

if TYPE_CHECKING:
    from multiprocessing.context import ForkContext, SpawnContext  # ForkContext: not on Windows

__all__ = ["autograde", "autograde_class", "build_template", "prepare_job"]

_RESULT_FILE = "result.json"
_POLL_S = 0.05
# one BLAS/OpenMP thread per kernel: course notebooks use small arrays, and several kernels with
# a thread per core each spin-wait against each other (set the variables yourself to override)
_KERNEL_THREADS = 1


def autograde(
    root: Path | str,
    name: str,
    student_ids: Iterable[str] | None = None,
    *,
    jobs: int | None = None,
    cell_timeout: float | None = None,
    notebook_time_limit: float | None = None,
    memory_limit_mb: int | None = None,
    progress: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Autograde every ``submitted/*/NAME/`` (or only ``student_ids``) of the course at ``root``.

    The gradebook is brought up to date with the source first. Submissions are graded by up to
    ``jobs`` worker processes under a per-cell timeout, a per-notebook time limit and a memory
    limit (each ``None`` takes the value configured in ``nbgrader_config.py``; see the module
    docstring). Raises :class:`.CourseError` only for course-level problems (unknown assignment,
    invalid source, nbgrader refusing the gradebook update, bad limits); each submission's
    outcome is in its result.
    """
    course = Course.load(root)
    (name,) = course.resolve([name])
    limits = GradingLimits(jobs, cell_timeout, notebook_time_limit, memory_limit_mb).resolved(course)
    assignment = Assignment.checked(course, name)
    sync_gradebook(course, assignment)
    wanted = list(student_ids) if student_ids is not None else students(course, name)
    return autograde_class(course, assignment, wanted, limits, progress)


@dataclass
class _Running:
    """A job in flight: its worker process, its folder and when it must be done."""

    student: str
    process: BaseProcess
    work: Path
    started: float
    deadline: float


def autograde_class(
    course: Course,
    assignment: Assignment,
    student_ids: Iterable[str],
    limits: GradingLimits,
    progress: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade the submissions of ``student_ids`` of ``assignment`` under ``limits`` (resolved); results in input order.

    The gradebook must already know the assignment. ``progress`` is called with each result as
    it is known. The statuses of this run are saved for ``dlcourse export`` even if it is
    interrupted.
    """
    name = assignment.name
    wanted = list(dict.fromkeys(student_ids))
    results: dict[str, SubmissionResult] = {}

    def done(result: SubmissionResult) -> None:
        results[result.student] = result
        if progress is not None:
            progress(result)

    queue: deque[str] = deque()
    for student in wanted:
        problem = submission_problem(course, assignment, student)
        if problem is None:
            queue.append(student)
        else:
            done(SubmissionResult.not_graded(student, assignment, problem))

    try:
        if queue:
            _run_jobs(course, assignment, queue, limits, done)
    finally:  # an interrupted run still leaves the statuses it knows for ``dlcourse export``
        save_statuses(course, name, {student: result.status for student, result in results.items()})
    return [results[s] for s in wanted]


def _run_jobs(
    course: Course,
    assignment: Assignment,
    queue: deque[str],
    limits: GradingLimits,
    done: Callable[[SubmissionResult], None],
) -> None:
    """Grade the ``queue``d submissions, up to ``limits.jobs`` worker processes at a time."""
    name = assignment.name
    config = execute_config(course, limits)
    per_notebook = float(limits.notebook_time_limit or 1)
    time_limit = per_notebook * max(1, len(assignment.notebooks))
    running: dict[str, _Running] = {}
    scratch = Path(tempfile.mkdtemp(prefix="dlcourse-grade-")).resolve()
    try:
        template = build_template(course, name, scratch / "template")
        ctx = _context()
        counter = 0
        while queue or running:
            while queue and len(running) < int(limits.jobs or 1):
                student = queue.popleft()
                counter += 1
                work = scratch / f"job{counter}"
                work.mkdir()
                submitted = course.submitted_dir / student / name
                proc = ctx.Process(
                    target=_worker,
                    args=(str(template), str(submitted), str(work), name, student, config),
                    daemon=False,  # explicit: a daemonic worker could not start its kernel
                )
                proc.start()
                now = time.monotonic()
                running[student] = _Running(student, proc, work, now, now + time_limit)
            for student, job in list(running.items()):
                if job.process.exitcode is not None:
                    job.process.join()
                    del running[student]
                    done(_finish(course, assignment, job))
                elif time.monotonic() > job.deadline:
                    _kill_tree(job.process.pid)
                    job.process.join()
                    del running[student]
                    reason = (
                        f"timeout (stopped after {time.monotonic() - job.started:.0f} s: the limit is "
                        f"{per_notebook:g} s per notebook: a cell that ignores interrupts, or too many slow "
                        "cells)"
                    )
                    done(SubmissionResult.not_graded(student, assignment, reason))
                    shutil.rmtree(job.work, ignore_errors=True)
            if running:
                time.sleep(_POLL_S)
    finally:
        for job in running.values():
            _kill_tree(job.process.pid)
        shutil.rmtree(scratch, ignore_errors=True)


def build_template(course: Course, name: str, dest: Path) -> Path:
    """A course at ``dest`` with the sources of ``name``, a gradebook that knows it, and the config file.

    Built once per class run; every job starts from a copy of it (:func:`prepare_job`).
    """
    with sandbox(course, [name]) as tmp:
        generate_assignment(tmp, name, database=True)
        shutil.copytree(tmp.root, dest)
    shutil.copyfile(course.root / CONFIG_FILENAME, dest / CONFIG_FILENAME)
    return dest


def prepare_job(template: Path, submitted: Path, work: Path, name: str, student: str) -> Path:
    """Copy the template course and one submission folder into ``work/course``; return that course root.

    The result is what :func:`.grade_in_directory` grades: a course of its own, with the
    submission in ``submitted/<student>/<name>/``.
    """
    root = Path(work) / "course"
    shutil.copytree(template, root)
    shutil.copytree(submitted, Course.load(root).submitted_dir / student / name)
    return root


def _worker(
    template: str, submitted: str, work: str, name: str, student: str, config: dict[str, dict[str, Any]]
) -> None:
    """One job, in a child process: prepare its folder, grade, write ``<work>/result.json``.

    Only the status travels back, as JSON: the student's kernel can write into the job folder,
    so the parent must never unpickle what it finds there, and it reads the scores from the real
    gradebook anyway (:func:`_finish`).
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(_KERNEL_THREADS))  # the kernel inherits these
    root = prepare_job(Path(template), Path(submitted), Path(work), name, student)
    result = grade_in_directory(root, name, student, config)
    (Path(work) / _RESULT_FILE).write_text(json.dumps({"status": result.status}), encoding="utf-8")


def _finish(course: Course, assignment: Assignment, job: _Running) -> SubmissionResult:
    """Turn a finished job into a result; record a graded submission in the real gradebook."""
    result_file = job.work / _RESULT_FILE
    student = job.student
    try:
        if not result_file.is_file():
            code = job.process.exitcode
            why = "killed: out of memory?" if code in (-9, 137) else f"exit code {code}"
            return SubmissionResult.not_graded(student, assignment, f"grader process died ({why})")
        status = str(json.loads(result_file.read_text(encoding="utf-8"))["status"])
        if status != GRADED:
            return SubmissionResult(student, assignment.name, _explain(status), assignment.max_score)
        autograded = job.work / "course" / "autograded" / student / assignment.name
        record_autograded(course, assignment, student, autograded)
        return SubmissionResult(
            student, assignment.name, GRADED, assignment.max_score, read_scores(course, assignment, student)
        )
    finally:
        shutil.rmtree(job.work, ignore_errors=True)


def _explain(status: str) -> str:
    """nbgrader's failure text turned into a reason an instructor reads at a glance."""
    if "DeadKernelError" in status or "kernel died" in status.lower():
        return "not graded: kernel died (the student's code crashed the kernel or exceeded the memory limit)"
    if "CellTimeoutError" in status or "Timeout waiting for execute reply" in status:
        return "not graded: timeout (a cell kept running after the per-cell timeout and ignored the interrupt)"
    return status


def _kill_tree(pid: int | None) -> None:
    """Kill a worker and everything it started (its kernel runs in a session of its own)."""
    if pid is None:  # never started
        return
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


def _context() -> ForkContext | SpawnContext:
    """Fork where it is safe and cheap (Linux: nbgrader is already imported), spawn elsewhere."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
