"""Find the course, load its ``nbgrader_config.py`` and run nbgrader converters with it.

nbgrader's Python API does not read ``nbgrader_config.py`` (only its command-line apps do) and
reports failures as ``{"success": False, ...}`` dicts. :class:`Course` loads the file explicitly,
pins ``CourseDirectory.root`` to the course root, and :func:`run_converter` turns every failure
into a :class:`~dlcourse.course.errors.CourseError`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlcourse.course.errors import EXIT_USAGE, CourseError, nbgrader_error_text

if TYPE_CHECKING:  # imported where used: importing this module stays cheap
    from nbgrader.converters.base import BaseConverter
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

__all__ = [
    "CONFIG_FILENAME",
    "Course",
    "find_course_root",
    "load_config",
    "nbgrader_environment",
    "nbgrader_logger",
    "run_converter",
    "sqlite_url",
]

CONFIG_FILENAME = "nbgrader_config.py"


def find_course_root(start: Path | str | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the cwd) holding ``nbgrader_config.py``."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILENAME).is_file():
            return folder
    raise CourseError(
        f"no course found: neither {here} nor any folder above it holds {CONFIG_FILENAME}. "
        "Run dlcourse from inside the course repository or pass --root PATH.",
        exit_code=EXIT_USAGE,
    )


def load_config(root: Path | str) -> Config:
    """Load ``<root>/nbgrader_config.py`` into a traitlets ``Config``; :class:`CourseError` if it fails."""
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    root = Path(root)
    path = root / CONFIG_FILENAME
    if not path.is_file():
        raise CourseError(f"{path} does not exist", exit_code=EXIT_USAGE)
    loader = PyFileConfigLoader(CONFIG_FILENAME, path=str(root), log=nbgrader_logger())
    try:
        return loader.load_config()
    except ConfigFileNotFound as exc:
        raise CourseError(f"cannot read {path}: {exc}", exit_code=EXIT_USAGE) from exc
    except Exception as exc:  # the config file is Python: any error in it is a config error
        raise CourseError(
            f"{path} failed to load: {type(exc).__name__}: {exc}", exit_code=EXIT_USAGE
        ) from exc


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of an SQLite file at an absolute ``path``."""
    return f"sqlite:///{Path(path).resolve()}"


@dataclass(frozen=True)
class Course:
    """A course folder and its loaded nbgrader configuration (``CourseDirectory.root`` pinned to it)."""

    root: Path
    config: Config

    @classmethod
    def load(cls, root: Path | str) -> Course:
        """Load the course at ``root`` (the folder holding ``nbgrader_config.py``)."""
        root = Path(root).resolve()
        config = load_config(root)
        config.CourseDirectory.root = str(root)
        return cls(root=root, config=config)

    def with_config(self, settings: dict[str, dict[str, Any]]) -> Course:
        """A copy whose config has ``settings`` (``{"Section": {"trait": value}}``) merged on top."""
        from traitlets.config import Config

        config = copy.deepcopy(self.config)
        config.merge(Config(settings))
        return Course(root=self.root, config=config)

    def coursedir(self, **traits: Any) -> CourseDirectory:
        """A fresh nbgrader ``CourseDirectory`` for this course, with ``traits`` set on it."""
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config, log=nbgrader_logger())
        for name, value in traits.items():
            setattr(coursedir, name, value)
        return coursedir

    def _folder(self, trait: str) -> Path:
        return self.root / getattr(self.coursedir(), trait)

    @property
    def source_dir(self) -> Path:
        """Where the instructor notebooks live (``solutions/``)."""
        return self._folder("source_directory")

    @property
    def release_dir(self) -> Path:
        """Where the student notebooks are generated (``notebooks/``)."""
        return self._folder("release_directory")

    @property
    def submitted_dir(self) -> Path:
        """Where student submissions are collected (``submitted/<student>/<assignment>/``)."""
        return self._folder("submitted_directory")

    @property
    def autograded_dir(self) -> Path:
        """Where nbgrader writes autograded notebooks."""
        return self._folder("autograded_directory")

    @property
    def db_url(self) -> str:
        """The gradebook's database URL."""
        return str(self.coursedir().db_url)

    @property
    def course_id(self) -> str:
        """The nbgrader course id."""
        return str(self.coursedir().course_id)

    @property
    def ignore(self) -> list[str]:
        """File globs nbgrader never copies (checkpoints, caches)."""
        return list(self.coursedir().ignore)

    def assignments(self) -> list[str]:
        """Names of all assignments in the source folder, sorted."""
        if not self.source_dir.is_dir():
            return []
        return sorted(p.name for p in self.source_dir.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def resolve(self, names: Iterable[str] | None) -> list[str]:
        """Check ``names`` against the source folder (all assignments when ``names`` is empty)."""
        known = self.assignments()
        wanted = [n.strip("/").split("/")[-1] for n in names or []]
        if not wanted:
            if not known:
                raise CourseError(f"no assignments in {self.source_dir}", exit_code=EXIT_USAGE)
            return known
        unknown = [n for n in wanted if n not in known]
        if unknown:
            raise CourseError(
                f"unknown assignment(s): {', '.join(unknown)} (assignments in {self.source_dir}: "
                f"{', '.join(known) or 'none'})",
                exit_code=EXIT_USAGE,
            )
        return list(dict.fromkeys(wanted))

    def source_notebooks(self, name: str) -> list[Path]:
        """The instructor notebooks of assignment ``name``, sorted."""
        return sorted((self.source_dir / name).glob("*.ipynb"))


def nbgrader_logger() -> logging.Logger:
    """The logger every nbgrader object we create logs to.

    It does not propagate, so nothing reaches stderr in success paths; :func:`run_converter`
    attaches a buffer to it for the duration of a run and reports what it caught on failure.
    """
    logger = logging.getLogger("dlcourse.nbgrader")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
        logger.setLevel(logging.INFO)
    return logger


@functools.lru_cache(maxsize=1)
def _alembic_head() -> str:
    """The gradebook schema revision of the installed nbgrader, read from its migration scripts."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
    if not head:
        raise RuntimeError("nbgrader's alembic scripts have no head revision")
    return str(head)


@contextlib.contextmanager
def nbgrader_environment() -> Iterator[None]:
    """What every call into nbgrader runs inside.

    - A new gradebook is stamped with its schema revision, which nbgrader gets by running the
      ``alembic heads`` command as a subprocess: about 2 s per gradebook (every validation
      creates one), and ``FileNotFoundError: 'alembic'`` when ``dlcourse`` is started as
      ``.venv/bin/dlcourse`` without activating the environment. The revision is read in-process
      instead (nbgrader's own function stays the fallback, with this environment's ``bin`` on
      ``PATH``).
    - nbgrader 0.9 with SQLAlchemy 2 emits ``SAWarning: Object of type <SubmittedAssignment> not
      in session`` on every autograde, and ``add_missing_cells`` inserts cells without ids
      (``MissingIDFieldWarning``); both are harmless and would bury real messages.
    """
    import warnings

    import nbgrader.api
    from nbformat.warnings import MissingIDFieldWarning
    from sqlalchemy.exc import SAWarning

    original = nbgrader.api.get_alembic_version

    def alembic_version() -> str:
        try:
            return _alembic_head()
        except Exception:
            return str(original())

    old_path = os.environ.get("PATH", "")
    bindir = Path(sys.executable).parent
    if shutil.which("alembic") is None and (bindir / "alembic").exists():
        os.environ["PATH"] = str(bindir) + os.pathsep + old_path
    nbgrader.api.get_alembic_version = alembic_version
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            yield
    finally:
        nbgrader.api.get_alembic_version = original
        os.environ["PATH"] = old_path


def run_converter(app: BaseConverter, action: str) -> str:
    """Run an nbgrader converter (``GenerateAssignment``, ``Autograde``, ...) and return its log.

    Raises :class:`CourseError` with nbgrader's error text, trimmed to what matters, when
    the converter fails; ``action`` says what was attempted ("generate 01-intro").
    """
    from nbgrader.utils import capture_log

    with nbgrader_environment():
        result = capture_log(app)
    if not result.get("success"):
        raise CourseError(f"nbgrader could not {action}:\n{nbgrader_error_text(result)}")
    return str(result.get("log", ""))
