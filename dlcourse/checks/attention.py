"""Checks for lecture 11-attention.

Each ``check_*`` takes the student's function and ``hidden``. The contracts are those of
:mod:`dlcourse.ref.attention`: every mask is boolean with **True = may attend** (the convention
of ``F.scaled_dot_product_attention``), and a query whose keys are all masked gets zero weights
and a zero output, never NaN. Public cases are small and fixed, and already contain a fully
masked row where the exercise has masks; hidden ones add the documented defaults, a batch of
one, integer and non-contiguous (transposed) inputs, tied scores, query and key lengths that
differ, one head and one feature per head, the float64 dtype of the outputs, the cache
contract and finite-difference gradient checks. Expected values come from :mod:`dlcourse.ref`
at check time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import GRAD_TOL, expect_backward_matches_finite_differences
from dlcourse.checks.guard import call_student, unpack

__all__ = [
    "check_positional_encoding",
    "check_causal_mask",
    "check_masked_softmax",
    "check_attention_forward",
    "check_attention_backward",
    "check_split_heads",
    "check_merge_heads",
    "check_mha_forward",
    "check_mha_params_to_torch",
]

SALT = 111_111  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

FULLY_MASKED = ("a query whose keys are all masked has nothing to attend to: e^−∞ / Σ e^−∞ = 0/0 = NaN. "
                "Give such a row zero weights (and so a zero output): divide by the row sum only where it "
                "is > 0.")
POLARITY = ("the mask is inverted: here True means \"may attend\" (as in F.scaled_dot_product_attention); "
            "you treated True as \"masked out\", nn.MultiheadAttention's convention.")
BIG_NEGATIVE = ("a large negative fill (−1e9) instead of −∞ gives a fully masked row *uniform* weights over "
                "keys it may not see; such a row must get zero weights.")
AFTER_SOFTMAX = ("the mask must act before the softmax (forbidden scores → −∞): zeroing weights afterwards "
                 "leaves rows that no longer sum to 1.")
WRONG_AXIS = "normalize over the keys (the last axis): each query's row of weights sums to 1."


def _noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values as ``a``, as a transposed view (not C-contiguous), as slicing and ``.T`` give."""
    return np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)


def _expect_dtype(got: Any, expected: np.ndarray, what: str, case: str) -> None:
    """A right-shaped float answer must have the expected dtype (float64 in, float64 out)."""
    if isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype.kind == "f" \
            and got.dtype != expected.dtype:
        raise CheckFailure(f"{what} has dtype {got.dtype}, expected {expected.dtype} ({case}): float64 inputs "
                           f"give float64 results; do not create arrays with another dtype.")


def _fully_masked_rows(mask: np.ndarray | None, shape: tuple[int, ...]) -> bool:
    return mask is not None and bool((~np.broadcast_to(mask, shape)).all(axis=-1).any())


# --------------------------------------------------------------------------- positional encoding


def _pe_variant(length: int, d: int, base: float, *, halves: bool = False, swap: bool = False,
                column_rate: bool = False, no_two: bool = False, positive: bool = False,
                from_one: bool = False) -> np.ndarray | None:
    """The encoding with one known slip (for diagnosis); None where the slip changes nothing or is undefined."""
    pos = np.arange(length, dtype=np.float64)[:, None] + (1.0 if from_one else 0.0)
    j = np.arange(d)
    if halves:
        if d % 2:
            return None
        i = np.arange(d // 2)
        angle = pos * base ** (-2.0 * i / d)
        return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)
    rate = j if column_rate else (j // 2 if no_two else 2 * (j // 2))
    omega = base ** ((1.0 if positive else -1.0) * rate / d)
    angle = pos * omega
    even = j % 2 == 0
    if swap:
        even = ~even
    return np.where(even, np.sin(angle), np.cos(angle))


@exercise("positional_encoding")
def check_positional_encoding(positional_encoding: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``positional_encoding(length, d_model, base=10000.0) -> (L, D)`` float64."""
    rng = case_rng(hidden, SALT)
    cases: list[tuple[Any, Any, float | None]] = [(6, 8, None), (10, 6, 100.0)]
    if hidden:
        cases += [(1, 2, None), (5, 7, None), (np.int64(12), np.int64(4), 50.0), (3, 1, None),
                  (int(rng.integers(20, 60)), 2 * int(rng.integers(4, 20)), None)]
    run = CheckRun("positional_encoding", hidden)
    for length, d, base in run.cases(cases):
        with run.case():
            args = (length, d) if base is None else (length, d, base)
            case = f"length={length}, d_model={d}" + ("" if base is None else f", base={base}")
            got = call_student(positional_encoding, *args, name="positional_encoding")
            b = 10000.0 if base is None else base
            expected = ref.positional_encoding(length, d, b)
            _expect_dtype(got, expected, "positional_encoding's output", case)
            pair_hint = "both columns of a pair share one frequency: ω_i = base^(−2i/D) with i = j // 2 for column j."
            expect_array(got, expected, what="positional_encoding's output", case=case, mistakes=[
                Mistake(_pe_variant(length, d, b, halves=True) if d > 2 else None,
                        "sin and cos must alternate: column 2i holds sin and column 2i+1 holds cos of the same "
                        "angle (the layout [sin … | cos …] in two halves is another convention, not this one)."),
                Mistake(_pe_variant(length, d, b, swap=True), "sin and cos are swapped: even columns hold sin, odd "
                        "columns cos."),
                Mistake(_pe_variant(length, d, b, column_rate=True) if d > 1 else None, pair_hint),
                Mistake(_pe_variant(length, d, b, no_two=True) if d > 2 else None,
                        "the exponent is 2i/D (i the pair index): ω_i = base^(−2i/D)."),
                Mistake(_pe_variant(length, d, b, positive=True) if d > 2 else None,
                        "the frequencies must fall along the columns: ω_i = base^(−2i/D) = 1 / base^(2i/D)."),
                Mistake(_pe_variant(length, d, b, from_one=True), "positions start at 0: row p is position p."),
            ])
    run.passed()


# --------------------------------------------------------------------------- causal mask


@exercise("causal_mask")
def check_causal_mask(causal_mask: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``causal_mask(length_q, length_k=None, align="top-left") -> (Lq, Lk)`` bool, True = may attend."""
    rng = case_rng(hidden, SALT)
    cases: list[tuple[Any, ...]] = [(4,), (3, 5), (3, 5, "bottom-right")]
    if hidden:
        lq, lk = int(rng.integers(2, 9)), int(rng.integers(2, 9))
        cases += [(1,), (5, 3), (5, 3, "bottom-right"), (6, 6, "bottom-right"), (np.int64(2), np.int64(7), "top-left"),
                  (2, 7, "bottom-right"), (lq, lk + lq), (lq + lk, lk, "bottom-right")]
    run = CheckRun("causal_mask", hidden)
    for args in run.cases(cases):
        with run.case():
            names = ("length_q", "length_k", "align")
            case = ", ".join(f"{n}={a!r}" if isinstance(a, str) else f"{n}={int(a)}" for n, a in zip(names, args))
            got = call_student(causal_mask, *args, name="causal_mask")
            expected = ref.causal_mask(*args)
            lq, lk = expected.shape
            align = args[2] if len(args) > 2 else "top-left"
            other = "bottom-right" if align == "top-left" else "top-left"
            swapped = ref.causal_mask(lq, lk, other) if lq != lk else None
            if isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype != bool:
                raise CheckFailure(f"causal_mask returned dtype {got.dtype}, expected bool ({case}): masks are "
                                   f"boolean, True = may attend (e.g. a comparison such as j <= i gives one).")
            expect_array(got, expected, what="causal_mask", case=case, mistakes=[
                Mistake(~expected, POLARITY),
                Mistake(expected & ~np.eye(lq, lk, k=lk - lq if align == "bottom-right" else 0, dtype=bool),
                        "a query may attend to its own position: keep the diagonal (j ≤ i, not j < i)."),
                Mistake(np.triu(np.ones((lq, lk), bool), k=lk - lq if align == "bottom-right" else 0),
                        "query i may look back, not ahead: True where key j ≤ i (the lower triangle), "
                        "one row per query."),
                Mistake(swapped, "with Lq ≠ Lk the alignment decides where the diagonal starts: 'top-left' (PyTorch's "
                        "is_causal) lets query i see keys 0 … i; 'bottom-right' lets it see keys 0 … i + Lk − Lq, "
                        "so that the last query sees every key.", name="alignment", partial=True),
            ])
    run.passed()


# --------------------------------------------------------------------------- masked softmax


def _softmax_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
    rng = case_rng(hidden, SALT)
    s = rng.standard_normal((2, 3, 5)) * 2
    keys = ref.padding_mask(np.array([5, 3]), 5)[:, None, :]  # (2, 1, 5): every query sees the real keys
    yield "scores (2, 3, 5), key padding mask (2, 1, 5) for lengths [5, 3]", s, keys
    m = rng.random((4, 6)) < 0.6
    m[1] = False  # a query with no key to attend to
    m[2, 0] = True
    yield "scores (4, 6), a mask (4, 6) whose row 1 is all False", rng.standard_normal((4, 6)) * 2, m
    if hidden:
        yield "scores (3, 4), no mask (the default)", rng.standard_normal((3, 4)), None
        big = np.array([[1000.0, 999.0, -1000.0], [500.0, 500.0, 500.0], [-800.0, 0.0, 800.0]])
        yield "scores of ±1000, causal mask (3, 3)", big, ref.causal_mask(3)
        trap = rng.standard_normal((3, 5))
        trap[:, -2:] = 1e4  # masked keys with huge scores: the shift must use the allowed ones
        yield "huge scores (1e4) at the masked keys, mask (5,)", trap, np.array([True, True, True, False, False])
        yield "integer scores with ties, causal mask (4, 4)", rng.integers(-2, 3, (4, 4)), ref.causal_mask(4)
        nc = _noncontiguous(rng.standard_normal((2, 4, 4)))
        yield "non-contiguous (transposed) scores (2, 4, 4), mask (2, 1, 4)", nc, \
            ref.padding_mask(np.array([4, 0]), 4)[:, None, :]
        yield "scores (1, 1, 1), mask (1, 1, 1)", rng.standard_normal((1, 1, 1)), np.ones((1, 1, 1), bool)
        yield "scores (5, 3), causal mask bottom-right (5, 3)", rng.standard_normal((5, 3)), \
            ref.causal_mask(5, 3, "bottom-right")


@exercise("masked_softmax")
def check_masked_softmax(masked_softmax: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``masked_softmax(scores, mask=None) -> weights`` over the last axis (fully masked rows are 0)."""
    run = CheckRun("masked_softmax", hidden)
    for case, scores, mask in run.cases(_softmax_cases(hidden)):
        with run.case():
            args = (scores,) if mask is None else (scores, mask)
            got = call_student(masked_softmax, *args, name="masked_softmax")
            expected = ref.masked_softmax(scores, mask)
            s = np.asarray(scores, dtype=np.float64)
            _expect_dtype(got, expected, "masked_softmax's weights", case)
            full = _fully_masked_rows(mask, s.shape)
            masked = [] if mask is None else [
                Mistake(ref.masked_softmax(s, ~np.asarray(mask)), POLARITY),
                Mistake(ref.softmax(np.where(mask, s, -1e9)) if full else None, BIG_NEGATIVE),
                Mistake(ref.softmax(s) * mask, AFTER_SOFTMAX),
                Mistake(ref.softmax(s * mask), "a masked score of 0 still gets the weight e⁰ > 0: set the forbidden "
                        "scores to −∞ so that their weight is exactly 0."),
            ]
            shift = "subtract each row's largest *allowed* score first: a masked score may be anything."
            expect_array(got, expected, what="masked_softmax's weights", case=case,
                         nonfinite_hint=FULLY_MASKED if full else "e^s overflows for large scores: " + shift,
                         hint="the largest scores are at masked keys: " + shift if "masked keys" in case else "",
                         mistakes=[*masked, Mistake(ref.masked_softmax(s, mask, axis=-2) if s.ndim > 1 else None,
                                                    WRONG_AXIS)])
    run.passed()


# --------------------------------------------------------------------------- attention forward

AttentionCase = tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, float | None]


def _attention_cases(hidden: bool) -> Iterator[AttentionCase]:
    rng = case_rng(hidden, SALT)
    g = rng.standard_normal
    yield "q (3, 4), k (5, 4), v (5, 2), no mask", g((3, 4)), g((5, 4)), g((5, 2)), None, None
    yield "q, k, v (2, 4, 8), causal mask (4, 4)", g((2, 4, 8)), g((2, 4, 8)), g((2, 4, 8)), ref.causal_mask(4), None
    m = np.ones((2, 2, 3, 5), bool)
    m[0, :, :, 3:] = False  # sequence 0 has 3 real keys
    m[1, 1, 2] = False  # one query of one head sees nothing
    yield "q (2, 2, 3, 4), k (2, 2, 5, 4), v (2, 2, 5, 3), mask (2, 2, 3, 5) with a fully masked row", \
        g((2, 2, 3, 4)), g((2, 2, 5, 4)), g((2, 2, 5, 3)), m, None
    if not hidden:
        return
    yield "q (1, 1, 6), k (1, 3, 6), v (1, 3, 2), batch of one, no mask", g((1, 1, 6)), g((1, 3, 6)), g((1, 3, 2)), \
        None, None
    yield "q (2, 5, 4), k, v (2, 3, 4), causal bottom-right (5, 3): two queries see nothing", \
        g((2, 5, 4)), g((2, 3, 4)), g((2, 3, 4)), ref.causal_mask(5, 3, "bottom-right"), None
    yield "integer q, k, v (2, 3, 4) with tied scores, causal mask", rng.integers(-2, 3, (2, 3, 4)), \
        rng.integers(-2, 3, (2, 3, 4)), rng.integers(-2, 3, (2, 3, 4)), ref.causal_mask(3), None
    keys = ref.padding_mask(np.array([4, 0]), 4)[:, None, :]
    yield "non-contiguous (transposed) q, k, v (2, 4, 5), key mask (2, 1, 4) for lengths [4, 0]", \
        _noncontiguous(g((2, 4, 5))), _noncontiguous(g((2, 4, 5))), _noncontiguous(g((2, 4, 3))), keys, None
    yield "q (3, 4), k, v (6, 4), scale=0.3", g((3, 4)), g((6, 4)), g((6, 4)), None, 0.3
    yield "q (2, 2, 4, 3), k, v (2, 2, 4, 3), scale=1.0 (unscaled), causal mask", \
        g((2, 2, 4, 3)), g((2, 2, 4, 3)), g((2, 2, 4, 3)), ref.causal_mask(4), 1.0
    n, lq, lk, d, dv = (int(rng.integers(1, 4)), int(rng.integers(1, 7)), int(rng.integers(1, 7)),
                        int(rng.integers(1, 9)), int(rng.integers(1, 5)))
    yield f"q ({n}, {lq}, {d}), k ({n}, {lk}, {d}), v ({n}, {lk}, {dv}), causal top-left", \
        g((n, lq, d)), g((n, lk, d)), g((n, lk, dv)), ref.causal_mask(lq, lk), None


def _attention_out_mistakes(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None,
                            scale: float | None) -> list[Mistake]:
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    d, dv = q.shape[-1], v.shape[-1]
    s = 1 / np.sqrt(d) if scale is None else scale
    raw = q @ np.swapaxes(k, -1, -2)
    shape = raw.shape

    def out(weights: np.ndarray) -> np.ndarray:
        return weights @ v

    mistakes = [
        Mistake(out(ref.masked_softmax(raw, mask)) if scale is None and d > 1 else None,
                "the scores are not scaled: divide q·kᵀ by √d (d = q.shape[-1]) before the softmax."),
        Mistake(out(ref.masked_softmax(raw / d, mask)) if scale is None and d > 1 else None,
                "scale by 1/√d, not 1/d."),
        Mistake(out(ref.masked_softmax(raw * np.sqrt(d), mask)) if scale is None and d > 1 else None,
                "divide the scores by √d; you multiplied."),
        Mistake(out(ref.masked_softmax(raw / np.sqrt(dv), mask)) if scale is None and dv != d else None,
                "d is the size of the queries and keys (q.shape[-1]), not of the values."),
        Mistake(out(ref.masked_softmax(raw / np.sqrt(d), mask)) if scale is not None and s != 1 / np.sqrt(d) else None,
                "use the given scale when it is not None (scale=None means 1/√d)."),
        Mistake(out(ref.masked_softmax(raw * s, mask, axis=-2)), WRONG_AXIS),
        Mistake(ref.masked_softmax(raw * s, mask) @ k,
                "the output mixes the values: weights @ v, not weights @ k."),
    ]
    if mask is not None:
        full = _fully_masked_rows(mask, shape)
        mistakes += [
            Mistake(out(ref.masked_softmax(raw * s, ~np.asarray(mask))), POLARITY),
            Mistake(out(ref.softmax(raw * s)), "the mask is ignored: forbidden scores must become −∞ before the "
                    "softmax."),
            Mistake(out(ref.softmax(np.where(mask, raw * s, -1e9))) if full else None, BIG_NEGATIVE),
            Mistake(out(ref.softmax(raw * s) * mask), AFTER_SOFTMAX),
        ]
    return mistakes


@exercise("attention_forward")
def check_attention_forward(attention_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``attention_forward(q, k, v, mask=None, scale=None) -> (out, cache)``, cache = (q, k, v, P, s)."""
    run = CheckRun("attention_forward", hidden)
    for case, q, k, v, mask, scale in run.cases(_attention_cases(hidden)):
        with run.case():
            kwargs = {} if scale is None else {"scale": scale}
            args = (q, k, v) if mask is None else (q, k, v, mask)
            result = call_student(attention_forward, *args, name="attention_forward", **kwargs)
            out, cache = unpack(result, 2, name="attention_forward", names=("out", "cache"))
            expected, (_, _, _, p, s) = ref.attention_forward(q, k, v, mask, scale)
            _expect_dtype(out, expected, "attention_forward's out", case)
            expect_array(out, expected, what="attention_forward's out", case=case,
                         nonfinite_hint=FULLY_MASKED if _fully_masked_rows(mask, p.shape) else
                         "an overflow (exp of a large score) gives inf or nan: subtract each row's maximum.",
                         mistakes=_attention_out_mistakes(q, k, v, mask, scale))
            _expect_attention_cache(cache, q, k, v, p, s, case)
    run.passed()


def _expect_attention_cache(cache: Any, q: np.ndarray, k: np.ndarray, v: np.ndarray, p: np.ndarray, s: float,
                            case: str) -> None:
    contract = "cache should be the tuple (q, k, v, P, s) that attention_backward expects"
    if not isinstance(cache, (tuple, list)) or len(cache) != 5:
        got = f"a {type(cache).__name__}" + (f" of {len(cache)} items" if isinstance(cache, (tuple, list)) else "")
        raise CheckFailure(f"attention_forward's {contract}; got {got} ({case}).")
    for name, got, want in zip("qkv", cache[:3], (q, k, v)):
        if not isinstance(got, np.ndarray) or got.shape != want.shape or not np.array_equal(got, want):
            raise CheckFailure(f"attention_forward's {contract}: item `{name}` differs from the input {name} ({case}).")
    weights = cache[3]
    if not isinstance(weights, np.ndarray) or weights.shape != p.shape or not np.allclose(weights, p, rtol=1e-7,
                                                                                         atol=1e-9):
        raise CheckFailure(f"attention_forward's {contract}: item `P` should be the attention weights, shape "
                           f"{p.shape}, after the mask and the softmax ({case}).")
    got_s = cache[4]
    if isinstance(got_s, np.ndarray) and got_s.size == 1:
        got_s = got_s.item()
    if isinstance(got_s, bool) or not isinstance(got_s, (int, float, np.integer, np.floating)) \
            or not np.isclose(float(got_s), s, rtol=1e-12, atol=0.0):
        raise CheckFailure(f"attention_forward's {contract}: item `s` should be the scale the scores were "
                           f"multiplied by, {s!r}; got {got_s!r} ({case}).")


# --------------------------------------------------------------------------- attention backward


def _backward_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, tuple, np.ndarray | None, float | None]]:
    rng = case_rng(hidden, SALT + 1)  # the upstream gradients: a stream of their own
    for case, q, k, v, mask, scale in _attention_cases(hidden):
        out, cache = ref.attention_forward(q, k, v, mask, scale)  # float64 cache, also for integer inputs
        dout = rng.standard_normal(out.shape)
        if hidden and "non-contiguous" in case:
            dout = _noncontiguous(dout)
        yield case, dout, cache, mask, scale


@exercise("attention_backward")
def check_attention_backward(attention_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``attention_backward(dout, cache) -> (dq, dk, dv)``, cache = (q, k, v, P, s) of attention_forward."""
    run = CheckRun("attention_backward", hidden)
    for case, dout, cache, mask, scale in run.cases(_backward_cases(hidden)):
        with run.case():
            q, k, v, p, s = cache
            result = call_student(attention_backward, dout, cache, name="attention_backward")
            dq, dk, dv = unpack(result, 3, name="attention_backward", names=("dq", "dk", "dv"))
            edq, edk, edv = ref.attention_backward(dout, cache)
            dp = dout @ np.swapaxes(v, -1, -2)
            ds = ref.softmax_backward(dp, p)  # ∂L/∂S for the scaled scores S = s·q kᵀ
            no_s = "the scores are s·q kᵀ, so dq and dk carry the factor s (the cache's last item)."
            no_sum = ("the softmax's backward is dS = P ⊙ (dP − Σⱼ Pⱼ dPⱼ) row by row: P ⊙ dP alone forgets that "
                      "every weight depends on every score of its row.")
            no_softmax = "backpropagate through the softmax: dS = P ⊙ (dP − Σⱼ Pⱼ dPⱼ), with dP = dout vᵀ."
            for name, got, want, ms in (
                ("dq", dq, edq, [
                    Mistake(ds @ k if s != 1.0 else None, no_s),
                    Mistake(s * (p * dp) @ k, no_sum),
                    Mistake(s * dp @ k, no_softmax),
                    Mistake(s * np.swapaxes(ds, -1, -2) @ q if q.shape == k.shape else None,
                            "dq and dk are swapped: dq = s·dS k, dk = s·dSᵀ q."),
                ]),
                ("dk", dk, edk, [
                    Mistake(np.swapaxes(ds, -1, -2) @ q if s != 1.0 else None, no_s),
                    Mistake(s * np.swapaxes(p * dp, -1, -2) @ q, no_sum),
                    Mistake(s * np.swapaxes(dp, -1, -2) @ q, no_softmax),
                    Mistake(s * ds @ q if p.shape[-1] == p.shape[-2] else None,
                            "dk = s·dSᵀ q: the keys index the columns of dS, so transpose it.", name="dk transpose"),
                ]),
                ("dv", dv, edv, [
                    Mistake(p @ dout if p.shape[-1] == p.shape[-2] else None, "dv = Pᵀ dout: transpose the weights."),
                    Mistake(s * edv if s != 1.0 else None, "only the scores are scaled: dv = Pᵀ dout has no "
                            "factor s."),
                ]),
            ):
                _expect_dtype(got, want, name, case)
                expect_array(got, want, what=name, case=case, **GRAD_TOL, mistakes=ms)
            if hidden:
                expect_backward_matches_finite_differences(
                    "attention_backward", lambda qq, kk, vv: ref.attention_forward(qq, kk, vv, mask, scale)[0],
                    (q, k, v), dout, (dq, dk, dv), ("dq", "dk", "dv"), case=case)
    run.passed()


# --------------------------------------------------------------------------- split and merge heads


def _split_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, Any]]:
    rng = case_rng(hidden, SALT)
    yield "x (2, 3, 8), num_heads=2", rng.standard_normal((2, 3, 8)), 2
    yield "x (1, 4, 6), num_heads=3", rng.standard_normal((1, 4, 6)), 3
    if hidden:
        yield "x (2, 5, 4), num_heads=1", rng.standard_normal((2, 5, 4)), 1
        yield "x (3, 2, 4), num_heads=4 (one feature per head)", rng.standard_normal((3, 2, 4)), 4
        yield "integer x (2, 3, 6), num_heads=np.int64(2)", rng.integers(-5, 6, (2, 3, 6)), np.int64(2)
        yield "non-contiguous (transposed) x (2, 6, 6), num_heads=3", _noncontiguous(rng.standard_normal((2, 6, 6))), 3
        yield "x (2, 4, 12), num_heads=4 (as many heads as positions)", rng.standard_normal((2, 4, 12)), 4
        h = int(rng.integers(2, 5))
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 6)), h * int(rng.integers(2, 5)))
        yield f"x {shape}, num_heads={h}", rng.standard_normal(shape), h


@exercise("split_heads")
def check_split_heads(split_heads: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``split_heads(x, num_heads) -> (N, H, L, E/H)``: head h holds features h·d … (h+1)·d − 1."""
    run = CheckRun("split_heads", hidden)
    for case, x, h in run.cases(_split_cases(hidden)):
        with run.case():
            got = call_student(split_heads, x, h, name="split_heads")
            expected = ref.split_heads(x, int(h))
            n, length, e = x.shape
            d = e // int(h)
            if isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype != expected.dtype:
                raise CheckFailure(f"split_heads changed the dtype from {x.dtype} to {got.dtype} ({case}): "
                                   f"splitting only rearranges the entries.")
            expect_array(got, expected, what="split_heads(x)", case=case, mistakes=[
                Mistake(x.reshape(n, int(h), length, d) if 1 < h else None,
                        "a reshape alone mixes positions into heads: reshape to (N, L, H, d), then move the head "
                        "axis forward, e.g. transpose(0, 2, 1, 3).", name="reshape only"),
                Mistake(x.reshape(n, length, d, int(h)).transpose(0, 3, 1, 2) if 1 < h < e else None,
                        "head h takes the block of d = E/H consecutive features h·d … (h+1)·d − 1 (PyTorch's split), "
                        "not every H-th feature."),
                Mistake(x.reshape(n, length, int(h), d), "the result is (N, H, L, d): move the head axis in front of "
                        "the positions.", name="no transpose"),
            ])
    run.passed()


def _merge_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray]]:
    for i, (case, x, h) in enumerate(_split_cases(hidden)):
        heads = ref.split_heads(np.ascontiguousarray(x), int(h))  # a transposed view, as split_heads gives
        kind = "a non-contiguous view" if i % 2 == 0 else "contiguous"
        if i % 2:
            heads = np.ascontiguousarray(heads)
        yield f"heads {heads.shape} ({kind}, {heads.dtype})", heads


@exercise("merge_heads")
def check_merge_heads(merge_heads: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``merge_heads(x) -> (N, L, H·d)`` from (N, H, L, d): the inverse of split_heads."""
    run = CheckRun("merge_heads", hidden)
    for case, x in run.cases(_merge_cases(hidden)):
        with run.case():
            got = call_student(merge_heads, x, name="merge_heads")
            expected = ref.merge_heads(x)
            n, h, length, d = x.shape
            if isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype != expected.dtype:
                raise CheckFailure(f"merge_heads changed the dtype from {x.dtype} to {got.dtype} ({case}): "
                                   f"merging only rearranges the entries.")
            expect_array(got, expected, what="merge_heads(x)", case=case, mistakes=[
                Mistake(x.reshape(n, length, h * d) if h > 1 and length > 1 else None,
                        "a reshape alone mixes heads into positions: move the head axis behind the positions "
                        "first, (N, H, L, d) → (N, L, H, d), then reshape.", name="reshape only"),
                Mistake(x.transpose(0, 2, 3, 1).reshape(n, length, h * d) if h > 1 and d > 1 else None,
                        "put the heads side by side, [head 0 | head 1 | …], each a block of d features "
                        "(the inverse of split_heads), not interleaved feature by feature."),
                Mistake(x.sum(axis=1), "concatenate the heads (H·d features), don't add them up."),
                Mistake(x.mean(axis=1), "concatenate the heads (H·d features), don't average them."),
            ])
    run.passed()


# --------------------------------------------------------------------------- multi-head attention

MHACase = tuple[str, np.ndarray, np.ndarray, np.ndarray, dict, int, np.ndarray | None, np.ndarray | None]


def _params(e: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    params = ref.init_mha(e, rng)
    for name in ("b_q", "b_k", "b_v", "b_o"):  # non-zero biases, so that a forgotten bias shows
        params[name] = 0.5 * rng.standard_normal(e)
    return params


def _mha_cases(hidden: bool) -> Iterator[MHACase]:
    rng = case_rng(hidden, SALT)
    g = rng.standard_normal
    x = g((2, 4, 8))
    yield "self-attention, x (2, 4, 8), H=2, no masks", x, x, x, _params(8, rng), 2, None, None
    x = g((2, 5, 8))
    yield "self-attention, x (2, 5, 8), H=4, causal mask (5, 5), key_padding_mask for lengths [5, 3]", \
        x, x, x, _params(8, rng), 4, ref.causal_mask(5), ref.padding_mask(np.array([5, 3]), 5)
    kv = g((2, 6, 6))
    yield "cross-attention, query (2, 3, 6), key = value (2, 6, 6), H=3, key_padding_mask for lengths [6, 4]", \
        g((2, 3, 6)), kv, kv, _params(6, rng), 3, None, ref.padding_mask(np.array([6, 4]), 6)
    if not hidden:
        return
    x = g((1, 3, 4))
    yield "batch of one, x (1, 3, 4), H=1", x, x, x, _params(4, rng), 1, None, None
    x = g((2, 3, 4))
    yield "x (2, 3, 4), H=4 (one feature per head), causal mask", x, x, x, _params(4, rng), 4, ref.causal_mask(3), None
    x = rng.integers(-2, 3, (2, 4, 6))
    yield "integer x (2, 4, 6), H=2, key_padding_mask for lengths [2, 4]", x, x, x, _params(6, rng), 2, None, \
        ref.padding_mask(np.array([2, 4]), 4)
    yield ("non-contiguous (transposed) query (2, 4, 8), key and value (2, 6, 8), H=2, causal bottom-right (4, 6), "
           "key_padding_mask for lengths [6, 0]"), _noncontiguous(g((2, 4, 8))), _noncontiguous(g((2, 6, 8))), \
        _noncontiguous(g((2, 6, 8))), _params(8, rng), 2, ref.causal_mask(4, 6, "bottom-right"), \
        ref.padding_mask(np.array([6, 0]), 6)
    h = int(rng.integers(2, 4))
    e, n = h * int(rng.integers(2, 4)), int(rng.integers(1, 4))
    lq, lk = int(rng.integers(1, 6)), int(rng.integers(2, 6))
    yield f"query ({n}, {lq}, {e}), key = value ({n}, {lk}, {e}), H={h}, causal top-left", \
        g((n, lq, e)), *([g((n, lk, e))] * 2), _params(e, rng), h, ref.causal_mask(lq, lk), None


def _mha_out_mistakes(query: np.ndarray, key: np.ndarray, value: np.ndarray, params: dict, h: int,
                      mask: np.ndarray | None, kp: np.ndarray | None) -> list[Mistake]:
    """Known mistakes, each as the reference run on changed parameters or masks (same function, other inputs)."""
    e = params["w_q"].shape[0]

    def run(changed: dict | None = None, m: Any = mask, k: Any = kp) -> np.ndarray:
        return ref.mha_forward(query, key, value, {**params, **(changed or {})}, h, m, k)[0]

    def scaled_queries(factor: float) -> dict:  # scores × factor: the queries' projection × factor
        return {"w_q": params["w_q"] * factor, "b_q": params["b_q"] * factor}

    d = e // h
    interleave = np.arange(e).reshape(d, h).T.ravel()  # head i of a contiguous split = features i, i+H, …
    perm = {f"w_{n}": params[f"w_{n}"][:, interleave] for n in "qkv"}
    perm.update({f"b_{n}": params[f"b_{n}"][interleave] for n in "qkv"})
    perm["w_o"] = params["w_o"][interleave, :]
    zeros = np.zeros(e)
    mistakes = [
        Mistake(run(scaled_queries(1 / np.sqrt(h))) if h > 1 else None,
                "each head scales its scores by 1/√d with d = E/H, its own size, not 1/√E."),
        Mistake(run(scaled_queries(np.sqrt(d))) if d > 1 else None,
                "scale every head's scores by 1/√d (d = E/H) before the softmax."),
        Mistake(run(perm) if 1 < h < e else None,
                "head h takes the block of d = E/H consecutive features h·d … (h+1)·d − 1 (PyTorch's split), "
                "not every H-th feature."),
        Mistake(run({"w_o": np.eye(e), "b_o": zeros}),
                "the heads' merged output goes through the output projection: out = heads · w_o + b_o."),
        Mistake(run({"b_o": zeros}), "add the output bias b_o."),
        Mistake(run({"b_q": zeros, "b_k": zeros, "b_v": zeros}), "the projections have biases: Q = query·w_q + b_q, "
                "and so on for K and V."),
        Mistake(run({f"w_{n}": params[f"w_{n}"].T for n in "qkvo"}),
                "the course's weights multiply from the right, x @ w + b with w of shape (E_in, E_out); "
                "x @ w.T is PyTorch's layout."),
    ]
    if mask is not None:
        mistakes.append(Mistake(run(m=~mask), POLARITY, name="mask polarity"))
        mistakes.append(Mistake(run(m=None), "the mask is ignored: apply it in every head.", name="mask ignored"))
    if kp is not None:
        mistakes.append(Mistake(run(k=~kp), POLARITY, name="padding polarity"))
        mistakes.append(Mistake(run(k=None), "key_padding_mask is ignored: padded keys must get zero weight, in every "
                                "head and for every query.", name="padding ignored"))
    return mistakes


@exercise("mha_forward")
def check_mha_forward(mha_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``mha_forward(query, key, value, params, num_heads, mask=None, key_padding_mask=None)``.

    It returns (out, cache): out (N, Lq, E), and a cache whose last item is the per-head
    attention weights (N, H, Lq, Lk) (what ``nn.MultiheadAttention`` would average over heads).
    """
    run = CheckRun("mha_forward", hidden)
    for case, query, key, value, params, h, mask, kp in run.cases(_mha_cases(hidden)):
        with run.case():
            kwargs = {}
            if mask is not None:
                kwargs["mask"] = mask
            if kp is not None:
                kwargs["key_padding_mask"] = kp
            result = call_student(mha_forward, query, key, value, params, h, name="mha_forward", **kwargs)
            out, cache = unpack(result, 2, name="mha_forward", names=("out", "cache"))
            expected, ecache = ref.mha_forward(query, key, value, params, h, mask, kp)
            _expect_dtype(out, expected, "mha_forward's out", case)
            expect_array(out, expected, what="mha_forward's out", case=case,
                         nonfinite_hint=FULLY_MASKED if kp is not None and not kp.any(axis=1).all() else
                         "an overflow (exp of a large score) gives inf or nan: subtract each row's maximum.",
                         mistakes=_mha_out_mistakes(query, key, value, params, h, mask, kp))
            if not isinstance(cache, (tuple, list)) or not cache:
                got = "an array" if isinstance(cache, np.ndarray) else f"a {type(cache).__name__}"
                raise CheckFailure(f"mha_forward's cache should be a tuple whose last item is the per-head attention "
                                   f"weights (N, H, Lq, Lk); got {got} ({case}).")
            weights = ecache.weights
            expect_array(cache[-1], weights, what="mha_forward's cache[-1] (the attention weights)", case=case,
                         mistakes=[Mistake(weights.mean(axis=1), "keep one map per head, (N, H, Lq, Lk); "
                                           "nn.MultiheadAttention averages them over the heads only when asked to.")])
    run.passed()


# --------------------------------------------------------------------------- PyTorch's layout

TORCH_KEYS = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")


@exercise("mha_params_to_torch")
def check_mha_params_to_torch(mha_params_to_torch: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``mha_params_to_torch(params) -> dict`` with nn.MultiheadAttention's four state-dict entries."""
    rng = case_rng(hidden, SALT)
    sizes: list[tuple[int, bool]] = [(4, False), (6, False)]
    if hidden:
        sizes += [(1, False), (2, True), (int(rng.integers(3, 9)), True)]
    run = CheckRun("mha_params_to_torch", hidden)
    for e, fortran in run.cases(sizes):
        with run.case():
            params = _params(e, rng)
            case = f"E = {e}"
            if fortran:
                params = {k: np.asfortranarray(v) for k, v in params.items()}
                case += ", weights in Fortran (column-major) order"
            got = call_student(mha_params_to_torch, params, name="mha_params_to_torch")
            expected = ref.mha_params_to_torch(params)
            if not isinstance(got, dict):
                raise CheckFailure(f"mha_params_to_torch should return a dict with the keys {list(TORCH_KEYS)}; got a "
                                   f"{type(got).__name__} ({case}).")
            missing = [key for key in TORCH_KEYS if key not in got]
            extra = [key for key in got if key not in TORCH_KEYS]
            if missing or extra:
                raise CheckFailure(f"mha_params_to_torch's dict has the keys {list(got)}, expected exactly "
                                   f"{list(TORCH_KEYS)} ({case}): load_state_dict needs these names.")
            w = {n: params[f"w_{n}"] for n in "qkv"}
            b = {n: params[f"b_{n}"] for n in "qkv"}
            orders = ("qvk", "kqv", "kvq", "vqk", "vkq")
            order_hint = ("the rows of in_proj_weight are [W_q; W_k; W_v]: queries' first (rows 0 … E−1), then keys', "
                          "then values'.")
            expect_array(got["in_proj_weight"], expected["in_proj_weight"], what="in_proj_weight", case=case,
                         mistakes=[
                Mistake(np.concatenate([w[n] for n in "qkv"]) if e > 1 else None,
                        "PyTorch computes x Wᵀ + b: each course weight (E_in, E_out) is transposed before stacking.",
                        name="in_proj not transposed"),
                Mistake(np.concatenate([w[n] for n in "qkv"], axis=1),
                        "stack the three (E, E) blocks on top of each other, (3E, E), not side by side.",
                        name="side by side"),
                *[Mistake(np.concatenate([w[n].T for n in order]), order_hint, name="order") for order in orders],
            ])
            expect_array(got["in_proj_bias"], expected["in_proj_bias"], what="in_proj_bias", case=case, mistakes=[
                *[Mistake(np.concatenate([b[n] for n in order]), "in_proj_bias follows the weight's order: "
                          "[b_q; b_k; b_v].", name="bias order") for order in orders],
            ])
            expect_array(got["out_proj.weight"], expected["out_proj.weight"], what="out_proj.weight", case=case,
                         mistakes=[Mistake(params["w_o"] if e > 1 else None,
                                           "out_proj is an nn.Linear, weight (E_out, E_in): transpose w_o too.",
                                           name="out_proj not transposed")])
            expect_array(got["out_proj.bias"], expected["out_proj.bias"], what="out_proj.bias", case=case)
    run.passed()
