"""``dlcourse lab``: JupyterLab on the course, as a student or as an instructor sees it.

Two servers, one command:

- **Student** (``dlcourse lab``, ``make lab``): JupyterLab on ``notebooks/`` with nbgrader's
  instructor tools switched off for that server only (the Formgrader, Create Assignment, the
  exchange's Assignment and Course lists, the Nbgrader menu that opens them). The Validate
  button stays: it runs the notebook the way the grader will.
- **Instructor** (``dlcourse lab --instructor``, ``make lab-instructor``): JupyterLab on the
  course root with everything nbgrader offers, and a Formgrader that works on a fresh clone:
  the gradebook is created (or repaired) here, through nbgrader's API, before the server starts,
  and the exchange directory named in ``nbgrader_config.py`` exists.

Both servers run with this environment's ``bin`` first on ``PATH`` (nbgrader runs the
``alembic`` command by name, and ``.venv/bin/dlcourse`` is usually started without activating
the venv) and with the course root as working directory (nbgrader's server extensions read
``nbgrader_config.py`` from there).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dlcourse.course.errors import EXIT_USAGE, CourseError

__all__ = [
    "LAB_FOLDER",
    "STUDENT_DISABLED_LAB_PLUGINS",
    "STUDENT_DISABLED_SERVER_EXTENSIONS",
    "LabLaunch",
    "check_gradebook",
    "instructor_lab",
    "prepare_instructor_course",
    "repair_gradebook",
    "start_lab",
    "student_lab",
]

#: Folder, relative to the course root, that the student lab opens (the student notebooks).
LAB_FOLDER = "notebooks"

#: nbgrader's JupyterLab plugins a student has no use for. Validate
#: (``@jupyter/nbgrader:validate-assignment``) is not listed: it stays.
STUDENT_DISABLED_LAB_PLUGINS = (
    "@jupyter/nbgrader:menu",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:course-list",
)

#: nbgrader's server extensions behind those plugins (``validate_assignment`` stays).
STUDENT_DISABLED_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)

#: Per-server Jupyter configuration written into the course (gitignored), relative to its root.
#: JupyterLab reads disabled plugins only from ``labconfig/page_config.json`` files on the
#: Jupyter config path, not from a command-line option; putting this folder first on
#: ``JUPYTER_CONFIG_PATH`` of the student server alone leaves every other server untouched.
STUDENT_CONFIG_DIR = Path(".dlcourse") / "student-lab"

GRADEBOOK_REPAIR_HINT = "dlcourse lab --instructor"


@dataclass(frozen=True)
class LabLaunch:
    """How to start one JupyterLab server: its command line, working directory and environment.

    ``env`` holds only the variables that differ from the caller's environment.
    """

    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _bin_dir() -> Path:
    """The folder of this interpreter's scripts (``.venv/bin``), where nbgrader's ``alembic`` lives.

    Not resolved: a venv's ``python`` is a symlink to the base interpreter, whose folder has no
    ``alembic``.
    """
    return Path(sys.executable).parent


def _path_with_bin_first(environ: Mapping[str, str]) -> str:
    """``PATH`` with this environment's ``bin`` moved to the front."""
    bindir = str(_bin_dir())
    rest = [p for p in environ.get("PATH", "").split(os.pathsep) if p and p != bindir]
    return os.pathsep.join([bindir, *rest])


def _jupyter_lab(root_dir: Path, extra: Sequence[str], options: Sequence[str] = ()) -> list[str]:
    """``python -m jupyter lab`` serving ``root_dir``, with ``options`` then the user's ``extra``.

    As root (a container, a cloud VM's default user) Jupyter refuses to start without
    ``--allow-root``; the course is meant to open with one command there too.
    """
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    extra = [a for a in extra if a != "--"]
    return [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root_dir}", *options, *as_root, *extra]


def _write_student_config(root: Path) -> Path:
    """Write the student server's ``labconfig/page_config.json`` under the course; return its folder."""
    folder = root / STUDENT_CONFIG_DIR
    labconfig = folder / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": dict.fromkeys(STUDENT_DISABLED_LAB_PLUGINS, True)}
    text = json.dumps(page_config, indent=2) + "\n"
    target = labconfig / "page_config.json"
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)
    return folder


def student_lab(
    root: Path, extra: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> LabLaunch:
    """The student server: JupyterLab on ``<root>/notebooks`` without nbgrader's instructor tools."""
    environ = os.environ if environ is None else environ
    root = Path(root)
    folder = root / LAB_FOLDER
    if not folder.is_dir():
        raise CourseError(f"{folder} does not exist: run `dlcourse release` first", exit_code=EXIT_USAGE)
    config_dir = _write_student_config(root)
    config_path = [str(config_dir), *[p for p in environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]]
    options = [f"--ServerApp.jpserver_extensions={name}=False" for name in STUDENT_DISABLED_SERVER_EXTENSIONS]
    return LabLaunch(
        argv=_jupyter_lab(folder, extra, options),
        cwd=root,
        env={"PATH": _path_with_bin_first(environ), "JUPYTER_CONFIG_PATH": os.pathsep.join(config_path)},
    )


def _sqlite_file(db_url: str) -> Path | None:
    """The file of an ``sqlite:///`` URL, or None for another database."""
    prefix = "sqlite:///"
    return Path(db_url[len(prefix) :]) if db_url.startswith(prefix) else None


def check_gradebook(db_file: Path) -> str | None:
    """What is wrong with the SQLite gradebook at ``db_file`` (None when nothing, or when it is absent).

    nbgrader creates a gradebook's tables first and records their schema revision
    (``alembic_version``) afterwards, by running the ``alembic`` command; when that command is not
    on ``PATH`` the start fails half-way and leaves tables without a revision. nbgrader then
    treats the file as an existing, current gradebook forever after, and ``nbgrader db upgrade``
    cannot tell which migrations it needs.
    """
    if not db_file.is_file():
        return None
    try:
        with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        return f"it is not a readable SQLite database ({exc})"
    if tables and "alembic_version" not in tables:
        return "it has nbgrader's tables but no alembic_version table (left by a start that could not run `alembic`)"
    return None


def repair_gradebook(db_file: Path) -> str:
    """Record the installed nbgrader's schema revision in a gradebook that lacks it; return a note.

    The tables of such a gradebook were created by this nbgrader (its ``create_all`` ran before
    the revision lookup failed), so they are at its current revision: this is the same
    ``alembic_version`` row nbgrader writes into every new gradebook.
    """
    from dlcourse.course.config import _alembic_head

    revision = _alembic_head()
    with sqlite3.connect(db_file) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (revision,))
    return f"repaired {db_file.name}: it had no alembic_version table; recorded nbgrader's schema revision {revision}"


def prepare_instructor_course(root: Path) -> list[str]:
    """Make the Formgrader work on this course; return what was done, one line each.

    - the exchange directory that ``nbgrader_config.py`` names (``Exchange.root``) exists, so the
      Formgrader does not warn that release/collect are unavailable;
    - a gradebook left broken by an earlier failed start is repaired (or, when that fails, a
      :class:`CourseError` says what to do);
    - the gradebook exists, created through nbgrader's API (inside
      :func:`~dlcourse.course.config.nbgrader_environment`, which finds ``alembic`` whatever
      ``PATH`` is).
    """
    from dlcourse.course.config import Course, nbgrader_environment

    course = Course.load(root)
    notes: list[str] = []
    exchange = course.config.Exchange.get("root") if "Exchange" in course.config else None
    if exchange:
        exchange_dir = Path(exchange)
        if not exchange_dir.is_dir():
            exchange_dir.mkdir(parents=True)
            notes.append(f"created the exchange directory {exchange_dir}")
    db_file = _sqlite_file(course.db_url)
    if db_file is not None:
        problem = check_gradebook(db_file)
        if problem is not None:
            try:
                notes.append(repair_gradebook(db_file))
            except Exception as exc:  # a read-only file, a locked database, a damaged file
                raise CourseError(
                    f"{db_file} is broken: {problem}, and repairing it failed ({type(exc).__name__}: {exc}). "
                    f"Make it writable and run `{GRADEBOOK_REPAIR_HINT}` again, which repairs it; a gradebook "
                    "that holds no grades yet can simply be deleted instead.",
                ) from exc
    from nbgrader.api import Gradebook

    with nbgrader_environment(), Gradebook(course.db_url, course.course_id):
        pass
    return notes


def instructor_lab(
    root: Path, extra: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> LabLaunch:
    """The instructor server: JupyterLab on the course root with a working Formgrader."""
    environ = os.environ if environ is None else environ
    root = Path(root)
    if not (_bin_dir() / "alembic").exists() and not any(
        (Path(p) / "alembic").exists() for p in environ.get("PATH", "").split(os.pathsep) if p
    ):
        raise CourseError(
            f"nbgrader's `alembic` command is neither in {_bin_dir()} nor on PATH: install the "
            "instructor tools into this environment (`pip install -e \".[instructor,lab]\"`, or `make setup`)",
            exit_code=EXIT_USAGE,
        )
    notes = prepare_instructor_course(root)
    return LabLaunch(
        argv=_jupyter_lab(root, extra),
        cwd=root,
        env={"PATH": _path_with_bin_first(environ)},
        notes=notes,
    )


def start_lab(launch: LabLaunch) -> None:
    """Replace this process with the JupyterLab server ``launch`` describes (returns only in tests)."""
    os.chdir(launch.cwd)
    os.execvpe(launch.argv[0], launch.argv, {**os.environ, **launch.env})
