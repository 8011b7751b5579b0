"""Hidden cases that are hidden: the instructor's secret changes them, and the graders stay right.

With ``DLCOURSE_HIDDEN_SECRET`` set (``dlcourse autograde`` sets it from
``c.DlcourseGrading.hidden_secret``), ``hidden=True`` draws other cases of the same kinds; without
it, the public default. Under several secrets the reference and every correct alternative still
pass and every mutant is still rejected (the harness tables of every lecture).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from dlcourse.checks import backprop, conv, regularization
from dlcourse.checks.cases import SECRET_VARIABLE, case_rng
from dlcourse.course.config import Course
from dlcourse.course.submission import hidden_secret_environment
from impersonate import as_student

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted(p.stem.removeprefix("mutants_") for p in (ROOT / "tests").glob("mutants_*.py"))
SECRETS = ["correct horse battery staple", "2026-spring", "ü"]


def _draws(monkeypatch: pytest.MonkeyPatch, secret: str | None, hidden: bool) -> list[np.ndarray]:
    if secret is None:
        monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(SECRET_VARIABLE, secret)
    return [x for _, (x, _, _) in backprop._affine_cases(hidden)]


def test_two_secrets_give_different_hidden_cases_of_the_same_kinds(monkeypatch: pytest.MonkeyPatch):
    a, b = _draws(monkeypatch, SECRETS[0], True), _draws(monkeypatch, SECRETS[1], True)
    assert len(a) == len(b)  # the same cases, one by one
    assert a[0].shape == b[0].shape  # the public shapes come first, whatever the secret
    assert all(x.shape != y.shape or not np.array_equal(x, y) for x, y in zip(a, b))
    assert _draws(monkeypatch, SECRETS[0], True)[0].tolist() == a[0].tolist()  # reproducible


def test_without_a_secret_hidden_cases_are_the_public_default(monkeypatch: pytest.MonkeyPatch):
    default = _draws(monkeypatch, None, True)
    assert all(np.array_equal(x, y) for x, y in zip(default, _draws(monkeypatch, "", True)))
    assert not np.array_equal(default[0], _draws(monkeypatch, SECRETS[0], True)[0])
    monkeypatch.delenv(SECRET_VARIABLE)
    assert np.array_equal(case_rng(True, backprop.SALT).standard_normal(3),
                          np.random.default_rng(backprop.SALT).standard_normal(3))


def test_the_secret_never_changes_the_public_cases(monkeypatch: pytest.MonkeyPatch):
    public = _draws(monkeypatch, None, False)
    assert all(np.array_equal(x, y) for x, y in zip(public, _draws(monkeypatch, SECRETS[0], False)))


def test_the_autograder_passes_the_configured_secret_to_the_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.DlcourseGrading.hidden_secret = 's3cret'\n")
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    import os

    with hidden_secret_environment(Course.load(tmp_path)):
        assert os.environ[SECRET_VARIABLE] == "s3cret"
    assert SECRET_VARIABLE not in os.environ
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    monkeypatch.setenv(SECRET_VARIABLE, "from the shell")
    with hidden_secret_environment(Course.load(tmp_path)):
        assert os.environ[SECRET_VARIABLE] == "from the shell"


# Two secrets (an ASCII one and a non-ASCII one) per lecture: every mutant of 15 lectures against
# each is a few minutes of CPU, and a third secret found nothing the two had not.
@pytest.mark.parametrize("secret", [SECRETS[0], SECRETS[2]], ids=["secret1", "secret3"])
@pytest.mark.parametrize("topic", LECTURES)
def test_graders_stay_right_under_the_secret(topic: str, secret: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(SECRET_VARIABLE, secret)
    tables = importlib.import_module(f"mutants_{topic}")
    for check, reference in tables.REFERENCE.items():
        check(as_student(reference), hidden=True)
        for impl in tables.CORRECT.get(check, ()):
            check(impl, hidden=True)
        for mutant, *_ in tables.MUTANTS.get(check, ()):  # (impl, pattern, public, hint)
            # Rejected, whatever the secret: a CheckFailure, or the student's own code crashing.
            # (Which diagnosis a mistake gets may depend on the cases drawn; the harness tests
            # the diagnoses on the default cases.)
            with np.errstate(all="ignore"), pytest.raises(Exception) as info:
                check(mutant, hidden=True)
            assert not isinstance(info.value, NotImplementedError), (check.__name__, mutant.__name__)


def test_hidden_cases_of_random_sizes_change_size_with_the_secret(monkeypatch: pytest.MonkeyPatch):
    sizes = set()
    for secret in [f"s{i}" for i in range(8)]:
        sizes.add(tuple(x.shape for x in _draws(monkeypatch, secret, True)))
    assert len(sizes) > 1
    assert conv.SALT != regularization.SALT
