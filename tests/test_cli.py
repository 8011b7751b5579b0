"""Tests of the ``dlcourse`` command line and of the environment report."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from course_fixtures import (
    CORRECT,
    NAME,
    answered,
    make_course,
    release_path,
    source_notebook,
    source_path,
    submit,
    write_notebook,
)

import dlcourse
from dlcourse.course import release
from dlcourse.course.cli import main
from dlcourse.environment import LAB_EXTENSIONS, lab_extension_status, parse_lab_extensions

DLCOURSE = Path(sys.executable).parent / "dlcourse"
DOCTOR_KEYS = {
    "python",
    "platform",
    "dlcourse",
    "numpy",
    "torch",
    "cuda available",
    "cuda device",
    "cuda version",
    "matplotlib",
    "ipywidgets",
    "jupyterlab",
    "nbgrader",
    "jupyterlab_widgets",
    *LAB_EXTENSIONS,
}


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A synthetic course whose release is current."""
    root = make_course(tmp_path / "course")
    release(root)
    return root


# --- arguments ------------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"dlcourse {dlcourse.__version__}"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("release", "validate", "collect", "autograde", "feedback", "export", "doctor", "lab"):
        assert command in out


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["autograde"], ["release", "--bogus"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: dlcourse" in capsys.readouterr().err


def test_no_course_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["release"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "dlcourse release: error: no course found" in captured.err
    assert "nbgrader_config.py" in captured.err


def test_bad_root_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--root", str(tmp_path)]) == 2
    assert f"--root {tmp_path}: no nbgrader_config.py there" in capsys.readouterr().err


# --- release and validate -------------------------------------------------------------------


def test_release_from_inside_the_course(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_course(tmp_path / "course")
    monkeypatch.chdir(root / "solutions")
    assert main(["release"]) == 0
    assert capsys.readouterr().out == f"wrote notebooks/{NAME}/{NAME}.ipynb\n"
    assert release_path(root).is_file()


def test_release_unknown_name_exits_2(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(course), "release", "99-nope"]) == 2
    assert "unknown assignment(s): 99-nope" in capsys.readouterr().err


def test_release_of_a_broken_source_exits_1(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source_path(course).write_text("{", encoding="utf-8")
    assert main(["release", "--root", str(course)]) == 1
    assert "is not valid JSON" in capsys.readouterr().err


def test_console_script_release_is_quiet_and_deterministic(course: Path) -> None:
    before = release_path(course).read_bytes()
    proc = subprocess.run(
        [str(DLCOURSE), "release", NAME], cwd=course, capture_output=True, text=True, check=False
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == f"wrote notebooks/{NAME}/{NAME}.ipynb\n"
    assert release_path(course).read_bytes() == before


def test_validate_ok(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--root", str(course)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0].split() == ["assignment", "check", "result"]
    assert [line.split()[0] for line in lines[1:]] == [NAME] * 5
    assert re.search(r"solution full marks +ok \(5/5\)", captured.out)
    assert re.search(r"solution runs cleanly +ok$", captured.out, re.M)


def test_validate_stale_release_exits_1(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = source_notebook()
    nb.cells[0].source = "# A new title"
    write_notebook(nb, source_path(course))
    assert main(["validate", NAME, "--root", str(course)]) == 1
    captured = capsys.readouterr()
    assert (
        f"FAIL: notebooks/{NAME} is stale ({NAME}.ipynb differs): run `dlcourse release {NAME}`"
        in captured.out
    )
    assert f"1 check(s) failed: {NAME} (release current)" in captured.err


# --- autograde ------------------------------------------------------------------------------


def test_autograde_with_a_corrupt_submission(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    submit(course, "alice", answered(release_path(course), CORRECT))
    submit(course, "zed", text="this is not a notebook")
    assert main(["autograde", NAME, "--root", str(course)]) == 1
    captured = capsys.readouterr()
    assert "1 of 2 submission(s) of 01-add not graded" in captured.err
    assert "zed: not graded: corrupt notebook (01-add.ipynb is not valid JSON" in captured.err
    lines = captured.out.splitlines()
    assert lines[0].split() == ["student", "score", "status", "review"]
    assert lines[1].split() == ["alice", "5/5", "graded"]
    assert lines[2].startswith("zed") and "-/5  not graded: corrupt notebook" in lines[2]
    assert lines[3] == "1 graded, 1 not graded, 2 in all"
    with (course / "grades.csv").open(newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert rows["alice"]["score"] == "5" and rows["alice"]["test_mul"] == "3"
    assert rows["zed"]["score"] == "" and rows["zed"]["status"].startswith("not graded: corrupt notebook")


def test_autograde_without_submissions_exits_1(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["autograde", NAME, "--root", str(course)]) == 1
    assert "no submissions of 01-add" in capsys.readouterr().err


def test_console_script_autograde_is_quiet(course: Path, tmp_path: Path) -> None:
    submit(course, "alice", answered(release_path(course), CORRECT))
    out = tmp_path / "out" / "grades.csv"
    env = {**os.environ, "PATH": "/usr/bin:/bin"}  # not activated: nbgrader must still find its tools
    proc = subprocess.run(
        [str(DLCOURSE), "autograde", NAME, "-o", str(out)],
        cwd=course,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.stderr == ""
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [
        "student  score  status  review",
        "alice      5/5  graded",
        "1 graded, 0 not graded, 1 in all",
        f"wrote {out}",
    ]
    assert out.read_text().splitlines()[1] == "alice,01-add,5,5,graded,,2,3"


# --- doctor ---------------------------------------------------------------------------------


def test_doctor_reports_every_key() -> None:
    import numpy

    buffer = io.StringIO()
    report = dlcourse.doctor(file=buffer)
    assert set(report) == DOCTOR_KEYS
    assert all(isinstance(v, str) and v for v in report.values())
    assert report["numpy"] == numpy.__version__
    assert report["dlcourse"] == dlcourse.__version__
    assert report["python"].startswith(".".join(map(str, sys.version_info[:3])))
    assert buffer.getvalue().splitlines() == [f"{k}: {v}" for k, v in report.items()]


def test_doctor_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(
        "dlcourse.environment.lab_extension_status", lambda: dict.fromkeys(LAB_EXTENSIONS, "enabled")
    )
    assert main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert {line.split(": ", 1)[0] for line in lines} == DOCTOR_KEYS
    assert "nbgrader lab extension: enabled" in lines


def test_importing_the_report_does_not_import_torch() -> None:
    code = "import sys, dlcourse, dlcourse.environment, dlcourse.course.cli; print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


def test_parse_lab_extensions() -> None:
    text = (
        "JupyterLab v4.2.0\n/share/jupyter/labextensions\n"
        "        @jupyter/nbgrader v0.9.6 \x1b[32menabled\x1b[0m \x1b[32mOK\x1b[0m\n"
        "        @jupyter-widgets/jupyterlab-manager v5.0.16 \x1b[31mdisabled\x1b[0m \x1b[32mOK\x1b[0m (python, jupyterlab_widgets)\n"
        "        broken-ext v1.0.0 enabled X\n"
    )
    assert parse_lab_extensions(text) == {
        "@jupyter/nbgrader": "enabled",
        "@jupyter-widgets/jupyterlab-manager": "disabled",
        "broken-ext": "enabled (with problems: run `jupyter labextension list`)",
    }


def test_lab_extensions_unknown_without_jupyter(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_jupyter(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 1, "", "No module named jupyter")

    monkeypatch.setattr(subprocess, "run", no_jupyter)
    assert lab_extension_status() == dict.fromkeys(LAB_EXTENSIONS, "unknown")

    def missing(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError("python")

    monkeypatch.setattr(subprocess, "run", missing)
    assert lab_extension_status() == dict.fromkeys(LAB_EXTENSIONS, "unknown")


def test_lab_extensions_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, "JupyterLab v4.2.0\n", "")
    )
    assert lab_extension_status() == dict.fromkeys(LAB_EXTENSIONS, "not installed")
