"""``dlcourse collect``: LMS zips into ``submitted/``, unmatched files reported, no path traversal."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from course_fixtures import NAME, make_course

from dlcourse.course import CourseError, collect
from dlcourse.course.cli import main
from dlcourse.course.collect import student_id

NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return make_course(tmp_path / "course")


def _submitted(root: Path) -> list[str]:
    base = root / "submitted"
    return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()) if base.exists() else []


def test_canvas_moodle_and_folders(course: Path, tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "lms.zip",
        {
            "smithjane_12345_678901_01-add.ipynb": b"jane",  # Canvas
            "doejohn_LATE_2222_333_01-add-1.ipynb": b"john",  # Canvas, late, re-uploaded
            "Ada Lovelace_4711_assignsubmission_file_/01-add.ipynb": b"ada",  # Moodle, a folder each
            "Alan Turing_42_assignsubmission_file_Copy of 01-add.ipynb": b"alan",  # Moodle, flat, renamed
            "grace/01-add (1).ipynb": b"grace",  # a folder per student
            "grace/notes.pdf": b"%PDF",
            "README.txt": b"hello",
            "__MACOSX/._grace": b"",
        },
    )
    report = collect(course, archive, NAME)
    assert report.students == ["Ada-Lovelace", "Alan-Turing", "doejohn", "grace", "smithjane"]
    assert _submitted(course) == [f"{s}/{NAME}/{NAME}.ipynb" for s in report.students]
    assert (course / "submitted" / "smithjane" / NAME / f"{NAME}.ipynb").read_bytes() == b"jane"
    assert (course / "submitted" / "Ada-Lovelace" / NAME / f"{NAME}.ipynb").read_bytes() == b"ada"
    unmatched = dict(report.unmatched)
    assert unmatched == {
        "grace/notes.pdf": "not a notebook (.ipynb)",
        "README.txt": "no file-name pattern matches it",
        "__MACOSX/._grace": "skipped: system file",
    }


def test_path_traversal_never_leaves_submitted(course: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (course / "submitted").mkdir()
    os.symlink(outside, course / "submitted" / "linked")  # a planted link must not be followed
    archive = _zip(
        tmp_path / "evil.zip",
        {
            "../../evil_1_2_01-add.ipynb": NOTEBOOK,
            "/abs/olaf_1_2_01-add.ipynb": NOTEBOOK,
            "alice/../../../01-add.ipynb": NOTEBOOK,
            "x/../..\\..\\01-add.ipynb": NOTEBOOK,
            "linked/01-add.ipynb": NOTEBOOK,
        },
    )
    report = collect(course, archive, NAME)
    # names are used only to find a student id; the file written is always submitted/<id>/NAME/NAME.ipynb
    assert report.students == ["evil", "olaf"]
    reasons = dict(report.unmatched)
    assert reasons["alice/../../../01-add.ipynb"].startswith("no usable student id")
    assert reasons["linked/01-add.ipynb"] == "refused: the destination would lie outside submitted/"
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "01-add.ipynb").exists() and not (tmp_path.parent / "01-add.ipynb").exists()
    for path in (course / "submitted").rglob("*.ipynb"):
        assert path.resolve().is_relative_to((course / "submitted").resolve())


def test_duplicates_prefer_the_exact_name(course: Path, tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "dup.zip",
        {"ann/Untitled.ipynb": b"draft", "ann/01-add.ipynb": b"final", "ann/other.ipynb": b"other"},
    )
    report = collect(course, archive, NAME)
    assert (course / "submitted" / "ann" / NAME / f"{NAME}.ipynb").read_bytes() == b"final"
    assert sorted(why.split(":")[0] for _, why in report.unmatched) == ["skipped", "skipped"]


def test_custom_pattern_from_the_config(course: Path, tmp_path: Path) -> None:
    config = course / "nbgrader_config.py"
    config.write_text(
        config.read_text()
        + '\nc.DlcourseCollect.filename_patterns = [r"^(?P<student>\\w+)_attempt_[\\d-]+_(?P<file>.+)$"]\n'
    )
    archive = _zip(
        tmp_path / "bb.zip", {"u123_attempt_2026-11-20-10-00-00_01-add.ipynb": b"x", "smith_1_2_01-add.ipynb": b"y"}
    )
    report = collect(course, archive, NAME)
    assert report.students == ["u123"]
    assert report.unmatched == [("smith_1_2_01-add.ipynb", "no file-name pattern matches it")]


def test_pattern_without_groups_is_a_usage_error(course: Path, tmp_path: Path) -> None:
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + '\nc.DlcourseCollect.filename_patterns = [r"^(.*)$"]\n')
    with pytest.raises(CourseError, match="need the groups") as info:
        collect(course, _zip(tmp_path / "a.zip", {"a": b""}), NAME)
    assert info.value.exit_code == 2


def test_student_id_is_one_safe_folder_name() -> None:
    assert student_id("Ada Lovelace") == "Ada-Lovelace"
    assert student_id("../..") == ""
    assert student_id("a/b\\c") == "a-b-c"
    assert student_id(".hidden") == "hidden"
    assert student_id("o'brien@uni.edu") == "o-brien@uni.edu"


def test_too_large_files_are_reported(course: Path, tmp_path: Path) -> None:
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.DlcourseCollect.max_file_mb = 0.001\n")
    report = collect(course, _zip(tmp_path / "big.zip", {"bob/01-add.ipynb": b"x" * 5000}), NAME)
    assert report.collected == [] and report.unmatched[0][1].startswith("too large")


def test_cli_collect(course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _zip(tmp_path / "good.zip", {"smithjane_1_2_01-add.ipynb": NOTEBOOK})
    assert main(["collect", str(good), "--assignment", NAME, "--root", str(course), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"would collect 1 notebook(s) of {NAME} from 1 student(s)"
    assert _submitted(course) == []
    assert main(["collect", str(good), "-a", NAME, "--root", str(course)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        f"collected smithjane_1_2_01-add.ipynb -> submitted/smithjane/{NAME}/{NAME}.ipynb"
    )
    mixed = _zip(tmp_path / "mixed.zip", {"smithjane_1_2_01-add.ipynb": NOTEBOOK, "notes.txt": b""})
    assert main(["collect", str(mixed), "-a", NAME, "--root", str(course)]) == 1
    assert "notes.txt: no file-name pattern matches it" in capsys.readouterr().err
    assert main(["collect", str(tmp_path / "nope.zip"), "-a", NAME, "--root", str(course)]) == 2
    assert main(["collect", str(good), "--root", str(course)]) == 2  # --assignment is required
    (tmp_path / "fake.zip").write_text("not a zip")
    assert main(["collect", str(tmp_path / "fake.zip"), "-a", NAME, "--root", str(course)]) == 2
    assert "is not a zip archive" in capsys.readouterr().err
