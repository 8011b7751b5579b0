"""One grading job: what a worker needs to grade one submission, and what comes back.

A job runs wherever the class is graded: in a local worker process
(:mod:`dlcourse.course.parallel`) or on a Dask worker (:mod:`dlcourse.course.cluster`). Either
way the same two steps run:

- :func:`grade_job` in the process that grades: the sandbox is chosen *there* (it is a property of
  the machine: :func:`dlcourse.course.sandbox.detect_sandbox`), nbgrader grades the submission in
  a course folder of the job's own, and the status is written to ``result.json``;
- :func:`collect_outcome` reads that folder back as a :class:`JobOutcome`: the status, the
  sandbox that was used and the autograded notebooks *as bytes* (regular files only, never
  following a link), which is all the process that owns the gradebook needs.

:func:`run_job` is the whole job for a remote worker: a :class:`GradingJob` carries the
assignment (the template course, packed) and one submission (packed), and the job runs in a
grader process of its own (forked by a preloaded :class:`_ForkServer`) under the time limit,
killed with everything it started when the limit runs out. Nothing is written outside a
temporary folder, so a job that is run twice (Dask runs a dead worker's jobs again elsewhere)
does no harm: the gradebook is written once per outcome, by the process that receives it.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "GradingJob",
    "JobOutcome",
    "MAX_NOTEBOOK_BYTES",
    "RESULT_FILE",
    "collect_outcome",
    "grade_job",
    "kill_tree",
    "pack_folder",
    "run_job",
    "unpack_folder",
]

RESULT_FILE = "result.json"
#: An autograded notebook larger than this is not brought back (nbgrader's LimitOutput keeps
#: real ones far smaller); the submission is reported instead of filling the grader's memory.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
_POLL_S = 0.1


@dataclass(frozen=True)
class GradingJob:
    """One submission to grade, self-contained: it pickles, so it travels to any worker.

    ``template`` and ``submission`` are packed folders (:func:`pack_folder`): a course with the
    assignment's sources and a gradebook that knows it, and ``submitted/<student>/<name>/``.
    ``settings`` are what :func:`grade_job` needs (nbgrader config, sandbox limits); ``time_limit``
    is the wall-clock limit of the whole job, in seconds.
    """

    name: str
    student: str
    notebook_ids: tuple[str, ...]
    submission: bytes
    settings: dict[str, Any]
    time_limit: float


@dataclass(frozen=True)
class JobOutcome:
    """What a job gives back: ``status`` (``"graded"`` or ``"not graded: ..."``), the sandbox label,
    the autograded notebooks ``{notebook id: bytes}`` of a graded submission, and where it ran."""

    student: str
    status: str
    sandbox: str
    notebooks: dict[str, bytes] = field(default_factory=dict)
    seconds: float = 0.0
    host: str = ""


def pack_folder(folder: Path) -> bytes:
    """The files under ``folder`` as a gzipped tar (paths relative to ``folder``)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        tar.add(str(folder), arcname=".")
    return buf.getvalue()


def unpack_folder(data: bytes, dest: Path) -> Path:
    """Unpack :func:`pack_folder`'s bytes into ``dest``; links and paths that leave ``dest`` are refused."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            target = (root / member.name).resolve()
            if not (member.isfile() or member.isdir()) or (target != root and root not in target.parents):
                raise ValueError(f"refusing to unpack {member.name!r}")
        tar.extractall(str(root), members=members)  # noqa: S202 - every member checked above
    return dest


def grade_job(root: Path, name: str, student: str, settings: dict[str, Any]) -> str:
    """Grade ``student``'s submission in the job course at ``root``; write ``root/result.json``; return the status.

    ``settings``: ``{"config": {...nbgrader sections...}, "sandbox": {"limits": {...},
    "enabled": bool, "require": bool, "hidden": [...]}}``. The sandbox is used when it is enabled
    and this machine has one; without one, ``require`` makes the job fail with a reason instead
    of grading unsandboxed.
    """
    from dlcourse.course.results import NO_SANDBOX
    from dlcourse.course.sandbox import SandboxInfo, SandboxLimits, detect_sandbox, sandbox_config
    from dlcourse.course.submission import grade_in_directory

    # A forked grader inherits its parent's asyncio state: after an ``asyncio.run`` in the parent
    # (a test runner, a notebook server) the main thread has "no current event loop", and nbclient's
    # synchronous calls fail with RuntimeError. The job gets a loop of its own.
    asyncio.set_event_loop(asyncio.new_event_loop())
    box = settings.get("sandbox", {})
    config = dict(settings.get("config", {}))
    if box.get("enabled", True):
        info = detect_sandbox()
    else:
        info = SandboxInfo(NO_SANDBOX, "turned off: DlcourseGrading.sandbox = False")
    if info.available:
        limits = SandboxLimits(**box.get("limits", {}))
        config.update(sandbox_config(limits, box.get("hidden", []), None, scratch=root.parent))
        status = grade_in_directory(root, name, student, config).status
    elif box.get("require"):
        status = f"not graded: no sandbox on {socket.gethostname()} ({info.detail}) and require_sandbox is set"
    else:
        from dlcourse.course.kernel import grading_preprocessors

        config.update(grading_preprocessors(None))
        status = grade_in_directory(root, name, student, config).status
    (root / RESULT_FILE).write_text(json.dumps({"status": status, "sandbox": info.label}), encoding="utf-8")
    return status


def collect_outcome(root: Path, name: str, student: str, notebook_ids: tuple[str, ...] | list[str]) -> JobOutcome:
    """The outcome of a finished :func:`grade_job` in the job course at ``root``.

    A missing or unreadable ``result.json`` means the grading process died. The autograded
    notebooks are read as regular files only: a student's code that replaced one with a link
    (possible without a sandbox) cannot make the grader read or copy another file.
    """
    try:
        result = json.loads((root / RESULT_FILE).read_text(encoding="utf-8"))
        status, label = str(result["status"]), str(result.get("sandbox", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return JobOutcome(student, "not graded: grader process died (no result)", "", host=socket.gethostname())
    notebooks: dict[str, bytes] = {}
    if status == "graded":
        folder = root / "autograded" / student / name
        for notebook_id in notebook_ids:
            path = folder / f"{notebook_id}.ipynb"
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            except OSError:
                status = f"not graded: the autograded {path.name} is missing or not a regular file"
                break
            with os.fdopen(fd, "rb") as fh:
                data = fh.read(MAX_NOTEBOOK_BYTES + 1)
            if len(data) > MAX_NOTEBOOK_BYTES:
                status = f"not graded: the autograded {path.name} is over {MAX_NOTEBOOK_BYTES >> 20} MB"
                break
            notebooks[notebook_id] = data
    return JobOutcome(student, status, label, notebooks if status == "graded" else {}, host=socket.gethostname())


def kill_tree(pid: int | None) -> None:
    """Kill process ``pid`` and everything it started (the kernel runs in a session of its own)."""
    if pid is None:
        return
    import psutil

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


class _ForkServer:
    """A single-threaded helper process that has imported nbgrader once and forks a grader per job.

    A Dask worker runs tasks in threads of a (usually daemonic) process: forking it is unsafe and
    multiprocessing refuses to. A fresh interpreter per job would pay nbgrader's imports (1-2 s
    idle, far more on a loaded machine) every time. This server pays them once per worker
    process; each job is then a fork of a quiet, single-threaded process, as in the local pool.
    Protocol: one JSON line in (``[root, name, student, settings path]``), one line out (the
    grader's pid); the server ignores SIGCHLD, so finished graders leave no zombies.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None

    def start_grader(self, root: Path, name: str, student: str, settings: Path) -> int:
        """Fork a grader for one job; its pid."""
        with self._lock:
            for attempt in range(2):
                if self._proc is None or self._proc.poll() is not None:
                    env = dict(os.environ)
                    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                        env.setdefault(var, "1")  # one BLAS thread per kernel, as in the local pool
                    self._proc = subprocess.Popen(
                        [sys.executable, "-c", _SERVE], env=env, text=True,
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
                    )
                assert self._proc.stdin is not None and self._proc.stdout is not None
                try:
                    self._proc.stdin.write(json.dumps([str(root), name, student, str(settings)]) + "\n")
                    self._proc.stdin.flush()
                    line = self._proc.stdout.readline()
                    return int(line)
                except (OSError, ValueError):
                    self._proc = None  # the server died: start another once
                    if attempt:
                        raise
            raise AssertionError("unreachable")


_SERVER = _ForkServer()
#: The server's command (not ``-m dlcourse.course.job``: the package imports this module first,
#: and runpy would warn about running a module that is already imported).
_SERVE = "from dlcourse.course.job import _serve; _serve()  # dlcourse grader fork server"


def _serve() -> None:
    """The fork server's loop (run by :data:`_SERVE`)."""
    import signal

    import nbgrader.converters  # noqa: F401 - the imports every grader shares
    import nbgrader.preprocessors  # noqa: F401

    import dlcourse.course.submission  # noqa: F401
    from dlcourse.course.sandbox import detect_sandbox

    detect_sandbox()  # once: the graders inherit the answer

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # graders are reaped by the kernel, never zombies
    for line in sys.stdin:
        root, name, student, settings = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the grader waits for its kernel
                os.setsid()
                quiet = os.open(os.devnull, os.O_RDWR)  # the server's pipes are its protocol, not output
                os.dup2(quiet, 0)
                os.dup2(quiet, 1)
                grade_job(Path(root), name, student, json.loads(Path(settings).read_text(encoding="utf-8")))
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_job(job: GradingJob, template: bytes) -> JobOutcome:
    """Run ``job`` here, in a grader process of its own under its time limit, and return its outcome.

    ``template`` is the packed template course (sent once to each worker, not once per job).
    The grader is forked by this worker's :class:`_ForkServer`.
    """
    start = time.monotonic()
    host = socket.gethostname()
    with tempfile.TemporaryDirectory(prefix="dlcourse-job-") as tmp:
        root = unpack_folder(template, Path(tmp) / "course")
        unpack_folder(job.submission, root / "submitted" / job.student / job.name)
        settings = Path(tmp) / "settings.json"
        settings.write_text(json.dumps(job.settings), encoding="utf-8")
        pid = _SERVER.start_grader(root, job.name, job.student, settings)
        deadline = start + job.time_limit
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(_POLL_S)
        if _alive(pid):
            kill_tree(pid)
            reason = (
                f"not graded: timeout (stopped after {time.monotonic() - start:.0f} s: the limit is "
                f"{job.time_limit:g} s: a cell that ignores interrupts, or too many slow cells)"
            )
            return JobOutcome(job.student, reason, "", seconds=time.monotonic() - start, host=host)
        outcome = collect_outcome(root, job.name, job.student, job.notebook_ids)
    seconds = time.monotonic() - start
    return JobOutcome(outcome.student, outcome.status, outcome.sandbox, outcome.notebooks, seconds, host)
