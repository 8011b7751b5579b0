"""Feedback HTML for each student, without hidden tests.

nbgrader's ``generate_feedback`` renders the autograded notebook as it is, hidden-test source and
the values it printed included (jupyter/nbgrader#917). Here every page is built cell by cell from
the autograded notebook and the gradebook:

- the student's own cells and the instructor's text are shown with their outputs;
- a test cell shows the source the student was given (hidden-test blocks cut out, taken from the
  instructor notebook, not from the submission) and its score;
- the outputs of a test cell that holds hidden tests are never shown: only its score and, when it
  failed, the name of the exception (``AssertionError``, ``CheckFailure``), because its messages
  and prints come from hidden inputs;
- any output that contains a line of hidden-test source (a student cell that read the notebook
  file and printed it) is withheld.

Pages go to ``feedback/<student>/<assignment>/<notebook>.html``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlcourse.ansi import strip_ansi
from dlcourse.course.assignment import Assignment
from dlcourse.course.cells import TEST, cell_role
from dlcourse.course.config import Course
from dlcourse.course.errors import CourseError
from dlcourse.course.notebook import BEGIN_HIDDEN, END_HIDDEN, NotebookModel, read_notebook
from dlcourse.course.results import NotebookScore, read_scores

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["FEEDBACK_DIR", "HiddenTests", "feedback", "hidden_tests"]

FEEDBACK_DIR = "feedback"
_MIN_LINE = 6  # shorter hidden lines ("pass", ")") are too common to withhold outputs over


@dataclass(frozen=True)
class HiddenTests:
    """What the instructor notebook hides: per test cell, the visible source; and the hidden lines."""

    visible_source: dict[str, str]
    hidden_cells: frozenset[str]
    hidden_lines: tuple[str, ...]

    def leaks(self, text: str) -> bool:
        """Whether ``text`` contains a line of hidden-test source."""
        return any(line in text for line in self.hidden_lines)


def _split_hidden(source: str) -> tuple[str, list[str]]:
    """``source`` without its hidden-test blocks, and the lines inside those blocks."""
    visible: list[str] = []
    hidden: list[str] = []
    inside = False
    for line in source.splitlines():
        if BEGIN_HIDDEN in line:
            inside = True
            continue
        if END_HIDDEN in line:
            inside = False
            continue
        (hidden if inside else visible).append(line)
    return "\n".join(visible).rstrip(), hidden


def hidden_tests(source: NotebookModel) -> HiddenTests:
    """The hidden tests of an instructor notebook (its model, which keeps each nbgrader cell's source)."""
    visible: dict[str, str] = {}
    cells: set[str] = set()
    lines: set[str] = set()
    public: set[str] = set()
    for cell in source.cells:
        shown, hidden = _split_hidden(cell.source)
        public.update(line.strip() for line in shown.splitlines())
        if not cell.grade_id or cell.cell_type != "code":
            continue
        if cell.kind == TEST:
            visible[cell.grade_id] = shown
        if hidden:
            cells.add(cell.grade_id)
            lines.update(stripped for h in hidden if len(stripped := h.strip()) >= _MIN_LINE)
    # A line the released notebook shows anyway (the check's import, say) is no secret: withholding
    # every output that contains it would hide the visible check's own feedback.
    return HiddenTests(visible, frozenset(cells), tuple(sorted(lines - public)))


def feedback(root: Path | str, name: str, student_ids: Iterable[str] | None = None) -> list[Path]:
    """Write feedback pages for ``name`` (every autograded student, or ``student_ids``); return them.

    Raises :class:`CourseError` when nothing was autograded yet.
    """
    course = Course.load(root)
    (name,) = course.resolve([name])
    assignment = Assignment.load(course, name)
    graded = (
        sorted(p.parent.name for p in course.autograded_dir.glob(f"*/{name}") if p.is_dir())
        if course.autograded_dir.is_dir()
        else []
    )
    wanted = list(student_ids) if student_ids is not None else graded
    missing = [s for s in wanted if s not in graded]
    if not wanted or missing:
        who = ", ".join(missing) if missing else "anyone"
        raise CourseError(f"no autograded submission of {name} for {who}: run `dlcourse autograde {name}` first")
    hidden = {m.name: hidden_tests(m) for m in assignment.notebooks}
    written = []
    for student in wanted:
        scores = read_scores(course, assignment, student)
        for model, score in zip(assignment.notebooks, scores, strict=True):
            nb = read_notebook(course.autograded_dir / student / name / f"{model.name}.ipynb")
            page = render(nb, student, name, score, hidden[model.name])
            path = course.root / FEEDBACK_DIR / student / name / f"{model.name}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page, encoding="utf-8")
            written.append(path)
    return written


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; border-radius: 4px; }
.out { background: #fff; border-left: 3px solid #ccc; }
.err { border-left-color: #c33; color: #a11; }
.cell { margin: 1rem 0; }
.score { font-weight: bold; padding: .2rem .5rem; border-radius: 4px; display: inline-block; }
.full { background: #dfd; } .part { background: #ffd; } .zero { background: #fdd; }
.note { color: #555; font-style: italic; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .2rem .6rem; text-align: left; }
"""


def _score_class(got: float, best: float) -> str:
    return "full" if got >= best else "zero" if got <= 0 else "part"


def _markdown(text: str) -> str:
    try:
        import mistune

        return str(mistune.html(text))
    except Exception:  # pragma: no cover - mistune comes with nbconvert
        return f"<pre>{html.escape(text)}</pre>"


def _output_html(out: Mapping[str, Any]) -> str:
    """One output as HTML (text, errors and PNG images; HTML and scripts are shown as text)."""
    kind = out.get("output_type")
    if kind == "stream":
        css = "out err" if out.get("name") == "stderr" else "out"
        return f'<pre class="{css}">{html.escape(strip_ansi(str(out.get("text", ""))))}</pre>'
    if kind == "error":
        trace = strip_ansi("\n".join(out.get("traceback", []))) or f"{out.get('ename')}: {out.get('evalue')}"
        return f'<pre class="out err">{html.escape(trace)}</pre>'
    data = out.get("data", {})
    if "image/png" in data:
        png = str(data["image/png"]).replace("\n", "")
        return f'<img alt="figure" src="data:image/png;base64,{html.escape(png)}">'
    if "text/plain" in data:
        return f'<pre class="out">{html.escape(str(data["text/plain"]))}</pre>'
    return ""


def _output_text(out: Mapping[str, Any]) -> str:
    """All the text an output carries, to look for hidden-test lines in it."""
    parts = [str(out.get("text", "")), str(out.get("ename", "")), str(out.get("evalue", ""))]
    parts += [str(line) for line in out.get("traceback", [])]
    parts += [str(v) for k, v in out.get("data", {}).items() if not k.startswith("image/")]
    return strip_ansi("\n".join(parts))


def render(nb: NotebookNode, student: str, assignment: str, score: NotebookScore, hidden: HiddenTests) -> str:
    """The feedback page of one autograded notebook (see the module docstring for what is left out)."""
    rows = "".join(
        f'<tr><td>{html.escape(gid)}</td><td><span class="score {_score_class(got, best)}">{got:g} / {best:g}'
        f"</span></td><td>{html.escape(_why_lost(score, gid, hidden))}</td></tr>"
        for gid, (got, best) in score.per_cell.items()
    )
    css = _score_class(score.score, score.max_score)
    total = f'<span class="score {css}">{score.score:g} / {score.max_score:g}</span>'
    body = [
        f"<h1>Feedback: {html.escape(assignment)} ({html.escape(score.notebook)})</h1>",
        f"<p>Student: <b>{html.escape(student)}</b> &mdash; score "
        f"{total}</p>",
        f"<table><tr><th>graded cell</th><th>points</th><th>why points were lost</th></tr>{rows}</table>",
    ]
    for cell in nb.cells:
        body.append(_cell_html(cell, score, hidden))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(assignment)}: feedback for {html.escape(student)}</title>"
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _why_lost(score: NotebookScore, grade_id: str, hidden: HiddenTests) -> str:
    """The error a graded cell raised (nothing for cells with hidden tests: it may quote them)."""
    if grade_id in hidden.hidden_cells:
        return ""
    return str(score.errors.get(grade_id, ""))


def _cell_html(cell: NotebookNode, score: NotebookScore, hidden: HiddenTests) -> str:
    role = cell_role(cell)
    grade_id = role.grade_id if role is not None else ""
    if cell.cell_type == "markdown":
        text = str(cell.source)
        if hidden.leaks(text):
            return '<div class="cell note">[a text cell is not shown: it contains hidden-test text]</div>'
        return f'<div class="cell">{_markdown(text)}</div>'
    if cell.cell_type != "code":
        return ""
    is_test = role is not None and role.is_test
    parts = []
    if is_test and grade_id in score.per_cell:
        got, best = score.per_cell[grade_id]
        label = f"{html.escape(grade_id)}: {got:g} / {best:g}"
        parts.append(f'<span class="score {_score_class(got, best)}">{label}</span>')
    if is_test:
        source = hidden.visible_source.get(grade_id)
        if source is None:  # a test cell the instructor notebook does not have: show nothing of it
            return ""
    else:
        source = str(cell.source)
        if hidden.leaks(source):
            source = "[code not shown: it contains hidden-test text]"
    if source.strip():
        parts.append(f"<pre>{html.escape(source)}</pre>")
    if is_test and grade_id in hidden.hidden_cells:
        errors = [str(o.get("ename", "")) for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        verdict = (
            f"hidden tests failed ({html.escape(errors[0])}): they use other inputs than the visible check; "
            "test edge cases and other shapes yourself"
            if errors
            else "hidden tests: see the points above"
        )
        parts.append(f'<p class="note">{verdict}. Hidden-test output is not shown.</p>')
    else:
        for out in cell.get("outputs", []):
            if hidden.leaks(_output_text(out)):
                parts.append('<p class="note">[an output is not shown: it contains hidden-test text]</p>')
            else:
                parts.append(_output_html(out))
    return '<div class="cell">' + "".join(parts) + "</div>"
