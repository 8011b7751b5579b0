"""``dlcourse.gpu`` against ``dlcourse.ref``: same names, same results, on every device.

Every test takes the ``device`` fixture of ``conftest.py``: ``cpu`` always, ``cuda`` (marked
``cuda``) skipped with a reason when no CUDA device is present. Inputs are drawn in NumPy,
rounded to the tested dtype, and given to both twins; float64 results must agree to 1e-10,
float32 ones to 1e-5, relative to the size of the reference result (entrywise relative error is
meaningless for entries that cancel to ~0, where two correct summation orders differ completely).
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import warnings

import numpy as np
import pytest

from dlcourse import ref

torch = pytest.importorskip("torch")
F = torch.nn.functional
gpu = pytest.importorskip("dlcourse.gpu")

DTYPES = {
    "float64": (torch.float64, np.float64, 1e-10),
    "float32": (torch.float32, np.float32, 1e-5),
}


@pytest.fixture(params=list(DTYPES))
def prec(request: pytest.FixtureRequest) -> tuple[torch.dtype, type, float]:
    """(torch dtype, NumPy dtype, tolerance)."""
    return DTYPES[request.param]


def draw(rng: np.random.Generator, np_dtype: type, *shape: int, scale: float = 1.0) -> np.ndarray:
    """Gaussian values already representable in np_dtype, returned as float64 for the reference."""
    return (scale * rng.standard_normal(shape)).astype(np_dtype).astype(np.float64)


def T(a: np.ndarray, device: torch.device, dtype: torch.dtype | None = torch.float64) -> torch.Tensor:
    return gpu.to_tensor(a, device, dtype)


def assert_twin(
    actual: torch.Tensor, expected: np.ndarray, device: torch.device, dtype: torch.dtype, tol: float
) -> None:
    """actual is a tensor on device with dtype, equal to expected within tol (relative to its size)."""
    assert isinstance(actual, torch.Tensor), f"expected a tensor, got {type(actual).__name__}"
    assert actual.device.type == device.type, f"output on {actual.device}, input was on {device}"
    assert actual.dtype == dtype, f"output is {actual.dtype}, input was {dtype}"
    expected = np.asarray(expected, dtype=np.float64)
    assert tuple(actual.shape) == expected.shape
    scale = float(np.abs(expected).max()) if expected.size else 0.0
    np.testing.assert_allclose(gpu.to_numpy(actual).astype(np.float64), expected, rtol=tol, atol=tol * scale)


# ---------------------------------------------------------------- the twin contract


def test_every_ref_name_has_a_twin_with_the_same_signature() -> None:
    for name in ref.__all__:
        assert name in gpu.__all__, f"dlcourse.gpu lacks {name}"
        if not callable(getattr(ref, name)):  # a constant, e.g. the tuple ACTIVATIONS
            assert getattr(gpu, name) == getattr(ref, name), name
            continue
        ref_params = list(inspect.signature(getattr(ref, name)).parameters.values())
        gpu_params = list(inspect.signature(getattr(gpu, name)).parameters.values())
        assert [p.name for p in gpu_params[: len(ref_params)]] == [p.name for p in ref_params], name
        assert [p.default for p in gpu_params[: len(ref_params)]] == [p.default for p in ref_params], name
        assert all(p.default is not inspect.Parameter.empty for p in gpu_params[len(ref_params) :]), name


def test_import_dlcourse_does_not_import_torch() -> None:
    code = "import dlcourse, dlcourse.ref, sys; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_device_helpers(device: torch.device) -> None:
    assert gpu.default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    a = np.arange(6.0).reshape(2, 3)
    t = gpu.to_tensor(a, device)
    assert t.device.type == device.type and t.dtype == torch.float64 and t.shape == (2, 3)
    assert gpu.to_tensor(a, device, torch.float32).dtype == torch.float32
    assert gpu.to_tensor(t).device == t.device  # device=None leaves a tensor where it is
    assert gpu.to_tensor(np.array([1, 2]), device).dtype == torch.int64
    back = gpu.to_numpy(t.clone().requires_grad_())
    assert isinstance(back, np.ndarray) and np.array_equal(back, a)
    assert gpu.to_numpy(a) is a
    frozen = np.broadcast_to(np.arange(3.0), (2, 3))  # read-only
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.equal(gpu.to_tensor(frozen, device).cpu(), torch.from_numpy(frozen.copy()))
        assert torch.equal(gpu.to_tensor(a[::-1, ::-1], device).cpu(), torch.from_numpy(a[::-1, ::-1].copy()))


# ---------------------------------------------------------------- layers and activations


def test_affine_twin(device: torch.device, prec) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(0)
    x, w, b = draw(rng, np_dtype, 3, 2, 2, 3), draw(rng, np_dtype, 12, 5), draw(rng, np_dtype, 5)
    dout = draw(rng, np_dtype, 3, 5)
    out_r, cache_r = ref.affine_forward(x, w, b)
    tx, tw, tb = T(x, device, dtype), T(w, device, dtype), T(b, device, dtype)
    out, cache = gpu.affine_forward(tx, tw, tb)
    assert isinstance(cache, tuple) and len(cache) == 3
    assert cache[0] is tx and cache[1] is tw and cache[2] is tb
    assert_twin(out, out_r, device, dtype, tol)
    for got, want in zip(gpu.affine_backward(T(dout, device, dtype), cache), ref.affine_backward(dout, cache_r)):
        assert_twin(got, want, device, dtype, tol)


def test_relu_twin(device: torch.device, prec) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(1)
    x, dout = draw(rng, np_dtype, 4, 3, 2), draw(rng, np_dtype, 4, 3, 2)
    x[0, 0] = 0.0
    out_r, cache_r = ref.relu_forward(x)
    tx = T(x, device, dtype)
    out, cache = gpu.relu_forward(tx)
    assert cache is tx
    assert_twin(out, out_r, device, dtype, 0.0)
    assert_twin(gpu.relu_backward(T(dout, device, dtype), cache), ref.relu_backward(dout, cache_r), device, dtype, 0.0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_smooth_activation_twins(name: str, device: torch.device, prec) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(2)
    x, dout = draw(rng, np_dtype, 4, 5, scale=4.0), draw(rng, np_dtype, 4, 5)
    forward, backward = getattr(gpu, f"{name}_forward"), getattr(gpu, f"{name}_backward")
    out_r, cache_r = getattr(ref, f"{name}_forward")(x)
    out, cache = forward(T(x, device, dtype))
    assert cache is out
    assert_twin(out, out_r, device, dtype, tol)
    dx_r = getattr(ref, f"{name}_backward")(dout, cache_r)
    assert_twin(backward(T(dout, device, dtype), cache), dx_r, device, dtype, tol)
    if name == "sigmoid":
        assert_twin(gpu.sigmoid(T(x, device, dtype)), ref.sigmoid(x), device, dtype, tol)


def test_sigmoid_at_extreme_inputs(device: torch.device, prec) -> None:
    dtype, _, _ = prec
    x = torch.tensor([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=dtype, device=device)
    s = gpu.sigmoid(x)
    assert torch.isfinite(s).all() and s[0] == 0.0 and s[2] == 0.5 and s[-1] == 1.0
    ds = gpu.sigmoid_backward(torch.ones_like(x), gpu.sigmoid_forward(x)[1])
    assert torch.isfinite(ds).all() and ds[0] == 0.0 and ds[-1] == 0.0
    ints = gpu.sigmoid(torch.tensor([-2, 0, 2], device=device))
    assert ints.dtype == torch.float64 and ints.device.type == device.type
    assert_twin(ints, ref.sigmoid(np.array([-2, 0, 2])), device, torch.float64, 1e-10)


# ---------------------------------------------------------------- losses


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_twin(axis: int, device: torch.device, prec) -> None:
    dtype, np_dtype, tol = prec
    scores = draw(np.random.default_rng(3), np_dtype, 4, 6, scale=5.0)
    assert_twin(gpu.softmax(T(scores, device, dtype), axis=axis), ref.softmax(scores, axis=axis), device, dtype, tol)


def test_softmax_of_huge_equal_logits_is_uniform(device: torch.device, prec) -> None:
    dtype, _, _ = prec
    p = gpu.softmax(torch.full((2, 5), 1e30, dtype=dtype, device=device))
    assert_twin(p, np.full((2, 5), 0.2), device, dtype, 1e-6)


def test_softmax_cross_entropy_twin(device: torch.device, prec) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(4)
    scores, y = draw(rng, np_dtype, 6, 4, scale=3.0), rng.integers(0, 4, size=6)
    loss_r, d_r = ref.softmax_cross_entropy(scores, y)
    for labels in (torch.from_numpy(y).to(device), y):  # labels as a tensor or as a NumPy array
        loss, d = gpu.softmax_cross_entropy(T(scores, device, dtype), labels)
        assert isinstance(loss, float)
        assert loss == pytest.approx(loss_r, rel=tol)
        assert_twin(d, d_r, device, dtype, tol)


def test_softmax_cross_entropy_with_huge_logits(device: torch.device, prec) -> None:
    dtype, _, _ = prec
    scores = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, 1e4, 0.0]])
    y = np.array([0, 1, 0])
    loss_r, d_r = ref.softmax_cross_entropy(scores, y)
    loss, d = gpu.softmax_cross_entropy(T(scores, device, dtype), torch.from_numpy(y).to(device))
    assert np.isfinite(loss) and torch.isfinite(d).all()
    assert loss == pytest.approx(loss_r, rel=1e-6)
    assert_twin(d, d_r, device, dtype, 1e-6)


# ---------------------------------------------------------------- networks


def test_init_two_layer_twin(device: torch.device, prec) -> None:
    dtype, _, _ = prec
    p = gpu.init_two_layer(400, 300, 10, rng=0, device=device, dtype=dtype)
    assert {k: tuple(v.shape) for k, v in p.items()} == {"W1": (400, 300), "b1": (300,), "W2": (300, 10), "b2": (10,)}
    assert all(v.device.type == device.type and v.dtype == dtype for v in p.values())
    assert not p["b1"].any() and not p["b2"].any()
    assert float(p["W1"].std()) == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert float(p["W2"].std()) == pytest.approx(np.sqrt(2 / 300), rel=0.05)
    same_on_cpu = gpu.init_two_layer(400, 300, 10, rng=0, device="cpu", dtype=dtype)
    assert torch.equal(p["W1"].cpu(), same_on_cpu["W1"])  # one seed, same draws on every device
    assert not torch.equal(same_on_cpu["W1"], gpu.init_two_layer(400, 300, 10, rng=1, device="cpu", dtype=dtype)["W1"])
    scaled = gpu.init_two_layer(400, 300, 10, rng=torch.Generator().manual_seed(0), weight_scale=1e-3, device=device)
    assert float(scaled["W2"].std()) == pytest.approx(1e-3, rel=0.05)
    from_numpy_rng = gpu.init_two_layer(4, 3, 2, rng=np.random.default_rng(0), device=device)
    assert from_numpy_rng["W1"].shape == (4, 3)


def test_params_from_numpy_copies(device: torch.device) -> None:
    params = ref.init_two_layer(5, 4, 3, rng=0)
    before = {k: v.copy() for k, v in params.items()}
    t = gpu.params_from_numpy(params, device)
    assert t.keys() == params.keys()
    for k in params:
        assert_twin(t[k], params[k], device, torch.float64, 0.0)
        t[k] += 1.0
        assert np.array_equal(params[k], before[k])
    assert gpu.params_from_numpy(params, device, torch.float32)["W1"].dtype == torch.float32


@pytest.mark.parametrize("reg", [0.0, 0.25])
def test_two_layer_net_twin(reg: float, device: torch.device, prec) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(5)
    params = {k: v.astype(np_dtype).astype(np.float64) for k, v in ref.init_two_layer(7, 9, 4, rng=rng).items()}
    params["b1"], params["b2"] = draw(rng, np_dtype, 9), draw(rng, np_dtype, 4)
    X, y = draw(rng, np_dtype, 8, 7), rng.integers(0, 4, size=8)
    tparams, tX, ty = gpu.params_from_numpy(params, device, dtype), T(X, device, dtype), torch.from_numpy(y).to(device)
    assert_twin(gpu.two_layer_net(tparams, tX), ref.two_layer_net(params, X), device, dtype, tol)
    loss_r, grads_r = ref.two_layer_net(params, X, y, reg=reg)
    loss, grads = gpu.two_layer_net(tparams, tX, ty, reg=reg)
    assert isinstance(loss, float) and loss == pytest.approx(loss_r, rel=tol)
    assert grads.keys() == grads_r.keys()
    for k in grads_r:
        assert_twin(grads[k], grads_r[k], device, dtype, tol)


def test_linear_net_grads_twin(device: torch.device, prec) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(6)
    x, y = draw(rng, np_dtype, 5, 3), draw(rng, np_dtype, 5, 2)
    params = {"W0": draw(rng, np_dtype, 3, 4), "b0": draw(rng, np_dtype, 4),
              "W1": draw(rng, np_dtype, 4, 2), "b1": draw(rng, np_dtype, 2)}
    loss_r, grads_r = ref.linear_net_grads(x, y, **params)
    loss, grads = gpu.linear_net_grads(T(x, device, dtype), T(y, device, dtype),
                                       **{k: T(v, device, dtype) for k, v in params.items()})
    assert isinstance(loss, float) and loss == pytest.approx(loss_r, rel=tol)
    for k in grads_r:
        assert_twin(grads[k], grads_r[k], device, dtype, tol)


# ---------------------------------------------------------------- gradcheck and optim


def test_numerical_gradient_twin(device: torch.device) -> None:
    x = np.random.default_rng(6).standard_normal((3, 4))
    x[0, 0], x[0, 1] = 0.1, 1 / 3  # values for which (x + h) − h ≠ x
    tx = T(x, device)
    before = tx.clone()
    num = gpu.numerical_gradient(lambda v: torch.sum(torch.sin(v) * v**2), tx)
    assert torch.equal(tx, before), "x was not restored exactly"
    assert_twin(num, ref.numerical_gradient(lambda v: np.sum(np.sin(v) * v**2), x), device, torch.float64, 1e-8)
    assert gpu.rel_error(num, torch.sin(tx) * 2 * tx + torch.cos(tx) * tx**2) < 1e-8
    # a leaf that requires grad can be checked too (f runs under no_grad)
    leaf = T(x, device).requires_grad_()
    assert gpu.numerical_gradient(lambda v: (v**2).sum(), leaf).shape == (3, 4)


def test_numerical_gradient_array_twin(device: torch.device) -> None:
    rng = np.random.default_rng(7)
    x, dout = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    got = gpu.numerical_gradient_array(lambda v: torch.tanh(v), T(x, device), T(dout, device))
    want = ref.numerical_gradient_array(lambda v: np.tanh(v), x, dout)
    assert_twin(got, want, device, torch.float64, 1e-8)


def test_rel_error_twin(device: torch.device) -> None:
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    got = gpu.rel_error(T(a, device), T(b, device))
    assert isinstance(got, float) and got == pytest.approx(ref.rel_error(a, b), rel=1e-12)
    assert gpu.rel_error(T(a, device), T(a, device)) == 0.0
    assert gpu.rel_error(T(a, device, torch.float32), a) == pytest.approx(ref.rel_error(a.astype(np.float32), a))
    assert gpu.rel_error(torch.zeros(0, 2, device=device), torch.zeros(0, 2, device=device)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        gpu.rel_error(T(a, device), T(a.T, device))


def test_sgd_twin(device: torch.device, prec) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(9)
    w, dw = draw(rng, np_dtype, 3, 4), draw(rng, np_dtype, 3, 4)
    tw, tdw = T(w, device, dtype), T(dw, device, dtype)
    before = tw.clone()
    new_w, state = gpu.sgd(tw, tdw, None, {"lr": 0.3})
    assert new_w is not tw and torch.equal(tw, before)
    assert state == {}
    assert_twin(new_w, ref.sgd(w, dw, None, {"lr": 0.3})[0], device, dtype, tol)
    assert_twin(gpu.sgd(tw, tdw)[0], ref.sgd(w, dw)[0], device, dtype, tol)
    kept = {"t": 1}
    assert gpu.sgd(tw, tdw, kept)[1] is kept


# ---------------------------------------------------------------- autograd Functions


def _function_cases(device: torch.device, dtype: torch.dtype):
    """(name, Function, one-call form, plain torch expression, differentiable inputs, extra args)."""
    g = torch.Generator().manual_seed(10)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=g, dtype=dtype).to(device).requires_grad_()

    away = torch.randn(3, 4, generator=g, dtype=dtype)
    away = (away + away.sign() * 0.1).to(device).requires_grad_()  # |x| ≥ 0.1: no kink in gradcheck's step
    y = torch.tensor([0, 2, 1, 2, 0], device=device)
    return [
        ("Affine", gpu.Affine, gpu.affine, lambda x, w, b: x.reshape(x.shape[0], -1) @ w + b,
         (randn(2, 3, 2), randn(6, 4), randn(4)), ()),
        ("ReLU", gpu.ReLU, gpu.relu, torch.relu, (away,), ()),
        ("Sigmoid", gpu.Sigmoid, gpu.sigmoid, torch.sigmoid, (randn(3, 4),), ()),
        ("Tanh", gpu.Tanh, gpu.tanh, torch.tanh, (randn(3, 4),), ()),
        ("SoftmaxCrossEntropy", gpu.SoftmaxCrossEntropy, gpu.softmax_cross_entropy_loss, F.cross_entropy,
         (randn(5, 3),), (y,)),
    ]  # fmt: skip


CASE_NAMES = ["Affine", "ReLU", "Sigmoid", "Tanh", "SoftmaxCrossEntropy"]


def _case(name: str, device: torch.device, dtype: torch.dtype):
    return next(c for c in _function_cases(device, dtype) if c[0] == name)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_function_backward_equals_autograd_of_the_plain_expression(name: str, device: torch.device, prec) -> None:
    dtype, _, tol = prec
    _, fn, one_call, plain, inputs, extra = _case(name, device, dtype)
    out = fn.apply(*inputs, *extra)
    assert type(out.grad_fn).__name__ == f"{name}Backward", "autograd must run the written-out backward"
    assert out.device.type == device.type and out.dtype == dtype
    expected = plain(*inputs, *extra)
    assert_twin(out, gpu.to_numpy(expected).astype(np.float64), device, dtype, tol)
    assert torch.equal(one_call(*inputs, *extra), out)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(11), dtype=dtype).to(device)
    got = torch.autograd.grad(out, inputs, upstream)
    want = torch.autograd.grad(expected, inputs, upstream)
    for g_, w_ in zip(got, want):
        assert_twin(g_, gpu.to_numpy(w_).astype(np.float64), device, dtype, tol)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_function_passes_torch_gradcheck(name: str, device: torch.device) -> None:
    _, fn, _, _, inputs, extra = _case(name, device, torch.float64)
    assert torch.autograd.gradcheck(lambda *xs: fn.apply(*xs, *extra), inputs, eps=1e-6, atol=1e-8, rtol=1e-6)


# ---------------------------------------------------------------- TwoLayerNet


@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_two_layer_net_module_backward_equals_ref_grads(reg: float, device: torch.device, prec) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(12)
    params = {k: v.astype(np_dtype).astype(np.float64) for k, v in ref.init_two_layer(6, 10, 3, rng=rng).items()}
    params["b1"] = draw(rng, np_dtype, 10)
    X, y = draw(rng, np_dtype, 9, 6), rng.integers(0, 3, size=9)
    net = gpu.TwoLayerNet.from_params(params, device=device, dtype=dtype)
    assert [n for n, _ in net.named_parameters()] == ["W1", "b1", "W2", "b2"]
    tX, ty = T(X, device, dtype), torch.from_numpy(y).to(device)
    assert_twin(net(tX), ref.two_layer_net(params, X), device, dtype, tol)
    loss = net.loss(tX, ty, reg=reg)
    assert loss.shape == () and loss.device.type == device.type and loss.dtype == dtype
    loss.backward()
    loss_r, grads_r = ref.two_layer_net(params, X, y, reg=reg)
    assert float(loss.detach()) == pytest.approx(loss_r, rel=tol)
    for k, g_ in net.grads().items():
        assert_twin(g_, grads_r[k], device, dtype, tol)
    # one optimizer step on the module equals one ref.sgd step, and leaves the NumPy params alone
    before = {k: v.copy() for k, v in params.items()}
    torch.optim.SGD(net.parameters(), lr=0.5).step()
    for k, p in net.named_parameters():
        assert_twin(p.detach(), ref.sgd(params[k], grads_r[k], None, {"lr": 0.5})[0], device, dtype, tol)
        assert np.array_equal(params[k], before[k])


def test_two_layer_net_module_init_and_torch_params(device: torch.device) -> None:
    net = gpu.TwoLayerNet(5, 4, 3, rng=0, device=device)
    expected = gpu.init_two_layer(5, 4, 3, rng=0, device=device)
    for k, p in net.named_parameters():
        assert torch.equal(p.detach(), expected[k]) and p.device.type == device.type and p.dtype == torch.float64
    assert all(g is None for g in net.grads().values())
    again = gpu.TwoLayerNet.from_params({k: v.detach() for k, v in net.named_parameters()})
    assert again.W1.device == net.W1.device and torch.equal(again.W1, net.W1)
    assert again.W1.data_ptr() != net.W1.data_ptr()  # a copy
    scores = net(np.ones((2, 5)))  # NumPy inputs are moved to the parameters' device
    assert scores.shape == (2, 3) and scores.device.type == device.type
