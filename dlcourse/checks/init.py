"""Checks for lecture 06-init-normalization, part 1: fans and initializers.

Initializers are random, so the checks hand the student and the reference two generators with
the same seed and compare the draws value for value; the exercises say which NumPy call to use
(``rng.uniform(-b, b, size=shape)`` / ``rng.normal(0.0, std, size=shape)``). When the values
differ but their spread is right, the message says so (a different drawing call), and when the
spread is wrong, the known mistakes (swapped fans, a forgotten gain or √3, ...) are named.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, format_pair
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.guard import call_student

__all__ = ["check_fan_in_fan_out", "check_xavier_uniform", "check_kaiming_normal"]

SALT = 60_606  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng


def _shapes(hidden: bool) -> list[tuple[int, ...]]:
    shapes = [(40, 10), (8, 3, 5, 5)]  # a dense (D_in, D_out) weight, a conv (F, C, kh, kw) one
    if hidden:
        rng = case_rng(True, SALT)
        shapes += [(1, 50), (30, 1), (4, 16, 3, 3), (6, 2, 7), (2, 3, 1, 1),
                   (int(rng.integers(20, 60)), int(rng.integers(2, 20))), (3, 2, 3, 3, 3)]
    return shapes


# --------------------------------------------------------------------------- fans


@exercise("fan_in_fan_out")
def check_fan_in_fan_out(fan_in_fan_out: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``fan_in_fan_out(shape) -> (fan_in, fan_out)`` for dense (D_in, D_out) and conv (F, C, kh, kw)."""
    run = CheckRun("fan_in_fan_out", hidden)
    for shape in run.cases(_shapes(hidden)):
        with run.case():
            case = f"shape {shape}" + (" (dense: D_in, D_out)" if len(shape) == 2 else " (conv: F, C, kh, kw…)")
            got = call_student(fan_in_fan_out, shape, name="fan_in_fan_out")
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise CheckFailure(f"fan_in_fan_out should return the pair (fan_in, fan_out), got {got!r} ({case}).")
            if not all(isinstance(v, (int, np.integer)) for v in got):
                raise CheckFailure(f"fan_in_fan_out should return two integers, got {got!r} ({case}).")
            fi, fo = ref.fan_in_fan_out(shape)
            k = math.prod(shape[2:])
            dense = len(shape) == 2
            mistakes = [
                Mistake(np.array([fo, fi]), partial=True,  # for every weight, or only dense or only conv ones
                        hint="fan-in and fan-out are swapped: in this course a dense weight is (D_in, D_out) "
                             "(out = x @ w), so fan_in = shape[0]; a conv weight is (F, C, kh, kw), so "
                             "fan_in = C·kh·kw."),
                # The next three concern conv weights: on a dense weight the mistaken code is right.
                Mistake(np.array([fi, fo] if dense else [shape[1], shape[0]]), "multiply by the receptive field "
                        "kh·kw: each output of a convolution sees C·kh·kw inputs."),
                Mistake(np.array([shape[0], shape[1]]), "for a conv weight (F, C, kh, kw) the inputs are the "
                        "C·kh·kw values under the kernel: fan_in = C·kh·kw, fan_out = F·kh·kw."),
                Mistake(np.array([fi, fo] if dense else [shape[1] * k, shape[0]]),
                        "fan_out counts the kernel too: F·kh·kw."),
            ]
            expect_array(np.array(got), np.array([fi, fo]), what="(fan_in, fan_out)", case=case, mistakes=mistakes)
    run.passed()


# --------------------------------------------------------------------------- random draws


def _spread_hint(got: np.ndarray, expected_std: float, uniform: bool, bound: float) -> str:
    """A diagnosis for draws that differ from the reference's: right spread or not?"""
    std = float(np.std(got))
    if got.size >= 300 and abs(std / expected_std - 1) < 0.1:
        if uniform and np.abs(got).max() <= bound * (1 + 1e-12):
            return ("the spread is right but the values are not the expected draws: draw them in one call, "
                    "`rng.uniform(-b, b, size=shape)`, with the rng you were given.")
        if not uniform:
            return ("the spread is right but the values are not the expected draws: draw them in one call, "
                    "`rng.normal(0.0, std, size=shape)`, with the rng you were given.")
    if got.size >= 300:
        mine, theirs = format_pair(std, expected_std)
        return f"your values have standard deviation {mine}; expected {theirs}."
    return ""


def _expect_draws(got: Any, expected: np.ndarray, *, what: str, case: str, mistakes: list[Mistake],
                  expected_std: float, uniform: bool, bound: float) -> None:
    expect_array(got, expected, what=what, case=case, rtol=1e-9, atol=1e-12, mistakes=mistakes,
                 hint=lambda values: _spread_hint(values, expected_std, uniform, bound))


@exercise("xavier_uniform")
def check_xavier_uniform(xavier_uniform: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``xavier_uniform(shape, gain=1.0, rng=None)``: U(−b, b), b = gain·√(6/(fan_in + fan_out))."""
    seeds = case_rng(hidden, SALT)
    gains = [1.0, 5.0 / 3.0] + ([4.0, math.sqrt(2.0), 0.5] if hidden else [])
    run = CheckRun("xavier_uniform", hidden)
    for shape, gain in run.cases((shape, gain) for shape in _shapes(hidden)
                                 for gain in (gains[:2] if len(shape) == 2 else gains[1:])):
        with run.case():
            seed = int(seeds.integers(2**31))
            case = f"shape {shape}, gain {gain:.4g}"
            got = call_student(xavier_uniform, shape, gain=gain, rng=np.random.default_rng(seed),
                               name="xavier_uniform")
            expected = ref.xavier_uniform(shape, gain=gain, rng=np.random.default_rng(seed))
            fi, fo = ref.fan_in_fan_out(shape)
            b = gain * math.sqrt(6.0 / (fi + fo))

            def draw_u(bound: float) -> np.ndarray:
                return np.random.default_rng(seed).uniform(-bound, bound, size=shape)

            mistakes = [
                Mistake(draw_u(b / gain), "the gain is missing: b = gain·√(6 / (fan_in + fan_out))."),
                Mistake(draw_u(b / math.sqrt(3.0)), "that bound is the standard deviation √(2/(fan_in + fan_out)); "
                        "U(−b, b) has standard deviation b/√3, so b = gain·√(6 / (fan_in + fan_out))."),
                Mistake(draw_u(gain * math.sqrt(6.0 / fi)), "b = √(6/fan_in) is He's uniform bound for ReLU; "
                        "Xavier averages both fans: b = gain·√(6 / (fan_in + fan_out))."),
                Mistake(np.random.default_rng(seed).normal(0.0, b / math.sqrt(3.0), size=shape),
                        "these look like normal draws: Xavier *uniform* draws `rng.uniform(-b, b, size=shape)`."),
                Mistake(draw_u(gain * math.sqrt(6.0 / (shape[0] + shape[1]))) if len(shape) > 2 else None,
                        "for a conv weight multiply both fans by the receptive field kh·kw: "
                        "fan_in = C·kh·kw, fan_out = F·kh·kw."),
            ]
            _expect_draws(got, expected, what="xavier_uniform's weights", case=case, mistakes=mistakes,
                          expected_std=b / math.sqrt(3.0), uniform=True, bound=b)
    run.passed()


def _kaiming_cases(hidden: bool) -> Iterator[tuple[tuple[int, ...], float, str, str]]:
    for shape in _shapes(hidden):
        yield shape, 0.0, "fan_in", "relu"
        yield shape, 0.0, "fan_out", "relu"
        if hidden:
            yield shape, 0.2, "fan_in", "leaky_relu"
            yield shape, 0.0, "fan_out", "leaky_relu"


@exercise("kaiming_normal")
def check_kaiming_normal(kaiming_normal: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None)``:
    N(0, σ²), σ = gain/√fan, gain = √(2/(1 + a²)) (a = 0 for "relu")."""
    seeds = case_rng(hidden, SALT)
    run = CheckRun("kaiming_normal", hidden)
    for shape, a, mode, nonlinearity in run.cases(_kaiming_cases(hidden)):
        with run.case():
            seed = int(seeds.integers(2**31))
            case = f"shape {shape}, mode={mode!r}, nonlinearity={nonlinearity!r}, a={a}"
            got = call_student(kaiming_normal, shape, a=a, mode=mode, nonlinearity=nonlinearity,
                               rng=np.random.default_rng(seed), name="kaiming_normal")
            expected = ref.kaiming_normal(shape, a=a, mode=mode, nonlinearity=nonlinearity,
                                          rng=np.random.default_rng(seed))
            fi, fo = ref.fan_in_fan_out(shape)
            fan, other = (fi, fo) if mode == "fan_in" else (fo, fi)
            gain = ref.calculate_gain(nonlinearity, a)
            std = gain / math.sqrt(fan)

            def draw_n(s: float) -> np.ndarray:
                return np.random.default_rng(seed).normal(0.0, s, size=shape)

            mistakes = [
                Mistake(draw_n(gain / math.sqrt(other)), f"you used the other fan: mode={mode!r} divides by "
                        f"{mode} = {fan} here (fan_in of a dense (D_in, D_out) weight is D_in; of a conv weight "
                        f"(F, C, kh, kw) it is C·kh·kw).", name="the other fan", partial=True),
                Mistake(draw_n(1.0 / math.sqrt(fan)), "the gain is missing: σ = gain/√fan with gain = √2 for ReLU "
                        "(√(2/(1 + a²)) for leaky ReLU)."),
                Mistake(draw_n(gain**2 / fan), "that is the variance 2/fan used as the standard deviation: σ = √(2/fan)."),
                Mistake(draw_n(math.sqrt(2.0 / fan)) if a else None,
                        "leaky ReLU with negative slope a needs gain √(2/(1 + a²)), not √2."),
                Mistake(draw_n(gain * math.sqrt(2.0 / (fi + fo))), "that is Xavier's σ √(2/(fan_in + fan_out)); "
                        "He's is gain/√fan with one fan."),
                Mistake(np.random.default_rng(seed).uniform(-std * math.sqrt(3), std * math.sqrt(3), size=shape),
                        "these are uniform draws: Kaiming *normal* draws `rng.normal(0.0, std, size=shape)`."),
            ]
            _expect_draws(got, expected, what="kaiming_normal's weights", case=case, mistakes=mistakes,
                          expected_std=std, uniform=False, bound=math.inf)
    run.passed()
