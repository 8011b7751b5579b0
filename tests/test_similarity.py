"""``dlcourse similarity``: submissions against the reference and against each other, never a score."""

from __future__ import annotations

import csv
import inspect
from pathlib import Path

import pytest

from course_fixtures import NAME, answered, make_course, release_path, submit
from dlcourse.course.cli import main
from dlcourse.course.release import release
from dlcourse.course.similarity import REFERENCE, compare_documents, similarity

pytest.importorskip("copydetect")

# A long answer written two ways: alice and bob share it (bob renamed the variables), carol wrote
# her own; dave pasted the reference's conv_forward (renamed, docstring dropped).
SHARED = '''def add(a, b):
    total = 0
    for value in (a, b):
        if isinstance(value, (list, tuple)):
            for item in value:
                total = total + item * 1
        else:
            total = total + value
    checked = [total, total * 2, total - 1]
    assert checked[1] == 2 * checked[0]
    return checked[0]
'''
RENAMED = SHARED.replace("total", "acc").replace("value", "v").replace("item", "it").replace("checked", "out")
OWN = "def add(a, b):\n    return sum([a, b])\n"


def _reference_function() -> str:
    import dlcourse.ref.conv as conv

    source = inspect.getsource(conv.conv_forward)
    start = source.index('"""')
    end = source.index('"""', start + 3) + 3
    return "def add(a, b):\n    return a + b\n\n\n" + source[:start] + source[end:]


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = make_course(tmp_path / "course")
    release(root, [NAME])
    answers = {"alice": SHARED, "bob": RENAMED, "carol": OWN, "dave": _reference_function()}
    for student, add in answers.items():
        submit(root, student, answered(release_path(root), {"add": add, "mul": "def mul(a, b):\n    return a * b"}))
    return root


def test_the_report_finds_shared_code_and_the_reference(course: Path):
    before = {p: p.read_bytes() for p in (course / "submitted").rglob("*.ipynb")}
    report = similarity(course, NAME, threshold=0.5)
    pairs = {(p.a, p.b): p for p in report.pairs}
    assert ("alice", "bob") in pairs and pairs[("alice", "bob")].share > 0.9  # renaming does not hide it
    assert ("dave", REFERENCE) in pairs and pairs[("dave", REFERENCE)].share_a > 0.5
    assert not any("carol" in (p.a, p.b) for p in report.pairs)
    with report.csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["a"], r["b"]) for r in rows} == set(pairs)
    page = report.html.read_text(encoding="utf-8")
    assert "<mark>" in page and "alice" in page and "never changes a score" in page
    assert "for value in (a, b)" in page and "for v in (a, b)" in page  # both sides, side by side
    assert {p: p.read_bytes() for p in (course / "submitted").rglob("*.ipynb")} == before


def test_the_released_stubs_do_not_count():
    """Code every submission got from the release (a scaffold around the exercise) is boilerplate."""
    stub = ("def train(model, data, epochs=10, lr=0.1, batch_size=32, seed=0, verbose=False):\n"
            "    rng = np.random.default_rng(seed)\n    history = {'loss': [], 'accuracy': []}\n"
            "    order = rng.permutation(len(data))\n    batches = np.array_split(order, max(1, len(data) // batch_size))\n")
    x = stub + "    for e in range(epochs):\n        history['loss'].append(model(data, lr))\n    return history\n"
    y = stub + "    return {k: list(v) for k, v in history.items()}\n"
    assert compare_documents({"x": x, "y": y}, threshold=0.5, min_tokens=1)  # the scaffold alone makes them alike
    assert compare_documents({"x": x, "y": y}, boilerplate=stub, threshold=0.5, min_tokens=1) == []


def test_compare_documents_without_the_reference():
    pairs = compare_documents({"x": SHARED, "y": RENAMED, "z": OWN}, threshold=0.5)
    assert [(p.a, p.b) for p in pairs] == [("x", "y")]


def test_cli_similarity_and_autograde_with_similarity(course: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["similarity", NAME, "--root", str(course), "--threshold", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "alice ~ bob" in out and (course / "similarity" / f"{NAME}.html").is_file()
    assert main(["similarity", NAME, "--root", str(course), "--threshold", "2"]) == 2
    assert "--threshold must be in (0, 1]" in capsys.readouterr().err
    import asyncio

    asyncio.set_event_loop(asyncio.new_event_loop())  # see tests/test_integrity_autograde.py
    assert main(["autograde", NAME, "--root", str(course), "--student", "alice", "--student", "carol",
                 "--similarity", "-o", str(course / "g.csv")]) == 0
    out = capsys.readouterr().out
    assert "alice      5/5  graded" in out and "pair(s) above the threshold" in out
    with (course / "g.csv").open(newline="") as fh:
        assert {row["student"]: row["score"] for row in csv.DictReader(fh)} == {"alice": "5", "carol": "5"}


def test_no_submission_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = make_course(tmp_path / "course")
    assert main(["similarity", NAME, "--root", str(root)]) == 1
    assert "no submissions of 01-add" in capsys.readouterr().err
