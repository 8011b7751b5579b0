"""Generate student notebooks (``notebooks/``) from instructor notebooks (``solutions/``).

Generation runs nbgrader's ``GenerateAssignment`` inside a temporary copy of the course, so
releasing needs no gradebook and never writes to the real one. The output is deterministic: it
depends only on the source notebook and ``nbgrader_config.py`` (which strips the metadata that
the author's front end and kernel leave behind), so a test can assert the committed release is
current by regenerating it and comparing bytes.
"""

from __future__ import annotations

import contextlib
import fnmatch
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from dlcourse.course.assignment import Assignment
from dlcourse.course.config import Course, nbgrader_logger, run_converter, sqlite_url

__all__ = [
    "committed_bytes",
    "generate_assignment",
    "release",
    "release_bytes",
    "release_differences",
    "sandbox",
]


@contextlib.contextmanager
def sandbox(course: Course, names: Iterable[str]) -> Iterator[Course]:
    """A temporary course holding only the sources of ``names`` and its own empty gradebook.

    The configuration is the real course's, with ``root`` and ``db_url`` pointed into the
    temporary folder; the folder is removed on exit.
    """
    tmp = Path(tempfile.mkdtemp(prefix="dlcourse-")).resolve()
    try:
        copy = replace(
            course.with_config(
                {"CourseDirectory": {"root": str(tmp), "db_url": sqlite_url(tmp / "gradebook.db")}}
            ),
            root=tmp,
        )
        ignore = shutil.ignore_patterns(*course.ignore)
        for name in names:
            shutil.copytree(course.source_dir / name, copy.source_dir / name, ignore=ignore)
        yield copy
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def generate_assignment(course: Course, name: str, *, database: bool = False) -> Path:
    """Run nbgrader's ``GenerateAssignment`` for ``name`` in ``course``; return the release folder.

    ``database=False`` skips the gradebook entirely (what a release needs); ``database=True``
    records the assignment, its graded cells and their sources in ``course.db_url``, which
    ``autograde`` needs.
    """
    from nbgrader.converters import GenerateAssignment

    if not database:
        course = course.with_config(
            {"GenerateAssignment": {"no_database": True}, "SaveCells": {"enabled": False}}
        )
    app = GenerateAssignment(
        coursedir=course.coursedir(assignment_id=name), config=course.config, log=nbgrader_logger()
    )
    app.force = True
    app.create_assignment = True
    run_converter(app, f"generate the student version of {name}")
    return course.release_dir / name


def _read_tree(folder: Path, ignore: list[str]) -> dict[str, bytes]:
    """Every file under ``folder`` (skipping the ``ignore`` globs), keyed by POSIX relative path."""
    files: dict[str, bytes] = {}
    if not folder.is_dir():
        return files
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(fnmatch.fnmatch(part, pattern) for part in rel.parts for pattern in ignore):
            continue
        if path.is_file():
            files[rel.as_posix()] = path.read_bytes()
    return files


def release_bytes(root: Path | str, name: str) -> dict[str, bytes]:
    """The files of the student version of assignment ``name``, generated afresh: ``{relative path: bytes}``.

    The source notebooks are checked first; nothing in the course folder is written.
    """
    course = Course.load(root)
    (name,) = course.resolve([name])
    Assignment.checked(course, name)
    with sandbox(course, [name]) as tmp:
        return _read_tree(generate_assignment(tmp, name), course.ignore)


def committed_bytes(root: Path | str, name: str) -> dict[str, bytes]:
    """The files of the committed student version of ``name`` (``notebooks/NAME/``)."""
    course = Course.load(root)
    return _read_tree(course.release_dir / name, course.ignore)


def release_differences(expected: dict[str, bytes], committed: dict[str, bytes]) -> list[str]:
    """How the committed release differs from a fresh one, one line per file (empty when current)."""
    lines = [f"{path} is missing" for path in sorted(expected.keys() - committed.keys())]
    lines += [f"{path} should not be there" for path in sorted(committed.keys() - expected.keys())]
    lines += [
        f"{path} differs"
        for path in sorted(expected.keys() & committed.keys())
        if expected[path] != committed[path]
    ]
    return lines


def release(root: Path | str, names: Iterable[str] | None = None) -> list[Path]:
    """Regenerate ``notebooks/NAME/`` for each of ``names`` (default: all); return the files written.

    Every release is generated before anything is written, so a bad source notebook leaves
    ``notebooks/`` untouched. Each ``notebooks/NAME/`` is replaced as a whole, so files removed
    from the source disappear from the release too.
    """
    course = Course.load(root)
    releases = {name: release_bytes(course.root, name) for name in course.resolve(names)}
    written: list[Path] = []
    for name, files in releases.items():
        dest = course.release_dir / name
        if dest.exists():
            shutil.rmtree(dest)
        for rel, data in files.items():
            path = dest / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written.append(path)
    return written
