"""dlcourse's own settings in ``nbgrader_config.py``: how ``collect`` and ``autograde`` behave.

They are traitlets ``Configurable`` classes, so ``nbgrader_config.py`` sets them the way it sets
nbgrader's (``c.DlcourseGrading.jobs = 2``) and traitlets checks their types. nbgrader ignores
sections it does not know, so the file still works with the plain ``nbgrader`` commands.
"""

from __future__ import annotations

from typing import TypeVar

from traitlets import Bool, Float, Integer, List, Unicode
from traitlets.config import Config, Configurable

from dlcourse.course.errors import EXIT_USAGE, CourseError

__all__ = ["DEFAULT_FILENAME_PATTERNS", "DlcourseCollect", "DlcourseGrading", "collect_settings", "grading_settings"]

#: Regular expressions tried in order on every path inside an LMS zip (``/``-separated). Each
#: names the groups ``student`` (who submitted) and ``file`` (the file name they uploaded).
DEFAULT_FILENAME_PATTERNS = [
    # Moodle "download all submissions": a folder per student, "Full Name_1234_assignsubmission_file_"
    r"^(?:.*/)?(?P<student>[^/]+?)_\d+_assignsubmission_file_?/(?:.*/)?(?P<file>[^/]+)$",
    # Moodle without folders: "Full Name_1234_assignsubmission_file_01-add.ipynb"
    r"^(?:.*/)?(?P<student>[^/]+?)_\d+_assignsubmission_file_(?P<file>[^/]+)$",
    # Canvas "download submissions": "lastfirst[_LATE]_<user id>_<submission id>_<file name>"
    r"^(?:.*/)?(?P<student>[^/_]+)(?:_LATE)?_\d+_\d+_(?P<file>[^/]+)$",
    # A folder per student: "<student>/<file name>" (anything else nested above is ignored)
    r"^(?:.*/)?(?P<student>[^/]+)/(?P<file>[^/]+)$",
]


class DlcourseCollect(Configurable):
    """``dlcourse collect``: how file names in an LMS download map to students."""

    filename_patterns = List(
        Unicode(),
        default_value=DEFAULT_FILENAME_PATTERNS,
        help="Regular expressions with the named groups 'student' and 'file', tried in order on "
        "each path in the zip; the first that matches wins.",
    ).tag(config=True)

    max_file_mb = Float(
        50.0, help="Largest file (uncompressed, MB) collect accepts from a zip; bigger ones are reported."
    ).tag(config=True)


class DlcourseGrading(Configurable):
    """``dlcourse autograde``: parallelism and the limits every submission runs under."""

    jobs = Integer(1, help="Submissions graded at the same time (worker processes).").tag(config=True)

    notebook_time_limit = Float(
        900.0,
        help="Seconds one notebook may take to grade, kernel start included; a submission is "
        "stopped and reported 'not graded: timeout' after this many seconds per notebook. The "
        "per-cell timeout is ExecutePreprocessor.timeout.",
    ).tag(config=True)

    memory_limit_mb = Integer(
        4096,
        help="Address-space limit (RLIMIT_AS, MB) of the kernel that runs a submission; 0 for none. "
        "An allocation beyond it raises MemoryError in the student's cell.",
    ).tag(config=True)

    sandbox = Bool(
        True,
        help="Run each submission's kernel in the bubblewrap sandbox where this machine (or the Dask "
        "worker) has one. False turns it off (for debugging): reports then say 'sandbox: none'.",
    ).tag(config=True)

    require_sandbox = Bool(
        False,
        help="Refuse to grade when the bubblewrap sandbox is unavailable (no bwrap, or user namespaces "
        "off). By default grading then runs unsandboxed and every report says 'sandbox: none'.",
    ).tag(config=True)

    max_processes = Integer(
        256,
        help="Processes and threads a sandboxed kernel may run at once (RLIMIT_NPROC): stops a fork "
        "bomb. 0 for no limit.",
    ).tag(config=True)

    max_file_size_mb = Integer(
        1024,
        help="Largest file a sandboxed kernel may write (RLIMIT_FSIZE, MB), and the size of its private "
        "/tmp. 0 for no limit.",
    ).tag(config=True)


_Settings = TypeVar("_Settings", bound=Configurable)


def _settings(cls: type[_Settings], config: Config) -> _Settings:
    try:
        return cls(config=config)
    except Exception as exc:  # a TraitError from a wrong type in nbgrader_config.py
        raise CourseError(f"nbgrader_config.py: bad {cls.__name__} setting: {exc}", exit_code=EXIT_USAGE) from exc


def grading_settings(config: Config) -> DlcourseGrading:
    """The ``DlcourseGrading`` settings of a loaded course config."""
    return _settings(DlcourseGrading, config)


def collect_settings(config: Config) -> DlcourseCollect:
    """The ``DlcourseCollect`` settings of a loaded course config."""
    return _settings(DlcourseCollect, config)
