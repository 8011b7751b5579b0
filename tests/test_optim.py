"""dlcourse.ref.optim and dlcourse.gpu.optim against torch.optim, step for step.

Each NumPy rule runs 100 steps from the same start on the same gradient sequence as its
``torch.optim`` counterpart; every iterate is compared in float64. The gradients come from a
fixed random sequence mixed with the gradient of an ill-conditioned quadratic at the current
iterate, so the trajectory feeds back into the gradients, the way training does.
"""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import ref

torch = pytest.importorskip("torch")
gpu = pytest.importorskip("dlcourse.gpu")

STEPS = 100
TOL = 1e-12  # float64 iterates agree to rounding (~1e-15); the tolerance leaves headroom


# name -> (NumPy rule, cfg, torch.optim class, its kwargs, our Optimizer subclass)
CASES = {
    "sgd": (ref.sgd, {"lr": 0.05}, torch.optim.SGD, {"lr": 0.05}, gpu.SGD),
    "momentum": (ref.sgd_momentum, {"lr": 0.02, "momentum": 0.9},
                 torch.optim.SGD, {"lr": 0.02, "momentum": 0.9}, gpu.Momentum),
    "nesterov": (ref.nesterov, {"lr": 0.02, "momentum": 0.9},
                 torch.optim.SGD, {"lr": 0.02, "momentum": 0.9, "nesterov": True}, gpu.Nesterov),
    "adagrad": (ref.adagrad, {"lr": 0.1, "eps": 1e-10}, torch.optim.Adagrad, {"lr": 0.1, "eps": 1e-10}, gpu.Adagrad),
    "rmsprop": (ref.rmsprop, {"lr": 0.01, "alpha": 0.9, "eps": 1e-3},
                torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 1e-3}, gpu.RMSprop),
    "adadelta": (ref.adadelta, {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
                 torch.optim.Adadelta, {"lr": 1.0, "rho": 0.9, "eps": 1e-6}, gpu.Adadelta),
    "adam": (ref.adam, {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
             torch.optim.Adam, {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}, gpu.Adam),
}

# a diagonal, ill-conditioned quadratic ½ Σ h_i w_i² on a (4, 3) parameter
H = np.linspace(0.1, 5.0, 12).reshape(4, 3)


def gradient(w: np.ndarray, noise: np.ndarray) -> np.ndarray:
    return H * w + noise


def numpy_trajectory(rule, cfg, w0, noises):
    w, state, path = w0.copy(), {}, []
    for noise in noises:
        w, state = rule(w, gradient(w, noise), state, cfg)
        path.append(w)
    return np.array(path)


def torch_trajectory(opt_cls, kwargs, w0, noises, device="cpu"):
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64, device=device))
    opt = opt_cls([p], **kwargs)
    path = []
    for noise in noises:
        opt.zero_grad()
        p.grad = torch.as_tensor(gradient(p.detach().cpu().numpy(), noise), device=device)
        opt.step()
        path.append(p.detach().cpu().numpy().copy())
    return np.array(path)


@pytest.fixture(scope="module")
def start_and_noise():
    rng = np.random.default_rng(5)
    return rng.standard_normal((4, 3)) * 2, rng.standard_normal((STEPS, 4, 3)) * 0.5


def max_differences(start_and_noise) -> dict[str, float]:
    """max |w_numpy − w_torch| over the 100 iterates, per optimizer (the notebook prints this too)."""
    w0, noises = start_and_noise
    return {name: float(np.abs(numpy_trajectory(rule, cfg, w0, noises)
                               - torch_trajectory(cls, kw, w0, noises)).max())
            for name, (rule, cfg, cls, kw, _) in CASES.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_numpy_rule_equals_torch_optim_for_100_steps(name, start_and_noise):
    rule, cfg, cls, kwargs, _ = CASES[name]
    w0, noises = start_and_noise
    ours = numpy_trajectory(rule, cfg, w0, noises)
    theirs = torch_trajectory(cls, kwargs, w0, noises)
    assert ours.shape == (STEPS, 4, 3)
    assert np.abs(ours - w0).max() > 1e-2, "the trajectory should move"
    diff = np.abs(ours - theirs).max(axis=(1, 2))
    assert diff.max() < TOL, f"{name}: first step off by > {TOL}: {int(np.argmax(diff > TOL))}, max {diff.max():.2e}"


@pytest.mark.parametrize("name", list(CASES))
def test_gpu_optimizer_subclass_equals_builtin(name, device, start_and_noise):
    _, cfg, cls, kwargs, ours_cls = CASES[name]
    w0, noises = start_and_noise
    assert issubclass(ours_cls, torch.optim.Optimizer)
    ours = torch_trajectory(lambda ps, **kw: ours_cls(ps, **cfg), {}, w0, noises, device)
    theirs = torch_trajectory(cls, kwargs, w0, noises, device)
    assert np.abs(ours - theirs).max() < TOL


@pytest.mark.parametrize("name", list(CASES))
def test_gpu_functional_twin_equals_numpy(name, start_and_noise):
    rule, cfg, *_ = CASES[name]
    twin = getattr(gpu, rule.__name__)
    w0, noises = start_and_noise
    w, state = torch.tensor(w0), {}
    for k, noise in enumerate(noises[:20]):
        w, state = twin(w, torch.as_tensor(gradient(w.numpy(), noise)), state, cfg)
    expected = numpy_trajectory(rule, cfg, w0, noises[:20])[-1]
    np.testing.assert_allclose(w.numpy(), expected, rtol=0, atol=TOL)


def test_optimizer_subclass_follows_an_lr_scheduler():
    """Changing group['lr'] between steps (a scheduler does) is seen by the next step."""
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(5)
    paths = []
    for cls, kw in ((gpu.Momentum, {}), (torch.optim.SGD, {"momentum": 0.9})):
        p = torch.nn.Parameter(torch.tensor(w0))
        opt = cls([p], lr=0.1, **kw)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        for _ in range(10):
            opt.zero_grad()
            (p**2).sum().backward()
            opt.step()
            sched.step()
        paths.append(p.detach().numpy())
    np.testing.assert_allclose(paths[0], paths[1], rtol=0, atol=TOL)


def test_momentum_convention_differs_from_lecture_form_only_when_lr_changes():
    rng = np.random.default_rng(2)
    grads = rng.standard_normal((6, 3))

    def lecture_form(lrs):
        w, v = np.zeros(3), np.zeros(3)
        for lr, g in zip(lrs, grads):
            v = 0.9 * v - lr * g
            w = w + v
        return w

    def ours(lrs):
        w, s = np.zeros(3), {}
        for lr, g in zip(lrs, grads):
            w, s = ref.sgd_momentum(w, g, s, {"lr": lr, "momentum": 0.9})
        return w

    constant, changing = [0.1] * 6, [0.1, 0.1, 0.1, 0.01, 0.01, 0.01]
    np.testing.assert_allclose(ours(constant), lecture_form(constant), atol=1e-14)
    assert np.abs(ours(changing) - lecture_form(changing)).max() > 1e-3


def test_nesterov_iterate_is_sutskevers_look_ahead_point():
    """θ + μ·v_S of Sutskever's form equals the iterate of PyTorch's form, on a quadratic."""
    lr, mu = 0.05, 0.9
    grad = lambda w: H * w  # noqa: E731
    theta, v = np.ones((4, 3)), np.zeros((4, 3))
    w, s = np.ones((4, 3)), {}
    for _ in range(30):
        v = mu * v - lr * grad(theta + mu * v)
        theta = theta + v
        w, s = ref.nesterov(w, grad(w), s, {"lr": lr, "momentum": mu})
        np.testing.assert_allclose(w, theta + mu * v, atol=1e-12)


def test_adam_bias_correction_makes_the_first_step_lr_sized():
    for g in (1e-3, 1.0, 1e3):
        w, _ = ref.adam(np.zeros(1), np.array([g]), {}, {"lr": 0.1})
        assert abs(w[0] + 0.1) < 2 * 0.1 * 1e-8 / g  # |m̂/√v̂| = 1 at t = 1 whatever the gradient's size (up to ε)


def test_updates_never_modify_their_inputs():
    rng = np.random.default_rng(3)
    for rule in (ref.sgd, ref.sgd_momentum, ref.nesterov, ref.adagrad, ref.rmsprop, ref.adadelta, ref.adam):
        w, dw = rng.standard_normal(4), rng.standard_normal(4)
        _, state = rule(w, dw, {}, None)
        frozen = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
        w_copy, dw_copy = w.copy(), dw.copy()
        rule(w, dw, state, None)
        assert np.array_equal(w, w_copy) and np.array_equal(dw, dw_copy), rule.__name__
        for k, v in frozen.items():
            assert np.array_equal(state[k], v), f"{rule.__name__} changed state[{k!r}] in place"


# ----------------------------------------------------------------- schedules


def _torch_lrs(make_scheduler, epochs=40, lr0=0.5):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr0)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(lrs)


@pytest.mark.parametrize("step_size,gamma", [(1, 0.5), (7, 0.1), (10, 0.3)])
def test_step_decay_equals_steplr(step_size, gamma):
    expected = _torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=step_size, gamma=gamma))
    for module in (ref, gpu):
        ours = np.array([module.step_decay(0.5, t, step_size, gamma) for t in range(40)])
        np.testing.assert_allclose(ours, expected, rtol=1e-12)


@pytest.mark.parametrize("gamma", [0.9, 0.5, 0.99])
def test_exponential_decay_equals_exponentiallr(gamma):
    expected = _torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=gamma))
    for module in (ref, gpu):
        ours = np.array([module.exponential_decay(0.5, t, gamma) for t in range(40)])
        np.testing.assert_allclose(ours, expected, rtol=1e-12)


@pytest.mark.parametrize("t_max,lr_min", [(10, 0.0), (25, 0.01), (16, 0.1)])
def test_cosine_annealing_equals_cosineannealinglr(t_max, lr_min):
    # 40 epochs run past t_max (and, for t_max 10 and 16, past 2·t_max): the periodic branch too.
    expected = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=t_max, eta_min=lr_min))
    for module in (ref, gpu):
        ours = np.array([module.cosine_annealing(0.5, t, t_max, lr_min) for t in range(40)])
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------- mini-batch training


def _softmax_regression(params, X, y):
    s = X @ params["W"] + params["b"]
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y]).mean()
    ds = p.copy()
    ds[np.arange(n), y] -= 1
    ds /= n
    return loss, {"W": X.T @ ds, "b": ds.sum(axis=0)}


def test_train_minibatch_visits_every_example_once_per_epoch_and_learns():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((53, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    seen = []

    def recording(params, Xb, yb):
        seen.append(len(yb))
        return _softmax_regression(params, Xb, yb)

    params0 = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    params, losses = ref.train_minibatch(recording, params0, X, y, lr=0.5, batch_size=10, epochs=3,
                                         rng=np.random.default_rng(1))
    assert seen == [10, 10, 10, 10, 10, 3] * 3
    assert len(losses) == 18 and losses[-1] < losses[0]
    assert np.array_equal(params0["W"], np.zeros((2, 2))), "params must not be modified in place"


def test_train_minibatch_gpu_twin_equals_numpy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = rng.integers(0, 3, 40)
    params0 = {"W": 0.1 * rng.standard_normal((3, 3)), "b": np.zeros(3)}
    p_ref, l_ref = ref.train_minibatch(_softmax_regression, params0, X, y, lr=0.3, batch_size=8, epochs=2,
                                       rng=np.random.default_rng(4))

    def torch_loss(params, Xb, yb):
        loss, g = _softmax_regression({k: v.numpy() for k, v in params.items()}, Xb.numpy(), yb.numpy())
        return loss, {k: torch.as_tensor(v) for k, v in g.items()}

    p_gpu, l_gpu = gpu.train_minibatch(torch_loss, {k: torch.tensor(v) for k, v in params0.items()},
                                       torch.tensor(X), torch.tensor(y), lr=0.3, batch_size=8, epochs=2,
                                       rng=np.random.default_rng(4))
    np.testing.assert_allclose(l_gpu, l_ref, rtol=1e-12)
    for k in p_ref:
        np.testing.assert_allclose(p_gpu[k].numpy(), p_ref[k], atol=1e-12)


def test_gradient_descent_takes_steps_full_batch_and_leaves_params_alone():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    params0 = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    calls = []

    def loss_fn(params):
        calls.append({k: v.copy() for k, v in params.items()})
        return _softmax_regression(params, X, y)

    params, losses = ref.gradient_descent(loss_fn, params0, lr=0.5, steps=4)
    assert len(losses) == 4 == len(calls) and losses[-1] < losses[0]
    loss1, g = _softmax_regression(params0, X, y)
    assert losses[0] == loss1 and np.allclose(calls[1]["W"], -0.5 * g["W"])  # the second call sees one step
    assert np.array_equal(params0["W"], np.zeros((2, 2))), "params must not be modified in place"
    same, none = ref.gradient_descent(loss_fn, params0, lr=0.0, steps=2)
    assert np.array_equal(same["W"], params0["W"]) and ref.gradient_descent(loss_fn, params0, lr=1.0, steps=0)[1] == []


def test_gradient_descent_gpu_twin_equals_numpy():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 3, 20)
    params0 = {"W": 0.1 * rng.standard_normal((3, 3)), "b": np.zeros(3)}
    p_ref, l_ref = ref.gradient_descent(lambda p: _softmax_regression(p, X, y), params0, lr=0.3, steps=5)

    def torch_loss(params):
        loss, g = _softmax_regression({k: v.numpy() for k, v in params.items()}, X, y)
        return loss, {k: torch.as_tensor(v) for k, v in g.items()}

    p_gpu, l_gpu = gpu.gradient_descent(torch_loss, {k: torch.tensor(v) for k, v in params0.items()}, lr=0.3, steps=5)
    np.testing.assert_allclose(l_gpu, l_ref, rtol=1e-12)
    for k in p_ref:
        np.testing.assert_allclose(p_gpu[k].numpy(), p_ref[k], atol=1e-12)
