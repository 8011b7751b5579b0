"""Lecture 02 references (activations, perceptron, dense layer, MLP) against finite differences,
PyTorch, and their ``dlcourse.gpu`` twins. Everything is float64."""

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


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 3.0) -> np.ndarray:
    x = scale * rng.standard_normal(shape)
    return np.where(np.abs(x) < 1e-2, 0.5, x)  # no kink inside a finite-difference step


TORCH_TWINS = {
    "leaky_relu": (lambda x: ref.leaky_relu_forward(x, 0.1), lambda t: F.leaky_relu(t, 0.1)),
    "elu": (lambda x: ref.elu_forward(x, 0.7), lambda t: F.elu(t, 0.7)),
    "softplus": (ref.softplus_forward, F.softplus),
}
BACKWARD = {"leaky_relu": ref.leaky_relu_backward, "elu": ref.elu_backward, "softplus": ref.softplus_backward}


@FAST
@given(seed=seeds, shape=shapes)
@pytest.mark.parametrize("name", list(TORCH_TWINS))
def test_activation_matches_torch_autograd(name: str, seed: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    x, dout = away_from_zero(rng, shape), rng.standard_normal(shape)
    forward, torch_fn = TORCH_TWINS[name]
    out, cache = forward(x)
    t = torch.tensor(x, requires_grad=True)
    out_t = torch_fn(t)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(BACKWARD[name](dout, cache), t.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(TORCH_TWINS))
def test_activation_backward_matches_finite_differences(name: str) -> None:
    rng = np.random.default_rng(1)
    x, dout = away_from_zero(rng, (3, 4)), rng.standard_normal((3, 4))
    forward, _ = TORCH_TWINS[name]
    numeric = ref.numerical_gradient_array(lambda z: forward(z)[0], x.copy(), dout)
    np.testing.assert_allclose(BACKWARD[name](dout, forward(x)[1]), numeric, rtol=1e-7, atol=1e-8)


def test_activations_are_stable_at_extreme_inputs() -> None:
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
            sp = ref.softplus(x)
            e, cache = ref.elu_forward(x, 1.0)
            de = ref.elu_backward(np.ones_like(x), cache)
            s = ref.sigmoid(x)
    assert sp[0] == 0.0 and sp[-1] == 1000.0 and sp[1] == pytest.approx(np.exp(-40.0), rel=1e-12)
    assert sp[2] == pytest.approx(np.log(2.0))
    assert e[0] == -1.0 and e[-1] == 1000.0 and de[0] == 0.0 and de[-1] == 1.0
    assert s[0] == 0.0 and s[-1] == 1.0
    assert ref.softplus(np.array([1, 2])).dtype == np.float64


def test_activation_dispatch() -> None:
    x = np.linspace(-2, 2, 7)
    for name in ref.activations.ACTIVATIONS:
        out, cache = ref.activation_forward(x, name)
        dx = ref.activation_backward(np.ones_like(x), cache, name)
        assert out.shape == x.shape and dx.shape == x.shape
    with pytest.raises(ValueError, match="unknown activation"):
        ref.activation_forward(x, "swish")


def test_perceptron_reproduces_the_lecture_example() -> None:
    y = ref.perceptron(np.array([-1.0, 2.0]), np.array([3.0, -2.0]), 1.0)
    assert y == pytest.approx(1 / (1 + np.exp(6.0))) and round(float(y), 3) == 0.002
    batch = ref.perceptron(np.array([[-1.0, 2.0], [0.0, 0.0]]), np.array([3.0, -2.0]), 1.0)
    assert batch.shape == (2,) and batch[1] == pytest.approx(1 / (1 + np.exp(-1.0)))


@FAST
@given(seed=seeds, n=st.integers(1, 4), d=st.integers(1, 5), m=st.integers(1, 4),
       act=st.sampled_from(["linear", "relu", "sigmoid", "tanh"]))
def test_dense_layer_matches_torch(seed: int, n: int, d: int, m: int, act: str) -> None:
    rng = np.random.default_rng(seed)
    x, w, b, dout = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal(m), rng.standard_normal((n, m))
    out, cache = ref.dense_forward(x, w, b, act)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    fn = {"linear": lambda t: t, "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[act]
    out_t = fn(F.linear(tx, tw.T, tb))
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    for got, t in zip(ref.dense_backward(dout, cache), (tx, tw, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def random_layers(rng: np.random.Generator, dims: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(rng.standard_normal((a, b)), rng.standard_normal(b)) for a, b in zip(dims[:-1], dims[1:])]


@FAST
@given(seed=seeds, dims=st.lists(st.integers(1, 5), min_size=2, max_size=5), n=st.integers(1, 4))
def test_mlp_forward_matches_nn_sequential(seed: int, dims: list[int], n: int) -> None:
    rng = np.random.default_rng(seed)
    layers, x = random_layers(rng, dims), rng.standard_normal((n, dims[0]))
    modules: list[torch.nn.Module] = []
    for i, (w, b) in enumerate(layers):
        lin = torch.nn.Linear(w.shape[0], w.shape[1]).double()
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(w.T))
            lin.bias.copy_(torch.tensor(b))
        modules += [lin] + ([torch.nn.Tanh()] if i < len(layers) - 1 else [])
    expected = torch.nn.Sequential(*modules)(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ref.mlp_forward(x, layers, activation="tanh"), expected, rtol=1e-10, atol=1e-12)


@FAST
@given(seed=seeds, dims=st.lists(st.integers(1, 5), min_size=2, max_size=5))
def test_collapse_linear_equals_the_stack(seed: int, dims: list[int]) -> None:
    rng = np.random.default_rng(seed)
    layers, x = random_layers(rng, dims), rng.standard_normal((3, dims[0]))
    w_c, b_c = ref.collapse_linear(layers)
    assert w_c.shape == (dims[0], dims[-1]) and b_c.shape == (dims[-1],)
    np.testing.assert_allclose(x @ w_c + b_c, ref.mlp_forward(x, layers, activation="linear"), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- gpu twins


def test_gpu_twins_of_lecture_02(device: torch.device) -> None:
    rng = np.random.default_rng(5)
    x, dout = away_from_zero(rng, (4, 3)), rng.standard_normal((4, 3))
    T = lambda a: gpu.to_tensor(a, device, torch.float64)  # noqa: E731
    for name in ("leaky_relu", "elu", "softplus"):
        out_r, cache_r = getattr(ref, f"{name}_forward")(x)
        out, cache = getattr(gpu, f"{name}_forward")(T(x))
        assert out.device.type == device.type
        np.testing.assert_allclose(gpu.to_numpy(out), out_r, rtol=1e-12)
        dx = getattr(gpu, f"{name}_backward")(T(dout), cache)
        np.testing.assert_allclose(gpu.to_numpy(dx), getattr(ref, f"{name}_backward")(dout, cache_r), rtol=1e-12)
    w, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    np.testing.assert_allclose(gpu.to_numpy(gpu.perceptron(T(x), T(w[:, 0]), 0.5)), ref.perceptron(x, w[:, 0], 0.5))
    out, cache = gpu.dense_forward(T(x), T(w), T(b), "sigmoid")
    out_r, cache_r = ref.dense_forward(x, w, b, "sigmoid")
    np.testing.assert_allclose(gpu.to_numpy(out), out_r, rtol=1e-12)
    d2 = rng.standard_normal((4, 2))
    for g, r in zip(gpu.dense_backward(T(d2), cache), ref.dense_backward(d2, cache_r)):
        np.testing.assert_allclose(gpu.to_numpy(g), r, rtol=1e-10, atol=1e-14)
    layers = random_layers(rng, [3, 4, 2])
    t_layers = [(T(w), T(b)) for w, b in layers]
    np.testing.assert_allclose(gpu.to_numpy(gpu.mlp_forward(T(x), t_layers)), ref.mlp_forward(x, layers), rtol=1e-12)
    for g, r in zip(gpu.collapse_linear(t_layers), ref.collapse_linear(layers)):
        np.testing.assert_allclose(gpu.to_numpy(g), r, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = gpu.softplus(T(np.array([-1000.0, 1000.0])))
    assert gpu.to_numpy(big).tolist() == [0.0, 1000.0]
