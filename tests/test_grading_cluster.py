"""``dlcourse autograde --scheduler``: a real Dask scheduler and two worker processes on localhost.

A small class is graded through the CLI while one worker is killed (with the grading process it
started) in the middle of a job: every submission is graded once, none is lost or counted twice,
and the scores are those of the local pool. An unreachable scheduler is a clear error before
anything is written.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from course_fixtures import CORRECT, MAX_SCORE, NAME, PARTIAL, answered, make_course, release_path, submit

from dlcourse.course import release
from dlcourse.course.cli import main

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")

DASK = Path(sys.executable).with_name("dask")
STARTUP_S = 120.0


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    with log.open("wb") as fh:
        return subprocess.Popen([str(DASK), *args], stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    import psutil

    try:
        family = psutil.Process(proc.pid).children(recursive=True) + [psutil.Process(proc.pid)]
    except psutil.Error:
        family = []
    for p in family:
        try:
            p.kill()
        except psutil.Error:
            pass
    proc.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A scheduler and two single-threaded workers (no nanny: a killed worker stays dead)."""
    scheduler_file = tmp_path / "scheduler.json"
    procs = [_start(["scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                    tmp_path / "scheduler.log")]
    try:
        deadline = time.monotonic() + STARTUP_S
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), (tmp_path / "scheduler.log").read_text()
        for i in range(2):
            procs.append(_start(["worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1", "--no-nanny",
                                 "--no-dashboard", "--name", f"w{i}"], tmp_path / f"worker{i}.log"))
        client = distributed.Client(scheduler_file=str(scheduler_file), timeout="60s")
        try:
            client.wait_for_workers(2, timeout=STARTUP_S)
            address = client.scheduler.address
        finally:
            client.close()
        yield {"address": address, "workers": procs[1:], "logs": tmp_path}
    finally:
        for proc in procs:
            _stop(proc)


def _busy_worker(workers: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes] | None:
    """A worker that is grading right now: its grader fork server has a grader running."""
    import psutil

    for worker in workers:
        try:
            for child in psutil.Process(worker.pid).children(recursive=True):
                if "dlcourse grader fork server" in " ".join(child.cmdline()) and child.children():
                    return worker
        except psutil.Error:
            continue
    return None


def test_a_class_graded_on_dask_survives_a_killed_worker(cluster: dict[str, Any], tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    release(course)
    students = {"alice": CORRECT, "bob": PARTIAL, "carol": CORRECT}
    for student, answers in students.items():
        submit(course, student, answered(release_path(course), answers))
    outcome: dict[str, int] = {}
    run = threading.Thread(
        target=lambda: outcome.update(code=main(["autograde", NAME, "--root", str(course), "--scheduler", cluster["address"]])),
    )
    run.start()
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and run.is_alive() and time.monotonic() < deadline:
        killed = _busy_worker(cluster["workers"])
        if killed is not None:
            _stop(killed)  # the worker and the job it was running, mid-grading
        time.sleep(0.2)
    run.join(timeout=600)
    assert killed is not None, "no worker was seen grading"
    assert outcome.get("code") == 0, [p.read_text()[-2000:] for p in cluster["logs"].glob("*.log")]
    with (course / "grades.csv").open(newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert {s: r["score"] for s, r in rows.items()} == {"alice": str(MAX_SCORE), "bob": "2", "carol": str(MAX_SCORE)}
    db = sqlite3.connect(course / "gradebook.db")
    counted = db.execute(
        "select student.id, count(*) from submitted_assignment join student on student.id = student_id group by student.id"
    ).fetchall()
    assert dict(counted) == {"alice": 1, "bob": 1, "carol": 1}  # none lost, none counted twice
    assert sorted(p.name for p in (course / "autograded").iterdir() if not p.name.startswith(".")) == sorted(students)


def test_an_unreachable_scheduler_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = make_course(tmp_path / "course")
    release(course)
    submit(course, "alice", answered(release_path(course), CORRECT))
    before = sorted(p.relative_to(course) for p in course.rglob("*"))
    port = _free_port()
    assert main(["autograde", NAME, "--root", str(course), "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in err and "nothing changed" in err
    assert sorted(p.relative_to(course) for p in course.rglob("*")) == before  # no gradebook, no grades.csv


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _short_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    import dlcourse.course.cluster as cluster_module

    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT_S", 3.0)

