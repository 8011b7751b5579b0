"""Import a learning-management-system download (a zip of notebooks) into ``submitted/``.

Every path in the zip is matched against the configured file-name patterns
(``c.DlcourseCollect.filename_patterns``; the default knows Canvas and Moodle downloads and a
folder per student). A match gives a student id and an uploaded file name; the file becomes
``submitted/<student>/<assignment>/<notebook>.ipynb``. Nothing is dropped silently: every file
that was not collected is reported with the reason.

Safety: the zip's paths are never used as paths. The student id is reduced to letters, digits
and ``._@-``, the file name written is the assignment's own notebook name, and every destination
is checked to lie inside ``submitted/`` (symbolic links included) before anything is written.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dlcourse.course.config import Course
from dlcourse.course.errors import EXIT_USAGE, CourseError

__all__ = ["CollectReport", "collect", "student_id"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")
# Canvas appends "-1", "-2" to a re-uploaded file; browsers and students add " (1)" or "Copy of ".
_COPY_SUFFIX = re.compile(r"(?:-\d+|\s*\(\d+\))$")
_COPY_PREFIX = re.compile(r"^(?:copy of\s+)", re.IGNORECASE)


@dataclass
class CollectReport:
    """What ``collect`` did: files written, files skipped with the reason, students seen."""

    assignment: str
    collected: list[tuple[str, str, Path]] = field(default_factory=list)  # (zip path, student, written)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (zip path, reason)

    @property
    def students(self) -> list[str]:
        """Students with at least one collected notebook, sorted."""
        return sorted({student for _, student, _ in self.collected})


def student_id(raw: str) -> str:
    """A student id that is safe as a single folder name (``""`` when nothing usable is left).

    Runs of other characters (spaces in Moodle's full names, slashes, dots that would make
    ``..``) become ``-``; ids are case-preserving.
    """
    cleaned = _UNSAFE.sub("-", raw.strip()).strip(".-")
    return "" if cleaned in ("", ".", "..") else cleaned


def _notebook_for(file_name: str, notebooks: list[str]) -> tuple[str | None, str]:
    """Which notebook of the assignment an uploaded file is (``None`` and why when it is none)."""
    path = PurePosixPath(file_name)
    if path.suffix.lower() != ".ipynb":
        return None, "not a notebook (.ipynb)"
    stem = _COPY_PREFIX.sub("", _COPY_SUFFIX.sub("", path.stem)).strip()
    if stem in notebooks:
        return stem, ""
    if path.stem in notebooks:
        return path.stem, ""
    if len(notebooks) == 1:
        return notebooks[0], f"renamed from {path.name}"
    return None, f"matches none of the notebooks {', '.join(n + '.ipynb' for n in notebooks)}"


def _inside(folder: Path, path: Path) -> bool:
    """Whether ``path`` (resolved, symbolic links followed) lies inside ``folder``."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def collect(root: Path | str, archive: Path | str, assignment: str, *, dry_run: bool = False) -> CollectReport:
    """Copy the notebooks in the LMS zip ``archive`` to ``submitted/<student>/<assignment>/``.

    Raises :class:`CourseError` when the archive is missing or not a zip, or the assignment is
    unknown (exit status 2). Per-file problems are in the report's ``unmatched``. A student with
    two files for the same notebook gets the one that matches its name exactly (the other is
    reported); a re-collect replaces older files.
    """
    from dlcourse.course.settings import collect_settings

    course = Course.load(root)
    (assignment,) = course.resolve([assignment])
    settings = collect_settings(course.config)
    try:
        patterns = [re.compile(p) for p in settings.filename_patterns]
    except re.error as exc:
        raise CourseError(
            f"nbgrader_config.py: bad DlcourseCollect.filename_patterns: {exc}", exit_code=EXIT_USAGE
        ) from exc
    bad = [p.pattern for p in patterns if not {"student", "file"} <= set(p.groupindex)]
    if bad:
        raise CourseError(
            f"nbgrader_config.py: DlcourseCollect.filename_patterns need the groups (?P<student>...) and "
            f"(?P<file>...): {', '.join(bad)}",
            exit_code=EXIT_USAGE,
        )
    archive = Path(archive)
    if not archive.is_file():
        raise CourseError(f"{archive}: no such file", exit_code=EXIT_USAGE)
    if not zipfile.is_zipfile(archive):
        raise CourseError(f"{archive} is not a zip archive", exit_code=EXIT_USAGE)
    notebooks = [p.stem for p in course.source_notebooks(assignment)]
    submitted = course.submitted_dir
    limit = int(settings.max_file_mb * 1024 * 1024)
    report = CollectReport(assignment)
    # (student, notebook) -> (zip member, exact name match?)
    chosen: dict[tuple[str, str], tuple[zipfile.ZipInfo, bool]] = {}
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/")
            base = PurePosixPath(name).name
            if base.startswith(".") or "__MACOSX/" in name:
                report.unmatched.append((name, "skipped: system file"))
                continue
            match = next((m for m in (p.search(name) for p in patterns) if m), None)
            if match is None:
                report.unmatched.append((name, "no file-name pattern matches it"))
                continue
            student = student_id(match.group("student") or "")
            if not student:
                report.unmatched.append((name, f"no usable student id in {match.group('student')!r}"))
                continue
            notebook, why = _notebook_for(match.group("file") or "", notebooks)
            if notebook is None:
                report.unmatched.append((name, why))
                continue
            if info.file_size > limit:
                size = f"{info.file_size / 2**20:.0f} MB > {settings.max_file_mb:g} MB"
                report.unmatched.append((name, f"too large ({size})"))
                continue
            exact = not why
            key = (student, notebook)
            if key in chosen:
                other, other_exact = chosen[key]
                if exact and not other_exact:
                    report.unmatched.append((other.filename, f"skipped: {student} also uploaded {base}"))
                    chosen[key] = (info, exact)
                else:
                    why = f"skipped: {student} already has {notebook}.ipynb from {other.filename}"
                    report.unmatched.append((name, why))
                continue
            chosen[key] = (info, exact)
        for (student, notebook), (info, _) in sorted(chosen.items()):
            dest = submitted / student / assignment / f"{notebook}.ipynb"
            if not _inside(submitted, dest):
                report.unmatched.append((info.filename, "refused: the destination would lie outside submitted/"))
                continue
            data = _read_limited(zf, info, limit)
            if data is None:
                report.unmatched.append((info.filename, f"too large (over {settings.max_file_mb:g} MB uncompressed)"))
                continue
            if not dry_run:
                dest.parent.mkdir(parents=True, exist_ok=True)
                if dest.is_symlink():
                    dest.unlink()
                dest.write_bytes(data)
            report.collected.append((info.filename, student, dest))
    return report


def _read_limited(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The member's bytes, or ``None`` when it inflates past ``limit`` (the header can lie)."""
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    return None if len(data) > limit else data
