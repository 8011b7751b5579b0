"""Checks for lecture 10-rnns.

Each ``check_*`` takes the student's function (or, for ``CharLM``, class) and ``hidden``. Public
cases are small and fixed; hidden ones add the edge cases real code meets: the documented
defaults (``nonlinearity``, ``dilation``, ``eps`` left out), ReLU with pre-activations exactly at
the kink, integer and transposed (non-contiguous) inputs, a batch of one, a single time step,
saturated gates, float64 output for float64 input, the cache contract, and float64
finite-difference checks of every backward pass (norm-wise relative error, ``FD_TOL``; entries
of a sequence's gradient can cancel to ~1e-6, where an entry-wise error means nothing).
Expected values come from :mod:`dlcourse.ref` and are computed after the student's call.

Known mistakes are offered as *variants*: what the mistaken code returns on the same inputs,
computed here from the reference's pieces with one step changed (a gate order, a missing
carry, the reset gate before the product, ...). A variant's hint is shown only when the answer
matches it on every case (:class:`~dlcourse.checks.compare.CheckRun`).

``check_char_lm`` imports torch when it runs (``import dlcourse.checks.rnn`` does not).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_equal, expect_scalar
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import GRAD_TOL, expect_backward_matches_finite_differences
from dlcourse.checks.guard import call_student, unpack

__all__ = [
    "check_rnn_step_forward",
    "check_rnn_forward",
    "check_rnn_step_backward",
    "check_rnn_backward",
    "check_clip_grad_norm",
    "check_lstm_step_forward",
    "check_lstm_step_backward",
    "check_gru_step_forward",
    "check_embedding_forward",
    "check_embedding_backward",
    "check_causal_conv1d_forward",
    "check_unigram_cross_entropy",
    "check_char_lm",
]

SALT = 101_010  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

Variant = tuple[str, Sequence[Any] | None]  # (hint, what the mistaken code returns, output by output)


# --------------------------------------------------------------------------- shared helpers


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _phi(a: np.ndarray, nonlinearity: str) -> np.ndarray:
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)


def _expect(got: Any, expected: np.ndarray, *, what: str, case: str, mistakes: Sequence[Mistake] = (),
            **tol: float) -> None:
    """:func:`expect_array`, after a dtype check: float64 inputs must give float64 outputs."""
    if (isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype.kind == "f"
            and expected.dtype == np.float64 and got.dtype != np.float64):
        raise CheckFailure(f"{what} has dtype {got.dtype}; the inputs are float64, so it should be float64 too "
                           f"(a float32 array somewhere in your code loses half the digits) ({case}).")
    expect_array(got, expected, what=what, case=case, mistakes=mistakes, **tol)


def _expect_outputs(got: Sequence[Any], expected: Sequence[np.ndarray], names: Sequence[str], case: str,
                    variants: Sequence[Variant] = (), **tol: float) -> None:
    """Compare outputs one by one; every variant is offered at every output (None: not on this case)."""
    for i, (value, want, name) in enumerate(zip(got, expected, names)):
        mistakes = [Mistake(None if v is None else v[i], hint) for hint, v in variants]
        _expect(value, np.asarray(want), what=name, case=case, mistakes=mistakes, **tol)


def _expect_cache(name: str, cache: Any, expected: Sequence[Any], labels: Sequence[str], case: str,
                  mistakes: dict[str, list[Mistake]] | None = None) -> None:
    """The cache is the tuple ``labels`` of the docstring, item by item equal to ``expected``."""
    contract = f"{name}'s cache should be the tuple ({', '.join(labels)})"
    if not isinstance(cache, (tuple, list)) or len(cache) != len(labels):
        got = f"{len(cache)} items" if isinstance(cache, (tuple, list)) else type(cache).__name__
        raise CheckFailure(f"{contract}, as the backward pass expects; got {got} ({case}).")
    for label, got, want in zip(labels, cache, expected):
        if isinstance(want, str):
            expect_equal(got, want, what=f"cache item `{label}`", case=case)
        else:
            expect_array(np.asarray(got) if isinstance(got, (list, tuple)) else got, np.asarray(want),
                         what=f"{name}'s cache item `{label}`", case=case, **GRAD_TOL,
                         mistakes=(mistakes or {}).get(label, ()))


def _cell_case(rng: np.random.Generator, n: int, d: int, h: int, gates: int, *, scale: float = 0.5,
               integer_x: bool = False, transposed: bool = False) -> tuple[np.ndarray, ...]:
    """(x (N, D), h_prev (N, H), w_ih (G·H, D), w_hh (G·H, H), b_ih, b_hh (G·H,)) for a cell."""
    x = rng.integers(-3, 4, size=(n, d)) if integer_x else rng.standard_normal((n, d))
    h_prev = 0.8 * rng.standard_normal((n, h))
    # transposed: w_ih as the transpose of a (D, G·H) array, a view that is not C-contiguous
    w_ih = (rng.standard_normal((d, gates * h)).T if transposed else rng.standard_normal((gates * h, d))) * scale
    w_hh = rng.standard_normal((gates * h, h)) * scale
    return x, h_prev, w_ih, w_hh, 0.5 * rng.standard_normal(gates * h), 0.5 * rng.standard_normal(gates * h)


def _describe_cell(x: np.ndarray, h: np.ndarray, w_ih: np.ndarray, extra: str = "") -> str:
    layout = "" if w_ih.flags.c_contiguous else ", w_ih a transposed (non-contiguous) view"
    return f"x of shape {x.shape} ({x.dtype}), h_prev of shape {h.shape}{layout}{extra}"


# --------------------------------------------------------------------------- RNN step


def _rnn_step_cases(hidden: bool) -> Iterator[tuple[str, tuple[np.ndarray, ...], str | None]]:
    """(description, (x, h_prev, w_ih, w_hh, b_ih, b_hh), nonlinearity or None for the default)."""
    rng = case_rng(hidden, SALT)
    specs: list[tuple[int, int, int, str | None, dict[str, bool]]] = [(3, 4, 5, None, {}), (2, 3, 4, "relu", {})]
    if hidden:
        specs += [(1, 2, 3, "tanh", {}), (4, 3, 2, "relu", {"integer_x": True}), (3, 5, 4, None, {"transposed": True}),
                  (int(rng.integers(2, 7)), int(rng.integers(1, 6)), int(rng.integers(2, 7)), "relu", {})]
    for n, d, h, nonlinearity, kw in specs:
        x, h_prev, w_ih, w_hh, b_ih, b_hh = _cell_case(rng, n, d, h, 1, **kw)
        extra = ""
        if nonlinearity == "relu" and hidden:
            # a tie at the kink: unit 0's pre-activation is exactly 0 for every example
            w_ih[0], w_hh[0], b_ih[0], b_hh[0] = 0.0, 0.0, 0.0, 0.0
            extra = ", unit 0 at the kink (a = 0)"
        shown = "default (tanh)" if nonlinearity is None else nonlinearity
        yield (_describe_cell(x, h_prev, w_ih, f", nonlinearity {shown}{extra}"), (x, h_prev, w_ih, w_hh, b_ih, b_hh),
               nonlinearity)


def _call_cell(fn: Callable[..., Any], args: Sequence[Any], nonlinearity: str | None, name: str) -> Any:
    kwargs = {} if nonlinearity is None else {"nonlinearity": nonlinearity}
    return call_student(fn, *args, name=name, **kwargs)


@exercise("rnn_step_forward")
def check_rnn_step_forward(rnn_step_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``rnn_step_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh") -> (h_next, cache)``."""
    run = CheckRun("rnn_step_forward", hidden)
    for case, args, nonlinearity in run.cases(_rnn_step_cases(hidden)):
        with run.case():
            result = _call_cell(rnn_step_forward, args, nonlinearity, "rnn_step_forward")
            h_next, cache = unpack(result, 2, name="rnn_step_forward", names=("h_next", "cache"))
            kind = nonlinearity or "tanh"
            expected, _ = ref.rnn_step_forward(*args, nonlinearity=kind)
            x, h_prev, w_ih, w_hh, b_ih, b_hh = args
            a = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh
            _expect(h_next, expected, what="h_next", case=case, mistakes=[
                Mistake(_phi(a - b_hh, kind), "add both biases: a = x w_ihᵀ + b_ih + h_prev w_hhᵀ + b_hh."),
                Mistake(_phi(x @ w_ih.T + b_ih + b_hh, kind),
                        "the previous state is missing: add h_prev w_hhᵀ (the recurrence)."),
                Mistake(a, "apply the nonlinearity φ to the pre-activation."),
                Mistake(expected.T, "h_next has one row per example, shape (N, H): compute x w_ihᵀ, not w_ih xᵀ."),
                Mistake(np.tanh(a) if kind == "relu" else None,
                        "nonlinearity='relu' asks for max(a, 0): read the argument instead of always using tanh.",
                        partial=True),
            ])
            _expect_cache("rnn_step_forward", cache, (x, h_prev, w_ih, w_hh, expected, kind),
                          ("x", "h_prev", "w_ih", "w_hh", "h_next", "nonlinearity"), case)
    run.passed()


def _rnn_step_backward_variants(dh: np.ndarray, cache: Any) -> list[Variant]:
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    if nonlinearity == "tanh":
        derivative = 1 - h_next**2
        wrong_local = [(dh * (1 - np.tanh(h_next) ** 2), "the cache holds h_next = tanh(a) already: "
                        "φ'(a) = 1 − h_next², without applying tanh again."),
                       (dh * (1 - h_next), "square the output: tanh'(a) = 1 − h_next².")]
    else:
        derivative = (h_next > 0).astype(float)
        wrong_local = [(dh * (h_next >= 0), "the ReLU's derivative is [h_next > 0]: 0 where the unit is off, "
                        "and 0 at the kink a = 0 (PyTorch's convention).")]

    def grads(da: np.ndarray, **swap: bool) -> tuple[np.ndarray, ...]:
        db = da.sum(axis=0)
        return (da @ w_ih, da @ (w_hh.T if swap.get("dh_prev_t") else w_hh),
                (x.T @ da) if swap.get("dw_ih_t") else da.T @ x,
                (h_prev.T @ da) if swap.get("dw_hh_t") else da.T @ h_prev,
                db, np.zeros_like(db) if swap.get("one_bias") else db)

    da = dh * derivative
    return [(hint, grads(local)) for local, hint in wrong_local] + [
        ("multiply by φ'(a) first: δ = dh_next ⊙ φ'(a) is the gradient of the pre-activation.", grads(dh)),
        ("dh_prev = δ W_hh: the forward pass multiplies h_prev by W_hhᵀ, so the backward pass multiplies by W_hh.",
         grads(da, dh_prev_t=True)),
        ("dw_ih is transposed: dw_ih = δᵀ x has w_ih's shape (H, D).", grads(da, dw_ih_t=True)),
        ("dw_hh is transposed: dw_hh = δᵀ h_prev (row i of w_hh belongs to unit i).", grads(da, dw_hh_t=True)),
        ("both biases are added to the pre-activation, so each gets the gradient Σ_n δ_n.", grads(da, one_bias=True)),
        ("sum the bias gradients over the batch: every example uses the same b.",
         (*grads(da)[:4], da, da)),
    ]


_STEP_GRADS = ("dx", "dh_prev", "dw_ih", "dw_hh", "db_ih", "db_hh")


@exercise("rnn_step_backward")
def check_rnn_step_backward(rnn_step_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``rnn_step_backward(dh_next, cache) -> (dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh)``."""
    run = CheckRun("rnn_step_backward", hidden)
    rng = case_rng(hidden, SALT + 1)
    for case, args, nonlinearity in run.cases(_rnn_step_cases(hidden)):
        with run.case():
            kind = nonlinearity or "tanh"
            x, h_prev, w_ih, w_hh, b_ih, b_hh = (np.asarray(a, dtype=np.float64) for a in args)
            h_next = _phi(x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh, kind)
            cache = (x, h_prev, w_ih, w_hh, h_next, kind)
            dh = rng.standard_normal(h_next.shape)
            result = call_student(rnn_step_backward, dh, cache, name="rnn_step_backward")
            got = unpack(result, 6, name="rnn_step_backward", names=_STEP_GRADS)
            expected = ref.rnn_step_backward(dh, cache)
            _expect_outputs(got, expected, _STEP_GRADS, case, _rnn_step_backward_variants(dh, cache), **GRAD_TOL)
            if hidden and kind == "tanh":
                expect_backward_matches_finite_differences(
                    "rnn_step_backward", lambda *a: ref.rnn_step_forward(*a)[0],
                    (x, h_prev, w_ih, w_hh, b_ih, b_hh), dh, got, _STEP_GRADS, case=case)
    run.passed()


# --------------------------------------------------------------------------- RNN sequence


def _rnn_sequence_cases(hidden: bool) -> Iterator[tuple[str, tuple[np.ndarray, ...], str | None]]:
    """(description, (x (N, T, D), h0, w_ih, w_hh, b_ih, b_hh), nonlinearity or None)."""
    rng = case_rng(hidden, SALT + 2)
    specs: list[tuple[int, int, int, int, str | None, str]] = [(2, 4, 3, 5, None, ""), (3, 3, 2, 4, "relu", "")]
    if hidden:
        specs += [(1, 5, 3, 2, "tanh", ""), (2, 1, 3, 3, None, ""), (3, 4, 2, 3, "relu", "integer"),
                  (2, 6, 3, 4, "tanh", "transposed"), (2, 4, 3, 3, "relu", "kink"),
                  (int(rng.integers(1, 5)), int(rng.integers(2, 7)), int(rng.integers(1, 5)), int(rng.integers(2, 6)),
                   None, "")]
    for n, t, d, h, nonlinearity, special in specs:
        if special == "integer":
            x = rng.integers(-2, 3, size=(n, t, d))
        elif special == "transposed":
            x = rng.standard_normal((t, n, d)).transpose(1, 0, 2)  # a time-major array seen batch-first
        else:
            x = rng.standard_normal((n, t, d))
        h0 = 0.5 * rng.standard_normal((n, h))
        w_ih, w_hh = 0.6 * rng.standard_normal((h, d)), 0.6 * rng.standard_normal((h, h)) / np.sqrt(h)
        b_ih, b_hh = 0.3 * rng.standard_normal(h), 0.3 * rng.standard_normal(h)
        if special == "kink":  # the first step's pre-activations are exactly 0: ReLU's tie
            x[:, 0] = 0.0
            h0[:] = 0.0
            b_ih, b_hh = np.zeros(h), np.zeros(h)
        shown = "default (tanh)" if nonlinearity is None else nonlinearity
        extra = {"transposed": ", non-contiguous x", "kink": ", pre-activations 0 at t = 1", "integer": ""}.get(special, "")
        yield (f"x of shape {x.shape} ({x.dtype}), h0 of shape {h0.shape}, nonlinearity {shown}{extra}",
               (x, h0, w_ih, w_hh, b_ih, b_hh), nonlinearity)


def _rnn_without_carry(args: Sequence[np.ndarray], kind: str) -> np.ndarray:
    """Every step started from h0 instead of the previous state: (N, T, H)."""
    x, h0, w_ih, w_hh, b_ih, b_hh = args
    return _phi(x @ w_ih.T + b_ih + (h0 @ w_hh.T + b_hh)[:, None, :], kind)


@exercise("rnn_forward")
def check_rnn_forward(rnn_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh") -> (h, cache)``.

    cache = (x_tm (T, N, D), h0, w_ih, w_hh, h_tm (T, N, H), nonlinearity).
    """
    run = CheckRun("rnn_forward", hidden)
    for case, args, nonlinearity in run.cases(_rnn_sequence_cases(hidden)):
        with run.case():
            result = _call_cell(rnn_forward, args, nonlinearity, "rnn_forward")
            h, cache = unpack(result, 2, name="rnn_forward", names=("h", "cache"))
            kind = nonlinearity or "tanh"
            expected, _ = ref.rnn_forward(*args, nonlinearity=kind)
            x, h0, w_ih, w_hh, b_ih, b_hh = args
            _expect(h, expected, what="h", case=case, mistakes=[
                Mistake(expected.transpose(1, 0, 2), "return h batch-first, (N, T, H): h[:, t] is step t + 1."),
                Mistake(expected[:, -1], "return every hidden state h_1 … h_T, shape (N, T, H), not only the last."),
                Mistake(np.concatenate([h0[:, None], expected], axis=1),
                        "return h_1 … h_T: the initial state h0 is not an output."),
                Mistake(_rnn_without_carry(args, kind),
                        "carry the state: step t uses h_{t−1}, the state the previous step computed, not h0."),
            ])
            x_tm, h_tm = np.asarray(x, dtype=np.float64).transpose(1, 0, 2), expected.transpose(1, 0, 2)
            _expect_cache("rnn_forward", cache, (x_tm, h0, w_ih, w_hh, h_tm, kind),
                          ("x_tm", "h0", "w_ih", "w_hh", "h_tm", "nonlinearity"), case, mistakes={
                              "x_tm": [Mistake(x, "keep x time-major in the cache: x.transpose(1, 0, 2), (T, N, D).")],
                              "h_tm": [Mistake(expected, "keep the states time-major in the cache, (T, N, H): "
                                               "h_tm[t] is step t + 1.")]})
    run.passed()


def _bptt_variant(dh: np.ndarray, cache: tuple[Any, ...], *, carry: bool = True, backwards: bool = True,
                  shift: bool = True, accumulate: bool = True) -> tuple[np.ndarray, ...]:
    """BPTT with one known mistake switched off, built from the reference's step backward."""
    x_tm, h0, w_ih, w_hh, h_tm, nonlinearity = cache
    t_len = h_tm.shape[0]
    dx = np.zeros((x_tm.shape[1], t_len, x_tm.shape[2]))
    sums: list[Any] = [0.0, 0.0, 0.0, 0.0]
    arriving = np.zeros_like(h0, dtype=np.float64)
    for t in (reversed(range(t_len)) if backwards else range(t_len)):
        prev = (h_tm[t - 1] if t else h0) if shift else h_tm[t]
        step = (x_tm[t], prev, w_ih, w_hh, h_tm[t], nonlinearity)
        g = ref.rnn_step_backward(dh[:, t] + (arriving if carry else 0.0), step)
        dx[:, t], arriving = g[0], g[1]
        sums = [s + gi for s, gi in zip(sums, g[2:])] if accumulate else list(g[2:])
    return (dx, arriving, *sums)


@exercise("rnn_backward")
def check_rnn_backward(rnn_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``rnn_backward(dh, cache) -> (dx, dh0, dw_ih, dw_hh, db_ih, db_hh)`` (BPTT)."""
    run = CheckRun("rnn_backward", hidden)
    rng = case_rng(hidden, SALT + 3)
    names = ("dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh")
    for k, (case, args, nonlinearity) in enumerate(run.cases(_rnn_sequence_cases(hidden))):
        with run.case():
            kind = nonlinearity or "tanh"
            args64 = tuple(np.asarray(a, dtype=np.float64) for a in args)
            h, ref_cache = ref.rnn_forward(*args64, nonlinearity=kind)
            cache = tuple(ref_cache)
            dh = rng.standard_normal(h.shape)
            if k in (2, 5):
                dh[:, :-1] = 0.0  # a loss on the last state only: everything earlier arrives through the carry
                case += ", dh zero except at t = T"
            result = call_student(rnn_backward, dh, cache, name="rnn_backward")
            got = unpack(result, 6, name="rnn_backward", names=names)
            expected = ref.rnn_backward(dh, ref_cache)
            variants: list[Variant] = [
                ("add the gradient that flows back from step t + 1 (dh_prev of that step) to dh[:, t]: "
                 "h_t reaches the loss directly and through h_{t+1}.", _bptt_variant(dh, cache, carry=False)),
                ("run the loop backwards in time, from t = T to t = 1: step t needs the gradient of step t + 1.",
                 _bptt_variant(dh, cache, backwards=False)),
                ("step t's input state is h_{t−1} (h0 for the first step), not h_t: use h_tm[t − 1] in its cache.",
                 _bptt_variant(dh, cache, shift=False)),
                ("the weights are shared by every step: add up their gradients over all steps.",
                 _bptt_variant(dh, cache, accumulate=False)),
            ]
            _expect_outputs(got, expected, names, case, variants, **GRAD_TOL)
            if hidden and kind == "tanh":
                expect_backward_matches_finite_differences(
                    "rnn_backward", lambda *a: ref.rnn_forward(*a)[0], args64, dh, got, names, case=case)
    run.passed()


# --------------------------------------------------------------------------- gradient clipping


def _clip_cases(hidden: bool) -> Iterator[tuple[str, Any, float, dict[str, float]]]:
    """(description, grads, max_norm, extra keyword arguments)."""
    rng = case_rng(hidden, SALT + 4)
    yield ("a dict of 3 gradients with global norm above max_norm",
           {"w_ih": 3.0 * rng.standard_normal((4, 3)), "w_hh": 2.0 * rng.standard_normal((4, 4)),
            "b": rng.standard_normal(4)}, 1.0, {})
    yield ("a list of 2 gradients with global norm below max_norm",
           [0.1 * rng.standard_normal((3, 2)), 0.1 * rng.standard_normal(5)], 5.0, {})
    if hidden:
        yield ("a list of 3 gradients, one much larger than the others",
               [rng.standard_normal(3), 50.0 * rng.standard_normal((2, 2)), rng.standard_normal((1, 4))], 2.5, {})
        yield "zero gradients (norm 0)", {"a": np.zeros((2, 3)), "b": np.zeros(2)}, 1.0, {}
        yield "integer gradients", [rng.integers(-5, 6, size=(3, 3)), rng.integers(-5, 6, size=4)], 3.0, {}
        yield "a single gradient", [4.0 * rng.standard_normal((5, 2))], 0.5, {}
        yield ("eps = 0.5 given", {"w": 2.0 * rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}, 1.0,
               {"eps": 0.5})


@exercise("clip_grad_norm")
def check_clip_grad_norm(clip_grad_norm: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``clip_grad_norm(grads, max_norm, eps=1e-6) -> (clipped, total_norm)``."""
    run = CheckRun("clip_grad_norm", hidden)
    for case, grads, max_norm, kwargs in run.cases(_clip_cases(hidden)):
        with run.case():
            result = call_student(clip_grad_norm, grads, max_norm, name="clip_grad_norm", **kwargs)
            clipped, total = unpack(result, 2, name="clip_grad_norm", names=("clipped", "total_norm"))
            expected, norm = ref.clip_grad_norm(grads, max_norm, **kwargs)
            case = f"{case}, max_norm = {max_norm}"
            arrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
            norms = [float(np.linalg.norm(np.ravel(g).astype(np.float64))) for g in arrays]
            eps = kwargs.get("eps", 1e-6)
            coef = min(1.0, max_norm / (norm + eps))
            expect_scalar(total, norm, what="total_norm", case=case, rtol=1e-6, mistakes=[
                Mistake(norm * coef if coef < 1 else None, "return the norm before clipping (what the gradients "
                        "measured), not after."),
                Mistake(norm**2, "take the square root: ‖g‖ = (Σ g²)^{1/2}."),
                Mistake(sum(norms), "the global norm is the norm of all gradients as one vector, √(Σ_p ‖g_p‖²), "
                        "not the sum of their norms."),
            ])
            _expect_container(clipped, grads, case)
            variants = _clip_variants(arrays, norms, norm, max_norm, eps, "eps" in kwargs)
            got = list(clipped.values()) if isinstance(clipped, dict) else list(clipped)
            want = list(expected.values()) if isinstance(expected, dict) else list(expected)
            names = [f"clipped[{k!r}]" for k in grads] if isinstance(grads, dict) else \
                [f"clipped[{i}]" for i in range(len(arrays))]
            _expect_outputs(got, [np.asarray(w, dtype=np.float64) for w in want], names, case, variants,
                            rtol=1e-6, atol=1e-12)
            for name, new, old in zip(names, got, arrays):
                if isinstance(new, np.ndarray) and np.shares_memory(new, old):
                    raise CheckFailure(f"{name} shares its memory with the gradient passed in: return new arrays "
                                       f"(`g * coef`), so that a caller who later changes one does not change the "
                                       f"other ({case}).")
    run.passed()


def _expect_container(clipped: Any, grads: Any, case: str) -> None:
    if isinstance(grads, dict):
        if not isinstance(clipped, dict):
            raise CheckFailure(f"clipped should be a dict with the keys of grads, got {type(clipped).__name__} ({case}).")
        expect_equal(sorted(clipped), sorted(grads), what="clipped's keys", verb="are", case=case)
    elif not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
        got = f"{len(clipped)} items" if isinstance(clipped, (list, tuple)) else type(clipped).__name__
        raise CheckFailure(f"clipped should be a list of {len(grads)} arrays, one per gradient, got {got} ({case}).")


def _clip_variants(arrays: list[np.ndarray], norms: list[float], norm: float, max_norm: float, eps: float,
                   eps_given: bool) -> list[Variant]:
    scale = max_norm / (norm + eps)
    return [
        ("scale only when the norm is too large: the factor is min(1, max_norm / (‖g‖ + eps)); clipping never "
         "lengthens a gradient.", [g * scale for g in arrays] if scale > 1 else None),
        ("clip all gradients by one global norm: every parameter is scaled by the same factor, so the direction "
         "of the step is kept.", [g * min(1.0, max_norm / (n + eps)) for g, n in zip(arrays, norms)]),
        ("rescale the gradients by max_norm / (‖g‖ + eps) instead of clipping every entry to [−max_norm, max_norm]: "
         "value clipping changes the direction.", [np.clip(g, -max_norm, max_norm) for g in arrays]),
        ("divide by ‖g‖ + eps: the eps argument belongs in the denominator.",
         [g * min(1.0, max_norm / norm) for g in arrays] if eps_given and norm > 0 else None),
    ]


# --------------------------------------------------------------------------- LSTM step


def _lstm_step_cases(hidden: bool) -> Iterator[tuple[str, tuple[np.ndarray, ...]]]:
    """(description, (x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh))."""
    rng = case_rng(hidden, SALT + 5)
    specs: list[tuple[int, int, int, dict[str, Any]]] = [(3, 4, 5, {}), (2, 3, 2, {})]
    if hidden:
        specs += [(1, 2, 3, {}), (4, 3, 2, {"integer_x": True}), (3, 4, 3, {"transposed": True}),
                  (2, 3, 4, {"scale": 6.0}),  # saturated gates: σ ≈ 0 or 1, tanh ≈ ±1
                  (int(rng.integers(2, 6)), int(rng.integers(1, 6)), int(rng.integers(2, 6)), {})]
    for n, d, h, kw in specs:
        x, h_prev, w_ih, w_hh, b_ih, b_hh = _cell_case(rng, n, d, h, 4, **kw)
        c_prev = rng.standard_normal((n, h))
        extra = ", saturated gates" if kw.get("scale") else ""
        yield _describe_cell(x, h_prev, w_ih, extra), (x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh)


def _lstm_variant(args: Sequence[np.ndarray], *, order: str = "ifgo", g_act: str = "tanh", out_tanh: bool = True,
                  forget: bool = True, input_gate: bool = True, both_biases: bool = True
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An LSTM step with one known mistake: (h_next, c_next, gates [i f g o], tanh_c) as the mistaken code has them."""
    x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh = (np.asarray(a, dtype=np.float64) for a in args)
    hid = h_prev.shape[1]
    a = x @ w_ih.T + b_ih + h_prev @ w_hh.T + (b_hh if both_biases else 0.0)
    block = {name: a[:, k * hid:(k + 1) * hid] for k, name in enumerate(order)}
    i, f, o = _sigmoid(block["i"]), _sigmoid(block["f"]), _sigmoid(block["o"])
    g = np.tanh(block["g"]) if g_act == "tanh" else _sigmoid(block["g"])
    c = (f * c_prev if forget else c_prev) + (i * g if input_gate else g)
    tanh_c = np.tanh(c)
    return o * (tanh_c if out_tanh else c), c, np.concatenate([i, f, g, o], axis=1), tanh_c


_LSTM_FORWARD_MISTAKES: list[tuple[str, dict[str, Any]]] = [
    ("PyTorch's gate rows are i, f, g, o (CS231n's assignment uses i, f, o, g): the third block is the candidate g, "
     "the fourth the output gate o.", {"order": "ifog"}),
    ("the candidate g uses tanh (values in [−1, 1]); σ is for the three gates i, f, o.", {"g_act": "sigmoid"}),
    ("h_next = o ⊙ tanh(c_next): squash the cell state before the output gate.", {"out_tanh": False}),
    ("c_next = f ⊙ c_prev + i ⊙ g: the forget gate scales the old cell state.", {"forget": False}),
    ("c_next = f ⊙ c_prev + i ⊙ g: the input gate scales the candidate.", {"input_gate": False}),
    ("add both biases: a = x w_ihᵀ + b_ih + h_prev w_hhᵀ + b_hh.", {"both_biases": False}),
]


@exercise("lstm_step_forward")
def check_lstm_step_forward(lstm_step_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``lstm_step_forward(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh) -> (h_next, c_next, cache)``."""
    run = CheckRun("lstm_step_forward", hidden)
    for case, args in run.cases(_lstm_step_cases(hidden)):
        with run.case():
            result = call_student(lstm_step_forward, *args, name="lstm_step_forward")
            h_next, c_next, cache = unpack(result, 3, name="lstm_step_forward", names=("h_next", "c_next", "cache"))
            eh, ec, ecache = ref.lstm_step_forward(*args)
            variants = [(hint, _lstm_variant(args, **kw)[:2]) for hint, kw in _LSTM_FORWARD_MISTAKES]
            _expect_outputs((h_next, c_next), (eh, ec), ("h_next", "c_next"), case, variants)
            x, h_prev, c_prev, w_ih, w_hh = args[:5]
            a = x @ w_ih.T + args[5] + h_prev @ w_hh.T + args[6]
            _expect_cache("lstm_step_forward", cache, (x, h_prev, c_prev, w_ih, w_hh, ecache.gates, ecache.tanh_c),
                          ("x", "h_prev", "c_prev", "w_ih", "w_hh", "gates", "tanh_c"), case, mistakes={
                              "gates": [Mistake(a, "gates should hold the activations [i f g o] after σ and tanh, "
                                                   "not the pre-activations: the backward pass needs σ(a) and tanh(a).")],
                              "tanh_c": [Mistake(ec, "tanh_c is tanh(c_next), not c_next.")]})
    run.passed()


def _lstm_backward_variant(dh: np.ndarray, dc_next: np.ndarray, cache: Sequence[np.ndarray], *,
                           use_dc: bool = True, through_tanh: bool = True, times_f: bool = True,
                           order: str = "ifgo", reapply: bool = False) -> tuple[np.ndarray, ...]:
    """LSTM step gradients with one known mistake switched on (see the flags)."""
    x, h_prev, c_prev, w_ih, w_hh, gates, tanh_c = cache
    hid = h_prev.shape[1]
    i, f, g, o = (gates[:, k * hid:(k + 1) * hid] for k in range(4))
    dc = (dc_next if use_dc else 0.0) + dh * o * ((1 - tanh_c**2) if through_tanh else 1.0)
    sig_d = (lambda s: _sigmoid(s) * (1 - _sigmoid(s))) if reapply else (lambda s: s * (1 - s))
    tanh_d = (lambda t: 1 - np.tanh(t) ** 2) if reapply else (lambda t: 1 - t**2)
    blocks = {"i": dc * g * sig_d(i), "f": dc * c_prev * sig_d(f), "g": dc * i * tanh_d(g), "o": dh * tanh_c * sig_d(o)}
    da = np.concatenate([blocks[name] for name in order], axis=1)
    db = da.sum(axis=0)
    return da @ w_ih, da @ w_hh, dc * f if times_f else dc, da.T @ x, da.T @ h_prev, db, db


_LSTM_GRADS = ("dx", "dh_prev", "dc_prev", "dw_ih", "dw_hh", "db_ih", "db_hh")
_LSTM_BACKWARD_MISTAKES: list[tuple[str, dict[str, Any]]] = [
    ("add dc_next to the cell state's gradient: c_t reaches the loss through h_t and through c_{t+1}.",
     {"use_dc": False}),
    ("the path through h_t = o ⊙ tanh(c_t) needs tanh's derivative: δc = dc_next + dh_next ⊙ o ⊙ (1 − tanh²(c_t)).",
     {"through_tanh": False}),
    ("dc_prev = δc ⊙ f: c_t = f ⊙ c_{t−1} + …, so the old cell state's gradient is scaled by the forget gate.",
     {"times_f": False}),
    ("the cache holds the activations already: σ' = i(1 − i) and tanh' = 1 − g², without applying σ or tanh again.",
     {"reapply": True}),
    ("stack the pre-activation gradients in PyTorch's row order i, f, g, o (the order of the forward pass).",
     {"order": "ifog"}),
]


@exercise("lstm_step_backward")
def check_lstm_step_backward(lstm_step_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``lstm_step_backward(dh_next, dc_next, cache) -> (dx, dh_prev, dc_prev, dw_ih, dw_hh, db_ih, db_hh)``."""
    run = CheckRun("lstm_step_backward", hidden)
    rng = case_rng(hidden, SALT + 6)
    for k, (case, args) in enumerate(run.cases(_lstm_step_cases(hidden))):
        with run.case():
            args64 = tuple(np.asarray(a, dtype=np.float64) for a in args)
            _, _, ref_cache = ref.lstm_step_forward(*args64)
            cache = tuple(ref_cache)
            dh = rng.standard_normal(args64[1].shape)
            dc = rng.standard_normal(args64[1].shape)
            if hidden and k == 2:
                dc[:] = 0.0  # the last step of a sequence: nothing reaches c_T from later
                case += ", dc_next = 0"
            result = call_student(lstm_step_backward, dh, dc, cache, name="lstm_step_backward")
            got = unpack(result, 7, name="lstm_step_backward", names=_LSTM_GRADS)
            expected = ref.lstm_step_backward(dh, dc, ref_cache)
            variants = [(hint, _lstm_backward_variant(dh, dc, cache, **kw)) for hint, kw in _LSTM_BACKWARD_MISTAKES]
            _expect_outputs(got, expected, _LSTM_GRADS, case, variants, **GRAD_TOL)
            if hidden:
                expect_backward_matches_finite_differences(
                    "lstm_step_backward", lambda *a: np.stack(ref.lstm_step_forward(*a)[:2]), args64,
                    np.stack([dh, dc]), got, _LSTM_GRADS, case=case)
    run.passed()


# --------------------------------------------------------------------------- GRU step


def _gru_variant(args: Sequence[np.ndarray], *, reset_before: bool = False, swap_z: bool = False,
                 b_hn_outside: bool = False, order: str = "rzn") -> np.ndarray:
    """A GRU step (h_next) with one known mistake switched on."""
    x, h, w_ih, w_hh, b_ih, b_hh = (np.asarray(a, dtype=np.float64) for a in args)
    hid = h.shape[1]
    rows = {name: slice(k * hid, (k + 1) * hid) for k, name in enumerate(order)}
    gi = {name: x @ w_ih[s].T + b_ih[s] for name, s in rows.items()}
    r = _sigmoid(gi["r"] + h @ w_hh[rows["r"]].T + b_hh[rows["r"]])
    z = _sigmoid(gi["z"] + h @ w_hh[rows["z"]].T + b_hh[rows["z"]])
    w_hn, b_hn = w_hh[rows["n"]], b_hh[rows["n"]]
    if reset_before:
        n = np.tanh(gi["n"] + (r * h) @ w_hn.T + b_hn)
    elif b_hn_outside:
        n = np.tanh(gi["n"] + r * (h @ w_hn.T) + b_hn)
    else:
        n = np.tanh(gi["n"] + r * (h @ w_hn.T + b_hn))
    return z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h


_GRU_MISTAKES: list[tuple[str, dict[str, Any]]] = [
    ("PyTorch applies the reset gate after the product, r ⊙ (h W_hnᵀ + b_hn); applying it to h first "
     "(W_hn (r ⊙ h), the original paper's and d2l's form) is a different function.", {"reset_before": True}),
    ("h' = (1 − z) ⊙ n + z ⊙ h in PyTorch: z ≈ 1 keeps the old state.", {"swap_z": True}),
    ("b_hn belongs inside the reset: n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)).", {"b_hn_outside": True}),
    ("PyTorch's row blocks are r, z, n: the reset gate's rows come first.", {"order": "zrn"}),
]


@exercise("gru_step_forward")
def check_gru_step_forward(gru_step_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``gru_step_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh) -> (h_next, cache)`` (the cache is not checked)."""
    run = CheckRun("gru_step_forward", hidden)
    rng = case_rng(hidden, SALT + 7)
    specs: list[tuple[int, int, int, dict[str, Any]]] = [(3, 4, 5, {}), (2, 3, 2, {})]
    if hidden:
        specs += [(1, 2, 3, {}), (4, 3, 2, {"integer_x": True}), (3, 4, 3, {"transposed": True}),
                  (2, 3, 4, {"scale": 6.0}), (int(rng.integers(2, 6)), int(rng.integers(1, 6)), int(rng.integers(2, 6)), {})]
    cases = ((_describe_cell(a[0], a[1], a[2], ", saturated gates" if kw.get("scale") else ""), a)
             for a, kw in ((_cell_case(rng, n, d, h, 3, **kw), kw) for n, d, h, kw in specs))
    for case, args in run.cases(cases):
        with run.case():
            result = call_student(gru_step_forward, *args, name="gru_step_forward")
            h_next, _ = unpack(result, 2, name="gru_step_forward", names=("h_next", "cache"))
            expected, _ = ref.gru_step_forward(*args)
            _expect(h_next, expected, what="h_next", case=case,
                    mistakes=[Mistake(_gru_variant(args, **kw), hint) for hint, kw in _GRU_MISTAKES])
    run.passed()


# --------------------------------------------------------------------------- embeddings


def _embedding_cases(hidden: bool) -> Iterator[tuple[str, Any, np.ndarray]]:
    """(description, idx, w): repeated indices and symbols that never occur in every case."""
    rng = case_rng(hidden, SALT + 8)
    yield "idx of shape (2, 3) with a repeated symbol, w of shape (6, 4)", np.array([[1, 4, 1], [0, 1, 5]]), \
        rng.standard_normal((6, 4))
    yield "idx of shape (5,) without the last symbols, w of shape (8, 3)", np.array([2, 0, 5, 2, 3]), \
        rng.standard_normal((8, 3))
    if hidden:
        yield "a single index, idx of shape (1, 1)", np.array([[3]]), rng.standard_normal((5, 2))
        yield "idx as a Python list of lists", [[2, 2, 0], [1, 2, 2]], rng.standard_normal((4, 3))
        yield "a transposed (non-contiguous) table", rng.integers(0, 7, size=(3, 4)), rng.standard_normal((5, 7)).T
        yield "every position the same symbol", np.full((2, 5), 3), rng.standard_normal((4, 6))
        yield "int32 indices, a float32 table", rng.integers(0, 9, size=(2, 2, 3)).astype(np.int32), \
            rng.standard_normal((9, 4)).astype(np.float32)


@exercise("embedding_forward")
def check_embedding_forward(embedding_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``embedding_forward(idx, w) -> (out, cache)`` with cache = (idx, V, w.dtype)."""
    run = CheckRun("embedding_forward", hidden)
    for case, idx, w in run.cases(_embedding_cases(hidden)):
        with run.case():
            result = call_student(embedding_forward, idx, w, name="embedding_forward")
            out, cache = unpack(result, 2, name="embedding_forward", names=("out", "cache"))
            expected, _ = ref.embedding_forward(idx, w)
            idx_a = np.asarray(idx)
            expect_array(out, expected, what="embedding_forward's out", case=case, mistakes=[
                Mistake(w[idx_a.reshape(-1)], "keep idx's shape: out has shape idx.shape + (E,), one vector per position."),
                Mistake(w[idx_a - 1], "symbol ids start at 0: row v of w is the vector of symbol v."),
            ])
            if not isinstance(cache, (tuple, list)) or len(cache) != 3:
                raise CheckFailure(f"embedding_forward's cache should be the tuple (idx, V, w.dtype), as "
                                   f"embedding_backward expects ({case}).")
            expect_array(np.asarray(cache[0]), idx_a, what="cache item `idx`", case=case)
            expect_equal(cache[1], w.shape[0], what="cache item `V`", case=case, mistakes=[
                Mistake(int(idx_a.max()) + 1, "V is the number of rows of the table, w.shape[0], not the largest "
                        "index + 1: a symbol may not occur in this batch.")])
            expect_equal(np.dtype(cache[2]) if isinstance(cache[2], (np.dtype, type, str)) else cache[2], w.dtype,
                         what="cache item `dtype`", case=case)
    run.passed()


@exercise("embedding_backward")
def check_embedding_backward(embedding_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``embedding_backward(dout, cache) -> dw (V, E)`` (repeated indices accumulate)."""
    run = CheckRun("embedding_backward", hidden)
    rng = case_rng(hidden, SALT + 9)
    for case, idx, w in run.cases(_embedding_cases(hidden)):
        with run.case():
            idx_a = np.asarray(idx)
            dout = rng.standard_normal(idx_a.shape + (w.shape[1],)).astype(np.result_type(w.dtype, np.float32))
            cache = (idx_a, w.shape[0], w.dtype)
            dw = call_student(embedding_backward, dout, cache, name="embedding_backward")
            expected = ref.embedding_backward(dout, cache)
            flat_idx, flat_dout = idx_a.reshape(-1), dout.reshape(-1, w.shape[1])
            overwritten = np.zeros(expected.shape, dtype=expected.dtype)
            overwritten[flat_idx] += flat_dout  # what `dw[idx] += dout` leaves: one occurrence per row
            short = np.zeros((int(flat_idx.max()) + 1, w.shape[1]))
            np.add.at(short, flat_idx, flat_dout)
            tol = GRAD_TOL if expected.dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
            expect_array(dw, expected, what="dw", case=case, **tol, mistakes=[
                Mistake(overwritten, "a symbol that occurs several times must get the sum of all its gradients: "
                        "`dw[idx] += dout` writes a repeated row once; use np.add.at(dw, idx.ravel(), dout.reshape(-1, E))."),
                Mistake(short if short.shape != expected.shape else None,
                        "dw has the table's shape (V, E), V = cache[1], with zero rows for symbols that do not occur.",
                        partial=True),
                Mistake(dout, "dw is the gradient of the table (V, E): add each position's row of dout into the row "
                        "of its symbol."),
            ])
    run.passed()


# --------------------------------------------------------------------------- causal convolution


def _dilated_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, d: int, left: int, right: int) -> np.ndarray:
    """Cross-correlation of x (N, C, T) padded with ``left``/``right`` zeros, taps d apart: (N, F, T')."""
    xp = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (left, right)))
    k_size = w.shape[2]
    t_out = xp.shape[2] - (k_size - 1) * d
    if t_out < 1:
        return np.zeros((x.shape[0], w.shape[0], 0))
    out = np.zeros((x.shape[0], w.shape[0], t_out)) + b[:, None]
    for k in range(k_size):
        out += np.einsum("fc,nct->nft", w[:, :, k], xp[:, :, k * d:k * d + t_out])
    return out


def _causal_conv_cases(hidden: bool) -> Iterator[tuple[str, tuple[np.ndarray, np.ndarray, np.ndarray], int | None]]:
    """(description, (x, w, b), dilation or None for the default)."""
    rng = case_rng(hidden, SALT + 10)
    specs: list[tuple[int, int, int, int, int, int | None, str]] = [(2, 3, 8, 4, 3, None, ""), (1, 2, 10, 3, 2, 2, "")]
    if hidden:
        specs += [(2, 2, 6, 3, 1, 1, ""), (2, 3, 1, 2, 3, 2, ""), (1, 1, 5, 1, 3, 3, ""),  # K = 1; T = 1; T < (K−1)d
                  (3, 2, 9, 2, 2, 4, "integer"), (2, 3, 7, 2, 3, 1, "transposed"),
                  (int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(4, 12)), int(rng.integers(1, 4)),
                   int(rng.integers(2, 4)), int(rng.integers(1, 4)), "")]
    for n, c, t, f, k, d, special in specs:
        if special == "integer":
            x = rng.integers(-3, 4, size=(n, c, t))
        elif special == "transposed":
            x = rng.standard_normal((t, c, n)).transpose(2, 1, 0)
        else:
            x = rng.standard_normal((n, c, t))
        w, b = rng.standard_normal((f, c, k)), rng.standard_normal(f)
        shown = "default dilation (1)" if d is None else f"dilation {d}"
        extra = {"transposed": ", non-contiguous x", "integer": " (integers)"}.get(special, "")
        yield f"x of shape {(n, c, t)}{extra}, w of shape {(f, c, k)}, {shown}", (x, w, b), d


@exercise("causal_conv1d_forward")
def check_causal_conv1d_forward(causal_conv1d_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``causal_conv1d_forward(x, w, b, dilation=1) -> (out, cache)`` (the cache is not checked)."""
    run = CheckRun("causal_conv1d_forward", hidden)
    for case, (x, w, b), dilation in run.cases(_causal_conv_cases(hidden)):
        with run.case():
            kwargs = {} if dilation is None else {"dilation": dilation}
            result = call_student(causal_conv1d_forward, x, w, b, name="causal_conv1d_forward", **kwargs)
            out, _ = unpack(result, 2, name="causal_conv1d_forward", names=("out", "cache"))
            d = dilation or 1
            expected, _ = ref.causal_conv1d_forward(x, w, b, d)
            span = (w.shape[2] - 1) * d
            same = _dilated_conv(x, w, b, d, span // 2, span - span // 2)
            mistakes = [
                Mistake(same if span else None, "pad on the left only: with 'same' padding (zeros on both sides) "
                        "out[t] sees x[t + 1], …, the future.", partial=True),
                Mistake(_dilated_conv(x, w, b, d, 0, span) if span else None,
                        "the zeros go on the left (before t = 0), so that out[t] reads x[t], x[t − d], …: padding on "
                        "the right makes it read the future.", partial=True),
                Mistake(_dilated_conv(x, w[:, :, ::-1], b, d, span, 0) if w.shape[2] > 1 else None,
                        "tap k = K − 1 multiplies the present x[t] and tap 0 the oldest input: the kernel is "
                        "flipped.", partial=True),
                Mistake(_dilated_conv(x, w, b, 1, w.shape[2] - 1, 0) if d > 1 else None,
                        "taps are d steps apart: tap k reads x[t − (K − 1 − k)·d].", partial=True),
                Mistake(_dilated_conv(x, w, b, d, 0, 0) if 0 < span < x.shape[2] else None,
                        "pad (K − 1)·d zeros on the left so that the output keeps the input's length T.", partial=True),
            ]
            _expect(out, expected, what="out", case=case, mistakes=mistakes)
    run.passed()


# --------------------------------------------------------------------------- unigram baseline


def _unigram_cases(hidden: bool) -> Iterator[tuple[str, Any, Any, int]]:
    """(description, train ids, val ids, V)."""
    rng = case_rng(hidden, SALT + 11)
    p = np.array([0.4, 0.25, 0.2, 0.1, 0.05])
    train = np.concatenate([np.arange(5), rng.choice(5, size=35, p=p)])
    yield "train of 40 ids over V = 5 (every symbol occurs), val of 15", train, rng.choice(5, size=15, p=p), 5
    yield ("symbol 5 occurs in val but never in train, V = 6", rng.choice(5, size=30, p=p),
           np.array([0, 5, 1, 5, 2, 0, 0, 3]), 6)
    if hidden:
        yield "train and val as Python lists, V = 4", [0, 1, 1, 2, 3, 1, 1, 0], [1, 1, 3, 2], 4
        yield "a one-character validation text", rng.choice(5, size=20, p=p), np.array([2]), 5
        yield "V = 9 larger than every id", rng.choice(5, size=25, p=p), rng.choice(5, size=10, p=p), 9
        yield "a skewed train text", np.array([0] * 50 + [1, 2]), np.array([0, 0, 1, 2, 0]), 3


@exercise("unigram_cross_entropy")
def check_unigram_cross_entropy(unigram_cross_entropy: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``unigram_cross_entropy(train, val, vocab_size) -> float`` (nats per character)."""
    run = CheckRun("unigram_cross_entropy", hidden)
    for case, train, val, vocab in run.cases(_unigram_cases(hidden)):
        with run.case():
            got = call_student(unigram_cross_entropy, train, val, vocab, name="unigram_cross_entropy")
            expected = ref.unigram_cross_entropy(train, val, vocab)
            counts = np.bincount(np.asarray(train), minlength=vocab).astype(np.float64)
            v = np.asarray(val)
            smoothed = (counts + 1) / (counts.sum() + vocab)
            with np.errstate(divide="ignore"):
                mle = -np.mean(np.log(counts / counts.sum())[v])
            val_counts = np.bincount(v, minlength=vocab) + 1.0
            expect_scalar(got, expected, what="unigram_cross_entropy", case=case, mistakes=[
                Mistake(mle, "add one to every count (Laplace smoothing): a character that never occurs in the "
                        "training text would otherwise get probability 0 and cost −log 0 = ∞."),
                Mistake(expected / np.log(2), "return nats (natural logarithm); bits = nats / ln 2 come later."),
                Mistake(-np.mean(np.log((counts + 1) / counts.sum())[v]),
                        "divide the smoothed counts by L + V, so that the probabilities still sum to 1."),
                Mistake(-np.mean(np.log(val_counts / val_counts.sum())[v]),
                        "estimate the frequencies on the training text; the validation text is only scored."),
                Mistake(-np.sum(np.log(smoothed)[v]), "average over the validation characters: the cross-entropy "
                        "is per character."),
                Mistake(-np.sum(smoothed * np.log(smoothed)), "score the validation text: −mean_t log p(val_t), not "
                        "the entropy of the training distribution."),
            ])
    run.passed()


# --------------------------------------------------------------------------- character model (PyTorch)


def _lm_expected_names(num_layers: int) -> list[str]:
    names = ["embed.weight"]
    for k in range(num_layers):
        names += [f"rnn.{p}_l{k}" for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    return names + ["head.weight", "head.bias"]


def _lm_shapes(vocab: int, embed: int, hidden_size: int, num_layers: int, gates: int = 4,
               head_bias: bool = True) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {"embed.weight": (vocab, embed)}
    for k in range(num_layers):
        d = embed if k == 0 else hidden_size
        shapes.update({f"rnn.weight_ih_l{k}": (gates * hidden_size, d), f"rnn.weight_hh_l{k}": (gates * hidden_size, hidden_size),
                       f"rnn.bias_ih_l{k}": (gates * hidden_size,), f"rnn.bias_hh_l{k}": (gates * hidden_size,)})
    shapes["head.weight"] = (vocab, hidden_size)
    if head_bias:
        shapes["head.bias"] = (vocab,)
    return shapes


def _lm_numpy(idx: np.ndarray, params: dict[str, np.ndarray], num_layers: int,
              state: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The character model computed with the reference: (logits (N, T, V), (h_n, c_n) each (L, N, H))."""
    x, _ = ref.embedding_forward(idx, params["embed.weight"])
    n, hid = idx.shape[0], params["rnn.weight_hh_l0"].shape[1]
    h_n, c_n = [], []
    for k in range(num_layers):
        h0 = np.zeros((n, hid)) if state is None else state[0][k]
        c0 = np.zeros((n, hid)) if state is None else state[1][k]
        x, cache = ref.lstm_forward(x, h0, c0, *(params[f"rnn.{p}_l{k}"] for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
        h_n.append(x[:, -1])
        c_n.append(cache.c[-1])
    return x @ params["head.weight"].T + params["head.bias"], (np.stack(h_n), np.stack(c_n))


def _lm_cases(hidden: bool) -> Iterator[tuple[str, tuple[int, int, int, int], np.ndarray, dict[str, np.ndarray]]]:
    """(description, (V, E, H, L), idx (N, T), parameters by name)."""
    rng = case_rng(hidden, SALT + 12)
    specs = [(7, 3, 5, 1, 2, 6), (5, 4, 3, 2, 3, 4)]  # V, E, H, L, N, T
    if hidden:
        specs += [(6, 2, 4, 1, 1, 5), (4, 3, 3, 2, 2, 1), (9, 5, 6, 3, 2, 7),
                  (int(rng.integers(3, 10)), int(rng.integers(1, 5)), int(rng.integers(2, 7)), 1,
                   int(rng.integers(1, 4)), int(rng.integers(2, 8)))]
    for vocab, embed, hid, layers, n, t in specs:
        params = {name: 0.6 * rng.standard_normal(shape)
                  for name, shape in _lm_shapes(vocab, embed, hid, layers).items()}
        idx = rng.integers(0, vocab, size=(n, t))
        yield (f"V={vocab}, E={embed}, H={hid}, num_layers={layers}, idx of shape {(n, t)}",
               (vocab, embed, hid, layers), idx, params)


def _as_array(value: Any, what: str, case: str) -> np.ndarray:
    """A torch tensor the model returned, as a float64 array (or a failure saying what it was)."""
    import torch

    if not isinstance(value, torch.Tensor):
        raise CheckFailure(f"{what} should be a torch.Tensor, got {type(value).__name__} ({case}).")
    return value.detach().cpu().numpy()


def _lm_state(state: Any, case: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise CheckFailure(f"{what} should be the LSTM's state (h_n, c_n), as nn.LSTM returns it, got "
                           f"{type(state).__name__} ({case}).")
    return _as_array(state[0], f"{what}'s h_n", case), _as_array(state[1], f"{what}'s c_n", case)


@exercise("CharLM")
def check_char_lm(CharLM: type, hidden: bool = False) -> None:  # noqa: N803  (the student's class)
    """Check the class ``CharLM(vocab_size, embed_dim, hidden_size, num_layers)``: embed → LSTM → head.

    The check builds the model, compares its parameters' names and shapes with the contract, copies
    random float64 weights into it by name, and compares ``model(idx)`` (logits and state) and
    ``model(idx[:, k:], state)`` after ``model(idx[:, :k])`` with the reference's computation.
    """
    import torch

    run = CheckRun("CharLM", hidden)
    for case, (vocab, embed, hid, layers), idx, params in run.cases(_lm_cases(hidden)):
        with run.case():
            model = call_student(CharLM, vocab, embed, hid, layers, name="CharLM")
            if not isinstance(model, torch.nn.Module):
                raise CheckFailure(f"CharLM(...) should build a torch.nn.Module, got {type(model).__name__} ({case}).")
            _expect_lm_parameters(model, vocab, embed, hid, layers, case)
            model = model.double()
            with torch.no_grad():
                for name, p in model.named_parameters():
                    p.copy_(torch.from_numpy(params[name]))
            idx_t = torch.as_tensor(idx, dtype=torch.long)
            with torch.no_grad():  # values only; outputs without a graph can be copied by the guard
                result = call_student(model, idx_t, name="CharLM.forward")
            logits, state = unpack(result, 2, name="CharLM.forward", names=("logits", "state"))
            expected, (eh, ec) = _lm_numpy(idx, params, layers)
            got = _as_array(logits, "CharLM.forward's logits", case)
            seq_first = _lm_numpy(idx.T, params, layers)[0].transpose(1, 0, 2)
            shifted = expected - expected.max(axis=-1, keepdims=True)
            probs = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
            _expect(got, expected, what="logits", case=case, rtol=1e-6, atol=1e-9, mistakes=[
                Mistake(seq_first if idx.shape[0] > 1 and idx.shape[1] > 1 else None,
                        "create the LSTM with batch_first=True: without it nn.LSTM reads (N, T, E) as (T, N, E) and "
                        "runs the recurrence over the batch.", partial=True),
                Mistake(expected[:, -1], "read out every step: head(h) for h of shape (N, T, H), one prediction "
                        "per position, not only the last."),
                Mistake(probs, "return the raw scores (logits): F.cross_entropy applies the log-softmax itself."),
            ])
            h_n, c_n = _lm_state(state, case, "CharLM.forward's state")
            _expect(h_n, eh, what="state h_n", case=case, rtol=1e-6, atol=1e-9)
            _expect(c_n, ec, what="state c_n", case=case, rtol=1e-6, atol=1e-9)
            if idx.shape[1] > 1:
                _expect_lm_continues(model, idx, params, layers, expected, case)
    run.passed()


def _expect_lm_parameters(model: Any, vocab: int, embed: int, hid: int, layers: int, case: str) -> None:
    """Parameter count first (with the mistakes that change it), then names and shapes."""
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    wanted = _lm_shapes(vocab, embed, hid, layers)

    def count(s: dict[str, tuple[int, ...]]) -> int:
        return int(sum(np.prod(v) for v in s.values()))

    expect_equal(count(shapes), count(wanted), what="the number of parameters", case=case, mistakes=[
        Mistake(count(_lm_shapes(vocab, embed, hid, layers, gates=3)), "that is the count of a GRU (3 gate blocks): "
                "the model uses an nn.LSTM (4 blocks, i, f, g, o)."),
        Mistake(count(_lm_shapes(vocab, embed, hid, layers, gates=1)), "that is the count of a plain nn.RNN: the "
                "model uses an nn.LSTM."),
        Mistake(count(_lm_shapes(vocab, embed, hid, 1)) if layers > 1 else None,
                "pass num_layers to nn.LSTM: the model stacks that many layers.", partial=True),
        Mistake(count(_lm_shapes(vocab, embed, hid, layers, head_bias=False)),
                "the read-out is nn.Linear(H, V) with its bias."),
        Mistake(count(_lm_shapes(vocab, vocab, hid, layers)) - vocab * vocab,
                "the LSTM reads the embeddings: nn.Embedding(V, E), then nn.LSTM(E, H)."),
    ])
    missing, unexpected = sorted(set(wanted) - set(shapes)), sorted(set(shapes) - set(wanted))
    if missing or unexpected:
        raise CheckFailure(
            f"CharLM's parameters should be named {', '.join(_lm_expected_names(layers))}; missing "
            f"{', '.join(missing) or 'none'}, unexpected {', '.join(unexpected) or 'none'} ({case}).\n"
            f"  Hint: name the three parts self.embed, self.rnn and self.head (the weights are copied by name).")
    for name in _lm_expected_names(layers):
        expect_equal(shapes[name], wanted[name], what=f"the shape of {name}", case=case)


def _expect_lm_continues(model: Any, idx: np.ndarray, params: dict[str, np.ndarray], layers: int,
                         expected: np.ndarray, case: str) -> None:
    """Reading idx in two chunks, the state handed on, gives the logits of reading it at once."""
    import torch

    k = idx.shape[1] // 2
    with torch.no_grad():
        first = unpack(call_student(model, torch.as_tensor(idx[:, :k]), name="CharLM.forward"), 2,
                       name="CharLM.forward", names=("logits", "state"))
        second = unpack(call_student(model, torch.as_tensor(idx[:, k:]), first[1], name="CharLM.forward"), 2,
                        name="CharLM.forward", names=("logits", "state"))
    got = _as_array(second[0], "CharLM.forward's logits", case)
    _expect(got, expected[:, k:], what=f"the logits of idx[:, {k}:] read with the state left by idx[:, :{k}]",
            case=case, rtol=1e-6, atol=1e-9, mistakes=[
                Mistake(_lm_numpy(idx[:, k:], params, layers)[0],
                        "hand the state on: self.rnn(self.embed(idx), state), so that a text can be read in chunks.")])
