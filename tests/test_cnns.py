"""Lecture 09-cnns, the package side: parameter formulas, reference modules, probes, training, metrics, data.

Formulas are checked against ``sum(p.numel())`` of the modules; modules against the same network
written with ``torch.nn.functional`` (float64, eval mode, tolerance 1e-12 relative); metrics
against scikit-learn and against their torch twins; the class-weighted loss against
``nn.CrossEntropyLoss(weight=...)``. Device-aware tests take the ``device`` fixture (cuda skipped
without a GPU).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dlcourse.data import imbalanced_split, load_digits, shapes
from dlcourse.data.shapes import SHAPE_CLASSES
from dlcourse.gpu import cnns as g
from dlcourse.ref import cnns as r

TOL = 1e-12


# ---------------------------------------------------------------- parameter counts


@pytest.mark.parametrize("model,count", [
    (lambda: g.SimpleCNN(8), lambda: r.simple_cnn_params(8)),
    (lambda: g.SimpleCNN(28, 3, 5, 64), lambda: r.simple_cnn_params(28, 3, 5, 64)),
    (lambda: g.SimpleCNN(9), lambda: r.simple_cnn_params(9)),
    (lambda: g.ResidualBlock(4, 4), lambda: r.residual_block_params(4, 4)),
    (lambda: g.ResidualBlock(4, 8, 2), lambda: r.residual_block_params(4, 8, 2)),
    (lambda: g.ResidualBlock(6, 6, 2), lambda: r.residual_block_params(6, 6, 2)),
    (lambda: g.Inception(16, 8, 4, 8, 2, 4, 4), lambda: r.inception_params(16, 8, 4, 8, 2, 4, 4)),
    (lambda: g.Inception(192, 64, 96, 128, 16, 32, 32), lambda: r.inception_params(192, 64, 96, 128, 16, 32, 32)),
    (lambda: g.TinySegmenter(), lambda: r.segmenter_params()),
    (lambda: g.TinySegmenter(3, 2, 8), lambda: r.segmenter_params(3, 2, 8)),
])
def test_formulas_count_the_modules_parameters(model, count) -> None:
    m = model()
    assert g.count_parameters(m) == sum(p.numel() for p in m.parameters()) == count()


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 5), st.booleans())
def test_layer_formulas_match_torch_layers(c_in: int, c_out: int, k: int, bias: bool) -> None:
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert r.conv2d_params(c_in, c_out, k, bias) == count(nn.Conv2d(c_in, c_out, k, bias=bias))
    assert r.conv_transpose2d_params(c_in, c_out, k, bias) == count(nn.ConvTranspose2d(c_in, c_out, k, bias=bias))
    assert r.linear_params(c_in, c_out, bias) == count(nn.Linear(c_in, c_out, bias=bias))
    assert r.batchnorm2d_params(c_out) == count(nn.BatchNorm2d(c_out))


def test_the_lectures_network_on_8x8_digits_and_28x28_images() -> None:
    assert r.simple_cnn_flat_features(8) == 64 * 2 * 2 and r.simple_cnn_flat_features(28) == 64 * 7 * 7
    parts = [r.conv2d_params(1, 32, 3), r.conv2d_params(32, 64, 3), r.linear_params(256, 1024), r.linear_params(1024, 10)]
    assert r.simple_cnn_params(8) == sum(parts)
    assert max(parts) / sum(parts) > 0.9  # the first dense layer holds nine tenths


def test_the_1x1_reductions_make_inception_cheaper() -> None:
    with_reduction = r.inception_params(192, 64, 96, 128, 16, 32, 32)
    without = (r.conv2d_params(192, 64, 1) + r.conv2d_params(192, 128, 3) + r.conv2d_params(192, 32, 5)
               + r.conv2d_params(192, 32, 1))
    assert with_reduction < 0.5 * without


@pytest.mark.parametrize("bad", [
    lambda: r.conv2d_params(0, 4, 3), lambda: r.linear_params(3, -1), lambda: r.conv2d_params(2.5, 4, 3),
    lambda: r.simple_cnn_flat_features(3), lambda: r.batchnorm2d_params(True),
])
def test_bad_sizes_are_explained(bad) -> None:
    with pytest.raises(ValueError, match="must be"):
        bad()


# ---------------------------------------------------------------- modules against functional code


def _double_eval(m: nn.Module) -> nn.Module:
    torch.manual_seed(1)
    m = m.double()
    with torch.no_grad():  # batch norms with non-trivial statistics, so that eval mode matters
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-1, 1)
                mod.running_var.uniform_(0.5, 2)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
    return m.eval()


def _close(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape
    torch.testing.assert_close(a, b, rtol=TOL, atol=TOL * float(b.detach().abs().max()))


def test_simple_cnn_is_the_lectures_pipeline(device) -> None:
    m = _double_eval(g.SimpleCNN(8)).to(device)
    x = torch.randn(3, 1, 8, 8, dtype=torch.float64, device=device)
    h = F.max_pool2d(F.relu(F.conv2d(x, m.conv1.weight, m.conv1.bias, padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, m.conv2.weight, m.conv2.bias, padding=1)), 2)
    expected = F.linear(F.relu(F.linear(h.reshape(3, -1), m.fc1.weight, m.fc1.bias)), m.fc2.weight, m.fc2.bias)
    _close(m(x), expected)
    assert [tuple(a.shape) for a in m.features(x)] == [(3, 32, 8, 8), (3, 64, 4, 4)]


def _bn(x: torch.Tensor, bn: nn.BatchNorm2d) -> torch.Tensor:
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, training=False, eps=bn.eps)


@pytest.mark.parametrize("c_in,c_out,stride", [(4, 4, 1), (4, 8, 2), (4, 6, 1), (5, 5, 2)])
def test_residual_block_adds_the_shortcut_before_its_relu(device, c_in: int, c_out: int, stride: int) -> None:
    m = _double_eval(g.ResidualBlock(c_in, c_out, stride)).to(device)
    x = torch.randn(2, c_in, 7, 7, dtype=torch.float64, device=device)
    f = _bn(F.conv2d(F.relu(_bn(F.conv2d(x, m.conv1.weight, stride=stride, padding=1), m.bn1)), m.conv2.weight,
                     padding=1), m.bn2)
    if stride == 1 and c_in == c_out:
        assert isinstance(m.shortcut, nn.Identity)
        s = x
    else:
        s = _bn(F.conv2d(x, m.shortcut[0].weight, stride=stride), m.shortcut[1])
    out = m(x)
    _close(out, F.relu(f + s))
    assert out.shape[-1] == -(-7 // stride)


def test_zeroing_the_residual_branch_leaves_the_shortcut() -> None:
    for block in (g.ResidualBlock(3, 3), g.ResidualBlock(3, 5, 2)):
        block = _double_eval(block)
        x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
        g.zero_residual_branch(block)
        _close(block(x), F.relu(block.shortcut(x)))


def test_inception_concatenates_its_four_branches_in_order() -> None:
    m = _double_eval(g.Inception(6, 3, 2, 4, 2, 5, 2))
    x = torch.randn(2, 6, 5, 5, dtype=torch.float64)
    out = m(x)
    assert out.shape == (2, 3 + 4 + 5 + 2, 5, 5)
    b3 = F.relu(F.conv2d(F.relu(F.conv2d(x, m.branch3[0].weight, m.branch3[0].bias)), m.branch3[2].weight,
                         m.branch3[2].bias, padding=1))
    b5 = F.relu(F.conv2d(F.relu(F.conv2d(x, m.branch5[0].weight, m.branch5[0].bias)), m.branch5[2].weight,
                         m.branch5[2].bias, padding=2))
    bp = F.relu(F.conv2d(F.max_pool2d(x, 3, 1, 1), m.branch_pool[1].weight, m.branch_pool[1].bias))
    _close(out[:, 3:7], b3)
    _close(out[:, 7:12], b5)
    _close(out[:, 12:], bp)


def test_segmenter_keeps_the_resolution_and_refuses_odd_sizes(device) -> None:
    m = g.TinySegmenter(1, 4, 4).to(device)
    assert m(torch.randn(2, 1, 12, 16, device=device)).shape == (2, 4, 12, 16)
    assert isinstance(m.up1, nn.ConvTranspose2d) and m.up1.stride == (2, 2)
    with pytest.raises(ValueError, match="divisible by 4"):
        m(torch.randn(1, 1, 10, 12, device=device))


# ---------------------------------------------------------------- NumPy networks against the modules


NETWORKS = [  # (module, its shapes, NumPy output, extra args, input shape)
    (lambda: g.SimpleCNN(8), lambda: r.simple_cnn_shapes(8), r.simple_cnn_output, (), (2, 1, 8, 8)),
    (lambda: g.SimpleCNN(10, 2, 3, 16), lambda: r.simple_cnn_shapes(10, 2, 3, 16), r.simple_cnn_output, (), (1, 2, 10, 10)),
    (lambda: g.ResidualBlock(3, 5, 2), lambda: r.residual_block_shapes(3, 5, 2), r.residual_block_output, (2,),
     (2, 3, 7, 7)),
    (lambda: g.ResidualBlock(4, 4), lambda: r.residual_block_shapes(4, 4), r.residual_block_output, (), (2, 4, 5, 5)),
    (lambda: g.Inception(5, 2, 3, 4, 2, 3, 2), lambda: r.inception_shapes(5, 2, 3, 4, 2, 3, 2), r.inception_output, (),
     (2, 5, 6, 6)),
    (lambda: g.TinySegmenter(2, 3, 4), lambda: r.segmenter_shapes(2, 3, 4), r.segmenter_output, (), (2, 2, 8, 12)),
]


@pytest.mark.parametrize("module,shapes,output,extra,x_shape", NETWORKS)
def test_numpy_networks_equal_the_modules(device, module, shapes, output, extra, x_shape) -> None:
    m = module()
    assert {k: tuple(v.shape) for k, v in g._state(m).items()} == shapes()
    rng = np.random.default_rng(0)
    params = {k: rng.standard_normal(s) * 0.5 for k, s in shapes().items()}
    params.update({k: rng.uniform(0.5, 2, s) for k, s in shapes().items() if k.endswith("running_var")})
    x = rng.standard_normal(x_shape)
    expected = output(x, params, *extra)
    twin = getattr(g, output.__name__)(torch.as_tensor(x, device=device), params, *extra)
    assert twin.device.type == torch.device(device).type
    np.testing.assert_allclose(twin.cpu().numpy(), expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


def test_match_state_pairs_by_name_then_by_order() -> None:
    ref_shapes = {"a.weight": (2, 3), "a.bias": (2,)}
    assert r.match_state({"a.bias": (2,), "a.weight": (2, 3)}, ref_shapes) == [("a.weight", "a.weight"), ("a.bias", "a.bias")]
    assert r.match_state({"x.w": (2, 3), "x.b": (2,)}, ref_shapes) == [("x.w", "a.weight"), ("x.b", "a.bias")]
    with pytest.raises(ValueError, match=r"x.w has shape \(3, 2\)"):
        r.match_state({"x.w": (3, 2), "x.b": (2,)}, ref_shapes)


# ---------------------------------------------------------------- probes


class RenamedBlock(nn.Module):
    """The reference block under other names, in the same order."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.a = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.a_bn = nn.BatchNorm2d(c_out)
        self.b = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.b_bn = nn.BatchNorm2d(c_out)
        self.proj = nn.Conv2d(c_in, c_out, 1, stride, bias=False)
        self.proj_bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.b_bn(self.b(F.relu(self.a_bn(self.a(x))))) + self.proj_bn(self.proj(x)))


def test_copy_weights_by_name_and_by_order() -> None:
    ref = _double_eval(g.ResidualBlock(3, 6, 2))
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    same = g.copy_weights(g.ResidualBlock(3, 6, 2).double().eval(), ref)
    _close(same(x), ref(x))
    renamed = g.copy_weights(RenamedBlock(3, 6, 2).double().eval(), ref)
    _close(renamed(x), ref(x))
    assert torch.equal(renamed.proj_bn.running_var, ref.shortcut[1].running_var)  # buffers travel too


def test_copy_weights_explains_a_different_architecture() -> None:
    with pytest.raises(ValueError, match="different numbers of tensors"):
        g.copy_weights(g.ResidualBlock(3, 3), g.ResidualBlock(3, 6, 2))
    with pytest.raises(ValueError, match=r"has shape .* where the reference's"):
        g.copy_weights(g.SimpleCNN(12), g.SimpleCNN(8))


class DetachedBranch(g.Inception):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x).detach(), self.branch5(x), self.branch_pool(x)], dim=1)


def test_gradient_probe_finds_a_detached_branch() -> None:
    x = torch.randn(2, 4, 5, 5)
    assert g.parameters_without_gradient(g.Inception(4, 2, 2, 2, 2, 2, 2), x) == []
    dead = g.parameters_without_gradient(DetachedBranch(4, 2, 2, 2, 2, 2, 2), x)
    assert dead == ["branch3.0.weight", "branch3.0.bias", "branch3.2.weight", "branch3.2.bias"]


# ---------------------------------------------------------------- training


def test_batches_cover_every_example_once() -> None:
    x, y = np.arange(10.0).reshape(10, 1), np.arange(10)
    bs = g.batches(x, y, 4, shuffle=True, seed=3)
    assert [len(b[1]) for b in bs] == [4, 4, 2]
    assert sorted(torch.cat([b[1] for b in bs]).tolist()) == list(range(10))
    assert bs[0][0].dtype == torch.float32 and bs[0][1].dtype == torch.int64
    with pytest.raises(ValueError, match="same number"):
        g.batches(x, y[:3])


def test_train_epoch_is_one_adam_pass_and_weights_the_last_batch(device) -> None:
    torch.manual_seed(0)
    x, y = torch.randn(10, 1, 8, 8), torch.randint(0, 10, (10,))
    a = g.SimpleCNN(8, hidden=16).to(device)
    b = g.copy_weights(g.SimpleCNN(8, hidden=16), a).to(device)
    opt_a, opt_b = torch.optim.SGD(a.parameters(), 0.1), torch.optim.SGD(b.parameters(), 0.1)
    loader = [(x[:4], y[:4]), (x[4:8], y[4:8]), (x[8:], y[8:])]
    mean = g.train_epoch(a, loader, nn.CrossEntropyLoss(), opt_a, device)
    losses = []
    for xb, yb in loader:  # the same pass written out
        opt_b.zero_grad()
        loss = F.cross_entropy(b(xb.to(device)), yb.to(device))
        loss.backward()
        opt_b.step()
        losses.append(loss.item() * len(yb))
    assert mean == pytest.approx(sum(losses) / 10, rel=1e-6)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb)


def test_fit_lowers_the_loss_on_digits() -> None:
    X, y = load_digits(flatten=False)
    torch.manual_seed(0)
    model = g.SimpleCNN(8, hidden=32)
    threads = torch.get_num_threads()
    history = g.fit(model, X[:256], y[:256], X[256:356], y[256:356], epochs=3, lr=3e-3, batch_size=16,
                    device="cpu", progress=False)
    assert history.train_loss[-1] < 0.8 * history.train_loss[0]
    assert history.val_accuracy[-1] > 0.2 and len(history.val_accuracy) == 3
    assert torch.get_num_threads() == threads  # trained on one thread, then the setting is restored
    assert g.predict(model, X[:5]).shape == (5,)


# ---------------------------------------------------------------- metrics


def test_confusion_matrix_and_accuracy_against_sklearn() -> None:
    from sklearn.metrics import confusion_matrix as sk_cm, recall_score

    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    cm = r.confusion_matrix(t, p, 5)  # class 4 never occurs: a zero row and column
    assert cm.dtype == np.int64 and cm.shape == (5, 5)
    np.testing.assert_array_equal(cm, sk_cm(t, p, labels=range(5)))
    acc = r.per_class_accuracy(cm)
    np.testing.assert_allclose(acc[:4], recall_score(t, p, labels=range(4), average=None), rtol=1e-12)
    assert np.isnan(acc[4])


def test_class_weights_are_sklearns_balanced_weights() -> None:
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0] * 8 + [1] * 2 + [2] * 5)
    w = r.class_weights(y, 3)
    np.testing.assert_allclose(w, compute_class_weight("balanced", classes=np.arange(3), y=y), rtol=1e-12)
    assert np.mean(w[y]) == pytest.approx(1.0)  # the average example keeps weight 1
    np.testing.assert_array_equal(r.class_weights(np.array([0, 0, 2]), 4)[[1, 3]], [0.0, 0.0])


def test_the_weighted_loss_is_the_weighted_mean_of_the_log_losses() -> None:
    """nn.CrossEntropyLoss(weight=w) = Σ_i w_{y_i} ℓ_i / Σ_i w_{y_i}: normalised by the weights, not by N."""
    rng = np.random.default_rng(1)
    logits, y = rng.standard_normal((12, 3)), np.array([0] * 9 + [1, 1, 2])
    w = r.class_weights(y, 3)
    nll = -(logits - np.log(np.exp(logits).sum(1, keepdims=True)))[np.arange(12), y]
    expected = np.sum(w[y] * nll) / np.sum(w[y])
    got = nn.CrossEntropyLoss(weight=torch.as_tensor(w))(torch.as_tensor(logits), torch.as_tensor(y))
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_metric_twins_agree_with_the_reference(device) -> None:
    rng = np.random.default_rng(2)
    t, p = rng.integers(0, 3, 40), rng.integers(0, 3, 40)
    cm = g.confusion_matrix(torch.as_tensor(t, device=device), torch.as_tensor(p, device=device), 4)
    assert cm.device.type == torch.device(device).type
    np.testing.assert_array_equal(cm.cpu().numpy(), r.confusion_matrix(t, p, 4))
    np.testing.assert_allclose(g.per_class_accuracy(cm).cpu().numpy(), r.per_class_accuracy(r.confusion_matrix(t, p, 4)))
    np.testing.assert_allclose(g.class_weights(torch.as_tensor(t, device=device), 4).cpu().numpy(),
                               r.class_weights(t, 4))
    masks_t, masks_p = rng.integers(0, 3, (2, 4, 4)), rng.integers(0, 3, (2, 4, 4))
    m_ref, per_ref = r.mean_iou(masks_p, masks_t, 4)
    m_gpu, per_gpu = g.mean_iou(torch.as_tensor(masks_p, device=device), torch.as_tensor(masks_t, device=device), 4)
    assert m_gpu == pytest.approx(m_ref) and np.isnan(per_ref[3])
    np.testing.assert_allclose(per_gpu.cpu().numpy(), per_ref)


def test_mean_iou_by_hand() -> None:
    target = np.array([[0, 1, 1], [0, 2, 2]])
    pred = np.array([[0, 1, 2], [1, 2, 2]])
    mean, per = r.mean_iou(pred, target, 3)
    np.testing.assert_allclose(per, [1 / 2, 1 / 3, 2 / 3])  # |∩| / |∪| per class
    assert mean == pytest.approx(np.mean(per))


@pytest.mark.parametrize("bad,match", [
    (lambda: r.confusion_matrix([0, 1], [0, 1, 1], 2), "same length"),
    (lambda: r.confusion_matrix([0, 3], [0, 1], 3), "outside 0..2"),
    (lambda: r.confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 2), int), 2), "1-D"),
    (lambda: r.per_class_accuracy(np.zeros((2, 3))), "square"),
    (lambda: r.class_weights(np.array([], dtype=int), 2), "empty"),
    (lambda: r.class_weights(np.array([0.5, 1.0]), 2), "integer"),
])
def test_bad_labels_are_explained(bad, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        bad()


# ---------------------------------------------------------------- data


def test_shapes_are_seeded_and_masks_match_the_images() -> None:
    images, masks = shapes(20, 16, max_shapes=2, rng=0)
    again, masks2 = shapes(20, 16, max_shapes=2, rng=0)
    assert images.shape == (20, 1, 16, 16) and images.dtype == np.float32 and masks.dtype == np.int64
    assert np.array_equal(images, again) and np.array_equal(masks, masks2)
    assert set(np.unique(masks)) <= set(range(len(SHAPE_CLASSES))) and len(np.unique(masks)) == 4
    # the shapes are brighter than the background on average
    assert images[:, 0][masks > 0].mean() > images[:, 0][masks == 0].mean() + 0.3
    with pytest.raises(ValueError, match="at least 8"):
        shapes(2, 4)


def test_imbalanced_split_keeps_the_asked_fractions() -> None:
    y = np.repeat(np.arange(3), 100)
    idx = imbalanced_split(y, {1: 0.1, 2: 0.005}, rng=0)
    assert np.bincount(y[idx]).tolist() == [100, 10, 1]  # at least one example survives
    assert np.all(np.diff(idx) > 0)
    with pytest.raises(ValueError, match="fraction"):
        imbalanced_split(y, {0: 0.0})
