"""``dlcourse lab``: the student and instructor servers' command lines, and the gradebook repair.

Fast: nothing here starts a server (tests/browser/ does, in a real browser). The command lines
are checked by parsing them with JupyterLab's own classes, so a flag that Jupyter would read
differently fails here.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from course_fixtures import make_course

from dlcourse.course import release
from dlcourse.course.cli import main
from dlcourse.course.errors import CourseError
from dlcourse.course.lab import (
    LAB_FOLDER,
    STUDENT_DISABLED_LAB_PLUGINS,
    STUDENT_DISABLED_SERVER_EXTENSIONS,
    LabLaunch,
    check_gradebook,
    instructor_lab,
    student_lab,
)

BIN = str(Path(sys.executable).parent)
VALIDATE_PLUGIN = "@jupyter/nbgrader:validate-assignment"
VALIDATE_EXTENSION = "nbgrader.server_extensions.validate_assignment"


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A synthetic course whose release is current."""
    root = make_course(tmp_path / "course")
    release(root)
    return root.resolve()


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str], dict[str, str], str]]:
    """Every exec of a server, recorded instead of run: (file, argv, env, cwd)."""
    calls: list[tuple[str, list[str], dict[str, str], str]] = []
    cwd: list[str] = []
    monkeypatch.setattr(os, "chdir", lambda path: cwd.append(str(path)))
    monkeypatch.setattr(os, "execvpe", lambda file, argv, env: calls.append((file, list(argv), dict(env), cwd[-1])))
    return calls


def _server_app(argv: list[str]):  # type: ignore[no-untyped-def]
    """Jupyter's ServerApp with the ``jupyter lab`` options of ``argv`` parsed into it."""
    from jupyter_server.serverapp import ServerApp

    assert argv[:4] == [sys.executable, "-m", "jupyter", "lab"], argv
    app = ServerApp()
    app.parse_command_line(argv[4:])
    return app


# --- student --------------------------------------------------------------------------------


def test_student_lab_serves_the_notebooks_without_instructor_extensions(course: Path) -> None:
    launch = student_lab(course, ["--no-browser", "--port", "8899"], environ={"PATH": "/usr/bin"})
    app = _server_app(launch.argv)
    assert Path(app.root_dir) == course / LAB_FOLDER
    assert app.open_browser is False and app.port == 8899  # the user's options reach jupyter
    assert {name: app.jpserver_extensions.get(name) for name in STUDENT_DISABLED_SERVER_EXTENSIONS} == dict.fromkeys(
        STUDENT_DISABLED_SERVER_EXTENSIONS, False
    )
    assert VALIDATE_EXTENSION not in app.jpserver_extensions  # Validate keeps its default: enabled
    assert launch.cwd == course  # nbgrader's Validate reads nbgrader_config.py from the cwd
    assert launch.env["PATH"].split(os.pathsep) == [BIN, "/usr/bin"]


def test_student_lab_disables_the_nbgrader_plugins_in_jupyterlabs_page_config(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JupyterLab's own page-config reader, given the student server's environment, sees them disabled."""
    from jupyterlab_server.config import get_page_config

    launch = student_lab(course, environ={"PATH": "/usr/bin", "JUPYTER_CONFIG_PATH": "/elsewhere"})
    config_path = launch.env["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert config_path[1:] == ["/elsewhere"]  # what the user had is kept, after ours
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", launch.env["JUPYTER_CONFIG_PATH"])
    disabled = get_page_config([])["disabledExtensions"]  # the list the front end receives
    assert set(STUDENT_DISABLED_LAB_PLUGINS) <= set(disabled)
    assert VALIDATE_PLUGIN not in disabled
    assert "@jupyter/nbgrader" not in disabled  # the package stays: its Validate plugin is needed
    monkeypatch.delenv("JUPYTER_CONFIG_PATH")
    assert "@jupyter/nbgrader:formgrader" not in get_page_config([])["disabledExtensions"], (
        "other servers must keep the Formgrader"
    )


def test_dlcourse_lab_execs_the_student_server(
    course: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.chdir(course / "solutions")  # the course is found from any folder inside it
    launches = request.getfixturevalue("launches")  # after the chdir, which it would record instead
    monkeypatch.setenv("PATH", "/usr/bin")
    assert main(["lab", "--no-browser", "--port", "8899"]) == 0
    [(file, argv, env, cwd)] = launches
    assert file == sys.executable and argv == student_lab(course, ["--no-browser", "--port", "8899"]).argv
    assert cwd == str(course)
    assert env["PATH"].split(os.pathsep)[0] == BIN
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(course / ".dlcourse" / "student-lab")


def test_lab_as_root_allows_root(course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Jupyter refuses to run as root without --allow-root; containers often run as root."""
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert "--allow-root" in student_lab(course).argv
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "--allow-root" not in student_lab(course).argv


def test_lab_without_notebooks_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_course(tmp_path / "course")
    monkeypatch.setattr(os, "execvpe", lambda *a: pytest.fail("must not start jupyter"))
    assert main(["lab", "--root", str(root)]) == 2
    assert "run `dlcourse release` first" in capsys.readouterr().err


# --- instructor -----------------------------------------------------------------------------


def _tables(db_file: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(db_file) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {name: db.execute(f"SELECT * FROM {name}").fetchall() for name in names}


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return str(ScriptDirectory(ALEMBIC_DIR).get_current_head())


def test_instructor_lab_on_a_fresh_course_whatever_path_is(
    course: Path, monkeypatch: pytest.MonkeyPatch, launches: list, capsys: pytest.CaptureFixture[str]
) -> None:
    """No venv on PATH (as `.venv/bin/dlcourse` is run): the gradebook is created, stamped, and the
    server gets the venv's bin first on PATH, so nbgrader finds `alembic` there too."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert not (course / "gradebook.db").exists() and not (course / "exchange").exists()
    assert main(["lab", "--instructor", "--root", str(course), "--no-browser"]) == 0
    [(file, argv, env, cwd)] = launches
    app = _server_app(argv)
    assert Path(app.root_dir) == course and app.open_browser is False
    assert not any(enabled is False for enabled in app.jpserver_extensions.values())  # nothing switched off
    assert cwd == str(course)
    assert env["PATH"].split(os.pathsep) == [BIN, "/usr/bin", "/bin"]
    assert "JUPYTER_CONFIG_PATH" not in env or ".dlcourse" not in env["JUPYTER_CONFIG_PATH"]
    assert _tables(course / "gradebook.db")["alembic_version"] == [(_alembic_head(),)]
    assert (course / "exchange").is_dir()  # Exchange.root of nbgrader_config.py: no Formgrader warning
    assert "created the exchange directory" in capsys.readouterr().out


def test_the_exchange_is_configured_inside_the_course(course: Path) -> None:
    from dlcourse.course.config import Course

    exchange = Path(Course.load(course).config.Exchange.root)
    assert exchange == course / "exchange"
    assert "exchange/" in (Path(__file__).parent.parent / ".gitignore").read_text().split()


def _broken_gradebook(db_file: Path) -> None:
    """What a Formgrader start without `alembic` on PATH leaves: nbgrader's tables, no revision."""
    code = f"from nbgrader.api import Gradebook; Gradebook({f'sqlite:///{db_file}'!r}, 'dlcourse')"
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PATH": "/nonexistent"}, capture_output=True, text=True
    )
    assert done.returncode != 0 and "alembic" in done.stderr, done.stderr


def test_a_gradebook_left_broken_by_a_failed_start_is_repaired(
    course: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], launches: list
) -> None:
    db_file = course / "gradebook.db"
    _broken_gradebook(db_file)
    assert "alembic_version" not in _tables(db_file) and "assignment" in _tables(db_file)
    assert "no alembic_version table" in str(check_gradebook(db_file))
    assert main(["lab", "--instructor", "--root", str(course)]) == 0
    assert _tables(db_file)["alembic_version"] == [(_alembic_head(),)]
    assert check_gradebook(db_file) is None
    assert f"repaired gradebook.db: it had no alembic_version table" in capsys.readouterr().out
    # nbgrader agrees: its own upgrade finds nothing to do on the repaired file.
    from nbgrader import dbutil

    monkeypatch.setenv("PATH", BIN + os.pathsep + os.environ["PATH"])
    dbutil.upgrade(f"sqlite:///{db_file}")
    assert _tables(db_file)["alembic_version"] == [(_alembic_head(),)]


def test_a_gradebook_that_cannot_be_repaired_is_reported_with_what_to_do(
    course: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db_file = course / "gradebook.db"
    db_file.write_bytes(b"not a database at all" * 100)
    monkeypatch.setattr(os, "execvpe", lambda *a: pytest.fail("must not start jupyter"))
    assert "not a readable SQLite database" in str(check_gradebook(db_file))
    assert main(["lab", "--instructor", "--root", str(course)]) == 1
    err = capsys.readouterr().err
    assert str(db_file) in err and "dlcourse lab --instructor" in err and "deleted" in err


def test_a_healthy_gradebook_is_left_alone(course: Path) -> None:
    instructor_lab(course)
    db_file = course / "gradebook.db"
    with sqlite3.connect(db_file) as db:
        db.execute("INSERT INTO student (id, first_name) VALUES ('ada', 'Ada')")
    before = _tables(db_file)
    assert instructor_lab(course).notes == []
    assert _tables(db_file) == before


def test_instructor_lab_without_alembic_says_how_to_install_it(
    course: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import dlcourse.course.lab as lab

    monkeypatch.setattr(lab, "_bin_dir", lambda: tmp_path)  # an environment without nbgrader
    with pytest.raises(CourseError, match=r"alembic.*instructor"):
        instructor_lab(course, environ={"PATH": "/nonexistent"})


def test_start_lab_changes_folder_and_environment(monkeypatch: pytest.MonkeyPatch, launches: list) -> None:
    from dlcourse.course.lab import start_lab

    monkeypatch.setenv("KEEP_ME", "1")
    start_lab(LabLaunch(argv=["jupyter", "lab"], cwd=Path("/srv"), env={"PATH": "/x"}))
    [(file, argv, env, cwd)] = launches
    assert (file, argv, cwd) == ("jupyter", ["jupyter", "lab"], "/srv")
    assert env["PATH"] == "/x" and env["KEEP_ME"] == "1"

