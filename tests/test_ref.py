"""The NumPy reference (the answer key) against central finite differences and PyTorch.

Everything here is float64. Finite differences use ``dlcourse.ref.numerical_gradient_array``,
whose own correctness is established below against an independent few-line implementation
and against functions with known gradients.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse import ref

torch = pytest.importorskip("torch")
F = torch.nn.functional

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)
# Example shapes (d_1, ..., d_k) with k = 1..3: covers 2-D, 3-D and 4-D inputs of affine.
feature_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def t64(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-12, atol: float = 1e-12) -> None:
    actual = actual.detach().numpy() if isinstance(actual, torch.Tensor) else np.asarray(actual)
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def assert_grad_matches_fd(analytic: np.ndarray, numeric: np.ndarray) -> None:
    """A correct float64 backward pass against h = 1e-5 central differences."""
    assert analytic.shape == numeric.shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-8)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], gap: float = 1e-2) -> np.ndarray:
    """Gaussian values with |x| ≥ gap, so a kink at 0 is never inside a finite-difference step."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < gap, np.sign(x + 1e-300) * gap * 2, x)


# ---------------------------------------------------------------- affine


@FAST
@given(seed=seeds, n=st.integers(1, 4), dims=feature_shapes, m=st.integers(1, 5))
def test_affine_forward_matches_torch_linear(seed: int, n: int, dims: tuple[int, ...], m: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *dims))
    d = int(np.prod(dims))
    w, b = rng.standard_normal((d, m)), rng.standard_normal(m)
    out, cache = ref.affine_forward(x, w, b)
    assert out.shape == (n, m)
    assert cache[0] is x and cache[1] is w and cache[2] is b
    assert_close(out, F.linear(t64(x).reshape(n, -1), t64(w).T, t64(b)))


@FAST
@given(seed=seeds, n=st.integers(1, 3), dims=feature_shapes, m=st.integers(1, 4))
def test_affine_backward_matches_finite_differences(seed: int, n: int, dims: tuple[int, ...], m: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *dims))
    w, b = rng.standard_normal((int(np.prod(dims)), m)), rng.standard_normal(m)
    dout = rng.standard_normal((n, m))
    _, cache = ref.affine_forward(x, w, b)
    dx, dw, db = ref.affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert_grad_matches_fd(dx, ref.numerical_gradient_array(lambda v: ref.affine_forward(v, w, b)[0], x, dout))
    assert_grad_matches_fd(dw, ref.numerical_gradient_array(lambda v: ref.affine_forward(x, v, b)[0], w, dout))
    assert_grad_matches_fd(db, ref.numerical_gradient_array(lambda v: ref.affine_forward(x, w, v)[0], b, dout))


@FAST
@given(seed=seeds, n=st.integers(1, 5), dims=feature_shapes, m=st.integers(1, 5))
def test_affine_backward_matches_torch_autograd(seed: int, n: int, dims: tuple[int, ...], m: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *dims))
    w, b = rng.standard_normal((int(np.prod(dims)), m)), rng.standard_normal(m)
    dout = rng.standard_normal((n, m))
    tx, tw, tb = t64(x, True), t64(w, True), t64(b, True)
    F.linear(tx.reshape(n, -1), tw.T, tb).backward(t64(dout))
    dx, dw, db = ref.affine_backward(dout, ref.affine_forward(x, w, b)[1])
    assert_close(dx, tx.grad)
    assert_close(dw, tw.grad)
    assert_close(db, tb.grad)


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 4, 5)], ids=["3d", "4d"])
def test_affine_flattens_each_example(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    w, b = rng.standard_normal((int(np.prod(shape[1:])), 6)), rng.standard_normal(6)
    out, cache = ref.affine_forward(x, w, b)
    assert_close(out, x.reshape(shape[0], -1) @ w + b, rtol=0, atol=0)
    dx, dw, _ = ref.affine_backward(np.ones((shape[0], 6)), cache)
    assert dx.shape == shape and dw.shape == w.shape


# ---------------------------------------------------------------- activations


@FAST
@given(seed=seeds, shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple))
def test_relu_matches_torch(seed: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x.flat[0] = 0.0  # the kink: both use the subgradient 0
    dout = rng.standard_normal(shape)
    out, cache = ref.relu_forward(x)
    assert cache is x
    tx = t64(x, True)
    tout = F.relu(tx)
    tout.backward(t64(dout))
    assert_close(out, tout, rtol=0, atol=0)
    assert_close(ref.relu_backward(dout, cache), tx.grad, rtol=0, atol=0)


def test_relu_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    x, dout = away_from_zero(rng, (4, 5)), rng.standard_normal((4, 5))
    dx = ref.relu_backward(dout, ref.relu_forward(x)[1])
    assert_grad_matches_fd(dx, ref.numerical_gradient_array(lambda v: ref.relu_forward(v)[0], x, dout))


@pytest.mark.parametrize(
    ("name", "torch_fn"),
    [("sigmoid", lambda t: torch.sigmoid(t)), ("tanh", lambda t: torch.tanh(t))],
)
@FAST
@given(seed=seeds, shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple))
def test_smooth_activations_match_torch(name: str, torch_fn, seed: int, shape: tuple[int, ...]) -> None:
    forward, backward = getattr(ref, f"{name}_forward"), getattr(ref, f"{name}_backward")
    rng = np.random.default_rng(seed)
    x, dout = 5 * rng.standard_normal(shape), rng.standard_normal(shape)
    out, cache = forward(x)
    assert cache is out  # the cache is the output: the derivative is computed from it
    tx = t64(x, True)
    tout = torch_fn(tx)
    tout.backward(t64(dout))
    assert_close(out, tout, rtol=1e-13, atol=1e-15)
    assert_close(backward(dout, cache), tx.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_smooth_activations_match_finite_differences(name: str) -> None:
    forward, backward = getattr(ref, f"{name}_forward"), getattr(ref, f"{name}_backward")
    rng = np.random.default_rng(2)
    x, dout = 2 * rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4, 2))
    dx = backward(dout, forward(x)[1])
    assert_grad_matches_fd(dx, ref.numerical_gradient_array(lambda v: forward(v)[0], x, dout))


def test_sigmoid_matches_its_forward() -> None:
    x = np.linspace(-30, 30, 61)
    assert_close(ref.sigmoid(x), ref.sigmoid_forward(x)[0], rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_and_tanh_at_extreme_inputs(dtype: type) -> None:
    x = np.array([-1000.0, -745.0, -100.0, 0.0, 100.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        s = ref.sigmoid(x)
        t, t_cache = ref.tanh_forward(x)
        ds = ref.sigmoid_backward(np.ones_like(x), ref.sigmoid_forward(x)[1])
        dt = ref.tanh_backward(np.ones_like(x), t_cache)
    assert s.dtype == dtype and t.dtype == dtype
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(ds)) and np.all(np.isfinite(dt))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert t[0] == -1.0 and t[-1] == 1.0
    assert ds[0] == 0.0 and ds[-1] == 0.0 and dt[0] == 0.0 and dt[-1] == 0.0
    # torch flushes the subnormal tails (σ(−100) in float32, σ(−745) in float64) to 0
    rtol, atol = (1e-6 if dtype == np.float32 else 1e-14), np.finfo(dtype).tiny
    assert_close(s, torch.sigmoid(torch.from_numpy(x)), rtol=rtol, atol=atol)


def test_sigmoid_of_integers_is_float64() -> None:
    s = ref.sigmoid(np.array([-2, 0, 2]))
    assert s.dtype == np.float64
    assert_close(s, torch.sigmoid(torch.tensor([-2.0, 0.0, 2.0], dtype=torch.float64)), rtol=1e-15, atol=0)


# ---------------------------------------------------------------- softmax and cross-entropy


@FAST
@given(seed=seeds, shape=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple), data=st.data())
def test_softmax_matches_torch(seed: int, shape: tuple[int, ...], data: st.DataObject) -> None:
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    scores = 10 * np.random.default_rng(seed).standard_normal(shape)
    p = ref.softmax(scores, axis=axis)
    assert_close(p, torch.softmax(t64(scores), dim=axis), rtol=1e-12, atol=1e-15)
    assert_close(p.sum(axis=axis), np.ones(np.delete(np.array(shape), axis)), rtol=1e-13, atol=0)


def test_softmax_default_axis_is_last() -> None:
    scores = np.random.default_rng(3).standard_normal((3, 4))
    assert_close(ref.softmax(scores), ref.softmax(scores, axis=1), rtol=0, atol=0)


@pytest.mark.parametrize("big", [1e4, 1e300])
def test_softmax_of_huge_logits(big: float) -> None:
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        uniform = ref.softmax(np.full((2, 5), big))
        peaked = ref.softmax(np.array([[big, 0.0, -big]]))
    assert_close(uniform, np.full((2, 5), 0.2), rtol=1e-15, atol=0)
    assert_close(peaked, np.array([[1.0, 0.0, 0.0]]), rtol=0, atol=0)


@FAST
@given(seed=seeds, n=st.integers(1, 8), c=st.integers(1, 6))
def test_softmax_cross_entropy_matches_torch(seed: int, n: int, c: int) -> None:
    rng = np.random.default_rng(seed)
    scores, y = 3 * rng.standard_normal((n, c)), rng.integers(0, c, size=n)
    loss, dscores = ref.softmax_cross_entropy(scores, y)
    assert isinstance(loss, float) and dscores.shape == (n, c)
    ts = t64(scores, True)
    tloss = F.cross_entropy(ts, torch.from_numpy(y))
    tloss.backward()
    assert loss == pytest.approx(float(tloss.detach()), rel=1e-13, abs=1e-15)
    assert_close(dscores, ts.grad, rtol=1e-12, atol=1e-15)


def test_softmax_cross_entropy_matches_finite_differences() -> None:
    rng = np.random.default_rng(4)
    scores, y = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    _, dscores = ref.softmax_cross_entropy(scores, y)
    numeric = ref.numerical_gradient(lambda s: ref.softmax_cross_entropy(s, y)[0], scores)
    assert_grad_matches_fd(dscores, numeric)
    assert ref.rel_error(dscores, numeric) < 1e-7


def test_softmax_cross_entropy_with_huge_logits() -> None:
    scores = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, 1e4, 0.0]])
    y = np.array([0, 1, 0])
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        loss, dscores = ref.softmax_cross_entropy(scores, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    # right with certainty (0), uniform (log 3), wrong by 2e4: the mean is (log 3 + 2e4) / 3.
    assert loss == pytest.approx((np.log(3) + 2e4) / 3, rel=1e-12)
    ts = t64(scores, True)
    tloss = F.cross_entropy(ts, torch.from_numpy(y))
    tloss.backward()
    assert loss == pytest.approx(float(tloss.detach()), rel=1e-12)
    assert_close(dscores, ts.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("c", [1, 2, 10])
def test_softmax_cross_entropy_of_equal_scores_is_log_c(c: int) -> None:
    loss, dscores = ref.softmax_cross_entropy(np.zeros((4, c)), np.zeros(4, dtype=int))
    assert loss == pytest.approx(np.log(c), abs=1e-15)
    assert_close(dscores.sum(axis=1), np.zeros(4), rtol=0, atol=1e-16)


# ---------------------------------------------------------------- two-layer network


def test_init_two_layer() -> None:
    p = ref.init_two_layer(1000, 200, 10, rng=0)
    assert {k: v.shape for k, v in p.items()} == {"W1": (1000, 200), "b1": (200,), "W2": (200, 10), "b2": (10,)}
    assert all(v.dtype == np.float64 for v in p.values())
    assert not p["b1"].any() and not p["b2"].any()
    assert p["W1"].std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)  # He initialization
    assert p["W2"].std() == pytest.approx(np.sqrt(2 / 200), rel=0.05)
    again, other = ref.init_two_layer(1000, 200, 10, rng=0), ref.init_two_layer(1000, 200, 10, rng=1)
    assert np.array_equal(p["W1"], again["W1"]) and not np.array_equal(p["W1"], other["W1"])
    scaled = ref.init_two_layer(1000, 200, 10, rng=np.random.default_rng(0), weight_scale=1e-3)
    assert scaled["W1"].std() == pytest.approx(1e-3, rel=0.02)


def _torch_two_layer_loss(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, reg: float):
    t = {k: t64(v, True) for k, v in params.items()}
    scores = F.linear(F.relu(F.linear(t64(X), t["W1"].T, t["b1"])), t["W2"].T, t["b2"])
    loss = F.cross_entropy(scores, torch.from_numpy(y)) + 0.5 * reg * (
        (t["W1"] ** 2).sum() + (t["W2"] ** 2).sum()
    )
    loss.backward()
    return scores, loss, {k: v.grad for k, v in t.items()}


@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_two_layer_net_matches_torch_autograd(reg: float) -> None:
    rng = np.random.default_rng(5)
    params = ref.init_two_layer(6, 8, 4, rng=rng)
    params["b1"], params["b2"] = rng.standard_normal(8), rng.standard_normal(4)
    X, y = rng.standard_normal((7, 6)), rng.integers(0, 4, size=7)
    scores_t, loss_t, grads_t = _torch_two_layer_loss(params, X, y, reg)
    scores = ref.two_layer_net(params, X)
    assert scores.shape == (7, 4)
    assert_close(scores, scores_t)
    loss, grads = ref.two_layer_net(params, X, y, reg=reg)
    assert isinstance(loss, float)
    assert loss == pytest.approx(float(loss_t.detach()), rel=1e-13)
    assert grads.keys() == params.keys()
    for k in params:
        assert_close(grads[k], grads_t[k])


def test_two_layer_net_matches_finite_differences() -> None:
    rng = np.random.default_rng(6)
    params = ref.init_two_layer(4, 5, 3, rng=rng)
    params["b1"] = away_from_zero(rng, (5,), gap=0.5)  # keeps hidden units off the ReLU kink
    X, y = rng.standard_normal((3, 4)), np.array([0, 2, 1])
    _, grads = ref.two_layer_net(params, X, y, reg=0.7)
    for k in params:
        numeric = ref.numerical_gradient(lambda _: ref.two_layer_net(params, X, y, reg=0.7)[0], params[k])
        assert_grad_matches_fd(grads[k], numeric)


def test_two_layer_net_does_not_regularize_biases() -> None:
    rng = np.random.default_rng(7)
    params = ref.init_two_layer(5, 6, 3, rng=rng)
    params["b1"], params["b2"] = rng.standard_normal(6), rng.standard_normal(3)
    X, y = rng.standard_normal((4, 5)), rng.integers(0, 3, size=4)
    loss0, g0 = ref.two_layer_net(params, X, y, reg=0.0)
    loss1, g1 = ref.two_layer_net(params, X, y, reg=2.0)
    penalty = 0.5 * 2.0 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert loss1 - loss0 == pytest.approx(penalty, rel=1e-12)
    assert np.array_equal(g0["b1"], g1["b1"]) and np.array_equal(g0["b2"], g1["b2"])
    assert_close(g1["W1"] - g0["W1"], 2.0 * params["W1"])


# ---------------------------------------------------------------- gradcheck itself


def _independent_central_difference(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """A second implementation, written differently: perturb copies, never x itself."""
    grad = np.empty(x.size)
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad.reshape(x.shape)


def test_numerical_gradient_agrees_with_an_independent_implementation() -> None:
    x = np.random.default_rng(8).standard_normal((3, 2, 2))

    def f(v: np.ndarray) -> float:
        return float(np.sum(np.sin(v) * v**2) + np.prod(v[0]))

    assert_close(ref.numerical_gradient(f, x), _independent_central_difference(f, x), rtol=1e-9, atol=1e-9)


def test_numerical_gradient_is_accurate_on_a_smooth_function() -> None:
    x = np.random.default_rng(9).uniform(-1, 1, size=(3, 4))
    numeric = ref.numerical_gradient(lambda v: float(np.sum(np.exp(v))), x)
    assert numeric.shape == x.shape and numeric.dtype == np.float64
    assert ref.rel_error(numeric, np.exp(x)) < 1e-8


def test_numerical_gradient_matches_torch_autograd() -> None:
    x = np.random.default_rng(10).standard_normal((4, 3))
    tx = t64(x, True)
    (torch.tanh(tx) * tx).sum().backward()
    numeric = ref.numerical_gradient(lambda v: float(np.sum(np.tanh(v) * v)), x)
    assert ref.rel_error(numeric, tx.grad.numpy()) < 1e-8


def test_numerical_gradient_restores_x_exactly() -> None:
    # values for which (x + h) - h != x in floating point
    x = np.array([[0.1, 1 / 3, 1e-7], [123456.789, -2.718281828459045, 1e300]])
    before = x.copy()
    calls = []

    def f(v: np.ndarray) -> float:
        assert v is x  # perturbed in place, so a closure over x sees the perturbation
        calls.append(1)
        return float(np.sum(v[:, :2]))

    ref.numerical_gradient(f, x)
    assert x.tobytes() == before.tobytes()
    assert len(calls) == 2 * x.size


def test_numerical_gradient_array() -> None:
    rng = np.random.default_rng(11)
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    dx = ref.numerical_gradient_array(lambda v: v**2, x, dout)  # Σ dout ∂(x²)/∂x = 2 x dout
    assert ref.rel_error(dx, 2 * x * dout) < 1e-8


def test_rel_error_values() -> None:
    a = np.array([1.0, -2.0, 0.0])
    assert ref.rel_error(a, a) == 0.0
    assert ref.rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert ref.rel_error(np.array([1.0]), np.array([1.1])) == pytest.approx(0.1 / 2.1)
    assert ref.rel_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert ref.rel_error(np.empty((0, 3)), np.empty((0, 3))) == 0.0
    assert isinstance(ref.rel_error(a, a + 1), float)


def test_rel_error_rejects_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="same shape"):
        ref.rel_error(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError):
        ref.rel_error(np.zeros(3), np.zeros((3, 1)))


@FAST
@given(seed=seeds, shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple))
def test_rel_error_is_symmetric_and_bounded(seed: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    e = ref.rel_error(a, b)
    assert e == ref.rel_error(b, a)
    assert 0.0 <= e <= 1.0  # |a − b| ≤ |a| + |b|
    assert ref.rel_error(a, a * (1 + 1e-10)) < 1e-9


# ---------------------------------------------------------------- optimizers


def test_sgd_returns_a_new_array_and_leaves_w_alone() -> None:
    rng = np.random.default_rng(12)
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    w_before, dw_before = w.copy(), dw.copy()
    new_w, state = ref.sgd(w, dw, None, {"lr": 0.5})
    assert new_w is not w and not np.shares_memory(new_w, w)
    assert np.array_equal(w, w_before) and np.array_equal(dw, dw_before)
    assert_close(new_w, w - 0.5 * dw, rtol=0, atol=0)
    assert state == {}


def test_sgd_defaults_and_state_passthrough() -> None:
    w, dw = np.ones(3), np.full(3, 2.0)
    assert_close(ref.sgd(w, dw)[0], np.full(3, 1.0 - 1e-2 * 2.0), rtol=0, atol=0)
    state = {"step": 3}
    assert ref.sgd(w, dw, state)[1] is state


def test_linear_net_grads_reproduces_the_lectures_worked_example() -> None:
    x, y = np.array([[1, 1]]), np.array([[0]])  # integers, as written in the lecture
    loss, grads = ref.linear_net_grads(x, y, np.ones((2, 3)), np.ones(3), np.ones((3, 1)), np.ones(1))
    assert loss == 50.0  # ½(10 − 0)²
    assert np.all(grads["W1"] == 30.0) and np.all(grads["W0"] == 10.0)
    assert np.all(grads["b1"] == 10.0) and np.all(grads["b0"] == 10.0)
    assert all(g.dtype == np.float64 for g in grads.values())


def test_linear_net_grads_matches_torch_autograd_and_finite_differences() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    params = {"W0": rng.standard_normal((3, 4)), "b0": rng.standard_normal(4),
              "W1": rng.standard_normal((4, 2)), "b1": rng.standard_normal(2)}
    loss, grads = ref.linear_net_grads(x, y, **params)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    y_hat = (torch.tensor(x) @ t["W0"] + t["b0"]) @ t["W1"] + t["b1"]
    loss_t = 0.5 * ((y_hat - torch.tensor(y)) ** 2).sum() / 5
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-13)
    for k in params:
        assert_close(grads[k], t[k].grad.numpy())
        numeric = ref.numerical_gradient(lambda _: ref.linear_net_grads(x, y, **params)[0], params[k])
        assert_grad_matches_fd(grads[k], numeric)
