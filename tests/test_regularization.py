"""dlcourse.ref.regularization (and its gpu twin) against finite differences and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import ref

torch = pytest.importorskip("torch")
gpu = pytest.importorskip("dlcourse.gpu")
F = torch.nn.functional


def _params(rng):
    return {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(3),
            "W2": rng.standard_normal((3, 2)), "b2": rng.standard_normal(2)}


@pytest.mark.parametrize("penalty", [ref.l2_penalty, ref.l1_penalty])
def test_penalty_gradients_match_finite_differences(penalty):
    params = _params(np.random.default_rng(0))
    loss, grads = penalty(params, 0.3)
    for k in params:
        num = ref.numerical_gradient(lambda _: penalty(params, 0.3)[0], params[k])
        np.testing.assert_allclose(grads[k], num, atol=1e-7)
    assert not grads["b1"].any() and not grads["b2"].any()


def test_penalty_values():
    params = {"W": np.array([[1.0, -2.0], [0.0, 3.0]]), "b": np.array([5.0])}
    assert ref.l2_penalty(params, 0.5)[0] == pytest.approx(0.5 * 0.5 * 14)
    assert ref.l1_penalty(params, 0.5)[0] == pytest.approx(0.5 * 6)
    np.testing.assert_array_equal(ref.l1_penalty(params, 1.0)[1]["W"], [[1, -1], [0, 1]])


def test_l2_equals_torch_weight_decay_with_biases_excluded():
    rng = np.random.default_rng(1)
    params = _params(rng)
    data_grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    lam, lr = 0.1, 0.05
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = torch.optim.SGD([{"params": [tensors["W1"], tensors["W2"]], "weight_decay": lam},
                           {"params": [tensors["b1"], tensors["b2"]], "weight_decay": 0.0}], lr=lr)
    for _ in range(5):
        _, reg = ref.l2_penalty(params, lam)
        params = {k: ref.sgd(v, data_grads[k] + reg[k], None, {"lr": lr})[0] for k, v in params.items()}
        opt.zero_grad()
        for k, t in tensors.items():
            t.grad = torch.tensor(data_grads[k])
        opt.step()
    for k in params:
        np.testing.assert_allclose(tensors[k].detach().numpy(), params[k], rtol=1e-12)


def test_dropout_is_inverted_and_eval_is_identity():
    x = np.full((200, 500), 2.0)
    out, mask = ref.dropout_forward(x, 0.3, True, rng=0)
    assert set(np.unique(out)) == {0.0, 2.0 / 0.7}
    assert abs(out.mean() - 2.0) < 0.02 and abs((out == 0).mean() - 0.3) < 0.01
    np.testing.assert_array_equal(ref.dropout_forward(x, 0.3, False, rng=0)[0], x)
    np.testing.assert_array_equal(ref.dropout_forward(x, 1.0, True, rng=0)[0], 0 * x)
    np.testing.assert_array_equal(ref.dropout_forward(x, 0.0, True, rng=0)[0], x)
    with pytest.raises(ValueError):
        ref.dropout_forward(x, 1.5)
    np.testing.assert_array_equal(out, ref.dropout_forward(x, 0.3, True, rng=np.random.default_rng(0))[0])


def test_dropout_backward_equals_autograd_with_the_same_mask():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 5))
    out, mask = ref.dropout_forward(x, 0.4, True, rng=rng)
    dout = rng.standard_normal(x.shape)
    xt = torch.tensor(x, requires_grad=True)
    (xt * torch.tensor(mask) * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(ref.dropout_backward(dout, mask), xt.grad.numpy())


def test_gpu_dropout_equals_nn_dropout_on_cpu():
    x = torch.randn(40, 30, dtype=torch.float64)
    for p in (0.1, 0.5, 0.8):
        torch.manual_seed(7)
        ours, mask = gpu.dropout_forward(x, p)
        torch.manual_seed(7)
        theirs = torch.nn.Dropout(p)(x)
        assert torch.equal(ours, theirs)
        assert torch.equal(gpu.dropout_backward(torch.ones_like(x), mask), mask)
    layer = torch.nn.Dropout(0.5).eval()
    assert torch.equal(layer(x), gpu.dropout_forward(x, 0.5, train=False)[0])


def test_dropconnect_backward_matches_finite_differences_and_eval_is_affine():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    out, cache = ref.dropconnect_forward(x, w, b, 0.5, True, rng=11)
    mask = cache[2]
    assert set(np.unique(mask)) <= {0.0, 2.0}
    dout = rng.standard_normal(out.shape)
    dx, dw, db = ref.dropconnect_backward(dout, cache)
    f = lambda xx, ww, bb: ref.dropconnect_forward(xx, ww, bb, 0.5, True, rng=11)[0]  # noqa: E731
    np.testing.assert_allclose(dx, ref.numerical_gradient_array(lambda z: f(z, w, b), x.copy(), dout), atol=1e-8)
    np.testing.assert_allclose(dw, ref.numerical_gradient_array(lambda z: f(x, z, b), w.copy(), dout), atol=1e-8)
    np.testing.assert_allclose(db, dout.sum(0))
    np.testing.assert_allclose(ref.dropconnect_forward(x, w, b, 0.5, False)[0], x @ w + b)
    with pytest.raises(ValueError):
        ref.dropconnect_forward(x, w, b, 1.0)


def test_early_stopping_restores_the_best_copy():
    tracker = ref.EarlyStopping(patience=2)
    params = {"W": np.zeros(2)}
    stops = []
    for loss in [1.0, 0.5, 0.7, 0.6, 0.4]:
        params["W"] += 1
        stops.append(tracker.step(loss, params))
    assert stops == [False, False, False, True, False]
    assert tracker.best_epoch == 4 and tracker.best_loss == 0.4
    tracker = ref.EarlyStopping(patience=1)
    tracker.step(1.0, params)
    params["W"] += 10
    assert tracker.step(2.0, params) and tracker.best_params["W"][0] == 5  # a copy, not the live array
    with pytest.raises(ValueError):
        ref.EarlyStopping(patience=0)


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [100, 50, 10])
    tr, va, te = ref.stratified_split(y, 0.1, 0.2, rng=0)
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(len(y)))
    assert np.bincount(y[te]).tolist() == [20, 10, 2] and np.bincount(y[va]).tolist() == [10, 5, 1]
    assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), ref.stratified_split(y, 0.1, 0.2, rng=0)))
    with pytest.raises(ValueError):
        ref.stratified_split(y, 0.6, 0.5)


def test_augmentations():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 2, 5, 7))
    flipped = ref.random_flip(x, p=1.0, rng=0)
    np.testing.assert_array_equal(flipped, x[..., ::-1])
    np.testing.assert_array_equal(ref.random_flip(x, p=0.0, rng=0), x)
    np.testing.assert_array_equal(ref.random_shift(x, 0, rng=0), x)
    shifted = ref.random_shift(x, 2, rng=1)
    assert shifted.shape == x.shape
    for i in range(6):  # every shifted image is a translated window of the original
        assert any(np.array_equal(shifted[i, :, max(0, dy):5 - max(0, -dy), max(0, dx):7 - max(0, -dx)],
                                  x[i, :, max(0, -dy):5 - max(0, dy), max(0, -dx):7 - max(0, dx)])
                   for dy in range(-2, 3) for dx in range(-2, 3))
    noisy = ref.add_noise(np.zeros((100, 1, 10, 10)), 0.5, rng=2)
    assert abs(noisy.std() - 0.5) < 0.02
    t = torch.tensor(x)
    assert torch.equal(gpu.random_flip(t, 1.0, rng=0), t.flip(-1))
    assert torch.equal(gpu.random_shift(t, 0, rng=0), t)
    assert gpu.add_noise(t, 0.1, rng=0).shape == t.shape


def test_search_samplers():
    grid = ref.grid_search_points([(0.0, 1.0), (1e-4, 1e-1)], 3, log=[False, True])
    assert grid.shape == (9, 2)
    assert len(np.unique(grid[:, 0])) == 3
    np.testing.assert_allclose(np.unique(grid[:, 1]), [1e-4, 10**-2.5, 1e-1])
    pts = ref.random_search_points([(0.0, 1.0), (1e-4, 1e-1)], 9, rng=0, log=[False, True])
    assert pts.shape == (9, 2) and len(np.unique(pts[:, 0])) == 9
    assert np.all((pts[:, 1] >= 1e-4) & (pts[:, 1] <= 1e-1))
    np.testing.assert_array_equal(pts, ref.random_search_points([(0.0, 1.0), (1e-4, 1e-1)], 9, rng=0, log=[False, True]))
    assert ref.grid_search_points([(2.0, 4.0)], 1).tolist() == [[3.0]]


def test_gpu_twins_equal_reference(device):
    rng = np.random.default_rng(5)
    params = _params(rng)
    tparams = {k: torch.tensor(v, device=device) for k, v in params.items()}
    for name in ("l2_penalty", "l1_penalty"):
        loss, grads = getattr(ref, name)(params, 0.2)
        t_loss, t_grads = getattr(gpu, name)(tparams, 0.2)
        assert t_loss == pytest.approx(loss, rel=1e-12)
        for k in grads:
            np.testing.assert_allclose(t_grads[k].cpu().numpy(), grads[k], rtol=1e-12)
    x = torch.randn(300, 200, dtype=torch.float64, device=device)
    out, mask = gpu.dropout_forward(x, 0.25, rng=0)
    assert out.device.type == torch.device(device).type
    assert abs(float((mask == 0).double().mean()) - 0.25) < 0.01
    assert torch.equal(gpu.dropout_forward(x, 0.25, rng=0)[0], out)  # seeded
    xx, w, b = (torch.tensor(a, device=device) for a in (rng.standard_normal((4, 5)), rng.standard_normal((5, 3)),
                                                          rng.standard_normal(3)))
    o, cache = gpu.dropconnect_forward(xx, w, b, 0.5, rng=1)
    n_cache = tuple(c.cpu().numpy() for c in cache)
    dout = rng.standard_normal((4, 3))
    for a, bb in zip(gpu.dropconnect_backward(torch.tensor(dout, device=device), cache),
                     ref.dropconnect_backward(dout, n_cache)):
        np.testing.assert_allclose(a.cpu().numpy(), bb, rtol=1e-12)
