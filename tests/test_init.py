"""dlcourse.ref.init and dlcourse.gpu.init against torch.nn.init: fans, gains, spreads, exact draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlcourse import ref

torch = pytest.importorskip("torch")
gpu = pytest.importorskip("dlcourse.gpu")
tinit = torch.nn.init

DENSE = [(40, 10), (1, 7), (128, 64)]
CONV = [(8, 3, 5, 5), (16, 4, 3, 3), (6, 2, 7), (3, 2, 3, 3, 3)]


@pytest.mark.parametrize("shape", CONV)
def test_conv_fans_equal_torch(shape):
    assert ref.fan_in_fan_out(shape) == tinit._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("shape", DENSE)
def test_dense_fans_equal_torch_on_the_linear_layout(shape):
    d_in, d_out = shape
    linear = torch.nn.Linear(d_in, d_out)  # weight (D_out, D_in): the transpose of ours
    assert ref.fan_in_fan_out(shape) == tinit._calculate_fan_in_and_fan_out(linear.weight)


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError):
        ref.fan_in_fan_out((5,))


@pytest.mark.parametrize("name,param", [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)])
def test_gains_equal_torch(name, param):
    assert ref.calculate_gain(name, param) == pytest.approx(tinit.calculate_gain(name, param), rel=1e-12)


def test_unknown_names_raise():
    with pytest.raises(ValueError):
        ref.calculate_gain("swish")
    with pytest.raises(ValueError):
        ref.kaiming_std((3, 4), mode="fan_both")
    with pytest.raises(ValueError):
        ref.glorot_bound(3, 4, "gelu")


def test_glorot_bounds_put_the_factor_4_on_sigmoid():
    b = math.sqrt(6 / (30 + 20))
    assert ref.glorot_bound(30, 20, "tanh") == pytest.approx(b)
    assert ref.glorot_bound(30, 20, "sigmoid") == pytest.approx(4 * b)
    assert ref.glorot_bound(30, 20, "relu") == pytest.approx(math.sqrt(6 / 30))
    # the tanh bound is Xavier-uniform with gain 1; He-uniform for ReLU is kaiming_uniform's bound
    assert ref.glorot_bound(30, 20) == pytest.approx(math.sqrt(3) * ref.xavier_std((30, 20)))
    assert ref.glorot_bound(30, 20, "relu") == pytest.approx(math.sqrt(3) * ref.kaiming_std((30, 20), nonlinearity="relu"))


@pytest.mark.parametrize("shape", [(400, 200), (64, 32, 3, 3)])
def test_reference_spreads_match_torch(shape):
    """Sample standard deviations (and uniform bounds) of the NumPy draws equal torch's formulas."""
    t = torch.empty(shape, dtype=torch.float64)
    torch_shape_std = {
        "xu": tinit.xavier_uniform_(t.clone(), gain=2.0).std().item(),
        "kn": tinit.kaiming_normal_(t.clone(), mode="fan_in", nonlinearity="relu").std().item(),
    }
    w = ref.xavier_uniform(shape, gain=2.0, rng=0)
    assert np.abs(w).max() <= 2.0 * math.sqrt(6 / sum(ref.fan_in_fan_out(shape)))
    assert w.std() == pytest.approx(torch_shape_std["xu"], rel=0.03)
    assert w.std() == pytest.approx(ref.xavier_std(shape, 2.0), rel=0.03)
    if len(shape) > 2:  # conv layout is the same as torch's, so fan_in agrees directly
        k = ref.kaiming_normal(shape, nonlinearity="relu", rng=1)
        assert k.std() == pytest.approx(torch_shape_std["kn"], rel=0.03)
    assert ref.xavier_normal(shape, rng=2).std() == pytest.approx(ref.xavier_std(shape), rel=0.03)
    ku = ref.kaiming_uniform(shape, a=0.1, mode="fan_out", rng=3)
    assert np.abs(ku).max() <= math.sqrt(3) * ref.kaiming_std(shape, 0.1, "fan_out")
    assert ku.std() == pytest.approx(ref.kaiming_std(shape, 0.1, "fan_out"), rel=0.03)


def test_reference_draws_are_seeded():
    assert np.array_equal(ref.kaiming_normal((5, 4), rng=7), ref.kaiming_normal((5, 4), rng=np.random.default_rng(7)))
    assert not np.array_equal(ref.kaiming_normal((5, 4), rng=7), ref.kaiming_normal((5, 4), rng=8))


@pytest.mark.parametrize("shape", [(40, 10), (8, 3, 5, 5)])
def test_gpu_draws_equal_torch_nn_init_value_for_value(shape):
    def seeded():
        return torch.Generator().manual_seed(3)

    empty = torch.empty(shape, dtype=torch.float64)
    pairs = [
        (gpu.xavier_uniform(shape, 1.5, seeded(), device="cpu"), tinit.xavier_uniform_(empty.clone(), 1.5, generator=seeded())),
        (gpu.xavier_normal(shape, 0.5, seeded(), device="cpu"), tinit.xavier_normal_(empty.clone(), 0.5, generator=seeded())),
    ]
    # torch reads a 2-D tensor as (out, in); for our (in, out) dense layout its "fan_out" is our "fan_in"
    torch_mode = "fan_out" if len(shape) == 2 else "fan_in"
    pairs += [
        (gpu.kaiming_normal(shape, 0.0, "fan_in", "relu", seeded(), device="cpu"),
         tinit.kaiming_normal_(empty.clone(), 0.0, torch_mode, "relu", generator=seeded())),
        (gpu.kaiming_uniform(shape, 0.3, "fan_in", "leaky_relu", seeded(), device="cpu"),
         tinit.kaiming_uniform_(empty.clone(), 0.3, torch_mode, "leaky_relu", generator=seeded())),
    ]
    for ours, theirs in pairs:
        assert torch.equal(ours, theirs)


def test_propagate_through_depth_matches_autograd():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5))
    weights = [rng.standard_normal((5, 5)) * 0.7 for _ in range(4)]
    dout = rng.standard_normal((6, 5))
    for activation in ("linear", "relu", "tanh", "sigmoid"):
        acts, grads = ref.propagate_through_depth(x, weights, activation, dout)
        ws = [torch.tensor(w) for w in weights]
        hs = [torch.tensor(x, requires_grad=True)]
        f = {"linear": lambda z: z, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
        for w in ws:
            h = f(hs[-1] @ w)
            h.retain_grad()
            hs.append(h)
        (hs[-1] * torch.tensor(dout)).sum().backward()
        for l in range(4):
            np.testing.assert_allclose(acts[l], hs[l + 1].detach().numpy(), rtol=1e-12)
            np.testing.assert_allclose(grads[l], hs[l + 1].grad.numpy(), rtol=1e-10, atol=1e-14)
        g_acts, g_grads = gpu.propagate_through_depth(torch.tensor(x), ws, activation, torch.tensor(dout))
        np.testing.assert_allclose(g_grads[0].numpy(), grads[0], rtol=1e-12, atol=1e-15)


def test_he_keeps_relu_signal_and_xavier_keeps_tanh_signal_through_depth():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 128))
    he = [ref.kaiming_normal((128, 128), nonlinearity="relu", rng=rng) for _ in range(20)]
    small = [0.01 * rng.standard_normal((128, 128)) for _ in range(20)]
    acts_he, _ = ref.propagate_through_depth(x, he, "relu")
    acts_small, _ = ref.propagate_through_depth(x, small, "relu")
    ms = [float(np.mean(a**2)) for a in acts_he]
    assert 0.3 < ms[-1] / ms[0] < 3  # second moment preserved within a small factor over 20 layers
    assert np.mean(acts_small[-1] ** 2) < 1e-30  # N(0, 0.01²) weights: the signal vanishes
