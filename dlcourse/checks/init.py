"""Checks for lecture 06-init-normalization, part 1: fans and initializers.

Initializers are random, so the checks hand the student and the reference two generators with
the same seed and compare the draws value for value; the exercises say which NumPy call to use
(``rng.uniform(-b, b, size=shape)`` / ``rng.normal(0.0, std, size=shape)``). When the values
differ but their spread is right, the message says so (a different drawing call), and when the
spread is wrong, the known mistakes (swapped fans, a forgotten gain or √3, ...) are named.
Hidden cases add the documented defaults (no gain; no a, mode or nonlinearity), an integer seed
in place of a generator, shapes given as lists or NumPy integers, and 1×1 kernels.

``propagate_through_depth`` (activation statistics through depth) is checked on its activations
and gradients layer by layer, with exact zeros at ReLU's kink, integer and transposed inputs, a
batch of one, the default activation and upstream gradient, and new arrays (not the inputs).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_float64_like, format_pair
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import GRAD_TOL
from dlcourse.checks.guard import call_student, unpack

__all__ = [
    "check_fan_in_fan_out",
    "check_xavier_uniform",
    "check_xavier_normal",
    "check_kaiming_uniform",
    "check_kaiming_normal",
    "check_propagate_through_depth",
]

SALT = 60_606  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng


def _shapes(hidden: bool) -> list[Any]:
    shapes: list[Any] = [(40, 10), (8, 3, 5, 5)]  # a dense (D_in, D_out) weight, a conv (F, C, kh, kw) one
    if hidden:
        rng = case_rng(True, SALT)
        shapes += [(1, 50), (30, 1), (4, 16, 3, 3), (6, 2, 7), (2, 3, 1, 1),
                   (int(rng.integers(20, 60)), int(rng.integers(2, 20))), (3, 2, 3, 3, 3),
                   [5, 4, 3, 3],  # a list, as written by hand
                   tuple(np.array([6, 2, 3, 3]))]  # NumPy integers, as read from an array's .shape arithmetic
    return shapes


def _shape_text(shape: Any) -> str:
    kind = " (a list)" if isinstance(shape, list) else (" (NumPy integers)" if isinstance(shape[0], np.integer) else "")
    return f"shape {tuple(int(d) for d in shape)}{kind}"


# --------------------------------------------------------------------------- fans


@exercise("fan_in_fan_out")
def check_fan_in_fan_out(fan_in_fan_out: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``fan_in_fan_out(shape) -> (fan_in, fan_out)`` for dense (D_in, D_out) and conv (F, C, kh, kw)."""
    run = CheckRun("fan_in_fan_out", hidden)
    for shape in run.cases(_shapes(hidden)):
        with run.case():
            case = _shape_text(shape) + (" (dense: D_in, D_out)" if len(shape) == 2 else " (conv: F, C, kh, kw…)")
            got = call_student(fan_in_fan_out, shape, name="fan_in_fan_out")
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise CheckFailure(f"fan_in_fan_out should return the pair (fan_in, fan_out), got {got!r} ({case}).")
            if not all(isinstance(v, (int, np.integer)) for v in got):
                raise CheckFailure(f"fan_in_fan_out should return two integers, got {got!r} ({case}).")
            fi, fo = ref.fan_in_fan_out(shape)
            k = math.prod(int(d) for d in shape[2:])
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


def _draw_cases(hidden: bool, gains: list[float]) -> Iterator[tuple[Any, float | None, Any]]:
    """(shape, gain or None for the default, rng factory key "gen" or "int")."""
    for shape in _shapes(hidden):
        for gain in (gains[:2] if len(shape) == 2 else gains[1:]):
            yield shape, gain, "gen"
    if hidden:
        yield (30, 20), None, "gen"
        yield (4, 3, 3, 3), None, "int"


def _check_xavier(name: str, student: Callable[..., Any], hidden: bool, uniform: bool) -> None:
    """xavier_uniform (U(−b, b), b = gain·√(6/(fan_in + fan_out))) or xavier_normal (σ = gain·√(2/(…)))."""
    seeds = case_rng(hidden, SALT)
    gains = [1.0, 5.0 / 3.0] + ([4.0, math.sqrt(2.0), 0.5] if hidden else [])
    reference = ref.xavier_uniform if uniform else ref.xavier_normal
    run = CheckRun(name, hidden)
    for shape, given_gain, kind in run.cases(_draw_cases(hidden, gains)):
        with run.case():
            seed = int(seeds.integers(2**31))
            gain = 1.0 if given_gain is None else given_gain
            case = f"{_shape_text(shape)}, " + ("gain left at its default" if given_gain is None else f"gain {gain:.4g}")
            kwargs: dict[str, Any] = {} if given_gain is None else {"gain": gain}
            if kind == "int":
                case += f", rng given as the integer seed {seed}"
            got = call_student(student, shape, rng=seed if kind == "int" else np.random.default_rng(seed),
                               name=name, **kwargs)
            expected = reference(tuple(shape), gain=gain, rng=np.random.default_rng(seed))
            dims = tuple(int(d) for d in shape)
            fi, fo = ref.fan_in_fan_out(dims)
            std = gain * math.sqrt(2.0 / (fi + fo))
            b = math.sqrt(3.0) * std

            def draw(spread: float, uniform_draw: bool = uniform) -> np.ndarray:
                g = np.random.default_rng(seed)
                return g.uniform(-spread, spread, size=dims) if uniform_draw else g.normal(0.0, spread, size=dims)

            spread = b if uniform else std  # the parameter the drawing call takes
            conv_fans = gain * math.sqrt(6.0 / (dims[0] + dims[1])) if len(dims) > 2 else None
            mistakes = [
                Mistake(draw(spread / gain), f"the gain is missing: {'b' if uniform else 'σ'} = gain·"
                        f"√({6 if uniform else 2} / (fan_in + fan_out))."),
                Mistake(draw(std if uniform else b), (
                    "that bound is the standard deviation √(2/(fan_in + fan_out)); U(−b, b) has standard deviation "
                    "b/√3, so b = gain·√(6 / (fan_in + fan_out))." if uniform else
                    "√(6/(fan_in + fan_out)) is the uniform bound b; the normal's standard deviation is "
                    "σ = gain·√(2 / (fan_in + fan_out)) (= b/√3).")),
                Mistake(draw(gain * math.sqrt((6.0 if uniform else 2.0) / fi)), (
                    "b = √(6/fan_in) is He's uniform bound for ReLU; Xavier averages both fans: "
                    "b = gain·√(6 / (fan_in + fan_out))." if uniform else
                    "σ = √(2/fan_in) is He's standard deviation for ReLU; Xavier averages both fans: "
                    "σ = gain·√(2 / (fan_in + fan_out)).")),
                Mistake(draw(std, False) if uniform else draw(b, True), (
                    "these look like normal draws: Xavier *uniform* draws `rng.uniform(-b, b, size=shape)`."
                    if uniform else "these look like uniform draws: Xavier *normal* draws "
                    "`rng.normal(0.0, std, size=shape)`.")),
                Mistake(draw(conv_fans if uniform else conv_fans / math.sqrt(3.0)) if conv_fans is not None else None,
                        "for a conv weight multiply both fans by the receptive field kh·kw: "
                        "fan_in = C·kh·kw, fan_out = F·kh·kw."),
            ]
            if not uniform:
                mistakes.append(Mistake(draw(std**2), "that is the variance 2/(fan_in + fan_out) used as the standard "
                                        "deviation: σ = gain·√(2 / (fan_in + fan_out))."))
            _expect_draws(got, expected, what=f"{name}'s weights", case=case, mistakes=mistakes,
                          expected_std=std, uniform=uniform, bound=b if uniform else math.inf)
    run.passed()


@exercise("xavier_uniform")
def check_xavier_uniform(xavier_uniform: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``xavier_uniform(shape, gain=1.0, rng=None)``: U(−b, b), b = gain·√(6/(fan_in + fan_out))."""
    _check_xavier("xavier_uniform", xavier_uniform, hidden, uniform=True)


@exercise("xavier_normal")
def check_xavier_normal(xavier_normal: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``xavier_normal(shape, gain=1.0, rng=None)``: N(0, σ²), σ = gain·√(2/(fan_in + fan_out))."""
    _check_xavier("xavier_normal", xavier_normal, hidden, uniform=False)


def _kaiming_cases(hidden: bool) -> Iterator[tuple[Any, float | None, str | None, str | None, str]]:
    """(shape, a, mode, nonlinearity, rng kind); None: left at its default."""
    for shape in _shapes(hidden):
        yield shape, 0.0, "fan_in", "relu", "gen"
        yield shape, 0.0, "fan_out", "relu", "gen"
        if hidden:
            yield shape, 0.2, "fan_in", "leaky_relu", "gen"
            yield shape, 0.0, "fan_out", "leaky_relu", "gen"
    if hidden:
        yield (30, 20), None, None, None, "gen"
        yield (4, 3, 3, 3), 0.1, None, None, "int"


def _check_kaiming(name: str, student: Callable[..., Any], hidden: bool, uniform: bool) -> None:
    """kaiming_normal (σ = gain/√fan) or kaiming_uniform (U(−b, b), b = √3·gain/√fan)."""
    seeds = case_rng(hidden, SALT)
    reference = ref.kaiming_uniform if uniform else ref.kaiming_normal
    run = CheckRun(name, hidden)
    for shape, given_a, given_mode, given_nl, kind in run.cases(_kaiming_cases(hidden)):
        with run.case():
            seed = int(seeds.integers(2**31))
            a = 0.0 if given_a is None else given_a
            mode = "fan_in" if given_mode is None else given_mode
            nonlinearity = "leaky_relu" if given_nl is None else given_nl
            kwargs = {k: v for k, v in (("a", given_a), ("mode", given_mode), ("nonlinearity", given_nl))
                      if v is not None}
            case = (f"{_shape_text(shape)}, " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
                    + (", " if kwargs else "") + ", ".join(f"{k} left at its default" for k in ("a", "mode", "nonlinearity")
                                                         if k not in kwargs))
            if kind == "int":
                case += f", rng given as the integer seed {seed}"
            got = call_student(student, shape, rng=seed if kind == "int" else np.random.default_rng(seed),
                               name=name, **kwargs)
            dims = tuple(int(d) for d in shape)
            expected = reference(dims, a=a, mode=mode, nonlinearity=nonlinearity, rng=np.random.default_rng(seed))
            fi, fo = ref.fan_in_fan_out(dims)
            fan, other = (fi, fo) if mode == "fan_in" else (fo, fi)
            gain = ref.calculate_gain(nonlinearity, a)
            std = gain / math.sqrt(fan)
            scale = math.sqrt(3.0) if uniform else 1.0  # the drawing call takes b = √3·σ, or σ

            def draw(s: float, uniform_draw: bool = uniform) -> np.ndarray:
                g = np.random.default_rng(seed)
                return g.uniform(-s, s, size=dims) if uniform_draw else g.normal(0.0, s, size=dims)

            mistakes = [
                Mistake(draw(scale * gain / math.sqrt(other)), f"you used the other fan: mode={mode!r} divides by "
                        f"{mode} = {fan} here (fan_in of a dense (D_in, D_out) weight is D_in; of a conv weight "
                        f"(F, C, kh, kw) it is C·kh·kw).", name="the other fan", partial=True),
                Mistake(draw(scale / math.sqrt(fan)), "the gain is missing: σ = gain/√fan with gain = √2 for ReLU "
                        "(√(2/(1 + a²)) for leaky ReLU)."),
                Mistake(draw(scale * gain**2 / fan), "that is the variance 2/fan used as the standard deviation: "
                        "σ = √(2/fan)."),
                Mistake(draw(scale * math.sqrt(2.0 / fan)) if a and nonlinearity == "leaky_relu" else None,
                        "leaky ReLU with negative slope a needs gain √(2/(1 + a²)), not √2."),
                Mistake(draw(scale * gain * math.sqrt(2.0 / (fi + fo))), (
                    "that is Xavier's bound √(6/(fan_in + fan_out)); He's is √3·gain/√fan with one fan." if uniform else
                    "that is Xavier's σ √(2/(fan_in + fan_out)); He's is gain/√fan with one fan.")),
                Mistake(draw(std * (1.0 if uniform else math.sqrt(3.0)), not uniform), (
                    "these are normal draws: Kaiming *uniform* draws `rng.uniform(-b, b, size=shape)`."
                    if uniform else "these are uniform draws: Kaiming *normal* draws `rng.normal(0.0, std, size=shape)`.")),
            ]
            if uniform:
                mistakes.append(Mistake(draw(std), "the bound of U(−b, b) is √3 times its standard deviation: "
                                        "b = √3·gain/√fan (= √(6/fan) for ReLU)."))
            _expect_draws(got, expected, what=f"{name}'s weights", case=case, mistakes=mistakes,
                          expected_std=std, uniform=uniform, bound=scale * std if uniform else math.inf)
    run.passed()


@exercise("kaiming_normal")
def check_kaiming_normal(kaiming_normal: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None)``:
    N(0, σ²), σ = gain/√fan, gain = √(2/(1 + a²)) (a = 0 for "relu")."""
    _check_kaiming("kaiming_normal", kaiming_normal, hidden, uniform=False)


@exercise("kaiming_uniform")
def check_kaiming_uniform(kaiming_uniform: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None)``:
    U(−b, b), b = √3·gain/√fan, gain = √(2/(1 + a²)) (a = 0 for "relu")."""
    _check_kaiming("kaiming_uniform", kaiming_uniform, hidden, uniform=True)


# --------------------------------------------------------------------------- statistics through depth

_GRADIENT_OF = {  # derivative from the pre-activation z and the output h
    "linear": lambda z, h: np.ones_like(z),
    "relu": lambda z, h: (z > 0).astype(np.float64),
    "tanh": lambda z, h: 1.0 - h * h,
    "sigmoid": lambda z, h: h * (1.0 - h),
}
_FORWARD = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),  # σ without overflow
}


def _depth_variant(x: np.ndarray, weights: list[np.ndarray], activation: str, dout: np.ndarray | None, *,
                   record_dz: bool = False, no_derivative: bool = False, from_z: bool = False,
                   mask_at_zero: bool = False, dout_zero: bool = False) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The forward and backward sweep with one known mistake switched on (for diagnostics)."""
    h, zs, hs = np.asarray(x, dtype=np.float64), [], []
    for w in weights:
        z = h @ w
        h = _FORWARD[activation](z)
        zs.append(z)
        hs.append(h)
    g = (np.zeros_like(h) if dout_zero else np.ones_like(h)) if dout is None else np.asarray(dout, dtype=np.float64)
    grads: list[np.ndarray] = [np.empty(0)] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        z, h = zs[l], hs[l]
        if no_derivative:
            local = np.ones_like(z)
        elif from_z and activation in ("tanh", "sigmoid"):
            local = _GRADIENT_OF[activation](z, z)
        elif mask_at_zero and activation == "relu":
            local = (z >= 0).astype(np.float64)
        else:
            local = _GRADIENT_OF[activation](z, h)
        dz = g * local
        grads[l] = dz if record_dz else g
        g = dz @ weights[l].T
    return hs, grads


DepthCase = tuple[str, np.ndarray, list[np.ndarray], "str | None", "np.ndarray | None"]


def _depth_cases(hidden: bool) -> Iterator[DepthCase]:
    """(case, x, weights, activation or None for the default, dout or None for the default)."""
    rng = case_rng(hidden, SALT)

    def layers(widths: list[int]) -> list[np.ndarray]:
        return [rng.standard_normal((a, b)) / math.sqrt(a) for a, b in zip(widths[:-1], widths[1:])]

    yield "tanh, x of shape (8, 5), widths 5 → 6 → 4 → 3, dout given", \
        rng.standard_normal((8, 5)), layers([5, 6, 4, 3]), "tanh", rng.standard_normal((8, 3))
    yield "relu, x of shape (6, 4), widths 4 → 4 → 4, dout left at its default (ones)", \
        rng.standard_normal((6, 4)), layers([4, 4, 4]), "relu", None
    if hidden:
        yield "sigmoid, x of shape (5, 3), widths 3 → 4 → 4 → 2 → 2, dout given", \
            rng.standard_normal((5, 3)), layers([3, 4, 4, 2, 2]), "sigmoid", rng.standard_normal((5, 2))
        yield "linear, x of shape (4, 3), widths 3 → 3 → 3, dout given", \
            rng.standard_normal((4, 3)), layers([3, 3, 3]), "linear", rng.standard_normal((4, 3))
        yield "activation left at its default (relu), widths 4 → 5 → 3, dout given", \
            rng.standard_normal((7, 4)), layers([4, 5, 3]), None, rng.standard_normal((7, 3))
        x = rng.standard_normal((5, 4))
        x[0] = 0.0  # every pre-activation of example 0 is exactly 0: ReLU's kink
        yield "relu with pre-activations exactly 0 at ReLU's kink (example 0 is all zeros), widths 4 → 3 → 3", \
            x, layers([4, 3, 3]), "relu", rng.standard_normal((5, 3))
        yield "integer x (pixel values 0–255) of shape (3, 4), tanh, widths 4 → 2 → 2", \
            rng.integers(0, 256, size=(3, 4)), [0.002 * w for w in layers([4, 2, 2])], "tanh", rng.standard_normal((3, 2))
        yield "x and the weights transposed in memory (non-contiguous), tanh, widths 3 → 4 → 2", \
            rng.standard_normal((3, 6)).T, [w.T.copy().T for w in layers([3, 4, 2])], "tanh", rng.standard_normal((6, 2))
        yield "a batch of one, sigmoid, widths 2 → 3 → 3", \
            rng.standard_normal((1, 2)), layers([2, 3, 3]), "sigmoid", rng.standard_normal((1, 3))
        yield "one layer, tanh, widths 4 → 4 (weights given as a tuple)", \
            rng.standard_normal((3, 4)), tuple(layers([4, 4])), "tanh", rng.standard_normal((3, 4))


@exercise("propagate_through_depth")
def check_propagate_through_depth(propagate_through_depth: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``propagate_through_depth(x, weights, activation="relu", dout=None) -> (activations, gradients)``."""
    run = CheckRun("propagate_through_depth", hidden)
    for case, x, weights, activation, dout in run.cases(_depth_cases(hidden)):
        with run.case():
            kwargs: dict[str, Any] = {}
            if activation is not None:
                kwargs["activation"] = activation
            if dout is not None:
                kwargs["dout"] = dout
            result = call_student(propagate_through_depth, x, weights, name="propagate_through_depth", **kwargs)
            acts, grads = unpack(result, 2, name="propagate_through_depth", names=("activations", "gradients"))
            act = "relu" if activation is None else activation
            e_acts, e_grads = ref.propagate_through_depth(x, list(weights), act, dout)
            depth = len(weights)
            for label, got in (("activations", acts), ("gradients", grads)):
                if not isinstance(got, (list, tuple)) or len(got) != depth:
                    size = len(got) if isinstance(got, (list, tuple)) else type(got).__name__
                    raise CheckFailure(f"{label} should be a list of {depth} arrays, one per layer (layer 1 first), "
                                       f"got {size} ({case}). Don't include the input x itself.")
            square = all(w.shape[0] == w.shape[1] for w in weights)
            variants = {
                "dz": _depth_variant(x, list(weights), act, dout, record_dz=True)[1],
                "no derivative": _depth_variant(x, list(weights), act, dout, no_derivative=True)[1],
                "from z": _depth_variant(x, list(weights), act, dout, from_z=True)[1] if act in ("tanh", "sigmoid") else None,
                # (an example whose hidden units are all 0 meets the kink in the next layer: z = 0 exactly)
                "mask at 0": _depth_variant(x, list(weights), act, dout, mask_at_zero=True)[1] if act == "relu" else None,
                "zeros": _depth_variant(x, list(weights), act, dout, dout_zero=True)[1] if dout is None else None,
            }
            for l in range(depth):
                expect_array(acts[l], e_acts[l], what=f"activations[{l}] (layer {l + 1})", case=case, mistakes=[
                    Mistake(e_acts[l - 1] if l > 0 else None, "activations[0] is the output of layer 1: "
                            "don't include the input x, and append h after applying each layer."),
                    Mistake((np.asarray(x, dtype=np.float64) if l == 0 else e_acts[l - 1]) @ weights[l]
                            if act != "linear" else None, "apply the activation to every layer's output: "
                            "h_l = g(h_{l−1} W_l)."),
                ])
                expect_float64_like(acts[l], e_acts[l], what=f"activations[{l}]", case=case)
            for l in range(depth - 1, -1, -1):
                expect_array(grads[l], e_grads[l], what=f"gradients[{l}] (arriving at layer {l + 1}'s output)",
                             case=case, **GRAD_TOL, mistakes=[
                    Mistake(variants["dz"][l], "gradients[l] is the gradient arriving at layer l's *output* h_l, "
                            "before it goes through the activation's derivative (record g, then multiply)."),
                    Mistake(variants["no derivative"][l] if act != "linear" else None,
                            "multiply by the activation's derivative on the way back: g ← (g ⊙ g′(z_l)) W_lᵀ."),
                    Mistake(variants["from z"][l] if variants["from z"] is not None else None,
                            f"{act}'s derivative from its output h: " + ("1 − h²" if act == "tanh" else "h(1 − h)")
                            + ", with h = g(z), not with the pre-activation z."),
                    Mistake(variants["mask at 0"][l] if variants["mask at 0"] is not None else None,
                            "at z = 0 ReLU's gradient is 0: mask with z > 0.", partial=True),
                    Mistake(variants["zeros"][l] if variants["zeros"] is not None else None,
                            "with dout=None the gradient arriving at the last layer is all ones (np.ones_like)."),
                    Mistake(e_grads[depth - 1 - l] if square else None, "gradients is in reverse order: index l must "
                            "match activations[l] (layer 1 first)."),
                ])
                expect_float64_like(grads[l], e_grads[l], what=f"gradients[{l}]", case=case)
    run.passed()
