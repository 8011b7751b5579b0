"""The check machinery every lecture shares: seed policy, gradient checks, strict calls, the exercise entry."""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import traceback
from pathlib import Path

import numpy as np
import pytest

import dlcourse.checks
from dlcourse import ref
from dlcourse.checks import CheckFailure
from dlcourse.checks import backprop
from dlcourse.checks.cases import PUBLIC_SEED, case_rng
from dlcourse.checks.exercise import GRADING_VARIABLE, exercise
from dlcourse.checks.gradients import (
    FD_TOL,
    expect_backward_matches_finite_differences,
    expect_matches_finite_differences,
    relative_error,
)
from dlcourse.checks.guard import call_strict

PACKAGE = Path(dlcourse.__file__).resolve().parent
MACHINERY = {"cases", "compare", "errors", "exercise", "gradients", "guard", "seal"}
LECTURE_MODULES = [
    importlib.import_module(f"dlcourse.checks.{m.name}")
    for m in pkgutil.iter_modules(dlcourse.checks.__path__)
    if m.name not in MACHINERY
]


@pytest.fixture(autouse=True)
def not_grading(monkeypatch):
    """Tests run as a student's kernel does, unless a test sets nbgrader's variable itself."""
    monkeypatch.delenv(GRADING_VARIABLE, raising=False)


def test_the_package_docstring_names_every_module():
    doc = dlcourse.checks.__doc__
    for m in pkgutil.iter_modules(dlcourse.checks.__path__):
        assert f"``{m.name}``" in doc, f"dlcourse/checks/__init__.py does not describe {m.name}"


# --------------------------------------------------------------------------- seed policy


def test_public_cases_are_the_same_for_every_lecture():
    a, b = case_rng(False, 11), case_rng(False, 22)
    assert np.array_equal(a.standard_normal(5), b.standard_normal(5))
    assert np.array_equal(case_rng(False, 11).standard_normal(5), np.random.default_rng(PUBLIC_SEED).standard_normal(5))


def test_hidden_cases_are_reproducible_and_differ_by_salt_and_from_public():
    draw = lambda hidden, salt: case_rng(hidden, salt).standard_normal(5)  # noqa: E731
    assert np.array_equal(draw(True, 11), draw(True, 11))
    assert not np.array_equal(draw(True, 11), draw(True, 22))
    assert not np.array_equal(draw(True, 11), draw(False, 11))


def test_every_lecture_has_its_own_salt():
    salts = {module.__name__: module.SALT for module in LECTURE_MODULES}
    assert len(salts) >= 10
    assert len(set(salts.values())) == len(salts), salts
    assert PUBLIC_SEED not in salts.values()


# --------------------------------------------------------------------------- gradient checks


def test_relative_error_is_normwise_and_scale_free():
    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(1e-8 * a, 1e-8 * (a + 1e-3)) == pytest.approx(relative_error(a, a + 1e-3))


def test_finite_difference_comparison_accepts_noise_and_rejects_a_wrong_gradient():
    x = np.array([0.3, -1.2, 2.0])
    f = lambda v: float(np.sum(np.sin(v) * v))  # noqa: E731
    numeric = ref.numerical_gradient(f, x.copy())
    exact = np.sin(x) + x * np.cos(x)
    expect_matches_finite_differences(exact, numeric, what="df", case="three points")
    message = (r"^df disagrees with a finite-difference gradient check: central differences of your own loss "
               r"give a relative error of .*, expected < 1e-6 \(three points\)\.$")
    with pytest.raises(CheckFailure, match=message):
        expect_matches_finite_differences(exact * (1 + 10 * FD_TOL), numeric, what="df", case="three points",
                                          of="your own loss")


def test_backward_check_names_the_wrong_gradient_and_leaves_the_inputs_alone():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    dout = rng.standard_normal((3, 2))
    before = [x.copy(), w.copy(), b.copy()]
    dx, dw, db = ref.affine_backward(dout, (x, w, b))
    forward = lambda xx, ww, bb: ref.affine_forward(xx, ww, bb)[0]  # noqa: E731
    expect_backward_matches_finite_differences("affine_backward", forward, (x, w, b), dout, (dx, dw, db),
                                               ("dx", "dw", "db"), case="N=3")
    with pytest.raises(CheckFailure, match=r"^affine_backward: db disagrees .* \(N=3\)\.$"):
        expect_backward_matches_finite_differences("affine_backward", forward, (x, w, b), dout, (dx, dw, db / 3),
                                                   ("dx", "dw", "db"), case="N=3")
    assert all(np.array_equal(a, c) for a, c in zip((x, w, b), before))


def test_backward_check_differences_an_integer_input_in_float64():
    """Integer x (a hidden edge case): perturbing it in place would truncate every step to 0."""
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, size=(3, 4))
    w, b = rng.standard_normal((4, 2)), rng.standard_normal(2)
    dout = rng.standard_normal((3, 2))
    dx, dw, db = ref.affine_backward(dout, (x.astype(np.float64), w, b))
    forward = lambda xx, ww, bb: ref.affine_forward(xx, ww, bb)[0]  # noqa: E731
    expect_backward_matches_finite_differences("affine_backward", forward, (x, w, b), dout, (dx, dw, db),
                                               ("dx", "dw", "db"), case="integer x")
    with pytest.raises(CheckFailure, match=r"dx disagrees"):
        expect_backward_matches_finite_differences("affine_backward", forward, (x, w, b), dout, (2 * dx, dw, db),
                                                   ("dx", "dw", "db"), case="integer x")
    assert x.dtype.kind == "i"


# --------------------------------------------------------------------------- strict calls


def test_call_strict_turns_float_warnings_into_a_hinted_failure():
    settings = np.geterr()
    assert call_strict(np.exp, np.array([1.0]), name="f", hint="subtract the max") == pytest.approx(math.e)
    with pytest.raises(CheckFailure, match=r"f raised FloatingPointError \(overflow.*\)\.\n  Hint: subtract the max"):
        call_strict(np.exp, np.array([1000.0]), name="f", hint="subtract the max")
    with pytest.raises(CheckFailure, match=r"g raised OverflowError"):
        call_strict(lambda z: math.exp(z), 1000.0, name="g", hint="h")
    with pytest.raises(CheckFailure, match=r"g raised ZeroDivisionError"):
        call_strict(lambda z: 1 / z, 0.0, name="g", hint="h")
    assert np.geterr() == settings


# --------------------------------------------------------------------------- the exercise entry


def test_every_check_goes_through_the_exercise_entry():
    checks = [getattr(m, name) for m in LECTURE_MODULES for name in m.__all__ if name.startswith("check_")]
    assert len(checks) >= 60
    missing = [c.__qualname__ for c in checks if not hasattr(c, "exercise")]
    assert not missing, f"decorate these with @exercise(...): {missing}"
    assert all("label" in inspect.signature(c).parameters for c in checks)


def affine_forward(x, w, b):
    """The stub nbgrader leaves in a student's solution cell."""
    raise NotImplementedError("Replace this line with your solution.")


def _run_as_cell(source: str, **names):
    """Execute ``source`` as a notebook cell's top-level code; return its namespace."""
    namespace = dict(names)
    exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def _frames(exc: BaseException) -> list[str]:
    """The traceback's frames from the cell on, as "file:function"."""
    frames = [f"{frame.filename}:{frame.name}" for frame in traceback.extract_tb(exc.__traceback__)]
    return frames[frames.index("<cell>:<module>"):]


def _checker_frames(exc: BaseException) -> list[str]:
    return [f for f in _frames(exc) if f.startswith(str(PACKAGE))]


def test_unfinished_exercise_at_a_cells_top_level_prints_one_line_and_returns(capsys):
    ns = _run_as_cell("result = check(affine_forward)\nafter = True", check=backprop.check_affine_forward,
                      affine_forward=affine_forward)
    out, err = capsys.readouterr()
    assert out == "◻ affine_forward: not written yet.\n" and err == ""
    assert ns["result"] is None and ns["after"]


def test_the_line_shows_the_label_and_the_students_own_name(capsys):
    def batchnorm_backward_alt(dout, cache):
        raise NotImplementedError

    _run_as_cell("check(student, label='Exercise 5')", check=dlcourse.checks.norm.check_batchnorm_backward,
                 student=batchnorm_backward_alt)
    assert capsys.readouterr().out == "◻ batchnorm_backward_alt: not written yet (Exercise 5).\n"


def test_a_stub_called_by_the_students_function_is_named(capsys):
    def relu_backward(dout, cache):
        return dout * helper(cache)

    def helper(x):
        raise NotImplementedError

    _run_as_cell("check(relu_backward)", check=backprop.check_relu_backward, relu_backward=relu_backward)
    line = capsys.readouterr().out
    assert line.startswith("◻ relu_backward: cannot be checked yet: ") and "helper is not written yet." in line


@pytest.mark.parametrize("mode", ["autograde", "validate"])
def test_under_nbgrader_an_unfinished_exercise_raises_from_the_stub(monkeypatch, capsys, mode):
    monkeypatch.setenv(GRADING_VARIABLE, mode)
    with pytest.raises(NotImplementedError, match="Replace this line") as info:
        _run_as_cell("check(affine_forward)", check=backprop.check_affine_forward, affine_forward=affine_forward)
    assert capsys.readouterr().out == ""
    assert not _checker_frames(info.value), "the check's own frames are hidden"
    assert _frames(info.value)[-1].endswith(":affine_forward")


def test_code_that_calls_a_check_gets_the_exception_to_act_on(capsys):
    def mine_or_reference(yours, check, reference):
        try:
            check(yours)
            return yours
        except NotImplementedError:
            return reference

    assert mine_or_reference(affine_forward, backprop.check_affine_forward, ref.affine_forward) is ref.affine_forward
    assert capsys.readouterr().out == ""


def test_a_wrong_answer_raises_without_the_checks_frames():
    def affine_forward(x, w, b):
        return x.reshape(len(x), -1) @ w, (x, w, b)

    with pytest.raises(CheckFailure, match="the bias b is missing") as info:
        _run_as_cell("check(affine_forward)", check=backprop.check_affine_forward, affine_forward=affine_forward)
    assert _frames(info.value) == ["<cell>:<module>"]


def test_a_crash_in_student_code_starts_the_traceback_at_the_students_function():
    def affine_forward(x, w, b):
        return x @ w + b, (x, w, b)  # forgets to flatten: fails on the 3-D case

    with pytest.raises(ValueError) as info:
        _run_as_cell("check(affine_forward)", check=backprop.check_affine_forward, affine_forward=affine_forward)
    frames = _frames(info.value)
    assert frames[0] == "<cell>:<module>" and frames[1].endswith(":affine_forward")
    assert not _checker_frames(info.value)


def _checker_code(source: str, name: str):
    """A function compiled as if it lived in dlcourse/checks (a stand-in for a check's own code)."""
    namespace: dict = {}
    exec(compile(source, str(PACKAGE / "checks" / "stand_in.py"), "exec"), namespace)
    return namespace[name]


def test_a_bug_in_a_check_keeps_its_whole_traceback(capsys):
    buggy = exercise("f")(_checker_code("def check_f(f, hidden=False):\n    return {}['missing']\n", "check_f"))
    with pytest.raises(KeyError) as info:
        _run_as_cell("check(f)", check=buggy, f=affine_forward)
    assert any(f.endswith("stand_in.py:check_f") for f in _frames(info.value))

    # A NotImplementedError that the checker raised itself is not an unfinished exercise.
    source = "def check_f(f, hidden=False):\n    raise NotImplementedError\n"
    unfinished = exercise("f")(_checker_code(source, "check_f"))
    with pytest.raises(NotImplementedError):
        _run_as_cell("check(f)", check=unfinished, f=affine_forward)
    assert capsys.readouterr().out == ""
