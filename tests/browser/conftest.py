"""The browser session: both labs on a fresh copy of the course, every release and a sample of solutions run once.

Everything expensive happens once, in the session fixture :func:`lab_session`: it copies the
course (no gradebook, no exchange: a fresh clone), starts ``dlcourse lab`` and
``dlcourse lab --instructor`` on it, and drives Chromium through every lecture's release (student
lab) and a sample of solutions (instructor lab, ``lab_driver.solution_names``),
``DLCOURSE_BROWSER_JOBS`` pages at a time (default 2, one
per core). The tests then judge the recorded runs one lecture at a time.

The test module marks its tests ``browser``; they skip, saying why, when Playwright for Python or
Chromium is missing (:func:`lab_driver.missing`). Run them in one pytest process (``make test``
and ``make test-browser`` do): under pytest-xdist each worker would start a browser session of
its own (``--dist loadgroup`` cannot keep them together: with pytest 9.2 it stopped grouping,
pytest-xdist issue #1386), and the suite's time budget assumes the machine to itself.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lab_driver import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, LabServer, NotebookRun, copy_course, lecture_names
from lab_driver import run_all as run_jobs
from lab_driver import SELFTEST, run_notebook, screenshot, solution_names, write_selftest

LECTURES = lecture_names()
SOLUTIONS = solution_names(LECTURES)
#: Seconds one notebook's Run All may take in the browser before it counts as stuck.
NOTEBOOK_TIMEOUT = float(os.environ.get("DLCOURSE_BROWSER_NOTEBOOK_TIMEOUT", "300"))


@dataclass
class LabSession:
    """What the browser saw; filled once per test session."""

    course: Path
    student: LabServer
    instructor: LabServer
    releases: dict[str, NotebookRun] = field(default_factory=dict)
    solutions: dict[str, NotebookRun] = field(default_factory=dict)
    selftest: NotebookRun | None = None  # the widget checker on widgets it must pass and fail
    pages: dict[str, Any] = field(default_factory=dict)  # facts about the two labs' pages
    seconds: float = 0.0


async def _inspect_labs(browser: Any, session: LabSession) -> None:
    """What each lab offers: menus, side panels, the Formgrader's assignment list."""
    from lab_driver import open_lab

    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        for label, server, path in (("student", session.student, f"{LECTURES[0]}/{LECTURES[0]}.ipynb"),
                                    ("instructor", session.instructor, "")):
            page = await open_lab(context, server, path, workspace=f"{label}-menus")
            facts: dict[str, Any] = {"error": None}
            session.pages[label] = facts
            try:
                if path:
                    await page.wait_for_selector(".jp-NotebookPanel-toolbar", timeout=120_000)
                await page.wait_for_selector(".lm-MenuBar-itemLabel", timeout=120_000)
                await page.wait_for_timeout(2000)  # extensions add menus and buttons after the first paint
                facts["menus"] = await page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
                facts["side panels"] = await page.evaluate(
                    "() => Array.from(document.querySelectorAll('.jp-SideBar .lm-TabBar-tab'))"
                    ".map(t => t.getAttribute('title') || '')")
                facts["toolbar"] = await page.locator(".jp-NotebookPanel-toolbar").all_inner_texts()
                if label == "instructor":
                    facts.update(await _formgrader(page))
                else:
                    facts["validate"] = await _validate(page)
            except Exception as exc:
                facts["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                facts["screenshot"] = await screenshot(page, f"{label}-lab")
            finally:
                await page.close()
    finally:
        await context.close()


async def _validate(page: Any) -> str:
    """Press the notebook's *Validate* button (nbgrader runs the notebook); the dialog's text."""
    await page.locator("jp-button.validate-button").click()
    dialog = page.locator(".jp-Dialog")
    await dialog.wait_for(timeout=NOTEBOOK_TIMEOUT * 1000)
    await page.wait_for_timeout(500)
    text = await dialog.inner_text()
    await page.keyboard.press("Escape")
    return text


async def _formgrader(page: Any) -> dict[str, Any]:
    """Open Nbgrader → Formgrader in the instructor lab; what its Manage Assignments page lists."""
    await page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    await page.locator(".lm-Menu-itemLabel", has_text="Formgrader").first.click()
    frame_el = page.locator("iframe[src*='formgrader']").first
    await frame_el.wait_for(timeout=60_000)
    frame = await (await frame_el.element_handle()).content_frame()
    facts: dict[str, Any] = {"formgrader assignments": [], "formgrader warnings": [], "formgrader stuck": False}
    try:
        await frame.wait_for_selector("#main-table tr td.name a", timeout=90_000)
        await frame.wait_for_function(
            "() => !document.body.innerText.includes('Loading, please wait')", timeout=90_000)
        facts["formgrader assignments"] = await frame.locator("#main-table tr td.name").all_inner_texts()
    except Exception as exc:
        facts["formgrader stuck"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    facts["formgrader warnings"] = await frame.locator(".alert-warning, .alert-danger").all_inner_texts()
    if facts["formgrader stuck"] or facts["formgrader warnings"]:
        facts["formgrader screenshot"] = await screenshot(page, "instructor-formgrader")
    return facts


async def _drive(session: LabSession, parallel: int) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            jobs = [lambda: _inspect_labs(browser, session),
                    lambda: run_notebook(context, session.student, session.course, SELFTEST, "release",
                                         widgets=True, timeout=NOTEBOOK_TIMEOUT)]
            for name in LECTURES:
                jobs.append(lambda name=name: run_notebook(context, session.student, session.course, name, "release",
                                                           widgets=True, timeout=NOTEBOOK_TIMEOUT))
            for name in SOLUTIONS:
                jobs.append(lambda name=name: run_notebook(context, session.instructor, session.course, name,
                                                           "solution", widgets=False, timeout=NOTEBOOK_TIMEOUT))
            for run in await run_jobs(jobs, parallel):
                if isinstance(run, NotebookRun) and run.name == SELFTEST:
                    session.selftest = run
                elif isinstance(run, NotebookRun):
                    target = session.releases if run.path.startswith(run.name) else session.solutions
                    target[run.name] = run
            await context.close()
        finally:
            await browser.close()


_SESSIONS: list[LabSession] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How long the browser session took, per notebook: the suite has a time budget (5 min, 2 cores)."""
    for session in _SESSIONS:
        write = terminalreporter.write_line
        write(f"browser session: {session.seconds:.0f} s for {len(session.releases)} releases and "
              f"{len(session.solutions)} solutions (DLCOURSE_BROWSER_JOBS pages at a time)")
        for kind, runs in (("release", session.releases), ("solution", session.solutions)):
            for run in runs.values():
                extra = f" + widgets {run.widget_seconds:.0f} s" if run.widgets else ""
                write(f"  {kind:8} {run.name:28} {run.seconds:5.0f} s{extra}")


@pytest.fixture(scope="session")
def lab_session(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Both labs on a fresh copy of the course, every lecture run in the browser once."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    tmp = tmp_path_factory.mktemp("browser")
    course = copy_course(ROOT, tmp / "course")
    write_selftest(course / "notebooks")
    started = time.monotonic()
    with LabServer(course, instructor=False, log=tmp / "student-lab.log") as student, \
            LabServer(course, instructor=True, log=tmp / "instructor-lab.log") as instructor:
        session = LabSession(course=course, student=student, instructor=instructor)
        asyncio.run(_drive(session, parallel=int(os.environ.get("DLCOURSE_BROWSER_JOBS", "2"))))
        session.seconds = time.monotonic() - started
        _SESSIONS.append(session)
        yield session
