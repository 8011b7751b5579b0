"""The tests every lecture's checks must pass, generated from its mutant tables.

A lecture's ``tests/test_checks_<topic>.py`` does::

    globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))

and gets, for every check of ``checks.__all__``: the reference passes (public and hidden, stdout
only), each alternative correct implementation passes, each mutant is rejected with its hint
(or crashes in the student's own code when its pattern is ``None``), at least four mutants.
Lecture-specific tests go below that line in the same file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from impersonate import as_student

Check = Callable[..., None]


def _id(obj: Any) -> str:
    return getattr(obj, "__name__", "") if callable(obj) else ""


def check_tests(
    checks: ModuleType,
    reference: Mapping[Check, Callable[..., Any]],
    correct: Mapping[Check, Sequence[Callable[..., Any]]],
    mutants: Mapping[Check, Sequence[tuple[Callable[..., Any], str | None, bool]]],
    *,
    to_student: Callable[[Callable[..., Any]], Callable[..., Any]] = as_student,
) -> dict[str, Callable[..., None]]:
    """The generic test functions for one lecture, keyed by their pytest names."""
    all_checks = list(reference)
    hidden_modes = pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])

    @hidden_modes
    @pytest.mark.parametrize("check", all_checks, ids=_id)
    def test_reference_passes(check: Check, hidden: bool, capfd: pytest.CaptureFixture[str]) -> None:
        check(to_student(reference[check]), hidden=hidden)
        out, err = capfd.readouterr()
        assert "passed" in out and err == "", "a passing check prints to stdout only"

    @hidden_modes
    @pytest.mark.parametrize("check,impl", [(c, i) for c, impls in correct.items() for i in impls], ids=_id)
    def test_alternative_correct_implementation_passes(check: Check, impl: Callable[..., Any], hidden: bool) -> None:
        check(impl, hidden=hidden)

    cases = [(c, m, pattern, public) for c, ms in mutants.items() for m, pattern, public in ms]

    @pytest.mark.parametrize("check,mutant,pattern,public", cases, ids=_id)
    def test_mutant_is_rejected_with_its_diagnosis(
        check: Check, mutant: Callable[..., Any], pattern: str | None, public: bool
    ) -> None:
        for hidden in [False, True] if public else [True]:
            with np.errstate(all="ignore"):  # the mutants' own overflow warnings are not under test
                if pattern is None:
                    with pytest.raises(Exception) as info:
                        check(mutant, hidden=hidden)
                    assert not isinstance(info.value, CheckFailure), "expected the student's code itself to fail"
                else:
                    with pytest.raises(CheckFailure, match=pattern):
                        check(mutant, hidden=hidden)

    def test_every_check_has_at_least_four_mutants() -> None:
        for check in all_checks:
            assert len(mutants[check]) >= 4, check.__name__

    def test_every_public_check_function_is_covered() -> None:
        assert set(all_checks) == {getattr(checks, name) for name in checks.__all__}

    return {f.__name__: f for f in (
        test_reference_passes,
        test_alternative_correct_implementation_passes,
        test_mutant_is_rejected_with_its_diagnosis,
        test_every_check_has_at_least_four_mutants,
        test_every_public_check_function_is_covered,
    )}
