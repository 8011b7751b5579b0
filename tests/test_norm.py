"""dlcourse.ref.norm and dlcourse.gpu.norm: finite differences, nn.BatchNorm1d/2d, standardization."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import ref

torch = pytest.importorskip("torch")
gpu = pytest.importorskip("dlcourse.gpu")


def _data(rng, n=8, d=5):
    x = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-2, 2, d)
    return x, rng.uniform(0.5, 2, d), rng.standard_normal(d)


@pytest.mark.parametrize("backward", [ref.batchnorm_backward, ref.batchnorm_backward_alt])
def test_backward_matches_finite_differences(backward):
    rng = np.random.default_rng(0)
    x, gamma, beta = _data(rng)
    dout = rng.standard_normal(x.shape)
    _, cache, _ = ref.batchnorm_forward(x, gamma, beta)
    grads = backward(dout, cache)
    for i, g in enumerate(grads):
        args = [x.copy(), gamma.copy(), beta.copy()]

        def f(z, i=i, args=args):
            args[i] = z
            return ref.batchnorm_forward(*args)[0]

        num = ref.numerical_gradient_array(f, args[i], dout)
        assert ref.rel_error(g, num) < 1e-6


def test_the_two_backward_passes_agree():
    rng = np.random.default_rng(1)
    x, gamma, beta = _data(rng, 20, 7)
    _, cache, _ = ref.batchnorm_forward(x, gamma, beta)
    dout = rng.standard_normal(x.shape)
    for a, b in zip(ref.batchnorm_backward(dout, cache), ref.batchnorm_backward_alt(dout, cache)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_forward_equals_batchnorm1d_over_steps_in_both_modes():
    rng = np.random.default_rng(2)
    d = 4
    gamma, beta = rng.uniform(0.5, 2, d), rng.standard_normal(d)
    bn = torch.nn.BatchNorm1d(d, momentum=0.2, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    state, cfg = ref.init_bn_state(d), {"mode": "train", "momentum": 0.2}
    before = {k: v.copy() for k, v in state.items()}
    for _ in range(5):
        x = rng.standard_normal((6, d)) * 3 + 1
        xt = torch.tensor(x, requires_grad=True)
        out_t = bn(xt)
        out, cache, state = ref.batchnorm_forward(x, gamma, beta, state, cfg)
        np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(state["running_mean"], bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(state["running_var"], bn.running_var.numpy(), rtol=1e-12)
        dout = rng.standard_normal(x.shape)
        out_t.backward(torch.tensor(dout))
        dx, dgamma, dbeta = ref.batchnorm_backward(dout, cache)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(dgamma, bn.weight.grad.numpy(), rtol=1e-10)
        bn.weight.grad = None
        bn.bias.grad = None
    assert np.array_equal(before["running_mean"], np.zeros(d)), "the state passed in is never modified"
    bn.eval()
    x = rng.standard_normal((3, d))
    out, _, after = ref.batchnorm_forward(x, gamma, beta, state, {"mode": "eval"})
    np.testing.assert_allclose(out, bn(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    assert all(np.array_equal(after[k], state[k]) for k in state)
    # eval mode: one example's output does not depend on the rest of the batch
    single, _, _ = ref.batchnorm_forward(x[:1], gamma, beta, state, {"mode": "eval"})
    np.testing.assert_allclose(single, out[:1])


def test_spatial_equals_batchnorm2d():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 5, 5)) * 2 + 1
    gamma, beta = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    bn = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    xt = torch.tensor(x, requires_grad=True)
    out_t = bn(xt)
    out, cache, state = ref.spatial_batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state["running_var"], bn.running_var.numpy(), rtol=1e-12)
    dout = rng.standard_normal(x.shape)
    out_t.backward(torch.tensor(dout))
    dx, dgamma, dbeta = ref.spatial_batchnorm_backward(dout, cache)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(dbeta, bn.bias.grad.numpy(), rtol=1e-10)


def test_bad_arguments():
    with pytest.raises(ValueError):
        ref.batchnorm_forward(np.ones((1, 3)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError):
        ref.batchnorm_forward(np.ones((4, 3)), np.ones(3), np.zeros(3), None, {"mode": "test"})


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(4)
    X_train = rng.standard_normal((50, 3)) * [1, 10, 0] + [0, 5, 7]
    X_test = rng.standard_normal((10, 3)) + 100
    Z_train, Z_test, mean, std = ref.standardize(X_train, X_test)
    np.testing.assert_allclose(Z_train[:, :2].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z_train[:, :2].std(0), 1, rtol=1e-12)
    assert std[2] == 1 and np.all(Z_train[:, 2] == 0)
    np.testing.assert_allclose(Z_test, (X_test - X_train.mean(0)) / std)


def test_gpu_twins_equal_reference(device):
    rng = np.random.default_rng(5)
    x, gamma, beta = _data(rng, 9, 4)
    state = {"running_mean": rng.standard_normal(4), "running_var": rng.uniform(0.5, 2, 4)}
    T = lambda a: torch.tensor(a, device=device)  # noqa: E731
    for mode in ("train", "eval"):
        cfg = {"mode": mode, "momentum": 0.3}
        out, cache, st = ref.batchnorm_forward(x, gamma, beta, state, cfg)
        g_out, g_cache, g_st = gpu.batchnorm_forward(T(x), T(gamma), T(beta), {k: T(v) for k, v in state.items()}, cfg)
        np.testing.assert_allclose(g_out.cpu().numpy(), out, rtol=1e-10, atol=1e-12)
        for k in st:
            np.testing.assert_allclose(g_st[k].cpu().numpy(), st[k], rtol=1e-12)
    dout = rng.standard_normal(x.shape)
    _, cache, _ = ref.batchnorm_forward(x, gamma, beta)
    _, g_cache, _ = gpu.batchnorm_forward(T(x), T(gamma), T(beta))
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        for a, b in zip(getattr(ref, name)(dout, cache), getattr(gpu, name)(T(dout), g_cache)):
            np.testing.assert_allclose(b.cpu().numpy(), a, rtol=1e-10, atol=1e-12)
    xs = rng.standard_normal((2, 3, 4, 4))
    out, cache, _ = ref.spatial_batchnorm_forward(xs, np.ones(3), np.zeros(3))
    g_out, g_cache, _ = gpu.spatial_batchnorm_forward(T(xs), T(np.ones(3)), T(np.zeros(3)))
    np.testing.assert_allclose(g_out.cpu().numpy(), out, rtol=1e-10, atol=1e-12)
    d4 = rng.standard_normal(xs.shape)
    np.testing.assert_allclose(gpu.spatial_batchnorm_backward(T(d4), g_cache)[0].cpu().numpy(),
                               ref.spatial_batchnorm_backward(d4, cache)[0], rtol=1e-9, atol=1e-12)
    Xtr, Xte = rng.standard_normal((10, 3)), rng.standard_normal((4, 3))
    for a, b in zip(ref.standardize(Xtr, Xte), gpu.standardize(T(Xtr), T(Xte))):
        np.testing.assert_allclose(b.cpu().numpy(), a, rtol=1e-12)


@pytest.mark.parametrize("spatial", [False, True], ids=["1d", "2d"])
def test_batchnorm_module_equals_torch(device, spatial):
    torch.manual_seed(0)
    c = 3
    ours = gpu.BatchNorm(c, momentum=0.15, device=device)
    theirs = (torch.nn.BatchNorm2d if spatial else torch.nn.BatchNorm1d)(c, momentum=0.15, device=device,
                                                                        dtype=torch.float64)
    with torch.no_grad():
        for m in (ours, theirs):
            m.weight.copy_(torch.tensor([0.5, 1.5, 2.0]))
            m.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    shape = (4, c, 3, 3) if spatial else (6, c)
    for _ in range(3):
        x = (torch.randn(shape, dtype=torch.float64, device=device) * 2 + 1).requires_grad_()
        x2 = x.detach().clone().requires_grad_()
        a, b = ours(x), theirs(x2)
        torch.testing.assert_close(a, b)
        dout = torch.randn(shape, dtype=torch.float64, device=device)
        a.backward(dout)
        b.backward(dout)
        torch.testing.assert_close(x.grad, x2.grad)
        torch.testing.assert_close(ours.weight.grad, theirs.weight.grad)
        torch.testing.assert_close(ours.bias.grad, theirs.bias.grad)
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    ours.eval()
    theirs.eval()
    x = torch.randn(shape, dtype=torch.float64, device=device)
    torch.testing.assert_close(ours(x), theirs(x))


def test_batchnorm_function_passes_gradcheck():
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    g = torch.rand(3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *a: gpu.BatchNormFunction.apply(*a, 1e-5), (x, g, b))
