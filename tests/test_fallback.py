"""dlcourse.yours_or_reference: lecture cells run the reference while an exercise is unfinished."""

from __future__ import annotations

import numpy as np
import pytest

import dlcourse
import dlcourse.ref


def sigmoid(x):  # a student's stub, named like the exercise
    raise NotImplementedError


def test_an_unfinished_function_falls_back_to_the_reference_of_its_name_and_says_so_once(capsys):
    run = dlcourse.yours_or_reference(sigmoid)
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(run(x), dlcourse.ref.sigmoid(x))
    run(x)
    out = capsys.readouterr().out
    assert out.count("sigmoid is not written yet") == 1 and "dlcourse.ref" in out
    assert run.fell_back and "reference" in run.note


def test_a_written_function_is_used_and_nothing_is_printed(capsys):
    def relu(x):
        return np.where(x > 0, x, 0.0) * 2  # wrong on purpose: the wrapper must not correct it

    run = dlcourse.yours_or_reference(relu)
    np.testing.assert_array_equal(run(np.array([1.0, -1.0])), [2.0, 0.0])
    assert not run.fell_back and run.note == "" and capsys.readouterr().out == ""


def test_other_errors_are_the_students_to_see():
    def relu(x):
        raise ValueError("my bug")

    with pytest.raises(ValueError, match="my bug"):
        dlcourse.yours_or_reference(relu)(np.zeros(2))


def test_an_explicit_reference_and_a_missing_one():
    def mine(x):
        raise NotImplementedError

    assert dlcourse.yours_or_reference(mine, reference=np.negative)(np.array([1.0]))[0] == -1.0
    with pytest.raises(ValueError, match="no reference named 'mine'"):
        dlcourse.yours_or_reference(mine)
    with pytest.raises(TypeError, match="expects your function"):
        dlcourse.yours_or_reference(3)


def test_wrapping_the_same_function_again_does_not_repeat_the_note(capsys):
    def tanh_forward(x):
        raise NotImplementedError

    for _ in range(3):
        dlcourse.yours_or_reference(tanh_forward)(np.zeros(2))
    assert capsys.readouterr().out.count("not written yet") == 1
