"""The comparison machinery: a known mistake is named only when it explains every case; numbers differ.

A toy check (the answer should be 2·x) stands in for a lecture's: each test hands it a student
function, the cases, and the mistakes offered on each case.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from dlcourse.checks import CheckFailure, compare
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_equal, expect_scalar, format_pair, record
from impersonate import as_student

TOPICS = ["tensors", "autodiff", "neurons", "losses", "backprop", "optim", "init", "norm", "regularization", "conv"]


def toy_check(student: Callable[[float], object], xs: Sequence[float],
              mistakes: Callable[[float], list[Mistake]] = lambda x: [], **kw: object) -> None:
    run = CheckRun("double", hidden=False)
    for x in run.cases(xs):
        with run.case():
            got = student(x)
            expect_scalar(got, 2.0 * x, what="double(x)", case=f"x = {x}", mistakes=mistakes(x), **kw)
    run.passed()


def cubed(x: float) -> list[Mistake]:
    return [Mistake(x**3, "that is x cubed.")]


def hint_of(info: pytest.ExceptionInfo[CheckFailure]) -> str | None:
    _, found, hint = str(info.value).partition("\n  Hint: ")
    return hint if found else None


def test_a_mistake_that_explains_every_case_is_named():
    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: x**3, [1.5, 2.5, -1.0], cubed)
    assert str(info.value).startswith("double(x) is 3.375, expected 3 (x = 1.5).")
    assert hint_of(info) == "that is x cubed."


def test_a_mistake_matched_by_chance_on_one_case_is_not_named():
    # x² agrees with x³ at x = 1 (the first failure) but not at x = 3.
    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: x**2, [1.0, 3.0], cubed)
    assert str(info.value) == "double(x) is 1, expected 2 (x = 1.0)."


def test_a_passing_case_counts_against_a_mistake_too():
    # Right at x = 2 (where x³ is not), wrong and equal to x³ at x = 1: not "x cubed".
    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: 4.0 if x == 2 else x**3, [2.0, 1.0], cubed)
    assert hint_of(info) is None


def test_the_first_failure_is_reported_though_a_later_case_crashes():
    def student(x: float) -> float:
        if x > 2:
            raise ValueError("my own bug")
        return x**3

    with pytest.raises(CheckFailure) as info:
        toy_check(student, [1.5, 3.0], cubed)
    assert "x = 1.5" in str(info.value) and hint_of(info) == "that is x cubed."


def test_a_crash_before_any_failure_is_the_answer():
    def student(x: float) -> float:
        raise ValueError("my own bug")

    with pytest.raises(ValueError, match="my own bug"):
        toy_check(student, [1.5, 3.0], cubed)


def test_the_remaining_cases_run_only_while_something_is_left_to_learn():
    seen: list[float] = []

    def student(x: float) -> float:
        seen.append(x)
        return x**3

    with pytest.raises(CheckFailure):
        toy_check(student, [1.5, 2.5, 3.5], cubed)
    assert seen == [1.5, 2.5, 3.5]  # x cubed was still possible: every case ran
    seen.clear()
    with pytest.raises(CheckFailure):
        toy_check(student, [1.5, 2.5, 3.5])  # no mistake to learn about
    assert seen == [1.5]
    seen.clear()
    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: seen.append(x) or x**2, [1.0, 3.0, 5.0], cubed)
    assert seen == [1.0, 3.0] and hint_of(info) is None  # refuted at x = 3: x = 5 never runs


def test_cases_run_only_to_learn_are_silent(capsys: pytest.CaptureFixture[str]):
    def student(x: float) -> float:
        print(f"my debugging line for x = {x}")
        if x > 2:
            np.exp(np.array([1000.0]))  # an overflow: an error under the errstate below, unless learning
        return x**3

    with np.errstate(over="raise"), pytest.raises(CheckFailure) as info:
        toy_check(student, [1.5, 2.5], cubed)
    assert hint_of(info) == "that is x cubed."
    assert capsys.readouterr().out == "my debugging line for x = 1.5\n"  # not the line of x = 2.5


def test_an_observation_is_said_when_no_mistake_explains_the_answer():
    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: x**2, [1.0, 3.0], cubed, hint="square less.")
    assert hint_of(info) == "square less."
    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: x**3, [1.5, 3.0], cubed, hint="square less.")
    assert hint_of(info) == "that is x cubed."
    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: float("nan"), [1.5], cubed, nonfinite_hint="nan!")
    assert hint_of(info) == "nan!"


def test_a_mistake_with_several_forms_matches_when_any_does():
    def either(x: float) -> list[Mistake]:
        return [Mistake(x**3, "a power.", name="power"), Mistake(x**4, "a power.", name="power")]

    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: x**3 if x < 2 else x**4, [1.5, 2.5], either)
    assert hint_of(info) == "a power."


def test_a_named_mistake_is_one_mistake_whatever_its_wording_on_each_case():
    def worded(x: float) -> list[Mistake]:
        return [Mistake(x**3, f"that is {x}³.", name="cubed")]

    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: x**3, [1.5, 2.5], worded)
    assert hint_of(info) == "that is 1.5³."
    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: x**3 if x < 2 else 0.0, [1.5, 2.5], worded)
    assert hint_of(info) is None


def test_a_partial_mistake_may_be_made_on_some_cases_only():
    def one_branch(x: float) -> list[Mistake]:
        return [Mistake(x**3, "cubed in one branch.", partial=True)]

    with pytest.raises(CheckFailure) as info:  # right for x < 2, cubed beyond
        toy_check(lambda x: 2 * x if x < 2 else x**3, [1.5, 2.5, 3.0], one_branch)
    assert "x = 2.5" in str(info.value) and hint_of(info) == "cubed in one branch."
    with pytest.raises(CheckFailure) as info:  # wrong in another way at x = 1.5
        toy_check(lambda x: 0.0 if x < 2 else x**3, [2.5, 1.5], one_branch)
    assert hint_of(info) is None


def test_a_mistake_not_offered_on_a_case_is_not_judged_there():
    def squares_only(x: float) -> list[Mistake]:
        return [Mistake(x**3 if x > 0 else None, "cubed.")]

    with pytest.raises(CheckFailure) as info:
        toy_check(lambda x: x**3 if x > 0 else 7.0, [1.5, -1.0], squares_only)
    assert hint_of(info) == "cubed."


def test_a_shape_only_mistake_matches_any_values_of_its_shape():
    def check(student: Callable[[np.ndarray], np.ndarray]) -> None:
        run = CheckRun("rows", hidden=False)
        for n in run.cases([3, 4]):
            with run.case():
                expect_array(student(np.ones(n)), np.ones((n, 2)), what="rows", case=f"n = {n}",
                             mistakes=[Mistake(np.zeros((n, 1)), "one column short.", shape_only=True)])
        run.passed()

    with pytest.raises(CheckFailure) as info:
        check(lambda x: x[:, None] * 5)
    assert "has shape (3, 1), expected (3, 2)" in str(info.value) and hint_of(info) == "one column short."


def test_exact_comparisons_and_comparisons_the_check_makes_itself_record_too():
    def check(student: Callable[[int], object]) -> None:
        run = CheckRun("sizes", hidden=False)
        for n in run.cases([5, 6]):
            with run.case():
                got = student(n)
                whole = record([Mistake([n], "one batch.")], lambda m: m.value == got)
                expect_equal(got, [2] * (n // 2) + [1] * (n % 2), what="sizes", verb="are", case=f"n = {n}",
                             mistakes=whole + [Mistake([2] * (n // 2), "the last batch is missing.")])
        run.passed()

    with pytest.raises(CheckFailure) as info:
        check(lambda n: [2] * (n // 2))
    assert str(info.value).startswith("sizes are [2, 2], expected [2, 2, 1] (n = 5).")
    assert hint_of(info) == "the last batch is missing."
    with pytest.raises(CheckFailure) as info:
        check(lambda n: [n])
    assert hint_of(info) == "one batch."


def test_a_comparison_outside_a_run_is_its_own_case():
    with pytest.raises(CheckFailure) as info:
        expect_array(np.array([3.0]), np.array([2.0]), what="y", case="c", mistakes=[Mistake([3.0], "three.")])
    assert hint_of(info) == "three."


def test_a_case_outside_the_case_loop_is_refused():
    run = CheckRun("double", hidden=False)
    with pytest.raises(RuntimeError, match="run.cases"):
        with run.case():
            pass


def test_the_pass_line_counts_the_cases(capsys: pytest.CaptureFixture[str]):
    toy_check(lambda x: 2 * x, [1.0, 2.0, 3.0], cubed)
    assert capsys.readouterr().out == "✔ double: all 3 public cases passed.\n"


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("got,expected", [
    (0.8807970779778823, 0.8807970779778824),  # σ(2) one ulp apart
    (0.8807970779778823, 0.880797),
    (1e-12, 1.0000001e-12),
    (123456789.0, 123456789.5),
    (-2.5403019, -2.5403023),
])
def test_got_and_expected_never_print_the_same(got: float, expected: float):
    a, b = format_pair(got, expected)
    assert a != b
    # each printed number is nearer its own value than the other one
    assert abs(float(a) - got) < abs(float(a) - expected) and abs(float(b) - expected) < abs(float(b) - got)


def test_numbers_keep_six_digits_when_they_suffice_and_integers_print_whole():
    assert format_pair(0.88079707, 0.5) == ("0.880797", "0.5")
    assert format_pair(43_120_000, 172_480_000) == ("43120000", "172480000")
    assert format_pair(np.int64(3), 4) == ("3", "4")


def test_a_value_message_shows_the_difference():
    with pytest.raises(CheckFailure, match=r"got 0\.8807970779778823, expected 0\.8807970779778824\."):
        expect_array(np.array([0.5, 0.8807970779778823]), np.array([0.5, 0.8807970779778824]),
                     what="σ", case="c", rtol=0, atol=0)


# --------------------------------------------------------------------------- every lecture


@pytest.mark.parametrize("topic", TOPICS)
def test_every_check_offers_its_mistakes_inside_a_run(topic: str, monkeypatch: pytest.MonkeyPatch):
    """A mistake offered outside ``run.case()`` would be named from one case: every loop is a run."""
    offer = compare._offer

    def strict_offer(mistakes, matches):
        if any(m.value is not None for m in mistakes):
            assert compare._current.get() is not None, "a comparison with mistakes outside run.case()"
        return offer(mistakes, matches)

    monkeypatch.setattr(compare, "_offer", strict_offer)
    tables = importlib.import_module(f"mutants_{topic}")
    for check, impl in tables.REFERENCE.items():
        check(as_student(impl), hidden=True)
