"""Compare a student's answer with the expected one, in teaching order: type, shape, values, mistakes.

A check runs its cases through a :class:`CheckRun`, which decides what the student is told::

    run = CheckRun("sigmoid", hidden)
    for case, z in run.cases(_sigmoid_cases(hidden)):
        with run.case():
            got = call_strict(sigmoid, z, name="sigmoid", hint=...)
            expect_array(got, ref.sigmoid(z), what="sigmoid(z)", case=case, mistakes=[Mistake(...), ...])
    run.passed()

Every comparison (:func:`expect_array`, :func:`expect_scalar`, :func:`expect_equal`) made inside
``run.case()`` records, for each known :class:`Mistake` it is offered, whether the student's
answer matches that mistake's value (a comparison the check makes itself records through
:func:`record`). The first failure does not end the check at once: the remaining cases still run,
silently (what the student's code prints or warns there is swallowed; a crash or another failure
is only noted), so that the run learns which mistakes the answer matches on *every* case where
they were offered (a case that passes counts too). Then the first failure is raised, with a
mistake's hint only if that mistake matched everywhere; otherwise the message is the plain
type/shape/value diagnosis (plus a hint about what was observed, such as ``nonfinite_hint``). A
mistake that matches on one case by chance (several wrong formulas agree on a small input) is
therefore never named. When no mistake can still match, the failure is raised at once and the
remaining cases are skipped.

A comparison made outside any ``run.case()`` is its own one-case run.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, NoReturn, TypeVar

import numpy as np

from dlcourse.checks.errors import CheckFailure

__all__ = ["Mistake", "CheckRun", "expect_array", "expect_scalar", "expect_equal", "record", "format_pair", "passed"]

T = TypeVar("T")


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and what to tell a student whose answer matches it on every case.

    Attributes:
        value: what the mistaken code returns on this case's inputs, computed by the check; None
            when the mistake cannot be told apart (or does not apply) on this case, so it is not
            offered there.
        hint: what to tell the student.
        name: the mistake's identity across cases (default: the hint). Give one when the hint's
            wording depends on the case ("…shape (N, C) = (4, 3)"), so that the same mistake is
            recognised on every case.
        shape_only: match by shape alone (for a wrong shape whose values cannot be predicted,
            e.g. one column too few); otherwise shape and values must match.
        partial: the mistake may be made on some cases only, in one branch of the student's
            code (one mode, one weight layout): a case the answer gets right does not count
            against it.
    """

    value: Any
    hint: str
    name: str = ""
    shape_only: bool = False
    partial: bool = False

    @property
    def key(self) -> str:
        return self.name or self.hint


# --------------------------------------------------------------------------- the run


class CheckRun:
    """Drives a check's case loop; see the module docstring.

    Args:
        name: the exercise's name in the pass line, e.g. "sigmoid".
        hidden: whether the hidden cases run (also for the pass line).
    """

    def __init__(self, name: str, hidden: bool) -> None:
        self.name = name
        self.hidden = hidden
        self.count = 0  # cases completed without a failure
        self._iterating = False
        self._pending: CheckFailure | None = None  # the first failure, while the run learns
        self._refuted: set[str] = set()  # mistakes the answer did not match on some case

    def cases(self, items: Iterable[T]) -> Iterator[T]:
        """Yield the check's cases; raise the first failure, if any, once they are done."""
        self._iterating = True
        try:
            for item in items:
                if self._pending is not None and not self._still_open(self._pending):
                    break  # nothing left to learn
                yield item
        finally:
            self._iterating = False
        if self._pending is not None:
            raise self._finished(self._pending) from None

    @contextlib.contextmanager
    def case(self) -> Iterator[None]:
        """Run one case's body: record its comparisons; after a first failure, only learn from it."""
        if not self._iterating:
            raise RuntimeError("CheckRun.case() is used inside `for ... in run.cases(...)`")
        token = _current.set(self)
        try:
            if self._pending is None:
                yield
            else:
                with _quietly():  # learning is invisible: no output, warnings or numpy errors
                    yield
        except CheckFailure as failure:
            if self._pending is not None:
                return  # a later case failed too: what it recorded is all we wanted
            if self._still_open(failure):
                self._pending = failure  # finish the cases to learn which mistake explains them all
                return
            self._finished(failure)
            raise
        except Exception:
            if self._pending is None:
                raise  # the student's code crashed before anything failed: that is the answer
            # after a failure: a crash on a later case records nothing (student exceptions included)
        else:
            if self._pending is None:
                self.count += 1
        finally:
            _current.reset(token)

    def passed(self, n_cases: int | None = None) -> None:
        """Print the pass line (``n_cases`` defaults to the number of cases run)."""
        if self._pending is not None:  # the loop was left early: the failure still counts
            raise self._finished(self._pending)
        passed(self.name, self.count if n_cases is None else n_cases, self.hidden)

    # -- bookkeeping used by the comparisons

    def _record(self, key: str, matched: bool) -> None:
        if not matched:
            self._refuted.add(key)

    def _still_open(self, failure: CheckFailure) -> bool:
        return any(m.key not in self._refuted for m in _candidates(failure))

    def _finished(self, failure: CheckFailure) -> CheckFailure:
        hint = next((m.hint for m in _candidates(failure) if m.key not in self._refuted), None)
        return _with_hint(failure, hint)


@contextlib.contextmanager
def _quietly() -> Iterator[None]:
    """Swallow what the student's code prints or warns (a case run only to learn from)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


_current: contextvars.ContextVar[CheckRun | None] = contextvars.ContextVar("dlcourse_check_run", default=None)


def _candidates(failure: CheckFailure) -> tuple[Mistake, ...]:
    return getattr(failure, "_mistakes", ())


def _with_hint(failure: CheckFailure, mistake_hint: str | None) -> CheckFailure:
    """The failure's final message: the confirmed mistake's hint, else the observation's, else none."""
    hint = mistake_hint or getattr(failure, "_fallback", "")
    if hint:
        failure.args = (f"{failure.args[0]}\n  Hint: {hint}",)
    failure._mistakes = ()  # type: ignore[attr-defined]  # final: a second pass adds nothing
    failure._fallback = ""  # type: ignore[attr-defined]
    return failure


def _fail(message: str, matched: Sequence[Mistake] = (), fallback: str = "") -> NoReturn:
    """Raise a failure whose hint is decided by the run (or at once, outside a run)."""
    failure = CheckFailure(message)
    failure._mistakes = tuple(matched)  # type: ignore[attr-defined]
    failure._fallback = fallback  # type: ignore[attr-defined]
    if _current.get() is None:
        raise _with_hint(failure, matched[0].hint if matched else None)
    raise failure


def _offer(mistakes: Sequence[Mistake], matches: Callable[[Mistake], bool]) -> list[Mistake]:
    """Record which offered mistakes the answer matches; return those that match, in order.

    Several entries may share a key (two ways of writing one mistake): the key matches when
    any of them does.
    """
    matched = [m for m in mistakes if m.value is not None and matches(m)]
    run = _current.get()
    if run is not None:
        hits = {m.key for m in matched}
        for key in {m.key for m in mistakes if m.value is not None}:
            run._record(key, key in hits)
    return matched


def record(mistakes: Sequence[Mistake], matches: Callable[[Mistake], bool]) -> list[Mistake]:
    """For a comparison a check makes itself: note which ``mistakes`` the answer matches on this case.

    Args:
        mistakes: the known mistakes this case can tell apart (a None value: not offered).
        matches: whether the student's answer matches a mistake's value.

    Returns the mistakes that match, in order (to offer to the comparison that reports a failure).
    """
    return _offer(mistakes, matches)


# --------------------------------------------------------------------------- numbers in messages


def format_pair(got: Any, expected: Any, digits: int = 6) -> tuple[str, str]:
    """``got`` and ``expected`` as strings with just enough digits to tell them apart.

    ``digits`` significant digits unless they print the same (0.880797 and 0.880797), then
    more, up to the 17 that identify a float64 exactly. Integers print whole.
    """
    if _integral(got) and _integral(expected):
        return str(int(got)), str(int(expected))
    g, e = float(got), float(expected)
    for digits in range(digits, 18):
        a, b = f"{g:.{digits}g}", f"{e:.{digits}g}"
        if a != b:
            return a, b
    return a, b


def _integral(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


# --------------------------------------------------------------------------- comparisons


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"a {type(x).__name__}"


def _matcher(got: Any, rtol: float, atol: float, right: bool = False) -> Callable[[Mistake], bool]:
    """Whether ``got`` (an array, or None when it is not one; ``right``: it passes) matches a mistake."""

    def matches(m: Mistake) -> bool:
        if got is None:
            return False
        if m.partial and right:
            return True
        value = np.asarray(m.value)
        if value.shape != got.shape:
            return False
        if m.shape_only:
            return True
        if got.dtype.kind not in "fiub" or value.dtype.kind not in "fiub":
            return False
        with np.errstate(all="ignore"):
            return bool(np.allclose(got, value, rtol=rtol, atol=atol, equal_nan=False))

    return matches


def expect_array(
    got: Any,
    expected: np.ndarray,
    *,
    what: str,
    case: str,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    mistakes: Sequence[Mistake] = (),
    nonfinite_hint: str = "an overflow (exp of a large number) or a log/division of 0 gives inf or nan.",
    hint: str | Callable[[np.ndarray], str] = "",
) -> None:
    """Raise :class:`CheckFailure` unless ``got`` is an array equal to ``expected``.

    Args:
        got: the student's value.
        expected: the reference value.
        what: its name in messages, e.g. "affine_forward's out".
        case: a short description of the inputs ("N=2, x of shape (2, 4)").
        rtol, atol: tolerances of ``np.allclose`` (also for matching mistakes).
        mistakes: known wrong answers on these inputs; one is named only if the answer matches it
            on every case of the run (see :class:`CheckRun`), the first such in this order.
        nonfinite_hint: what to say when ``got`` has inf/nan where ``expected`` is finite (and
            no mistake explains it).
        hint: what to say when the values are wrong (right shape, finite) and no mistake explains
            them: a string, or a function of ``got`` returning one ("" for nothing to say).
    """
    if hasattr(got, "detach") and hasattr(got, "numpy"):
        _offer(mistakes, _matcher(None, rtol, atol))
        _fail(f"{what} is a torch.Tensor; this exercise is NumPy — return a NumPy array ({case}).")
    if not isinstance(got, np.ndarray):
        if np.ndim(expected) == 0 and isinstance(got, (int, float, np.number)):
            got = np.asarray(got)
        else:
            _offer(mistakes, _matcher(None, rtol, atol))
            _fail(f"{what} should be a NumPy array, got {_describe(got)} ({case}).")
    with np.errstate(all="ignore"):
        right = got.shape == expected.shape and got.dtype.kind in "fiub" and bool(
            np.isclose(got, expected, rtol=rtol, atol=atol).all())
    matched = _offer(mistakes, _matcher(got, rtol, atol, right))
    if got.shape != expected.shape:
        _fail(f"{what} has shape {got.shape}, expected {expected.shape} ({case}).", matched)
    if got.dtype.kind not in "fiub":
        _fail(f"{what} should hold numbers, got dtype {got.dtype} ({case}).", matched)
    with np.errstate(all="ignore"):
        bad_nan = ~np.isfinite(got) & np.isfinite(expected)
        if bad_nan.any():
            idx = tuple(int(i) for i in np.argwhere(bad_nan)[0])
            where = f"contains {got[idx]} at index {idx} where" if idx else f"is {got[()]} where"
            _fail(f"{what} {where} {expected[idx]:.6g} was expected ({case}).", matched, nonfinite_hint)
        close = np.isclose(got, expected, rtol=rtol, atol=atol)
    if not close.all():
        got = got.astype(np.float64)
        diff = np.where(close, 0.0, np.abs(got - expected))
        idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        idx = tuple(int(i) for i in idx)
        fallback = hint(got) if callable(hint) else hint
        a, b = format_pair(got[idx], expected[idx])
        if got.ndim == 0:
            _fail(f"{what} is {a}, expected {b} ({case}).", matched, fallback)
        _fail(
            f"{what} has wrong values ({case}): {int((~close).sum())} of {close.size} entries differ; "
            f"largest difference at index {idx}: got {a}, expected {b}.",
            matched,
            fallback,
        )


def expect_scalar(
    got: Any,
    expected: float,
    *,
    what: str,
    case: str,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    mistakes: Sequence[Mistake] = (),
    **kwargs: Any,
) -> None:
    """Raise :class:`CheckFailure` unless ``got`` is a real number close to ``expected``.

    Mistakes, ``nonfinite_hint`` and ``hint`` are as for :func:`expect_array`.
    """
    # A one-entry mistake (e.g. per-example losses of a batch of one) is a number like the answer.
    mistakes = [m if m.value is None or np.size(m.value) != 1 else replace(m, value=np.reshape(m.value, ()))
                for m in mistakes]
    if hasattr(got, "detach") and hasattr(got, "item"):
        _offer(mistakes, _matcher(None, rtol, atol))
        _fail(f"{what} is a torch.Tensor; return a Python float (e.g. `float(loss)`) ({case}).")
    if isinstance(got, np.ndarray):
        if got.size != 1:
            matched = _offer(mistakes, _matcher(got, rtol, atol))
            _fail(f"{what} should be a single number, got an array of shape {got.shape} ({case}).", matched)
        got = got.reshape(())
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating, np.ndarray)):
        _offer(mistakes, _matcher(None, rtol, atol))
        _fail(f"{what} should be a number, got {_describe(got)} ({case}).")
    expect_array(np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                 what=what, case=case, rtol=rtol, atol=atol, mistakes=mistakes, **kwargs)


def expect_equal(
    got: Any,
    expected: Any,
    *,
    what: str,
    case: str,
    mistakes: Sequence[Mistake] = (),
    hint: str | Callable[[Any], str] = "",
    show: Callable[[Any], str] = repr,
    verb: str = "is",
) -> None:
    """Raise :class:`CheckFailure` unless ``got == expected`` exactly (ints, lists, tuples of them).

    Args:
        got, expected: the student's value and the reference's.
        what, case: as for :func:`expect_array`; the message reads "{what} {verb} {got}, expected …".
        mistakes: known wrong answers, matched by ``==`` (see :class:`CheckRun`).
        hint: what to say when no mistake explains the answer (a string or a function of ``got``).
        show: how values are written in the message (e.g. ``"{:,}".format`` for byte counts).
        verb: "are" for a plural ``what``.
    """
    right = _same(got, expected)
    matched = _offer(mistakes, lambda m: _same(got, m.value) or (m.partial and right))
    if not right:
        _fail(f"{what} {verb} {show(got)}, expected {show(expected)} ({case}).", matched,
              hint(got) if callable(hint) else hint)


def _same(a: Any, b: Any) -> bool:
    try:
        result = a == b
    except Exception:  # an object whose == is broken equals nothing
        return False
    return isinstance(result, (bool, np.bool_)) and bool(result)


def passed(name: str, n_cases: int, hidden: bool) -> None:
    """Print the one-line success message of a check (stdout only)."""
    kind = "public and hidden" if hidden else "public"
    print(f"✔ {name}: all {n_cases} {kind} cases passed.")


def expect_float64_like(got: Any, expected: np.ndarray, *, what: str, case: str) -> None:
    """float64 in, float64 out: a float32 answer can pass a value comparison, so its dtype is checked first.

    Only a float array of the expected shape is judged here; anything else is left to ``expect_array``.
    """
    if (isinstance(got, np.ndarray) and got.shape == np.shape(expected) and got.dtype.kind == "f"
            and got.dtype != np.float64):
        raise CheckFailure(f"{what} has dtype {got.dtype}, expected float64 ({case}).\n  Hint: the inputs are "
                           f"float64: keep that precision (gradient checks need it); don't cast to float32.")


def truncated_mistake(expected: np.ndarray, ints: bool, hint: str) -> Mistake:
    """What code that writes float results into an integer array returns (offered on integer cases only)."""
    return Mistake(np.trunc(expected) if ints else None, hint, partial=True)
