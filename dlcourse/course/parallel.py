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

Isolation: each job's kernel runs in a bubblewrap sandbox where the machine has one
(:mod:`dlcourse.course.sandbox`: no network, read-only course and Python, only a copy of its own
folder writable, process/file/CPU/memory limits); without one, grading runs unsandboxed and the
summary and ``grades.csv`` say ``sandbox: none`` (``require_sandbox`` refuses instead).

Where jobs run: here, in up to ``jobs`` forked worker processes (this module's pool), or on a
Dask cluster with ``scheduler`` (:mod:`dlcourse.course.cluster`). Either way a job ends in
:func:`.grade_job` and comes back as a :class:`.JobOutcome` (status, sandbox, autograded
notebooks as bytes) that :func:`_record` writes into ``autograded/`` and the gradebook.
"""

from __future__ import annotations

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
from dlcourse.course.errors import EXIT_USAGE, CourseError
from dlcourse.course.gradebook import record_autograded, sync_gradebook
from dlcourse.course.job import RESULT_FILE, GradingJob, JobOutcome, collect_outcome, grade_job, kill_tree, pack_folder
from dlcourse.course.limits import GradingLimits, execute_config
from dlcourse.course.release import generate_assignment, sandbox
from dlcourse.course.results import GRADED, SubmissionResult, read_scores, save_statuses
from dlcourse.course.submission import students, submission_problem

if TYPE_CHECKING:
    from multiprocessing.context import ForkContext, SpawnContext  # ForkContext: not on Windows

__all__ = ["autograde", "autograde_class", "build_template", "job_settings", "prepare_job"]

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
    scheduler: str | None = None,
    progress: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Autograde every ``submitted/*/NAME/`` (or only ``student_ids``) of the course at ``root``.

    The gradebook is brought up to date with the source first. Submissions are graded by up to
    ``jobs`` worker processes, or on the Dask cluster whose scheduler is at ``scheduler``, under a
    per-cell timeout, a per-notebook time limit and a memory limit (each ``None`` takes the value
    configured in ``nbgrader_config.py``; see the module docstring). Raises :class:`.CourseError`
    only for course-level problems (unknown assignment, invalid source, nbgrader refusing the
    gradebook update, bad limits, no sandbox with ``require_sandbox``, an unusable scheduler:
    these before anything is changed); each submission's outcome is in its result.
    """
    from dlcourse.course.sandbox import detect_sandbox
    from dlcourse.course.settings import grading_settings

    course = Course.load(root)
    (name,) = course.resolve([name])
    limits = GradingLimits(jobs, cell_timeout, notebook_time_limit, memory_limit_mb).resolved(course)
    grading = grading_settings(course.config)
    require = grading.require_sandbox
    if require and not grading.sandbox:
        raise CourseError(
            "nbgrader_config.py sets DlcourseGrading.require_sandbox and turns the sandbox off "
            "(DlcourseGrading.sandbox = False): choose one",
            exit_code=EXIT_USAGE,
        )
    client = None
    if scheduler:
        from dlcourse.course.cluster import connect

        client = connect(scheduler, require_sandbox=require)
    elif require and not detect_sandbox().available:
        raise CourseError(
            f"require_sandbox is set and this machine has no sandbox ({detect_sandbox().detail}); nothing was graded",
            exit_code=EXIT_USAGE,
        )
    try:
        assignment = Assignment.checked(course, name)
        sync_gradebook(course, assignment)
        wanted = list(student_ids) if student_ids is not None else students(course, name)
        return autograde_class(course, assignment, wanted, limits, progress, client=client)
    finally:
        if client is not None:
            client.close()


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
    *,
    client: Any = None,
) -> list[SubmissionResult]:
    """Grade the submissions of ``student_ids`` of ``assignment`` under ``limits`` (resolved); results in input order.

    The gradebook must already know the assignment. Jobs run in local worker processes, or on
    the Dask cluster of ``client`` (a connected ``distributed.Client``). ``progress`` is called
    with each result as it is known. The statuses of this run are saved for ``dlcourse export``
    even if it is interrupted.
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
            _run_jobs(course, assignment, queue, limits, done, client)
    finally:  # an interrupted run still leaves the statuses it knows for ``dlcourse export``
        save_statuses(course, name, {student: result.status for student, result in results.items()})
    return [results[s] for s in wanted]


def job_settings(course: Course, limits: GradingLimits) -> dict[str, Any]:
    """What every job of a class run needs besides its submission (plain JSON: it travels to workers).

    The nbgrader settings of ``limits`` (:func:`.execute_config`) and the sandbox's: its limits
    (the kernel's CPU time is capped at the per-notebook time limit), whether a job must refuse
    to run without one, and the course root, which a sandbox never shows whole.
    """
    from dlcourse.course.settings import grading_settings

    settings = grading_settings(course.config)
    return {
        "config": execute_config(course, limits),
        "sandbox": {
            "limits": {
                "memory_mb": int(limits.memory_limit_mb or 0),
                "processes": int(settings.max_processes),
                "file_size_mb": int(settings.max_file_size_mb),
                "cpu_seconds": int(limits.notebook_time_limit or 0),
            },
            "enabled": bool(settings.sandbox),
            "require": bool(settings.require_sandbox),
            "hidden": [str(course.root)],
        },
    }


def _run_jobs(
    course: Course,
    assignment: Assignment,
    queue: deque[str],
    limits: GradingLimits,
    done: Callable[[SubmissionResult], None],
    client: Any = None,
) -> None:
    """Grade the ``queue``d submissions: up to ``limits.jobs`` local worker processes, or on ``client``'s cluster."""
    name = assignment.name
    settings = job_settings(course, limits)
    time_limit = float(limits.notebook_time_limit or 1) * max(1, len(assignment.notebooks))
    scratch = Path(tempfile.mkdtemp(prefix="dlcourse-grade-")).resolve()

    def record(outcome: JobOutcome) -> None:
        done(_record(course, assignment, outcome))

    try:
        template = build_template(course, name, scratch / "template")
        if client is not None:
            from dlcourse.course.cluster import grade_on_cluster

            ids = tuple(assignment.notebook_ids)
            jobs = [
                GradingJob(name, s, ids, pack_folder(course.submitted_dir / s / name), settings, time_limit)
                for s in queue
            ]
            grade_on_cluster(client, jobs, pack_folder(template), record)
        else:
            workers = int(limits.jobs or 1)
            _run_local(course, assignment, queue, workers, settings, template, scratch, time_limit, record)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_local(
    course: Course,
    assignment: Assignment,
    queue: deque[str],
    jobs: int,
    settings: dict[str, Any],
    template: Path,
    scratch: Path,
    time_limit: float,
    record: Callable[[JobOutcome], None],
) -> None:
    """The local pool: up to ``jobs`` forked worker processes, each killed when ``time_limit`` runs out."""
    from dlcourse.course.sandbox import detect_sandbox

    name = assignment.name
    detect_sandbox()  # once, here: the forked workers inherit the answer
    running: dict[str, _Running] = {}
    ctx = _context()
    counter = 0
    try:
        while queue or running:
            while queue and len(running) < jobs:
                student = queue.popleft()
                counter += 1
                work = scratch / f"job{counter}"
                work.mkdir()
                submitted = course.submitted_dir / student / name
                proc = ctx.Process(
                    target=_worker,
                    args=(str(template), str(submitted), str(work), name, student, settings),
                    daemon=False,  # explicit: a daemonic worker could not start its kernel
                )
                proc.start()
                now = time.monotonic()
                running[student] = _Running(student, proc, work, now, now + time_limit)
            for student, job in list(running.items()):
                if job.process.exitcode is not None:
                    job.process.join()
                    del running[student]
                    record(_finish(assignment, job))
                elif time.monotonic() > job.deadline:
                    kill_tree(job.process.pid)
                    job.process.join()
                    del running[student]
                    reason = (
                        f"not graded: timeout (stopped after {time.monotonic() - job.started:.0f} s: the limit is "
                        f"{time_limit / max(1, len(assignment.notebooks)):g} s per notebook: a cell that ignores "
                        "interrupts, or too many slow cells)"
                    )
                    record(JobOutcome(student, reason, ""))
                    shutil.rmtree(job.work, ignore_errors=True)
            if running:
                time.sleep(_POLL_S)
    finally:
        for job in running.values():
            kill_tree(job.process.pid)


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


def _worker(template: str, submitted: str, work: str, name: str, student: str, settings: dict[str, Any]) -> None:
    """One job, in a child process: prepare its folder and grade it (:func:`.grade_job`).

    Only the status travels back, as JSON in ``result.json``, and the autograded notebooks as
    bytes (:func:`.collect_outcome`): the student's code may have written into the job folder, so
    the parent never unpickles what it finds there.
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(_KERNEL_THREADS))  # the kernel inherits these
    root = prepare_job(Path(template), Path(submitted), Path(work), name, student)
    grade_job(root, name, student, settings)


def _finish(assignment: Assignment, job: _Running) -> JobOutcome:
    """The outcome of a local job whose worker process has ended."""
    try:
        outcome = collect_outcome(job.work / "course", assignment.name, job.student, assignment.notebook_ids)
        if not (job.work / "course" / RESULT_FILE).is_file():
            code = job.process.exitcode
            why = "killed: out of memory?" if code in (-9, 137) else f"exit code {code}"
            return JobOutcome(job.student, f"not graded: grader process died ({why})", "")
        return outcome
    finally:
        shutil.rmtree(job.work, ignore_errors=True)


def _record(course: Course, assignment: Assignment, outcome: JobOutcome) -> SubmissionResult:
    """Turn a job's outcome into a result; write a graded one into ``autograded/`` and the real gradebook.

    Runs in the process that owns the gradebook, one outcome at a time.
    """
    name, student = assignment.name, outcome.student
    if outcome.status != GRADED:
        return SubmissionResult(student, name, _explain(outcome.status), assignment.max_score, sandbox=outcome.sandbox)
    with tempfile.TemporaryDirectory(prefix="dlcourse-record-") as tmp:
        for notebook_id, data in outcome.notebooks.items():
            (Path(tmp) / f"{notebook_id}.ipynb").write_bytes(data)
        record_autograded(course, assignment, student, Path(tmp))
    scores = read_scores(course, assignment, student)
    return SubmissionResult(student, name, GRADED, assignment.max_score, scores, sandbox=outcome.sandbox)


def _explain(status: str) -> str:
    """nbgrader's failure text turned into a reason an instructor reads at a glance."""
    if "DeadKernelError" in status or "kernel died" in status.lower():
        return "not graded: kernel died (the student's code crashed the kernel or exceeded the memory limit)"
    if "CellTimeoutError" in status or "Timeout waiting for execute reply" in status:
        return "not graded: timeout (a cell kept running after the per-cell timeout and ignored the interrupt)"
    return status


def _context() -> ForkContext | SpawnContext:
    """Fork where it is safe and cheap (Linux: nbgrader is already imported), spawn elsewhere."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
