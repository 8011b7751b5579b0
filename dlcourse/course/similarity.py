"""The similarity report: every submission's answers against the reference and against each other.

``dlcourse similarity NAME`` (or ``dlcourse autograde NAME --similarity``) reads the code of every
submission's solution cells (and of cells the student added), compares it with the source of
:mod:`dlcourse.ref` and with every other submission, and writes ``similarity/NAME.csv`` (one row
per pair above the threshold) and ``similarity/NAME.html`` (the matching code side by side,
highlighted). It never changes a score: it tells an instructor where to look.

Why copydetect: it implements winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003), the
fingerprinting behind MOSS, locally and offline (student code never leaves the machine, unlike
MOSS's web service); it tokenizes with Pygments and replaces identifiers and literals before
fingerprinting, so renamed variables and changed constants do not hide a copy; it takes
boilerplate to ignore (here: the released stubs, which every submission shares); and it returns
the matching character ranges, which is what a side-by-side report needs. It is maintained, MIT
licensed and pure Python (NumPy). Alternatives: JPlag (Java, a JVM in the grading environment),
Dolos (Node), pycode_similar (compares ASTs function by function, no positions of matches).

How to read it: the reference is public on purpose, so a high similarity with ``dlcourse.ref``
is expected for short, idiomatic answers (``np.maximum(0, x)``) and means little by itself; long
answers that match the reference or another submission token for token, including the parts an
exercise leaves open, are worth a look. A report is a reason to talk to a student, never proof.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlcourse.course.assignment import Assignment
from dlcourse.course.config import Course
from dlcourse.course.errors import CourseError
from dlcourse.course.integrity import student_cells
from dlcourse.course.notebook import read_notebook
from dlcourse.course.submission import students

__all__ = ["Pair", "SimilarityReport", "compare_documents", "similarity", "submission_code", "REFERENCE"]

#: The label of the reference's source in the report.
REFERENCE = "dlcourse.ref"
#: Pairs at or above this fraction of shared code (of either side) are reported...
DEFAULT_THRESHOLD = 0.5
#: ...when they share at least this many tokens: short answers (``return a * b``) are alike by nature.
MIN_TOKENS = 40
# Winnowing parameters (in filtered tokens): k-grams of NOISE tokens; every match of at least
# GUARANTEE tokens is found. Lower than copydetect's 25/30, because answers are short cells.
NOISE = 15
GUARANTEE = 20


@dataclass(frozen=True)
class Pair:
    """Two documents that share code: how much of each, and where (character ranges into their code)."""

    a: str
    b: str
    share_a: float  # the fraction of a's fingerprinted tokens that also occur in b
    share_b: float
    tokens: int
    slices_a: Any  # 2×K array of [start, end) ranges in a's code
    slices_b: Any

    @property
    def share(self) -> float:
        return max(self.share_a, self.share_b)


@dataclass(frozen=True)
class SimilarityReport:
    """What :func:`similarity` wrote: the CSV, the HTML page and the pairs in them."""

    csv: Path
    html: Path
    pairs: tuple[Pair, ...]


def submission_code(nb: Any, released: Any | None = None) -> str:
    """The code a student wrote in ``nb`` (:func:`.student_cells`), each cell under a ``# cell`` line."""
    return "\n".join(f"# cell {label}\n{source}\n" for label, source in student_cells(nb, released)
                     if source.strip())


def _reference_code() -> str:
    import dlcourse.ref

    folder = Path(dlcourse.ref.__file__).parent
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.py")))


def _fingerprint(label: str, code: str, boilerplate: Sequence[int] = ()) -> Any:
    from copydetect.detector import CodeFingerprint

    return CodeFingerprint(f"{label}.py", NOISE, GUARANTEE - NOISE + 1, boilerplate=list(boilerplate),
                           fp=io.StringIO(code), language="python")


def compare_documents(documents: dict[str, str], reference: str | None = None, *, boilerplate: str = "",
                      threshold: float = DEFAULT_THRESHOLD, min_tokens: int = MIN_TOKENS) -> list[Pair]:
    """Pairs of ``documents`` (``{label: code}``), and each against ``reference``, sharing ≥ ``threshold``.

    A pair must also share at least ``min_tokens`` tokens (identifiers and literals count as one
    token each after copydetect's filtering).

    ``boilerplate`` is code every document may contain (the released stubs): its fingerprints
    do not count. Pairs come sorted by decreasing share.
    """
    from copydetect.detector import compare_files

    shared = list(_fingerprint("boilerplate", boilerplate).hashes) if boilerplate.strip() else []
    prints = {label: _fingerprint(label, code, shared) for label, code in documents.items() if code.strip()}
    labels = list(prints)
    candidates = [(labels[i], labels[j]) for i in range(len(labels)) for j in range(i + 1, len(labels))]
    if reference is not None:
        prints[REFERENCE] = _fingerprint(REFERENCE, reference, shared)
        candidates += [(label, REFERENCE) for label in labels]
    pairs = []
    for a, b in candidates:
        tokens, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
        pair = Pair(a, b, float(share_a), float(share_b), int(tokens), slices_a, slices_b)
        if tokens >= max(1, min_tokens) and pair.share >= threshold:
            pairs.append(pair)
    return sorted(pairs, key=lambda p: (-p.share, p.a, p.b))


def _highlighted(code: str, slices: Any, truncate: int = -1) -> str:
    """``code`` escaped for HTML with the shared ranges in ``<mark>``; ``truncate``: lines of context kept."""
    from copydetect.utils import highlight_overlap

    if getattr(slices, "shape", (0, 0))[-1] == 0:
        return html.escape(code)
    marked, _ = highlight_overlap(code, slices, "<mark>", "</mark>", truncate=truncate, escape_html=True)
    return marked


def _html_page(name: str, pairs: Sequence[Pair], codes: dict[str, str], threshold: float) -> str:
    rows = []
    for i, p in enumerate(pairs, 1):
        rows.append(
            f'<section id="pair{i}"><h2>{i}. {html.escape(p.a)} ({p.share_a:.0%}) ↔ {html.escape(p.b)} '
            f"({p.share_b:.0%})</h2><p>{p.tokens} tokens in common.</p>"
            f'<div class="pair"><pre>{_highlighted(codes[p.a], p.slices_a)}</pre>'
            # the reference is the whole package: only the lines around what matched
            f"<pre>{_highlighted(codes[p.b], p.slices_b, 6 if p.b == REFERENCE else -1)}</pre></div></section>"
        )
    table = "".join(
        f'<tr><td><a href="#pair{i}">{i}</a></td><td>{html.escape(p.a)}</td><td>{p.share_a:.0%}</td>'
        f"<td>{html.escape(p.b)}</td><td>{p.share_b:.0%}</td><td>{p.tokens}</td></tr>"
        for i, p in enumerate(pairs, 1)
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Similarity: {html.escape(name)}</title><style>"
        "body{font-family:sans-serif;margin:1em} .pair{display:flex;gap:1em} "
        "pre{flex:1;background:#f6f6f6;padding:.5em;overflow:auto;font-size:12px} "
        "mark{background:#ffd54f} td,th{padding:2px 8px;text-align:left}"
        "</style></head><body>"
        f"<h1>Similarity report: {html.escape(name)}</h1>"
        f"<p>Pairs sharing at least {threshold:.0%} of one side's code and {MIN_TOKENS} tokens "
        "(winnowing, via copydetect). "
        f"{REFERENCE} is the course's public reference: short idiomatic answers match it by nature. "
        "This report never changes a score; it says where to look.</p>"
        "<table><tr><th>#</th><th>a</th><th>share of a</th><th>b</th><th>share of b</th><th>tokens</th></tr>"
        f"{table}</table>{''.join(rows) or '<p>No pair above the threshold.</p>'}</body></html>"
    )


def similarity(root: Path | str, name: str, *, threshold: float = DEFAULT_THRESHOLD,
               min_tokens: int = MIN_TOKENS, out_dir: Path | str | None = None) -> SimilarityReport:
    """Compare every ``submitted/*/NAME/`` with ``dlcourse.ref`` and with each other; write the CSV and HTML.

    Default ``out_dir``: ``<root>/similarity``. Notebooks of an assignment with several are
    compared notebook by notebook (``student/notebook`` labels). Raises :class:`CourseError`
    when there is no submission.
    """
    course = Course.load(root)
    (name,) = course.resolve([name])
    assignment = Assignment.load(course, name)
    who = students(course, name)
    if not who:
        raise CourseError(f"no submissions of {name} in submitted/*/{name}/")
    several = len(assignment.notebooks) > 1
    reference = _reference_code()
    pairs: list[Pair] = []
    codes: dict[str, str] = {REFERENCE: reference}
    for model in assignment.notebooks:
        release_path = course.release_dir / name / f"{model.name}.ipynb"
        released = read_notebook(release_path) if release_path.is_file() else None
        boilerplate = submission_code(released) if released is not None else ""
        documents = {}
        for student in who:
            path = course.submitted_dir / student / name / f"{model.name}.ipynb"
            try:
                nb = read_notebook(path)
            except CourseError:
                continue  # missing or corrupt: autograde reports it
            label = f"{student}/{model.name}" if several else student
            documents[label] = submission_code(nb, released)
        codes.update(documents)
        pairs += compare_documents(documents, reference, boilerplate=boilerplate, threshold=threshold,
                                   min_tokens=min_tokens)
    out = Path(out_dir) if out_dir is not None else course.root / "similarity"
    out.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = out / f"{name}.csv", out / f"{name}.html"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["a", "b", "share_a", "share_b", "tokens"])
        for p in pairs:
            writer.writerow([p.a, p.b, f"{p.share_a:.3f}", f"{p.share_b:.3f}", p.tokens])
    html_path.write_text(_html_page(name, pairs, codes, threshold), encoding="utf-8")
    return SimilarityReport(csv_path, html_path, tuple(pairs))
