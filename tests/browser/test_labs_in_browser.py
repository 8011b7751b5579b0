"""The course in a real browser: what a student and an instructor get from the README's commands.

(a) every lecture's student release, in the student lab (``dlcourse lab``): Run All reaches the
    last cell, no cell fails (an unfinished exercise's check prints its not-written-yet line and
    lets the notebook go on), every widget renders as controls and answers a change of one of them;
(b) solutions in the instructor lab (a sample, ``lab_driver.solution_names``; every solution also
    runs under nbgrader in tests/test_notebooks.py): every check prints its pass line;
(c) the instructor lab (``dlcourse lab --instructor``) on a fresh copy of the course: the
    Formgrader lists every assignment, without warnings; the student lab offers no instructor tools.

The runs happen once, in the ``lab_session`` fixture (conftest.py); screenshots of failures are
in ``tests/browser/artifacts/``.
"""

from __future__ import annotations

from typing import Any

import pytest
from lab_driver import NOT_WRITTEN, PASS_LINE, ROOT, NotebookRun, lecture_names, missing, solution_names

LECTURES = lecture_names()
SOLUTIONS = solution_names(LECTURES)
_WHY_NOT = missing()
pytestmark = [pytest.mark.browser, pytest.mark.skipif(_WHY_NOT is not None, reason=str(_WHY_NOT))]


def _where(run: NotebookRun) -> str:
    shots = ", ".join(run.screenshots)
    return f" (screenshots: {shots})" if shots else ""


def _ran(run: NotebookRun | None, name: str) -> NotebookRun:
    assert run is not None, f"{name} was not run"
    assert run.problem is None, f"{run.path}: {run.problem}{_where(run)}"
    return run


def test_the_lectures_are_found() -> None:
    assert LECTURES and all((ROOT / "solutions" / n / f"{n}.ipynb").is_file() for n in LECTURES)


# --- (a) the student release ------------------------------------------------------------------


@pytest.mark.parametrize("name", LECTURES)
def test_release_runs_to_the_end_in_the_student_lab(lab_session: Any, name: str) -> None:
    run = _ran(lab_session.releases.get(name), name)
    assert not run.errors(), f"{run.path}: Run All shows errors: {run.errors()}{_where(run)}"
    assert not run.unexecuted(), (
        f"{run.path}: Run All stopped before cells {run.unexecuted()[:5]} "
        f"(of {len(run.code_cells())} code cells){_where(run)}"
    )
    unfinished = [i for i, c in run.code_cells() if NOT_WRITTEN.search(run.stdout(c))]
    # The release is blank: its checks report the exercises as not written (proves they ran).
    assert unfinished, f"{run.path}: no check printed a not-written-yet line"


@pytest.mark.parametrize("name", LECTURES)
def test_release_widgets_render_and_respond(lab_session: Any, name: str) -> None:
    run = _ran(lab_session.releases.get(name), name)
    expected = run.widget_cells()
    assert [w.cell for w in run.widgets] == expected, f"{run.path}: widgets not all checked"
    broken = [f"cell {w.cell}: {w.problem} (screenshot: {w.screenshot})" for w in run.widgets if w.problem]
    assert not broken, f"{run.path}: " + "; ".join(broken)


def test_the_widget_check_can_fail(lab_session: Any) -> None:
    """On the self-test notebook the checker passes the live widget and fails the other two."""
    run = _ran(lab_session.selftest, "the self-test notebook")
    inert, live, missing = run.widgets
    assert inert.problem and "did not change its output" in inert.problem, inert
    assert live.problem is None and live.control == "slider", live
    assert missing.problem, missing
    assert inert.screenshot and missing.screenshot and live.screenshot is None


def test_some_lectures_have_widgets(lab_session: Any) -> None:
    """The widget test above must not pass vacuously because no widget was found."""
    assert sum(len(run.widgets) for run in lab_session.releases.values()) >= len(LECTURES)


# --- (b) the solution -------------------------------------------------------------------------


@pytest.mark.parametrize("name", SOLUTIONS)
def test_solution_passes_every_check_in_the_instructor_lab(lab_session: Any, name: str) -> None:
    run = _ran(lab_session.solutions.get(name), name)
    assert not run.errors(), f"{run.path}: errors: {run.errors()}{_where(run)}"
    assert not run.unexecuted(), f"{run.path}: Run All stopped before cells {run.unexecuted()[:5]}{_where(run)}"
    tests = [(i, c) for i, c in run.code_cells() if c.metadata.get("nbgrader", {}).get("grade")]
    assert tests, f"{run.path}: no test cells"
    silent = [i for i, c in tests if not PASS_LINE.search(run.stdout(c))]
    assert not silent, f"{run.path}: test cells {silent} printed no ✔ pass line{_where(run)}"
    unfinished = [i for i, c in tests if NOT_WRITTEN.search(run.stdout(c))]
    assert not unfinished, f"{run.path}: the solution's cells {unfinished} report not-written-yet exercises"


# --- (c) the two labs -------------------------------------------------------------------------


def _lab_facts(lab_session: Any, label: str) -> dict[str, Any]:
    facts = lab_session.pages[label]
    assert facts["error"] is None, f"the {label} lab: {facts['error']} ({facts.get('screenshot')})"
    return facts


def test_validate_in_the_student_lab_reports_the_unfinished_exercises(lab_session: Any) -> None:
    """The Validate button stays for students, and on a blank release it says what is unfinished."""
    text = _lab_facts(lab_session, "student")["validate"]
    assert text.startswith("Validation Results"), text[:300]
    assert "failed" in text and "NotImplementedError" in text, text[:600]


def test_formgrader_lists_every_assignment_on_a_fresh_course(lab_session: Any) -> None:
    facts = _lab_facts(lab_session, "instructor")
    shot = facts.get("formgrader screenshot")
    assert not facts["formgrader stuck"], f"the Formgrader never listed assignments: {facts['formgrader stuck']} ({shot})"
    assignments = sorted(p.name for p in (lab_session.course / "solutions").iterdir() if p.is_dir())
    assert set(LECTURES) <= set(assignments)
    assert sorted(a.strip() for a in facts["formgrader assignments"]) == assignments
    assert not facts["formgrader warnings"], f"the Formgrader warns: {facts['formgrader warnings']} ({shot})"
    assert (lab_session.course / "gradebook.db").is_file()


def test_the_instructor_lab_offers_nbgrader(lab_session: Any) -> None:
    facts = _lab_facts(lab_session, "instructor")
    assert "Nbgrader" in facts["menus"]
    assert any("Create Assignment" in title for title in facts["side panels"]), facts["side panels"]


def test_the_student_lab_offers_no_instructor_tools(lab_session: Any) -> None:
    facts = _lab_facts(lab_session, "student")
    assert "Nbgrader" not in facts["menus"], facts["menus"]
    assert not any("Create Assignment" in title for title in facts["side panels"]), facts["side panels"]
    assert any("Validate" in bar for bar in facts["toolbar"]), f"no Validate button: {facts['toolbar']}"
    status, _ = lab_session.student.get("formgrader")
    assert status == 404, f"the student server serves /formgrader ({status})"
    assert (lab_session.course / ".dlcourse" / "student-lab").is_dir()
    status, _ = lab_session.instructor.get("formgrader")
    assert status == 200
