"""Lecture 10's NumPy reference (``dlcourse.ref.rnn``): every backward pass against central
finite differences in float64, every layer against PyTorch's built-in with copied weights
(outputs and gradients), and the input checks.

Tolerances: finite differences (h = 1e-5, ``rel_error`` = max_i |a − b| / (|a| + |b|)) at most
1e-7 for one step, embeddings and causal convolutions, 1e-6 for whole sequences (more terms,
more rounding); against PyTorch in float64, 1e-10 relative to the largest entry.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.ref.gradcheck import numerical_gradient_array, rel_error
from dlcourse.ref.rnn import (
    causal_conv1d_backward,
    causal_conv1d_forward,
    clip_grad_norm,
    embedding_backward,
    embedding_forward,
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    receptive_field,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

FAST = settings(max_examples=20, deadline=None)
STEP_TOL, SEQ_TOL, TORCH_TOL = 1e-7, 1e-6, 1e-10
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def close(actual, expected, tol: float = TORCH_TOL) -> None:
    """Equal within tol relative to the largest entry of expected (tensors or arrays)."""
    a = actual.detach().cpu().numpy() if isinstance(actual, torch.Tensor) else np.asarray(actual)
    b = expected.detach().cpu().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale)


def params(rng: np.random.Generator, kind: str, d: int, h: int, scale: float = 0.5) -> list[np.ndarray]:
    g = GATES[kind] * h
    return [scale * rng.standard_normal(s) for s in ((g, d), (g, h), (g,), (g,))]


def fd_check(forward, args: list[np.ndarray], grads, dout, tol: float, h: float = 1e-5) -> list[float]:
    """rel_error of every analytic gradient against central differences of ⟨forward(args), dout⟩.

    forward(*args) returns one array, or a tuple of arrays paired with a tuple dout. Returns the errors.
    """
    errors = []
    douts = dout if isinstance(dout, tuple) else (dout,)
    for k, grad in enumerate(grads):
        work = [a.copy() for a in args]

        def f(z, k=k, work=work):
            work[k] = z
            out = forward(*work)
            outs = out if isinstance(out, tuple) else (out,)
            return sum(float(np.sum(o * d)) for o, d in zip(outs, douts))

        numeric = numerical_gradient_array(lambda z: np.array(f(z)), work[k], np.array(1.0), h)
        errors.append(rel_error(grad, numeric))
        assert errors[-1] <= tol, f"gradient {k}: rel_error {errors[-1]:.2e} > {tol:g}"
    return errors


# ---------------------------------------------------------------- finite differences, one step


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_backward_matches_finite_differences(nonlinearity: str) -> None:
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    p = params(rng, "rnn", 4, 5)
    out, cache = rnn_step_forward(x, h, *p, nonlinearity=nonlinearity)
    pre = x @ p[0].T + p[2] + h @ p[1].T + p[3]
    assert np.abs(pre).min() > 1e-3  # no pre-activation at ReLU's kink: the derivative exists
    dout = rng.standard_normal(out.shape)
    grads = rnn_step_backward(dout, cache)
    assert [g.shape for g in grads] == [a.shape for a in (x, h, *p)]
    fd_check(lambda *a: rnn_step_forward(*a, nonlinearity=nonlinearity)[0], [x, h, *p], grads, dout, STEP_TOL)


def test_lstm_step_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    x, h, c = rng.standard_normal((3, 4)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    p = params(rng, "lstm", 4, 5)
    h1, c1, cache = lstm_step_forward(x, h, c, *p)
    dh, dc = rng.standard_normal(h1.shape), rng.standard_normal(c1.shape)
    dc_in = dc.copy()
    dx, dh0, dc0, *dp = lstm_step_backward(dh, dc, cache)
    assert np.array_equal(dc, dc_in)  # the caller's array is not overwritten
    fd_check(lambda *a: lstm_step_forward(*a)[:2], [x, h, c, *p], [dx, dh0, dc0, *dp], (dh, dc), STEP_TOL)


def test_gru_step_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(2)
    x, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    p = params(rng, "gru", 4, 5)
    out, cache = gru_step_forward(x, h, *p)
    dout = rng.standard_normal(out.shape)
    grads = gru_step_backward(dout, cache)
    assert not np.allclose(grads[4], grads[5])  # r scales only the hidden side: db_ih ≠ db_hh
    fd_check(lambda *a: gru_step_forward(*a)[0], [x, h, *p], grads, dout, STEP_TOL)


# ---------------------------------------------------------------- finite differences, sequences (BPTT)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_sequence_backward_matches_finite_differences(kind: str) -> None:
    rng = np.random.default_rng(3)
    n, t, d, h = 2, 6, 3, 4
    x, h0 = rng.standard_normal((n, t, d)), rng.standard_normal((n, h))
    p = params(rng, kind, d, h)
    dout = rng.standard_normal((n, t, h))
    if kind == "lstm":
        c0, dc_last = rng.standard_normal((n, h)), rng.standard_normal((n, h))
        out, cache = lstm_forward(x, h0, c0, *p)
        grads = lstm_backward(dout, cache, dc_last)

        def fwd(*a):
            hs, cache = lstm_forward(*a)
            return hs, cache.c[-1]

        fd_check(fwd, [x, h0, c0, *p], grads, (dout, dc_last), SEQ_TOL)
    else:
        fwd = rnn_forward if kind == "rnn" else gru_forward
        out, cache = fwd(x, h0, *p)
        grads = (rnn_backward if kind == "rnn" else gru_backward)(dout, cache)
        fd_check(lambda *a: fwd(*a)[0], [x, h0, *p], grads, dout, SEQ_TOL)


def test_gradient_through_time_reaches_the_first_input() -> None:
    """Only the last output is in the loss, yet x_1 gets a gradient: it flows back through every step."""
    rng = np.random.default_rng(4)
    x, h0 = rng.standard_normal((2, 5, 3)), np.zeros((2, 4))
    p = params(rng, "rnn", 3, 4)
    out, cache = rnn_forward(x, h0, *p)
    dout = np.zeros_like(out)
    dout[:, -1] = 1.0
    dx = rnn_backward(dout, cache)[0]
    assert np.all(np.abs(dx[:, 0]) > 0)
    fd_check(lambda *a: rnn_forward(*a)[0], [x, h0, *p], rnn_backward(dout, cache), dout, SEQ_TOL)


# ---------------------------------------------------------------- against PyTorch


@st.composite
def rnn_setups(draw):
    n, t, d, h = draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    return n, t, d, h, draw(st.integers(0, 2**32 - 1))


def torch_module(kind: str, d: int, h: int, p: list[np.ndarray], nonlinearity: str = "tanh"):
    """nn.RNN / nn.LSTM / nn.GRU (batch_first) in float64 holding exactly the weights p."""
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    extra = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
    m = cls(d, h, batch_first=True, **extra).double()
    with torch.no_grad():
        for name, a in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), p):
            getattr(m, name).copy_(torch.from_numpy(a))
    return m


@FAST
@given(setup=rnn_setups(), kind=st.sampled_from(["rnn", "rnn-relu", "lstm", "gru"]))
def test_sequences_equal_torch_modules(setup, kind: str) -> None:
    n, t, d, h, seed = setup
    kind, nonlinearity = ("rnn", "relu") if kind == "rnn-relu" else (kind, "tanh")
    rng = np.random.default_rng(seed)
    x, h0, c0 = rng.standard_normal((n, t, d)), rng.standard_normal((n, h)), rng.standard_normal((n, h))
    p = params(rng, kind, d, h)
    m = torch_module(kind, d, h, p, nonlinearity)
    tx, th0, tc0 = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    dout = rng.standard_normal((n, t, h))
    if kind == "lstm":
        expected, (hn, cn) = m(tx, (th0[None], tc0[None]))
        dc_last = rng.standard_normal((n, h))
        torch.autograd.backward([expected, cn[0]], [torch.tensor(dout), torch.tensor(dc_last)])
        out, cache = lstm_forward(x, h0, c0, *p)
        close(cache.c[-1], cn[0])
        grads = lstm_backward(dout, cache, dc_last)
        inputs = [tx, th0, tc0]
    else:
        expected, hn = m(tx, th0[None])
        expected.backward(torch.tensor(dout))
        fwd, bwd = (rnn_forward, rnn_backward) if kind == "rnn" else (gru_forward, gru_backward)
        out, cache = fwd(x, h0, *p, **({"nonlinearity": nonlinearity} if kind == "rnn" else {}))
        grads = bwd(dout, cache)
        inputs = [tx, th0]
    close(out, expected)
    close(out[:, -1], hn[0])
    assert out.flags.c_contiguous
    expected_grads = [a.grad for a in inputs] + [getattr(m, f"{w}_l0").grad for w in
                                                 ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert len(grads) == len(expected_grads)
    for g, e in zip(grads, expected_grads):
        close(g, e)


@FAST
@given(setup=rnn_setups(), kind=st.sampled_from(["rnn", "rnn-relu", "lstm", "gru"]))
def test_steps_equal_torch_cells(setup, kind: str) -> None:
    n, _, d, h, seed = setup
    kind, nonlinearity = ("rnn", "relu") if kind == "rnn-relu" else (kind, "tanh")
    rng = np.random.default_rng(seed)
    x, h0, c0 = rng.standard_normal((n, d)), rng.standard_normal((n, h)), rng.standard_normal((n, h))
    p = params(rng, kind, d, h)
    cls = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[kind]
    cell = cls(d, h, **({"nonlinearity": nonlinearity} if kind == "rnn" else {})).double()
    with torch.no_grad():
        for name, a in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), p):
            getattr(cell, name).copy_(torch.from_numpy(a))
    tx, th0, tc0 = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    dh = rng.standard_normal((n, h))
    if kind == "lstm":
        eh, ec = cell(tx, (th0, tc0))
        dc = rng.standard_normal((n, h))
        torch.autograd.backward([eh, ec], [torch.tensor(dh), torch.tensor(dc)])
        h1, c1, cache = lstm_step_forward(x, h0, c0, *p)
        close(h1, eh), close(c1, ec)
        grads, inputs = lstm_step_backward(dh, dc, cache), [tx, th0, tc0]
    else:
        eh = cell(tx, th0)
        eh.backward(torch.tensor(dh))
        if kind == "rnn":
            h1, cache = rnn_step_forward(x, h0, *p, nonlinearity=nonlinearity)
            grads = rnn_step_backward(dh, cache)
        else:
            h1, cache = gru_step_forward(x, h0, *p)
            grads = gru_step_backward(dh, cache)
        close(h1, eh)
        inputs = [tx, th0]
    for g, e in zip(grads, [a.grad for a in inputs] + [cell.weight_ih.grad, cell.weight_hh.grad,
                                                        cell.bias_ih.grad, cell.bias_hh.grad]):
        close(g, e)


def test_sequence_equals_the_step_unrolled() -> None:
    """One shared cell: the sequence functions are the step functions applied T times."""
    rng = np.random.default_rng(5)
    x, h0, c0 = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    for kind in ("rnn", "lstm", "gru"):
        p = params(rng, kind, 3, 5)
        h, c, steps = h0, c0, []
        for t in range(4):
            if kind == "lstm":
                h, c, _ = lstm_step_forward(x[:, t], h, c, *p)
            else:
                h, _ = (rnn_step_forward if kind == "rnn" else gru_step_forward)(x[:, t], h, *p)
            steps.append(h)
        seq = lstm_forward(x, h0, c0, *p)[0] if kind == "lstm" else \
            (rnn_forward if kind == "rnn" else gru_forward)(x, h0, *p)[0]
        close(seq, np.stack(steps, axis=1), 1e-13)


def test_float32_stays_float32_and_integers_become_float64() -> None:
    rng = np.random.default_rng(6)
    x, h0, c0 = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 4), (2, 5), (2, 5)))
    for kind in ("rnn", "lstm", "gru"):
        p = [a.astype(np.float32) for a in params(rng, kind, 4, 5)]
        if kind == "lstm":
            out, cache = lstm_forward(x, h0, c0, *p)
            grads = lstm_backward(np.ones_like(out), cache)
        else:
            fwd, bwd = (rnn_forward, rnn_backward) if kind == "rnn" else (gru_forward, gru_backward)
            out, cache = fwd(x, h0, *p)
            grads = bwd(np.ones_like(out), cache)
        assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads), kind
    out, _ = rnn_forward(np.ones((1, 2, 3), dtype=int), np.zeros((1, 2), dtype=int), *params(rng, "rnn", 3, 2))
    assert out.dtype == np.float64


def test_lstm_saturated_gates_do_not_overflow() -> None:
    """σ through tanh: huge pre-activations give 0 or 1, never an overflow warning (an error here)."""
    rng = np.random.default_rng(7)
    p = [1e4 * a for a in params(rng, "lstm", 3, 4)]
    for dtype in (np.float32, np.float64):
        h, cache = lstm_forward(rng.standard_normal((2, 3, 3)).astype(dtype), np.zeros((2, 4), dtype),
                                np.zeros((2, 4), dtype), *(a.astype(dtype) for a in p))
        sig = np.concatenate([cache.gates[..., :8], cache.gates[..., 12:]], axis=-1)  # i, f, o
        assert np.all(np.isfinite(h)) and sig.min() >= 0 and sig.max() <= 1 and np.abs(cache.gates[..., 8:12]).max() <= 1
        assert np.all(np.isfinite(lstm_backward(np.ones_like(h), cache)[0]))


# ---------------------------------------------------------------- embeddings


def test_embedding_matches_torch_and_accumulates_repeated_indices() -> None:
    rng = np.random.default_rng(8)
    w = rng.standard_normal((7, 3))
    idx = np.array([[1, 3, 1, 1], [6, 0, 3, 1]])  # row 1 four times, row 3 twice, rows 2, 4, 5 never
    out, cache = embedding_forward(idx, w)
    tw = torch.tensor(w, requires_grad=True)
    expected = F.embedding(torch.tensor(idx), tw)
    close(out, expected)
    dout = rng.standard_normal(out.shape)
    expected.backward(torch.tensor(dout))
    dw = embedding_backward(dout, cache)
    close(dw, tw.grad)
    assert np.allclose(dw[1], dout[idx == 1].sum(axis=0)) and not np.any(dw[[2, 4, 5]])
    # The mistake a scatter-add avoids: fancy-index assignment keeps one gradient per row.
    wrong = np.zeros_like(w)
    wrong[idx.reshape(-1)] += dout.reshape(-1, 3)
    assert not np.allclose(wrong, dw)
    numeric = numerical_gradient_array(lambda z: embedding_forward(idx, z)[0], w.copy(), dout)
    assert rel_error(dw, numeric) <= STEP_TOL


def test_embedding_is_one_hot_times_the_table() -> None:
    rng = np.random.default_rng(9)
    w, idx = rng.standard_normal((5, 2)), rng.integers(0, 5, size=(3, 4))
    close(embedding_forward(idx, w)[0], np.eye(5)[idx] @ w, 1e-15)


# ---------------------------------------------------------------- clipping


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(max_norm: float, norm_type: float) -> None:
    rng = np.random.default_rng(10)
    grads = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4), "v": 3 * rng.standard_normal((2, 2))}
    before = {k: v.copy() for k, v in grads.items()}
    clipped, norm = clip_grad_norm(grads, max_norm, norm_type)
    tensors = [torch.tensor(g, requires_grad=True) for g in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g)
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type)
    assert isinstance(norm, float) and norm == pytest.approx(float(expected), rel=1e-12)
    assert list(clipped) == list(grads)  # same names, same order
    for k, t in zip(clipped, tensors):
        close(clipped[k], t.grad)
    for k in grads:
        assert np.array_equal(grads[k], before[k])  # the input is not modified
    # One global norm: every gradient is scaled by the same factor, so directions are kept.
    factors = {float(np.sum(clipped[k] * grads[k]) / np.sum(grads[k] ** 2)) for k in grads}
    assert max(factors) - min(factors) < 1e-12
    if norm > max_norm:
        new_norm = clip_grad_norm(clipped, 1e9, norm_type)[1]
        assert new_norm == pytest.approx(max_norm, rel=1e-5)
    else:
        assert all(np.array_equal(clipped[k], grads[k]) for k in grads)


def test_clip_grad_norm_on_a_list_and_edge_cases() -> None:
    clipped, norm = clip_grad_norm([np.array([3.0, 0.0]), np.array([[4.0]])], 1.0)
    assert norm == 5.0 and isinstance(clipped, list)
    assert np.allclose(clipped[0], [0.6, 0.0], atol=1e-6) and np.allclose(clipped[1], [[0.8]], atol=1e-6)
    assert clip_grad_norm([np.zeros(3)], 1.0)[1] == 0.0
    assert clip_grad_norm({}, 1.0) == ({}, 0.0)
    assert clip_grad_norm([np.ones(2, dtype=np.float32)], 0.5)[0][0].dtype == np.float32
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm([np.ones(2)], 0.0)


# ---------------------------------------------------------------- causal convolution


@FAST
@given(n=st.integers(1, 2), c=st.integers(1, 3), f=st.integers(1, 3), t=st.integers(1, 9),
       k=st.integers(1, 4), dilation=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_causal_conv1d_equals_left_padded_torch_conv(n, c, f, t, k, dilation, seed) -> None:
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((n, c, t)), rng.standard_normal((f, c, k)), rng.standard_normal(f)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    expected = F.conv1d(F.pad(tx, ((k - 1) * dilation, 0)), tw, tb, dilation=dilation)
    out, cache = causal_conv1d_forward(x, w, b, dilation)
    close(out, expected)
    dout = rng.standard_normal(out.shape)
    expected.backward(torch.tensor(dout))
    for g, e in zip(causal_conv1d_backward(dout, cache), (tx, tw, tb)):
        close(g, e.grad)


@pytest.mark.parametrize("k,dilation", [(1, 1), (2, 1), (3, 2), (2, 4)])
def test_causal_conv1d_backward_matches_finite_differences(k: int, dilation: int) -> None:
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((2, 3, 7)), rng.standard_normal((2, 3, k)), rng.standard_normal(2)
    out, cache = causal_conv1d_forward(x, w, b, dilation)
    dout = rng.standard_normal(out.shape)
    # The convolution is linear in each argument: central differences have no truncation error,
    # so a large step only shrinks the rounding error (which entries that cancel to ~1e-5 magnify).
    fd_check(lambda *a: causal_conv1d_forward(*a, dilation)[0], [x, w, b], causal_conv1d_backward(dout, cache),
             dout, STEP_TOL, h=1e-3)


def test_causal_conv1d_never_looks_ahead_and_the_receptive_field_grows_with_dilation() -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((1, 1, 20))
    w, b = rng.standard_normal((1, 1, 2)), np.zeros(1)
    later = x.copy()
    later[..., 10:] = rng.standard_normal(10)  # change the future only
    assert np.array_equal(causal_conv1d_forward(x, w, b, 3)[0][..., :10], causal_conv1d_forward(later, w, b, 3)[0][..., :10])
    # A stack with dilations 1, 2, 4 (K = 2): the last output sees exactly 8 inputs.
    dilations = (1, 2, 4)
    caches, h = [], x
    for d in dilations:
        h, cache = causal_conv1d_forward(h, np.abs(w) + 0.1, b, d)
        caches.append(cache)
    g = np.zeros_like(h)
    g[..., -1] = 1.0
    for cache in reversed(caches):
        g = causal_conv1d_backward(g, cache)[0]
    assert np.count_nonzero(g) == receptive_field(2, dilations) == 8
    assert receptive_field(3, [1]) == 3 and receptive_field(2, []) == 1


# ---------------------------------------------------------------- input checks


def test_bad_inputs_get_clear_errors() -> None:
    rng = np.random.default_rng(13)
    x, h0, c0 = rng.standard_normal((2, 3, 4)), np.zeros((2, 5)), np.zeros((2, 5))
    lstm_p, rnn_p = params(rng, "lstm", 4, 5), params(rng, "rnn", 4, 5)
    with pytest.raises(ValueError, match=r"w_ih has shape \(5, 4\); expected \(4·H, D\) = \(20, 4\)"):
        lstm_forward(x, h0, c0, *rnn_p)
    with pytest.raises(ValueError, match=r"x has shape \(2, 4\); expected \(N, T, D\)"):
        rnn_forward(x[:, 0], h0, *rnn_p)
    with pytest.raises(ValueError, match=r"x has shape \(2, 3, 4\); expected \(N, D\)"):
        rnn_step_forward(x, h0, *rnn_p)
    with pytest.raises(ValueError, match="at least one time step"):
        gru_forward(np.zeros((2, 0, 4)), h0, *params(rng, "gru", 4, 5))
    with pytest.raises(ValueError, match="hidden state has shape"):
        rnn_forward(x, np.zeros((3, 5)), *rnn_p)
    with pytest.raises(ValueError, match="c0 has shape"):
        lstm_forward(x, h0, np.zeros((2, 4)), *lstm_p)
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn_forward(x, h0, *rnn_p, nonlinearity="sigmoid")
    out, cache = rnn_forward(x, h0, *rnn_p)
    with pytest.raises(ValueError, match="dh has shape"):
        rnn_backward(out[:, :2], cache)
    with pytest.raises(ValueError, match="integer token indices"):
        embedding_forward(np.array([0.0, 1.0]), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        embedding_forward(np.array([0, 3]), np.ones((3, 2)))
    with pytest.raises(ValueError, match="expected \\(F, C, K\\)"):
        causal_conv1d_forward(np.ones((1, 2, 5)), np.ones((1, 3, 2)), np.ones(1))
    with pytest.raises(ValueError, match="dilation"):
        causal_conv1d_forward(np.ones((1, 2, 5)), np.ones((1, 2, 2)), np.ones(1), dilation=0)
