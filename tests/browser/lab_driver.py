"""Drive the course's JupyterLab servers in a real browser: start them, run notebooks, poke widgets.

Used by the browser tests (``tests/browser/``). A :class:`LabServer` starts ``dlcourse lab``
(``--instructor`` for the instructor view) the way the README says, on a free port with a
token, in a copy of the course. :func:`run_notebook` opens one notebook in its own Chromium page,
presses *Run All Cells* in the *Run* menu, waits for the kernel, saves, and reads the saved
``.ipynb`` back: outputs are judged from the file (what the kernel produced) and widgets from
the page (what the student sees). Failures are screenshotted into :data:`ARTIFACTS`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[2]
#: Where screenshots of failures go (gitignored); emptied at the start of each browser session.
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: Debian's Chromium (``apt-get install chromium``); ``playwright install`` downloads are not used.
CHROMIUM = os.environ.get("DLCOURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # as root (containers, CI) Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: The line a check prints for an exercise the student has not written yet (it does not stop Run All).
NOT_WRITTEN = re.compile(r"^◻ .*not written yet", re.M)
PASS_LINE = re.compile(r"^✔ ", re.M)
#: What tqdm.auto's notebook bar (an HBox of HTML and FloatProgress) shows as text: "epochs:  40%|████  | 2/5 [...".
#: Training cells show one (lecture 09 on); it is output, not a widget with controls to try.
PROGRESS_BAR = re.compile(r"\|\s*\d+/\d+ \[")
#: What a widget looks like when the front end cannot render it: its Python repr.
TEXT_REPR = re.compile(r"\b[A-Z]\w*\((children|value|description|layout|outputs)=")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set DLCOURSE_CHROMIUM)"
    for module in ("jupyterlab", "nbgrader"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[dev,lab]')"
    return None


def lecture_names(root: Path = ROOT) -> list[str]:
    """Every lecture present: ``notebooks/NN-topic/NN-topic.ipynb`` (lectures added later join by themselves).

    ``DLCOURSE_BROWSER_LECTURES=04-backprop,08-convolution`` narrows the list (while working on
    one lecture); unknown names are an error rather than a silently empty run.
    """
    folder = root / "notebooks"
    present = sorted(p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file())
    wanted = [n for n in os.environ.get("DLCOURSE_BROWSER_LECTURES", "").split(",") if n.strip()]
    unknown = sorted(set(wanted) - set(present))
    if unknown:
        raise ValueError(f"DLCOURSE_BROWSER_LECTURES names no lecture in notebooks/: {unknown}")
    return [n for n in present if n in wanted] if wanted else present


# The solutions run in the instructor lab by default: one NumPy-from-scratch lecture and one with
# PyTorch training and widgets. Every solution already runs under nbgrader in tests/test_notebooks.py
# (`dlcourse validate`: full marks, no cell raises); here the claim is that the instructor lab runs
# them, which two show as well as fifteen, at a seventh of the browser time.
SOLUTIONS_SAMPLE = ("04-backprop", "11-attention")


def solution_names(lectures: list[str]) -> list[str]:
    """The lectures whose solution is run in the instructor lab.

    ``DLCOURSE_BROWSER_SOLUTIONS=all`` runs every one of ``lectures``, ``=08-convolution,10-rnns``
    those; by default :data:`SOLUTIONS_SAMPLE` (those of it in ``lectures``, else the first lecture).
    """
    wanted = os.environ.get("DLCOURSE_BROWSER_SOLUTIONS", "").strip()
    if wanted == "all":
        return list(lectures)
    if wanted:
        names = [n.strip() for n in wanted.split(",") if n.strip()]
        unknown = sorted(set(names) - set(lectures))
        if unknown:
            raise ValueError(f"DLCOURSE_BROWSER_SOLUTIONS names no lecture being run: {unknown}")
        return [n for n in lectures if n in names]
    sample = [n for n in lectures if n in SOLUTIONS_SAMPLE]
    return sample or lectures[:1]


def copy_course(root: Path, dest: Path) -> Path:
    """A fresh copy of the course at ``dest``: what a clone holds that the labs need, no gradebook."""
    dest.mkdir(parents=True)
    shutil.copy2(root / "nbgrader_config.py", dest / "nbgrader_config.py")
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for folder in ("notebooks", "solutions"):
        shutil.copytree(root / folder, dest / folder, ignore=skip)
    return dest


#: A notebook of three widgets the checker must judge right: one that ignores its control, one
#: that answers it, and a view of a model that does not exist (what a broken front end shows).
SELFTEST = "zz-browser-selftest"
SELFTEST_CELLS = [
    "import ipywidgets as w\nw.VBox([w.IntSlider(description='inert'), w.Output()])",
    "live, shown = w.IntSlider(description='live'), w.HTML('value 0')\n"
    "live.observe(lambda change: setattr(shown, 'value', f\"value {change['new']}\"), 'value')\n"
    "w.VBox([live, shown])",
    "from IPython.display import display\n"
    "display({'" + WIDGET_VIEW + "': {'model_id': 'f' * 32, 'version_major': 2, 'version_minor': 0},\n"
    "         'text/plain': 'VBox(children=(IntSlider(value=0),))'}, raw=True)",
]


def write_selftest(notebooks: Path) -> str:
    """Write the self-test notebook under ``notebooks``; return its lecture-like name."""
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(src) for src in SELFTEST_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder = notebooks / SELFTEST
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{SELFTEST}.ipynb")
    return SELFTEST


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LabServer:
    """``dlcourse lab [--instructor]`` running in ``course`` on a free port, stopped on exit."""

    def __init__(self, course: Path, *, instructor: bool, log: Path) -> None:
        self.course = course
        self.instructor = instructor
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, path: str, **query: str) -> str:
        """The address of ``path`` on this server, with the token (and ``query``) appended."""
        params = "&".join([*(f"{k}={v}" if v else k for k, v in query.items()), f"token={self.token}"])
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}?{params}"

    def start(self, timeout: float = 180.0) -> LabServer:
        dlcourse = Path(sys.executable).parent / "dlcourse"  # `.venv/bin/dlcourse`, as `make lab` runs it
        command = [str(dlcourse), "lab", *(["--instructor"] if self.instructor else [])]
        command += ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={self.port}",
                    f"--IdentityProvider.token={self.token}", "--ServerApp.port_retries=0"]
        env = dict(os.environ)
        # Two kernels share two cores: one BLAS/OpenMP thread each (see tests/conftest.py).
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(command, cwd=self.course, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{' '.join(command)} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as reply:
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{' '.join(command)} did not serve within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the server and its kernels (its own process group: nothing else is signalled)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def get(self, path: str) -> tuple[int, str]:
        """GET ``path`` with the token: (status, body)."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=30) as reply:
                return reply.status, reply.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def shutdown_kernel_of(self, notebook: str) -> None:
        """Shut down the kernel of ``notebook`` (a path relative to the server root), if it runs."""
        status, body = self.get("api/sessions")
        if status != 200:
            return
        for session in json.loads(body):
            if session.get("path") == notebook and session.get("kernel"):
                request = urllib.request.Request(self.url(f"api/kernels/{session['kernel']['id']}"), method="DELETE")
                try:
                    urllib.request.urlopen(request, timeout=30).close()
                except (urllib.error.URLError, OSError):
                    pass

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- results --------------------------------------------------------------------------------


@dataclass
class WidgetResult:
    """One displayed widget: does it render as controls, and does changing a control change its output?"""

    cell: int
    problem: str | None = None  # None when it rendered and responded
    control: str = ""  # the control that changed its output
    screenshot: str | None = None


@dataclass
class NotebookRun:
    """What Run All did to one notebook in the browser."""

    name: str
    path: str  # relative to the server root
    seconds: float = 0.0  # page load and Run All
    widget_seconds: float = 0.0  # checking the widgets afterwards
    problem: str | None = None  # the run itself failed (timeout, page error): nothing else is meaningful
    notebook: Any = None  # the saved notebook (nbformat), read back after Run All
    widgets: list[WidgetResult] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)

    def code_cells(self) -> list[tuple[int, Any]]:
        return [(i, c) for i, c in enumerate(self.notebook.cells) if c.cell_type == "code"]

    def unexecuted(self) -> list[int]:
        """Code cells Run All did not reach (no execution count)."""
        return [i for i, c in self.code_cells() if c.get("execution_count") is None]

    def errors(self) -> list[str]:
        """``cell N: Name: value`` for every error output."""
        return [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in self.code_cells() for o in c.outputs
                if o.output_type == "error"]

    def stdout(self, cell: Any) -> str:
        return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")

    def widget_cells(self) -> list[int]:
        """Cells whose saved outputs hold a widget view (other than a progress bar, which has no controls)."""
        return [i for i, c in self.code_cells() if any(WIDGET_VIEW in o.get("data", {})
                                                       and not PROGRESS_BAR.search(o["data"].get("text/plain", ""))
                                                       for o in c.outputs)]


# --- the browser ----------------------------------------------------------------------------

_CELLS_JS = r"""() => {
  const cells = Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell'));
  const indicator = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
  return {
    count: cells.length,
    busy: cells.filter(c => (c.querySelector('.jp-InputArea-prompt')?.textContent || '').includes('*')).length,
    blank: cells.filter(c => c.classList.contains('jp-CodeCell')
                             && /^\[\s*\]:?$/.test((c.querySelector('.jp-InputArea-prompt')?.textContent || '').trim())).length,
    status: indicator ? indicator.getAttribute('data-status') : null,
  };
}"""

# A cheap fingerprint of what a widget shows (images, HTML, its Output areas), not of its controls.
_SIGNATURE_JS = """(root) => {
  const parts = [];
  for (const e of root.querySelectorAll('img, .widget-html-content, .widget-output .jp-OutputArea-output, .widget-label-basic, svg, canvas')) {
    if (e.closest('.widget-slider, .widget-dropdown, .widget-checkbox, .widget-toggle-buttons')) continue;
    if (e.tagName === 'IMG') parts.push(e.getAttribute('src') || '');
    else if (e.tagName === 'CANVAS') parts.push(e.toDataURL());
    else parts.push(e.tagName === 'svg' ? e.outerHTML : e.textContent);
  }
  let h = 5381; const s = parts.join('\\u0000');
  for (let i = 0; i < s.length; i++) h = ((h * 33) ^ s.charCodeAt(i)) >>> 0;
  return parts.length + ':' + s.length + ':' + h;
}"""


async def _wait_for(page: Any, predicate: Any, timeout: float, poll: float = 0.5) -> Any:
    """Poll ``predicate(state)`` on :data:`_CELLS_JS`'s state until it is true; return the state."""
    deadline = time.monotonic() + timeout
    while True:
        state = await page.evaluate(_CELLS_JS)
        if predicate(state):
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting in the notebook (last state {state})")
        await asyncio.sleep(poll)


async def _wait_idle(page: Any, timeout: float, settle: float = 2.0) -> None:
    """Wait until the kernel is idle and no cell is queued, and stays so for ``settle`` seconds."""
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while True:
        state = await page.evaluate(_CELLS_JS)
        now = time.monotonic()
        if state["status"] == "idle" and state["busy"] == 0:
            quiet_since = quiet_since or now
            if now - quiet_since >= settle:
                return
        else:
            quiet_since = None
        if now > deadline:
            raise TimeoutError(f"the kernel was still busy after {timeout:.0f} s (last state {state})")
        await asyncio.sleep(0.5)


def _notebook(page: Any) -> Any:
    """The open notebook's cell list on ``page``."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").first


async def wait_for_kernel(page: Any, timeout: float = 120.0) -> None:
    """Wait until the status bar says the notebook's kernel is connected and idle.

    The toolbar's execution indicator reads "idle" before the kernel has connected; cells run
    then are silently skipped (seen on a loaded machine), so the status bar's text is the signal.
    """
    await page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).first.wait_for(
        timeout=timeout * 1000)


async def press_run_all(page: Any, attempts: int = 3) -> None:
    """*Run → Run All Cells*, as a student does; return once the run has started.

    Right after the page loads, the notebook may not be JupyterLab's current widget yet, and
    then the menu entry is disabled or does nothing: click into the notebook first, and try
    again (a few times) when nothing started.
    """
    item = page.locator(".lm-Menu-item[data-command='runmenu:run-all']")
    for _ in range(attempts):
        await wait_for_kernel(page)
        await _notebook(page).click(position={"x": 5, "y": 5})
        await page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        await item.wait_for(timeout=30_000)
        if "lm-mod-disabled" in (await item.get_attribute("class") or ""):
            await page.keyboard.press("Escape")
            await asyncio.sleep(1.0)
            continue
        await item.click()
        try:  # started: something queued or running, or (a short notebook) every code cell already ran
            await _wait_for(page, lambda s: s["busy"] > 0 or s["status"] == "busy" or s["blank"] == 0,
                            timeout=20, poll=0.2)
            return
        except TimeoutError:
            continue
    raise TimeoutError(f"Run All Cells did not start the notebook ({attempts} tries)")


def _cell(page: Any, index: int) -> Any:
    """The notebook's cell number ``index`` (0-based, markdown cells included) on ``page``."""
    return page.locator(f".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell[data-windowed-list-index='{index}']")


async def _dismiss_popups(page: Any) -> None:
    """Answer JupyterLab's "get notified about news?" toast, which can cover controls."""
    no = page.locator(".jp-toast-button:has-text('No')")
    if await no.count():
        await no.first.click()


async def screenshot(page: Any, name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


async def open_lab(context: Any, server: LabServer, path: str, workspace: str, timeout: float = 120.0) -> Any:
    """A new page showing JupyterLab with ``path`` open (``?reset``: a clean workspace of its own)."""
    page = await context.new_page()
    where = f"lab/workspaces/{workspace}" + (f"/tree/{path}" if path else "")
    await page.goto(server.url(where, reset=""), timeout=timeout * 1000)
    await page.wait_for_selector("#jp-main-dock-panel", timeout=timeout * 1000)
    return page


async def run_notebook(context: Any, server: LabServer, course: Path, name: str, kind: str, *,
                       widgets: bool, timeout: float) -> NotebookRun:
    """Open ``<folder>/name/name.ipynb``, Run All, save, read it back; then check its widgets if asked.

    ``kind`` is ``"release"`` (the student server, rooted at notebooks/) or ``"solution"`` (the
    instructor server, rooted at the course).
    """
    rel = f"{name}/{name}.ipynb" if kind == "release" else f"solutions/{name}/{name}.ipynb"
    on_disk = course / ("notebooks" if kind == "release" else "") / rel
    run = NotebookRun(name=name, path=rel)
    cells_in_file = len(nbformat.read(on_disk, as_version=4).cells)
    started = time.monotonic()
    page = await open_lab(context, server, rel, workspace=f"{kind}-{name}")
    try:
        await page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
        await _dismiss_popups(page)
        # JupyterLab attaches long notebooks' cells progressively; wait for all of them.
        await _wait_for(page, lambda s: s["count"] >= cells_in_file, timeout=60)
        await press_run_all(page)
        await _wait_idle(page, timeout=timeout)
        run.seconds = time.monotonic() - started
        await _notebook(page).click(position={"x": 5, "y": 5})
        await page.keyboard.press("Control+s")
        await page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')", timeout=60_000)
        run.notebook = nbformat.read(on_disk, as_version=4)
        failed = [i for i, c in run.code_cells() if any(o.output_type == "error" for o in c.outputs)]
        if failed or run.unexecuted():
            first = (failed or run.unexecuted())[0]
            await _cell(page, first).scroll_into_view_if_needed(timeout=30_000)
            run.screenshots.append(await screenshot(page, f"{kind}-{name}-run-all-cell{first}"))
        if widgets:
            widgets_started = time.monotonic()
            for cell in run.widget_cells():
                run.widgets.append(await check_widget(page, f"{kind}-{name}", cell))
            run.widget_seconds = time.monotonic() - widgets_started
    except Exception as exc:  # a page that never loads, a kernel that never finishes: report, go on
        run.problem = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        try:
            run.screenshots.append(await screenshot(page, f"{kind}-{name}-error"))
        except Exception:
            pass
    finally:
        await page.close()
        await asyncio.to_thread(server.shutdown_kernel_of, rel)
    return run


# Controls in the order they are tried: cheap ones first, buttons (which may start training) last.
_CONTROLS = [
    ("dropdown", ".widget-dropdown select"),
    ("slider", ".widget-slider .noUi-handle"),
    ("checkbox", ".widget-checkbox input[type=checkbox]"),
    ("toggle button", ".widget-toggle-buttons button:not(.mod-active)"),
    ("button", "button.jupyter-button:not(.widget-toggle-button)"),
]


async def _change(page: Any, kind: str, control: Any) -> None:
    if kind == "dropdown":
        options = await control.evaluate("s => Array.from(s.options).map(o => o.value)")
        current = await control.evaluate("s => s.value")
        await control.select_option(next(v for v in options if v != current))
    elif kind == "slider":
        at_max = await control.evaluate("h => h.getAttribute('aria-valuenow') === h.getAttribute('aria-valuemax')")
        await control.focus()
        await control.press("ArrowLeft" if at_max else "ArrowRight")
    else:
        await control.click()


async def check_widget(page: Any, label: str, cell: int, timeout: float = 60.0) -> WidgetResult:
    """The widget displayed by ``cell``: rendered as controls, and one control changes its output."""
    result = WidgetResult(cell=cell)
    cell_el = _cell(page, cell)
    try:
        await cell_el.scroll_into_view_if_needed(timeout=30_000)
        outputs = cell_el.locator(".jp-OutputArea-output")
        root = cell_el.locator(".jp-OutputArea-output > .jupyter-widgets").first
        waited_until = time.monotonic() + 30.0
        while not await root.is_visible():  # rendering can lag behind the kernel on a busy machine
            text = " ".join(await outputs.all_inner_texts())
            if "Error displaying widget" in text:
                result.problem = f"the front end cannot display it: {text.strip()[:160]!r}"
                return result
            if time.monotonic() > waited_until:
                if "Loading widget" in text:
                    result.problem = "shows 'Loading widget…' instead of controls"
                elif TEXT_REPR.search(text):
                    result.problem = f"shows its text repr instead of controls: {text.strip()[:120]!r}"
                else:
                    result.problem = f"no widget rendered (output text {text.strip()[:120]!r})"
                return result
            await asyncio.sleep(0.5)
        text = " ".join(await outputs.all_inner_texts())
        while "Loading widget" in text and time.monotonic() < waited_until + 15.0:  # nested views load late
            await asyncio.sleep(0.5)
            text = " ".join(await outputs.all_inner_texts())
        if "Loading widget" in text:
            result.problem = "part of it still shows 'Loading widget…'"
            return result
        if TEXT_REPR.search(text):
            result.problem = f"part of it is a text repr: {TEXT_REPR.search(text).group(0)!r}"
            return result
        tried: list[str] = []
        deadline = time.monotonic() + timeout
        for kind, selector in _CONTROLS:
            controls = root.locator(selector)
            for k in range(await controls.count()):
                if time.monotonic() > deadline:
                    break
                control = controls.nth(k)
                if not await control.is_visible() or await control.is_disabled():
                    continue
                before = await root.evaluate(_SIGNATURE_JS)
                await _change(page, kind, control)
                tried.append(kind)
                changed = False
                quiet_since: float | None = None
                while time.monotonic() < deadline:  # until the output changes or the kernel rests
                    if await root.evaluate(_SIGNATURE_JS) != before:
                        changed = True
                        break
                    state = await page.evaluate(_CELLS_JS)
                    now = time.monotonic()
                    quiet_since = (quiet_since or now) if state["status"] == "idle" else None
                    if quiet_since is not None and now - quiet_since > 3.0:
                        break
                    await asyncio.sleep(0.3)
                if changed:
                    await _wait_idle(page, timeout=max(5.0, deadline - time.monotonic()), settle=0.5)
                    result.control = kind
                    return result
        result.problem = (f"changing its controls ({', '.join(tried)}) did not change its output"
                          if tried else "has no control that can be changed")
    except Exception as exc:
        result.problem = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    finally:
        if result.problem:
            try:
                result.screenshot = await screenshot(page, f"{label}-widget-cell{cell}")
            except Exception:
                pass
    return result


async def run_all(jobs: list[Any], parallel: int) -> list[Any]:
    """Await ``jobs`` (coroutine factories) with at most ``parallel`` at a time, results in order."""
    gate = asyncio.Semaphore(parallel)

    async def one(job: Any) -> Any:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))
