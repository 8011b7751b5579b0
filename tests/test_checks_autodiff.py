"""Every 01-autodiff check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import dlcourse.ref as ref
from dlcourse.checks import CheckFailure
from dlcourse.checks import autodiff as checks
from impersonate import as_student
from mutants_autodiff import CORRECT, MUTANTS, REFERENCE, student_class

CHECKS = list(REFERENCE)


def _id(obj) -> str:
    return getattr(obj, "__name__", str(obj))


def _student(check):
    impl = REFERENCE[check]()
    return impl if isinstance(impl, type) else as_student(impl)


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
@pytest.mark.parametrize("check", CHECKS, ids=_id)
def test_reference_passes(check, hidden, capfd):
    check(_student(check), hidden=hidden)
    out, err = capfd.readouterr()
    assert "passed" in out and err == "", "a passing check prints to stdout only"


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
@pytest.mark.parametrize(
    "check,impl", [(c, i) for c, impls in CORRECT.items() for i in impls], ids=lambda o: _id(o)
)
def test_alternative_correct_implementation_passes(check, impl, hidden):
    check(impl, hidden=hidden)


MUTANT_CASES = [(c, m, pattern, public) for c, ms in MUTANTS.items() for m, pattern, public in ms]


@pytest.mark.parametrize("check,mutant,pattern,public", MUTANT_CASES, ids=lambda o: _id(o) if callable(o) else "")
def test_mutant_is_rejected_with_its_diagnosis(check, mutant, pattern, public):
    modes = [False, True] if public else [True]
    for hidden in modes:
        with np.errstate(all="ignore"):
            if pattern is None:
                with pytest.raises(Exception) as info:
                    check(mutant, hidden=hidden)
                assert not isinstance(info.value, CheckFailure), "expected the student's code itself to fail"
            else:
                with pytest.raises(CheckFailure, match=pattern):
                    check(mutant, hidden=hidden)


@pytest.mark.parametrize("check,mutant,pattern,public", [c for c in MUTANT_CASES if not c[3]],
                         ids=lambda o: _id(o) if callable(o) else "")
def test_hidden_only_mutants_pass_the_public_cases(check, mutant, pattern, public):
    check(mutant, hidden=False)


def test_every_check_has_at_least_four_mutants():
    for check in CHECKS:
        assert len(MUTANTS[check]) >= 4, check.__name__


def test_every_public_check_function_is_covered():
    assert set(CHECKS) == {getattr(checks, name) for name in checks.__all__}


def test_the_student_copy_of_value_is_not_reference_code():
    V = student_class(ref.Value)
    x = V(2.0)
    out = x * x + 1
    out.backward()
    assert type(out) is V and x.grad == 4.0
    assert "dlcourse/ref" not in V.__mul__.__code__.co_filename


def test_unfinished_stub_shows_the_students_own_error():
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
