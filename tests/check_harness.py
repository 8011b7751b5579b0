"""The tests every lecture's checks must pass, generated from its mutant tables.

A lecture's ``tests/mutants_<topic>.py`` holds three tables keyed by the check functions of
``dlcourse.checks.<topic>``:

- ``REFERENCE[check]``: the ``dlcourse.ref`` function or class the check is about (plain, not a
  factory: :func:`impersonate.as_student` copies it so the anti-shortcut guard lets it through);
- ``CORRECT[check]``: differently written correct implementations (functions or classes);
- ``MUTANTS[check]``: ``(implementation, pattern, public, hint)`` for each known mistake; the check
  must raise a CheckFailure whose diagnosis (the message before its "Hint:" line) matches
  ``pattern`` and whose hint matches ``hint``, or that has no hint when ``hint`` is None (a
  mutant that is not one of the check's named mistakes must not be told it is one); with the
  public cases when ``public`` is true, else with the hidden ones only. A ``pattern`` of None
  means that the student's own code must crash instead (``hint`` is then None too).

Its ``tests/test_checks_<topic>.py`` then does::

    globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))

and gets, for every check of ``checks.__all__``:

- the reference passes (public and hidden, stdout only), and so does each correct alternative;
- each mutant is rejected with its diagnosis and exactly its hint, or none (or crashes in the
  student's own code when its pattern is ``None``), and each mutant marked hidden-only does pass the public cases (so the table's
  ``public`` flag is the truth, not a guess);
- an unfinished stub (:func:`unfinished_stub`) shows the student's own ``NotImplementedError``;
- the reference, handed in as the answer or called by it, is caught by the anti-shortcut guard;
- the tables are complete: at least four mutants and one correct alternative per check.

Lecture-specific tests go below that line in the same file, under names of their own (a test
checks that none replaces a generated one).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from impersonate import as_student, is_reference

Check = Callable[..., None]
Impl = Callable[..., Any]  # a function, or a class for the exercises that are classes
# (implementation, diagnosis pattern or None for a crash, caught by the public cases, hint pattern or None)
Mutant = tuple[Impl, str | None, bool, str | None]
HINT = "\n  Hint: "  # how dlcourse.checks.compare appends a hint to a failure's message


def _id(obj: Any) -> str:
    return getattr(obj, "__name__", "") if callable(obj) else ""


def unfinished_stub(impl: Impl) -> Impl:
    """What nbgrader leaves of the exercise ``impl`` before the student writes it: code that raises.

    A function becomes one that raises on every call; a class, one whose constructor raises.
    """

    def stub(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Replace this line with your solution.")

    stub.__name__ = stub.__qualname__ = impl.__name__
    if isinstance(impl, type):
        return type(impl.__name__, (), {"__init__": stub})
    return stub


def delegating_answer(impl: Impl) -> Impl:
    """A student's answer that hands the work to the reference ``impl``, found by name when called.

    A function calls ``getattr(<its module>, <its name>)`` (no reference name appears in the code,
    so only a guard that watches what runs can catch it); a class inherits all its methods.
    """
    if isinstance(impl, type):
        return type(impl.__name__, (impl,), {})
    module, name = impl.__module__, impl.__name__

    def answer(*args: Any, **kwargs: Any) -> Any:
        return getattr(sys.modules[module], name)(*args, **kwargs)

    answer.__name__ = answer.__qualname__ = name
    return answer


def check_tests(
    checks: ModuleType,
    reference: Mapping[Check, Impl],
    correct: Mapping[Check, Sequence[Impl]],
    mutants: Mapping[Check, Sequence[Mutant]],
) -> dict[str, Callable[..., None]]:
    """The generic test functions for one lecture, keyed by their pytest names."""
    all_checks = list(reference)
    hidden_modes = pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
    cases = [(c, *mutant) for c, ms in mutants.items() for mutant in ms]
    hidden_only = [(c, m) for c, m, _, public, _ in cases if not public]
    guarded = [c for c in all_checks if is_reference(reference[c])]  # not a hand-designed network's weights

    @hidden_modes
    @pytest.mark.parametrize("check", all_checks, ids=_id)
    def test_reference_passes(check: Check, hidden: bool, capfd: pytest.CaptureFixture[str]) -> None:
        check(as_student(reference[check]), hidden=hidden)
        out, err = capfd.readouterr()
        assert "passed" in out and err == "", "a passing check prints to stdout only"

    @hidden_modes
    @pytest.mark.parametrize("check,impl", [(c, i) for c, impls in correct.items() for i in impls], ids=_id)
    def test_alternative_correct_implementation_passes(check: Check, impl: Impl, hidden: bool) -> None:
        check(impl, hidden=hidden)

    @pytest.mark.parametrize("check,mutant,pattern,public,hint", cases, ids=_id)
    def test_mutant_is_rejected_with_its_diagnosis(
        check: Check, mutant: Impl, pattern: str | None, public: bool, hint: str | None
    ) -> None:
        for hidden in [False, True] if public else [True]:
            with np.errstate(all="ignore"):  # the mutants' own overflow warnings are not under test
                if pattern is None:
                    with pytest.raises(Exception) as info:
                        check(mutant, hidden=hidden)
                    assert not isinstance(info.value, CheckFailure), "expected the student's code itself to fail"
                    continue
                with pytest.raises(CheckFailure) as info:
                    check(mutant, hidden=hidden)
            diagnosis, _, said = str(info.value).partition(HINT)
            assert re.search(pattern, diagnosis), f"the diagnosis {diagnosis!r} does not match {pattern!r}"
            if hint is None:
                assert not said, f"a hint for a mistake this mutant does not make: {said!r}"
            else:
                assert re.search(hint, said), f"the hint {said!r} does not match {hint!r}"

    @pytest.mark.parametrize("check,mutant", hidden_only, ids=_id)
    def test_hidden_only_mutants_pass_the_public_cases(check: Check, mutant: Impl) -> None:
        """A mistake the table marks hidden-only gets through the public cases: the flag is honest."""
        check(mutant, hidden=False)

    @pytest.mark.parametrize("check", all_checks, ids=_id)
    def test_unfinished_stub_shows_the_students_own_error(check: Check) -> None:
        """The student's own NotImplementedError (and its traceback) reaches them, not a CheckFailure."""
        with pytest.raises(NotImplementedError, match="Replace this line"):
            check(unfinished_stub(reference[check]))

    @pytest.mark.parametrize("delegated", [False, True], ids=["handed_in", "delegated"])
    @pytest.mark.parametrize("check", guarded, ids=_id)
    def test_guard_rejects_the_reference_as_the_answer(check: Check, delegated: bool) -> None:
        impl = reference[check]
        # the message names the reference function that ran (for a class: its module)
        where = re.escape(impl.__module__ + "." + ("" if isinstance(impl, type) else impl.__name__))
        with pytest.raises(CheckFailure, match=f"called {where}"):
            check(delegating_answer(impl) if delegated else impl)

    def test_every_check_has_at_least_four_mutants() -> None:
        for check in all_checks:
            assert len(mutants[check]) >= 4, check.__name__

    def test_every_check_has_a_differently_written_correct_implementation() -> None:
        for check in all_checks:
            assert correct.get(check), f"{check.__name__}: no entry in CORRECT"
        assert set(correct) | set(mutants) <= set(all_checks), "a CORRECT or MUTANTS entry has no REFERENCE"

    def test_every_public_check_function_is_covered() -> None:
        assert set(all_checks) == {getattr(checks, name) for name in checks.__all__}

    def test_no_generated_test_is_redefined_below(request: pytest.FixtureRequest) -> None:
        """A same-named test written later in the file would silently replace a generated one."""
        namespace = vars(request.module)
        assert [name for name, f in generated.items() if namespace.get(name) is not f] == []

    tests = [
        test_reference_passes,
        test_alternative_correct_implementation_passes,
        test_mutant_is_rejected_with_its_diagnosis,
        test_hidden_only_mutants_pass_the_public_cases,
        test_unfinished_stub_shows_the_students_own_error,
        test_guard_rejects_the_reference_as_the_answer,
        test_every_check_has_at_least_four_mutants,
        test_every_check_has_a_differently_written_correct_implementation,
        test_every_public_check_function_is_covered,
        test_no_generated_test_is_redefined_below,
    ]
    # No empty parametrizations (pytest would report them as skipped tests that test nothing).
    cases_of = {test_hidden_only_mutants_pass_the_public_cases: hidden_only,
                test_guard_rejects_the_reference_as_the_answer: guarded}
    generated = {f.__name__: f for f in tests if cases_of.get(f, True)}
    return generated
