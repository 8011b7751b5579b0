"""Every 01-autodiff check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import sys

import pytest

import dlcourse.ref as ref
from dlcourse.checks import CheckFailure
from dlcourse.checks import autodiff as checks
from check_harness import check_tests
from impersonate import as_student
from mutants_autodiff import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_the_student_copy_of_value_is_not_reference_code():
    V = as_student(ref.Value)
    x = V(2.0)
    out = x * x + 1
    out.backward()
    assert type(out) is V and x.grad == 4.0
    assert "dlcourse/ref" not in V.__mul__.__code__.co_filename


def test_unfinished_operator_stub_shows_the_students_own_error():
    class Value(ref.Value.__mro__[-1]):  # object
        def __init__(self, data):
            self.data, self.grad = float(data), 0.0

        def __add__(self, other):
            raise NotImplementedError("Replace this line with your solution.")

    with pytest.raises(NotImplementedError, match="Replace this line"):
        checks.check_value_ops(Value)


def test_an_instance_instead_of_the_class_is_explained():
    with pytest.raises(CheckFailure, match="pass the class itself"):
        checks.check_value_backward(ref.Value(1.0))


def test_guard_applies_to_a_class_that_calls_the_reference_inside_a_method():
    from dlcourse.ref import autodiff as hidden_alias

    class Value(MUTANTS[checks.check_value_ops][0][0].__mro__[1]):  # a correct MicroValue
        def backward(self):
            getattr(hidden_alias, "topological_" + "order")  # harmless lookup...
            return hidden_alias.Value.backward(self)  # ...but this runs reference code

    with pytest.raises(CheckFailure, match="dlcourse.ref.autodiff"):
        checks.check_value_backward(Value)


def test_long_chain_does_not_hit_the_recursion_limit_of_the_check():
    assert sys.getrecursionlimit() >= 1000
    checks.check_value_backward(CORRECT[checks.check_value_backward][0], hidden=True)


def test_messages_name_the_expression():
    with pytest.raises(CheckFailure) as info:
        checks.check_value_backward(MUTANTS[checks.check_value_backward][0][0])
    assert "f = x·y + x" in str(info.value)


def test_operations_are_checked_before_backward_is_written():
    """01's text builds one operation at a time: check_value_ops must not need the student's backward()."""
    from mutants_autodiff import MicroValue

    class Value(MicroValue):
        def backward(self):
            raise NotImplementedError("Replace this line with your solution.")

    checks.check_value_ops(Value, hidden=True)
    with pytest.raises(NotImplementedError):
        checks.check_value_backward(Value)


def test_a_differently_built_engine_is_driven_by_its_own_backward():
    from mutants_autodiff import LocalGradValue

    checks.check_value_ops(LocalGradValue, hidden=True)  # no _prev/_backward: its backward() is used
