"""Lecture 03 references (losses, softmax family, KL) against finite differences, PyTorch and
their ``dlcourse.gpu`` twins. Everything is float64 unless a test says otherwise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse import ref

torch = pytest.importorskip("torch")
F = torch.nn.functional
gpu = pytest.importorskip("dlcourse.gpu")

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def t64(a, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def torch_loss_and_grad(fn, x: np.ndarray, *rest) -> tuple[float, np.ndarray]:
    t = t64(x, grad=True)
    loss = fn(t, *rest)
    loss.backward()
    return float(loss.detach()), t.grad.numpy()


def assert_loss(ours: tuple[float, np.ndarray], theirs: tuple[float, np.ndarray], rtol: float = 1e-10) -> None:
    assert isinstance(ours[0], float)
    assert ours[0] == pytest.approx(theirs[0], rel=rtol, abs=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol, atol=1e-12)


def test_lecture_numbers() -> None:
    y, y_hat = np.array([5.1, 1.6, 2.3, 3.7]), np.array([4.8, 0.9, 1.1, 5.1])
    assert ref.mse(y_hat, y)[0] == pytest.approx(0.995)
    p, t = np.array([0.9, 0.5, 0.4, 0.2]), np.array([1.0, 0.0, 0.0, 1.0])
    assert round(ref.bce(p, t, base=10)[0], 3) == 0.317
    assert round(ref.bce(p, t)[0], 3) == 0.730
    assert ref.bce(p, t)[0] / ref.bce(p, t, base=10)[0] == pytest.approx(np.log(10))


@FAST
@given(seed=seeds, shape=shapes)
def test_regression_losses_match_torch(seed: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    y_hat, y = 2 * rng.standard_normal(shape), rng.standard_normal(shape)
    ty = t64(y)
    assert_loss(ref.mse(y_hat, y), torch_loss_and_grad(lambda a: F.mse_loss(a, ty), y_hat))
    assert_loss(ref.mae(y_hat, y), torch_loss_and_grad(lambda a: F.l1_loss(a, ty), y_hat))
    for delta in (0.5, 1.0, 2.0):
        assert_loss(ref.huber(y_hat, y, delta), torch_loss_and_grad(lambda a: F.huber_loss(a, ty, delta=delta), y_hat))


@FAST
@given(seed=seeds, shape=shapes)
def test_binary_cross_entropies_match_torch(seed: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    z, y = 3 * rng.standard_normal(shape), rng.uniform(0, 1, shape)
    ty = t64(y)
    assert_loss(ref.bce_with_logits(z, y), torch_loss_and_grad(lambda a: F.binary_cross_entropy_with_logits(a, ty), z))
    p = ref.sigmoid(z)
    assert_loss(ref.bce(p, y), torch_loss_and_grad(lambda a: F.binary_cross_entropy(a, ty), p), rtol=1e-8)
    loss10, grad10 = ref.bce(p, y, base=10.0)
    loss_e, grad_e = ref.bce(p, y)
    assert loss10 == pytest.approx(loss_e / np.log(10)) and np.allclose(grad10, grad_e / np.log(10))


def test_bce_with_logits_at_extreme_logits() -> None:
    z, y = np.array([-1000.0, -40.0, 40.0, 1000.0]), np.array([1.0, 0.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            loss, dz = ref.bce_with_logits(z, y)
    expected = torch_loss_and_grad(lambda a: F.binary_cross_entropy_with_logits(a, t64(y)), z)
    assert_loss((loss, dz), expected)
    assert loss == pytest.approx((1000 + 40 + 2 * np.exp(-40.0)) / 4)


@FAST
@given(seed=seeds, n=st.integers(1, 5), c=st.integers(1, 6), scale=st.sampled_from([1.0, 10.0, 1e3]))
def test_softmax_family_matches_torch(seed: int, n: int, c: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    s, dout = scale * rng.standard_normal((n, c)), rng.standard_normal((n, c))
    ts = t64(s, grad=True)
    logp = F.log_softmax(ts, dim=-1)
    np.testing.assert_allclose(ref.log_softmax(s), logp.detach().numpy(), rtol=1e-12, atol=1e-12)
    logp.backward(t64(dout))
    np.testing.assert_allclose(ref.log_softmax_backward(dout, ref.log_softmax(s)), ts.grad.numpy(), rtol=1e-9, atol=1e-12)
    ts2 = t64(s, grad=True)
    p = F.softmax(ts2, dim=-1)
    p.backward(t64(dout))
    np.testing.assert_allclose(ref.softmax_backward(dout, ref.softmax(s)), ts2.grad.numpy(), rtol=1e-9, atol=1e-12)


@FAST
@given(seed=seeds, n=st.integers(1, 5), c=st.integers(2, 6), scale=st.sampled_from([1.0, 1e3, 1e5]))
def test_cross_entropy_matches_torch_with_labels_and_soft_targets(seed: int, n: int, c: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    s, y = scale * rng.standard_normal((n, c)), rng.integers(0, c, n)
    assert_loss(ref.cross_entropy(s, y), torch_loss_and_grad(lambda a: F.cross_entropy(a, torch.as_tensor(y)), s))
    t = rng.dirichlet(np.ones(c), size=n)
    assert_loss(ref.cross_entropy(s, t), torch_loss_and_grad(lambda a: F.cross_entropy(a, t64(t)), s))
    loss_old, d_old = ref.softmax_cross_entropy(s, y)
    assert_loss(ref.cross_entropy(s, y), (loss_old, d_old))


@FAST
@given(seed=seeds, n=st.integers(1, 4), c=st.integers(2, 6))
def test_kl_divergence_matches_torch(seed: int, n: int, c: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(c), size=n)
    p[:, 0] = 0.0  # zeros in the target: 0·log 0 = 0
    p /= p.sum(axis=1, keepdims=True)
    q = rng.dirichlet(np.ones(c), size=n)
    tp = t64(p)

    def torch_kl(tq: torch.Tensor) -> torch.Tensor:
        return F.kl_div(torch.log(tq), tp, reduction="batchmean")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_loss(ref.kl_divergence(p, q), torch_loss_and_grad(torch_kl, q))
    assert ref.kl_divergence(q, q)[0] == pytest.approx(0.0, abs=1e-12)
    single, d_single = ref.kl_divergence(p[0], q[0])
    assert d_single.shape == (c,) and single == pytest.approx(ref.kl_divergence(p[:1], q[:1])[0])


@pytest.mark.parametrize("name", ["mse", "mae", "huber", "bce", "bce_with_logits", "cross_entropy", "kl_divergence"])
def test_loss_gradients_match_finite_differences(name: str) -> None:
    rng = np.random.default_rng(7)
    if name in ("mse", "mae", "huber"):
        x, other = 2 * rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    elif name == "bce":
        x, other = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0, 1, (3, 4))
    elif name == "bce_with_logits":
        x, other = 3 * rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4))
    elif name == "cross_entropy":
        x, other = 3 * rng.standard_normal((3, 4)), rng.integers(0, 4, 3)
    else:
        other, x = rng.dirichlet(np.ones(4), size=3), rng.dirichlet(np.ones(4), size=3)
    fn = getattr(ref, name)
    if name == "kl_divergence":
        loss_of = lambda v: fn(other, v)[0]  # noqa: E731
        grad = fn(other, x)[1]
    else:
        loss_of = lambda v: fn(v, other)[0]  # noqa: E731
        grad = fn(x, other)[1]
    numeric = ref.numerical_gradient(loss_of, x.copy())
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- gpu twins


def test_gpu_twins_of_lecture_03(device: torch.device) -> None:
    rng = np.random.default_rng(11)
    T = lambda a: gpu.to_tensor(np.asarray(a, dtype=np.float64), device, torch.float64)  # noqa: E731
    a, b = 2 * rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    p, y01 = rng.uniform(0.05, 0.95, (3, 4)), rng.integers(0, 2, (3, 4)).astype(float)
    s = 1e3 * rng.standard_normal((3, 4))
    labels = rng.integers(0, 4, 3)
    pd, qd = rng.dirichlet(np.ones(4), size=3), rng.dirichlet(np.ones(4), size=3)
    pd[0, 1] = 0.0
    calls = [
        ("mse", (a, b), {}), ("mae", (a, b), {}), ("huber", (a, b), {"delta": 0.7}),
        ("bce", (p, y01), {"base": 10.0}), ("bce_with_logits", (s, y01), {}),
        ("cross_entropy", (s, labels), {}), ("kl_divergence", (pd, qd), {}),
    ]
    for name, args, kw in calls:
        r_loss, r_grad = getattr(ref, name)(*args, **kw)
        targs = [T(x) if x is not labels else torch.as_tensor(labels, device=device) for x in args]
        g_loss, g_grad = getattr(gpu, name)(*targs, **kw)
        assert isinstance(g_loss, float) and g_grad.device.type == device.type, name
        assert g_loss == pytest.approx(r_loss, rel=1e-10, abs=1e-12), name
        np.testing.assert_allclose(gpu.to_numpy(g_grad), r_grad, rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(gpu.to_numpy(gpu.log_softmax(T(s))), ref.log_softmax(s), rtol=1e-12)
    dout = rng.standard_normal((3, 4))
    probs = ref.softmax(a)
    np.testing.assert_allclose(gpu.to_numpy(gpu.softmax_backward(T(dout), T(probs))), ref.softmax_backward(dout, probs), rtol=1e-10)
    logp = ref.log_softmax(a)
    np.testing.assert_allclose(gpu.to_numpy(gpu.log_softmax_backward(T(dout), T(logp))), ref.log_softmax_backward(dout, logp), rtol=1e-10)


def test_gpu_losses_in_float32_at_extreme_logits(device: torch.device) -> None:
    z = torch.tensor([[-1000.0, 0.0, 1000.0]], dtype=torch.float32, device=device)
    loss, d = gpu.cross_entropy(z, torch.tensor([0], device=device))
    assert loss == pytest.approx(2000.0) and torch.isfinite(d).all()
    loss, d = gpu.bce_with_logits(z, torch.tensor([[1.0, 0.0, 0.0]], device=device))
    assert loss == pytest.approx((1000 + np.log(2) + 1000) / 3, rel=1e-6) and torch.isfinite(d).all()
