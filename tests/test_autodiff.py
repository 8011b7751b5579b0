"""dlcourse.ref.autodiff (and its PyTorch twin) against central differences and torch.autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse import ref
from dlcourse.ref.autodiff import topological_order

torch = pytest.importorskip("torch")
gpu = pytest.importorskip("dlcourse.gpu")

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)
small = st.floats(-1.5, 1.5, allow_nan=False)


def expression(V, x, y, z):
    """Every operation, with x and an intermediate used several times."""
    a = x * y + x**2
    b = (a.tanh() * z).exp() - 3 / (x + 2.5)
    return (b * a + a) / (1 + z**2) - y


@FAST
@given(x=small, y=small, z=small)
def test_value_matches_finite_differences_and_torch(x, y, z):
    leaves = [ref.Value(v) for v in (x, y, z)]
    out = expression(ref.Value, *leaves)
    out.backward()
    grads = np.array([leaf.grad for leaf in leaves])

    numeric = ref.numerical_partials(lambda *v: expression(ref.Value, *map(ref.Value, v)).data, [x, y, z])
    np.testing.assert_allclose(grads, numeric, rtol=1e-6, atol=1e-8)

    t = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, y, z)]
    tout = expression(None, *t)
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grads, [v.grad.item() for v in t], rtol=1e-10, atol=1e-12)

    twin = [gpu.Value(v) for v in (x, y, z)]
    gout = expression(gpu.Value, *twin)
    gout.backward()
    assert gout.data == pytest.approx(out.data, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose([v.grad for v in twin], grads, rtol=1e-10, atol=1e-12)


def test_gradients_accumulate_on_fan_out():
    x = ref.Value(3.0)
    (x + x).backward()
    assert x.grad == 2.0
    x = ref.Value(3.0)
    a = x * x  # a used three times below
    out = a * a + a
    out.backward()
    assert a.grad == pytest.approx(2 * 9 + 1) and x.grad == pytest.approx((2 * 9 + 1) * 6)


def test_lecture_neuron():
    # tanh(x1·w1 + x2·w2 + b) with b chosen so that the pre-activation is 0.8814: output 1/√2.
    x1, x2, w1, w2, b = (ref.Value(v) for v in (2.0, 0.0, -3.0, 1.0, 6.8813735870195432))
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert o.data == pytest.approx(1 / math.sqrt(2))
    assert (x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0))


def test_topological_order_puts_inputs_first_and_survives_deep_graphs():
    x = ref.Value(0.1)
    out = x
    for _ in range(3000):  # deeper than Python's default recursion limit
        out = out * 1.0001 + 0.0
    order = topological_order(out)
    position = {id(n): i for i, n in enumerate(order)}
    assert all(position[id(c)] < position[id(n)] for n in order for c in n._prev)
    assert len(order) == len({id(n) for n in order})
    out.backward()
    assert x.grad == pytest.approx(1.0001**3000)


def test_power_rejects_a_value_exponent():
    with pytest.raises(TypeError, match="constant"):
        ref.Value(2.0) ** ref.Value(3.0)
    with pytest.raises(TypeError, match="constant"):
        gpu.Value(2.0) ** gpu.Value(3.0)


def test_numerical_partials_is_second_order_accurate():
    f = lambda a: a**3  # noqa: E731
    for h in (1e-2, 1e-3):
        err = abs(ref.numerical_partials(f, [2.0], h)[0] - 12.0)
        assert err == pytest.approx(h**2, rel=1e-3)  # f'''/6 · h² = h²
    np.testing.assert_allclose(gpu.numerical_partials(f, [2.0]), ref.numerical_partials(f, [2.0]))


def graph_inputs(seed, n, d, h, c):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)), rng.standard_normal((h, d)), rng.standard_normal(h),
            rng.standard_normal((c, h)), rng.standard_normal(c)), rng.standard_normal((n, c))


dims = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.integers(1, 3))


@FAST
@given(seed=seeds, shape=dims)
def test_two_layer_graph_matches_torch_autograd(seed, shape):
    params, dy = graph_inputs(seed, *shape)
    y, cache = ref.two_layer_graph_forward(*params)
    grads = ref.two_layer_graph_backward(dy, cache)
    t = [torch.tensor(p, requires_grad=True) for p in params]
    x, W, b, V, a = t
    ty = torch.tanh(x @ W.T + b) @ V.T + a
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    for g, tp in zip(grads, t):
        assert g.shape == tp.shape
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-10, atol=1e-12)


@FAST
@given(seed=seeds, shape=dims)
def test_two_layer_graph_matches_finite_differences(seed, shape):
    params, dy = graph_inputs(seed, *shape)
    grads = ref.two_layer_graph_backward(dy, ref.two_layer_graph_forward(*params)[1])
    for i, g in enumerate(grads):
        args = [p.copy() for p in params]

        def f(z, i=i, args=args):
            args[i] = z
            return ref.two_layer_graph_forward(*args)[0]

        np.testing.assert_allclose(g, ref.numerical_gradient_array(f, args[i], dy), rtol=1e-6, atol=1e-8)


def test_gpu_two_layer_graph_twin(device):
    params, dy = graph_inputs(0, 5, 3, 4, 2)
    t = [torch.tensor(p, device=device, requires_grad=True) for p in params]
    y = gpu.TwoLayerGraph.apply(*t)
    y.backward(torch.tensor(dy, device=device))
    y_ref, cache = ref.two_layer_graph_forward(*params)
    np.testing.assert_allclose(y.detach().cpu().numpy(), y_ref, rtol=1e-12)
    for g, tp in zip(ref.two_layer_graph_backward(dy, cache), t):
        assert tp.grad.device.type == device.type
        np.testing.assert_allclose(tp.grad.cpu().numpy(), g, rtol=1e-10, atol=1e-12)
    assert torch.autograd.gradcheck(gpu.TwoLayerGraph.apply, tuple(p.detach().requires_grad_() for p in t))


def test_gpu_value_keeps_intermediate_gradients_and_can_be_reset():
    x = gpu.Value(0.5)
    a = x.tanh()
    out = a * a
    out.backward()
    assert a.grad == pytest.approx(2 * math.tanh(0.5))
    x.grad = 0.0
    assert x.grad == 0.0
    assert repr(out).startswith("Value(data=")
