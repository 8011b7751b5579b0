"""Hostile submissions graded through the CLI: each one fails inside the sandbox, the class is graded.

One class of ``01-add`` (the tiny assignment of ``course_fixtures``) is graded once with
``dlcourse autograde --jobs 2``: two honest students and one student per attack. Every attack
runs at the top of the ``add`` answer cell, prints ``BLOCKED <error>`` or ``LEAKED ...``, and the
student's answers are right, so a contained attack still scores full marks. What the tests
check from outside: the autograded notebook says ``BLOCKED`` and holds no secret, nothing
outside changed, the honest students' scores are what they are without a sandbox.
Skipped where :func:`detect_sandbox` finds no working bubblewrap.
"""

from __future__ import annotations

import csv
import hashlib
import socket
import sqlite3
import textwrap
import threading
from pathlib import Path
from typing import Any

import nbformat
import pytest
from course_fixtures import CORRECT, MAX_SCORE, NAME, PARTIAL, answered, make_course, release_path, source_path, submit

from dlcourse.course import release
from dlcourse.course.cli import main
from dlcourse.course.sandbox import detect_sandbox

pytestmark = pytest.mark.slow

SECRET = "instructor-secret-5c1b"
ALICE_MARKER = "alice-private-answer-77e2"
MAX_PROCESSES = 48
MAX_FILE_MB = 8


def _attempt(code: str) -> str:
    """Cell code that runs ``code`` (a function body that returns what it got) and prints the outcome."""
    return (
        f"def _attack():\n{textwrap.indent(code.strip(), '    ')}\n\n"
        "try:\n    print('LEAKED', _attack())\nexcept BaseException as _e:\n    print('BLOCKED', type(_e).__name__, _e)\n\n"
    )


def _attacks(tmp: Path, course: Path, port: int) -> dict[str, str]:
    return {
        "h_read_home": f"return open({str(tmp / 'home' / 'secret.txt')!r}).read()",
        "h_write_outside": f"open({str(tmp / 'planted.txt')!r}, 'w').write('x')\nreturn 'wrote'",
        "h_read_other": f"return open({str(course / 'submitted' / 'alice' / NAME / f'{NAME}.ipynb')!r}).read()",
        "h_tcp": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'hi')\nreturn 'connected'",
        "h_fork_bomb": (
            "import os, time\n"
            "children = 0\n"
            "while True:\n"
            "    pid = os.fork()\n"  # raises once the process limit is reached
            "    if pid == 0:\n"
            "        while True:\n"  # every child forks too, then sleeps: the classic bomb, bounded
            "            try:\n"
            "                if os.fork() == 0:\n"
            "                    continue\n"
            "            except OSError:\n"
            "                time.sleep(60)\n"
            "                os._exit(0)\n"
            "    children += 1"
        ),
        "h_big_file": (
            "with open('big.bin', 'wb') as fh:\n"
            "    for _ in range(4 * 1024):\n"  # 4 GB, a MB at a time
            "        fh.write(b'x' * 1024 * 1024)\n"
            "return 'wrote 4 GB'"
        ),
        "h_course_files": (
            f"import sqlite3\nsqlite3.connect({str(course / 'gradebook.db')!r}).execute('create table pwned (x)')\n"
            f"open({str(source_path(course))!r}, 'a').write('pwned')\n"
            "return 'changed the course'"
        ),
    }


def _cell_text(nb: Any) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")) + str(out.get("evalue", "")))
    return "\n".join(parts)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not detect_sandbox().available:
        pytest.skip(f"no sandbox: {detect_sandbox().detail}")
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "home").mkdir()
    (tmp / "home" / "secret.txt").write_text(SECRET)
    course = make_course(tmp / "course")
    with (course / "nbgrader_config.py").open("a") as fh:
        fh.write(
            f"\nc.DlcourseGrading.max_processes = {MAX_PROCESSES}\nc.DlcourseGrading.max_file_size_mb = {MAX_FILE_MB}\n"
        )
    release(course)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    connections: list[Any] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                connections.append(server.accept())
            except OSError:
                continue

    stop = threading.Event()
    threading.Thread(target=serve, daemon=True).start()
    alice = answered(release_path(course), {**CORRECT, "add": f"# {ALICE_MARKER}\n" + CORRECT["add"]})
    submit(course, "alice", alice)
    submit(course, "bob", answered(release_path(course), PARTIAL))
    attacks = _attacks(tmp, course, server.getsockname()[1])
    for student, code in attacks.items():
        submit(course, student, answered(release_path(course), {**CORRECT, "add": _attempt(code) + CORRECT["add"]}))
    before = {p: _digest(p) for p in (source_path(course), course / "nbgrader_config.py")}
    monkey = pytest.MonkeyPatch()
    monkey.setenv("HOME", str(tmp / "home"))  # the instructor's home, as the sandbox sees the grader's
    try:
        code = main(["autograde", NAME, "--root", str(course), "--jobs", "2", "--cell-timeout", "60"])
    finally:
        monkey.undo()
        stop.set()
        server.close()
    with (course / "grades.csv").open(newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    return {"course": course, "tmp": tmp, "code": code, "rows": rows, "attacks": attacks,
            "connections": connections, "before": before}


def _autograded(course: Path, student: str) -> Any:
    return nbformat.read(str(course / "autograded" / student / NAME / f"{NAME}.ipynb"), as_version=4)


def test_the_class_is_graded_and_honest_scores_are_unchanged(hostile_class: dict[str, Any]) -> None:
    rows = hostile_class["rows"]
    assert hostile_class["code"] == 0, rows
    assert set(rows) == {"alice", "bob", *hostile_class["attacks"]}
    assert rows["alice"]["score"] == str(MAX_SCORE) and rows["bob"]["score"] == "2"
    assert "sandbox" not in next(iter(rows.values()))  # sandboxed: no loud column


@pytest.mark.parametrize(
    "student, error",
    [
        ("h_read_home", "FileNotFoundError"),
        ("h_write_outside", "FileNotFoundError"),
        ("h_read_other", "FileNotFoundError"),
        ("h_tcp", "ConnectionRefusedError"),
        ("h_fork_bomb", "BlockingIOError"),
        ("h_big_file", "OSError"),
        ("h_course_files", "OperationalError"),
    ],
)
def test_each_attack_fails_inside_the_sandbox(hostile_class: dict[str, Any], student: str, error: str) -> None:
    rows = hostile_class["rows"]
    assert rows[student]["status"] == "graded" and rows[student]["score"] == str(MAX_SCORE), rows[student]
    text = _cell_text(_autograded(hostile_class["course"], student))
    assert f"BLOCKED {error}" in text, text
    assert "LEAKED" not in text and SECRET not in text and ALICE_MARKER not in text


def test_nothing_outside_the_sandbox_changed(hostile_class: dict[str, Any]) -> None:
    course, tmp = hostile_class["course"], hostile_class["tmp"]
    assert not (tmp / "planted.txt").exists()
    assert hostile_class["connections"] == []
    for path, digest in hostile_class["before"].items():
        assert _digest(path) == digest, path
    tables = {r[0] for r in sqlite3.connect(course / "gradebook.db").execute("select name from sqlite_master")}
    assert "pwned" not in tables and "submitted_assignment" in tables
    assert not list(course.rglob("big.bin"))


def test_the_file_size_limit_stopped_the_big_file(hostile_class: dict[str, Any]) -> None:
    text = _cell_text(_autograded(hostile_class["course"], "h_big_file"))
    assert "File too large" in text


def _one_student_course(tmp_path: Path, settings: str) -> Path:
    course = make_course(tmp_path / "course")
    with (course / "nbgrader_config.py").open("a") as fh:
        fh.write("\n" + settings + "\n")
    release(course)
    submit(course, "alice", answered(release_path(course), CORRECT))
    return course


def test_without_a_sandbox_the_summary_and_csv_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = _one_student_course(tmp_path, "c.DlcourseGrading.sandbox = False")
    assert main(["autograde", NAME, "--root", str(course)]) == 0
    out = capsys.readouterr().out
    assert "sandbox: none (turned off: DlcourseGrading.sandbox = False): WARNING: student code ran unsandboxed" in out
    with (course / "grades.csv").open(newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["score"] == str(MAX_SCORE) and row["sandbox"].startswith("none (turned off")


def test_require_sandbox_refuses_before_anything_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dlcourse.course.sandbox as sandbox

    course = _one_student_course(tmp_path, "c.DlcourseGrading.require_sandbox = True")
    monkeypatch.setattr(sandbox, "_bwrap", lambda: None)
    sandbox.detect_sandbox.cache_clear()
    try:
        assert main(["autograde", NAME, "--root", str(course)]) == 2
    finally:
        sandbox.detect_sandbox.cache_clear()
    err = capsys.readouterr().err
    assert "require_sandbox is set and this machine has no sandbox (bwrap not found" in err
    assert not (course / "gradebook.db").exists() and not (course / "grades.csv").exists()
