"""Grading jobs on a Dask distributed cluster: ``dlcourse autograde NAME --scheduler ADDRESS``.

Any Dask deployment works: ``dask scheduler`` and ``dask worker ADDRESS`` started by hand,
dask-jobqueue on SLURM/PBS, Kubernetes. Each worker needs this package and its grading
dependencies (and ``bwrap`` for the sandbox); it needs neither the course folder nor the
gradebook: a job carries the assignment and one submission (:class:`.GradingJob`) and returns
the scores' source, the autograded notebooks (:class:`.JobOutcome`). The process that runs
``dlcourse autograde`` alone writes ``gradebook.db``, one outcome at a time, as they arrive.

A worker that dies mid-job: the scheduler runs its jobs again on another worker (up to
``distributed.scheduler.allowed-failures`` times; a job is idempotent, so nothing is graded
twice: each submission's outcome arrives once). A scheduler that cannot be reached, or has no
workers, or whose workers run another dlcourse: a clear error from :func:`connect`, raised
before anything is changed.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from dlcourse.course.errors import EXIT_USAGE, CourseError
from dlcourse.course.job import GradingJob, JobOutcome, run_job

__all__ = ["connect", "grade_on_cluster", "worker_reports"]

#: How long :func:`connect` waits for the scheduler, and then for a first worker (seconds).
CONNECT_TIMEOUT_S = 10.0
WORKER_TIMEOUT_S = 60.0


def _worker_report() -> dict[str, str]:
    """What a worker says about itself (runs on the worker): its dlcourse and its sandbox."""
    import dlcourse
    from dlcourse.course.sandbox import detect_sandbox

    return {"dlcourse": dlcourse.__version__, "sandbox": detect_sandbox().label, "host": socket.gethostname()}


def connect(address: str, *, timeout: float | None = None, require_sandbox: bool = False) -> Any:
    """A ``distributed.Client`` for the scheduler at ``address``, checked; :class:`.CourseError` if unusable.

    Checked: the scheduler answers (within ``timeout`` s, default :data:`CONNECT_TIMEOUT_S`), it
    has at least one worker, every worker runs this version of dlcourse, and (``require_sandbox``)
    every worker has the sandbox.
    """
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - dask is in the instructor extra
        raise CourseError(
            "--scheduler needs Dask: pip install 'dask[distributed]' (in dlcourse's instructor extra)",
            exit_code=EXIT_USAGE,
        ) from exc
    import dlcourse

    untouched = "nothing was graded and nothing changed"
    try:
        client = Client(address, timeout=f"{timeout or CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise CourseError(
            f"cannot reach the Dask scheduler at {address} ({exc}); {untouched}", exit_code=EXIT_USAGE
        ) from exc
    try:
        try:
            client.wait_for_workers(1, timeout=WORKER_TIMEOUT_S)
        except (TimeoutError, OSError) as exc:
            raise CourseError(
                f"the Dask scheduler at {address} has no workers (waited {WORKER_TIMEOUT_S:g} s); {untouched}",
                exit_code=EXIT_USAGE,
            ) from exc
        reports = worker_reports(client)
        wrong = {w: r["dlcourse"] for w, r in reports.items() if r["dlcourse"] != dlcourse.__version__}
        if wrong:
            raise CourseError(
                f"Dask workers run another dlcourse than this one ({dlcourse.__version__}): "
                + ", ".join(f"{w}: {v}" for w, v in sorted(wrong.items()))
                + f"; {untouched}",
                exit_code=EXIT_USAGE,
            )
        bare = {w: r["sandbox"] for w, r in reports.items() if r["sandbox"].startswith("none")}
        if require_sandbox and bare:
            raise CourseError(
                "require_sandbox is set and these Dask workers have no sandbox: "
                + ", ".join(f"{w} ({label})" for w, label in sorted(bare.items()))
                + f"; {untouched}",
                exit_code=EXIT_USAGE,
            )
    except BaseException:
        client.close()
        raise
    return client


def worker_reports(client: Any) -> dict[str, dict[str, str]]:
    """``{worker address: {"dlcourse": version, "sandbox": label, "host": name}}`` of every worker."""
    return dict(client.run(_worker_report))


def grade_on_cluster(
    client: Any, jobs: Sequence[GradingJob], template: bytes, done: Callable[[JobOutcome], None]
) -> None:
    """Run ``jobs`` on the cluster; call ``done`` with each outcome, in the order they finish.

    The template course goes to every worker once. A job that failed on the cluster (its
    workers died more often than the scheduler allows) gives a ``not graded`` outcome.
    """
    from distributed import as_completed

    if not jobs:
        return
    packed = client.scatter(template, broadcast=True, hash=False)
    run = uuid.uuid4().hex[:8]
    futures = {
        client.submit(run_job, job, packed, key=f"dlcourse-grade-{job.name}-{job.student}-{run}", pure=False): job
        for job in jobs
    }
    for future in as_completed(futures, loop=client.loop):
        job = futures[future]
        try:
            outcome = future.result()
        except Exception as exc:  # KilledWorker, a worker's lost connection, ...
            reason = f"not graded: the Dask job failed ({type(exc).__name__}: {exc})"
            outcome = JobOutcome(job.student, reason, "")
        finally:
            future.release()
        done(outcome)
