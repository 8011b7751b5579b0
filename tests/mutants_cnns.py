"""Correct alternatives and known-wrong implementations (mutants) for the 09-cnns checks.

Each mutant is a mistake students make with CNN modules, training loops and metrics, named after
it. ``MUTANTS[check]`` lists ``(implementation, diagnosis pattern, caught by the public cases,
hint pattern or None)``; a diagnosis pattern of None means the student's own code crashes (its
traceback is the feedback).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.checks import cnns as checks
from dlcourse.gpu import cnns as gpu_cnns
from dlcourse.ref import cnns as ref_cnns


# ----------------------------------------------------------------- simple_cnn_params
def simple_cnn_params_layer_by_layer(in_size=8, in_channels=1, n_classes=10):
    """Correct, written differently: a table of (inputs, outputs, weights per output) per layer."""
    side = in_size // 4
    layers = [(32, in_channels * 3 * 3), (64, 32 * 3 * 3), (1024, 64 * side * side), (n_classes, 1024)]
    return sum(n_out * (fan_in + 1) for n_out, fan_in in layers)


def simple_cnn_params_no_biases(in_size=8, in_channels=1, n_classes=10):
    side = in_size // 2 // 2
    return 32 * in_channels * 9 + 64 * 32 * 9 + 64 * side * side * 1024 + 1024 * n_classes


def simple_cnn_params_k_not_squared(in_size=8, in_channels=1, n_classes=10):
    side = in_size // 2 // 2
    return 32 * (in_channels * 3 + 1) + 64 * (32 * 3 + 1) + 1024 * (64 * side * side + 1) + n_classes * 1025


def simple_cnn_params_no_pooling(in_size=8, in_channels=1, n_classes=10):
    return 32 * (in_channels * 9 + 1) + 64 * (32 * 9 + 1) + 1024 * (64 * in_size * in_size + 1) + n_classes * 1025


def simple_cnn_params_valid_padding(in_size=8, in_channels=1, n_classes=10):
    side = ((in_size - 2) // 2 - 2) // 2
    return 32 * (in_channels * 9 + 1) + 64 * (32 * 9 + 1) + 1024 * (64 * side * side + 1) + n_classes * 1025


def simple_cnn_params_one_input_channel(in_size=8, in_channels=1, n_classes=10):
    side = in_size // 4
    return 32 * (9 + 1) + 64 * (32 * 9 + 1) + 1024 * (64 * side * side + 1) + n_classes * 1025


def simple_cnn_params_true_division(in_size=8, in_channels=1, n_classes=10):
    """int(64 · (S/4)²): right when S is a multiple of 4 (the public cases), wrong for 10 (hidden)."""
    flat = int(64 * (in_size / 4) ** 2)
    return 32 * (in_channels * 9 + 1) + 64 * (32 * 9 + 1) + 1024 * (flat + 1) + n_classes * 1025


def simple_cnn_params_float_side(in_size=8, in_channels=1, n_classes=10):
    """Right value, but a float: in_size / 4 on sizes that divide."""
    side = in_size // 4 * 1.0
    return 32 * (in_channels * 9 + 1) + 64 * (32 * 9 + 1) + 1024 * (64 * side * side + 1) + n_classes * 1025


# ----------------------------------------------------------------- SimpleCNN
class SimpleCNNSequential(nn.Module):
    """Correct, written differently: one nn.Sequential, flatten as a layer."""

    def __init__(self, in_size=8, in_channels=1, n_classes=10):
        super().__init__()
        side = in_size // 2 // 2
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 64, kernel_size=(3, 3), padding=(1, 1)), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * side * side, 1024), nn.ReLU(), nn.Linear(1024, n_classes))

    def forward(self, x):
        return self.net(x)


class _CNN(nn.Module):
    padding = 1
    pool = staticmethod(F.max_pool2d)

    def __init__(self, in_size=8, in_channels=1, n_classes=10):
        super().__init__()
        p = self.padding
        side = ((in_size + 2 * p - 2) // 2 + 2 * p - 2) // 2
        self.conv1 = nn.Conv2d(in_channels, 32, 3, padding=p)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=p)
        self.fc1 = nn.Linear(64 * side * side, 1024)
        self.fc2 = nn.Linear(1024, n_classes)

    def body(self, x):
        x = self.pool(F.relu(self.conv1(x)), 2)
        return self.pool(F.relu(self.conv2(x)), 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(self.body(x).flatten(1))))


class SimpleCNNNoPadding(_CNN):
    padding = 0


class SimpleCNNSoftmaxOutput(_CNN):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)


class SimpleCNNAveragePooling(_CNN):
    pool = staticmethod(F.avg_pool2d)


class SimpleCNNNoReLU(_CNN):
    def body(self, x):
        return F.max_pool2d(self.conv2(F.max_pool2d(self.conv1(x), 2)), 2)


class SimpleCNNChannelsLast(_CNN):
    def forward(self, x):
        return self.fc2(F.relu(self.fc1(self.body(x).permute(0, 2, 3, 1).flatten(1))))


class SimpleCNNHardCoded8(_CNN):
    def __init__(self, in_size=8, in_channels=1, n_classes=10):
        super().__init__(8, in_channels, n_classes)


class SimpleCNNTrueDivision(_CNN):
    """int(64 · (S/4)²): right when S is a multiple of 4 (the public cases), wrong for 10 (hidden)."""

    def __init__(self, in_size=8, in_channels=1, n_classes=10):
        super().__init__(in_size, in_channels, n_classes)
        self.fc1 = nn.Linear(int(64 * (in_size / 4) ** 2), 1024)


class SimpleCNNDetachedFeatures(_CNN):
    def forward(self, x):
        return self.fc2(F.relu(self.fc1(self.body(x).detach().flatten(1))))


# ----------------------------------------------------------------- ResidualBlock
class ResidualBlockFunctional(nn.Module):
    """Correct, written differently: other names, the projection as two attributes, in-place add."""

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.stride = stride
        self.a = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.a_norm = nn.BatchNorm2d(c_out)
        self.b = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.b_norm = nn.BatchNorm2d(c_out)
        self.project = stride != 1 or c_in != c_out
        if self.project:
            self.proj = nn.Conv2d(c_in, c_out, 1, stride, bias=False)
            self.proj_norm = nn.BatchNorm2d(c_out)

    def forward(self, x):
        out = self.b_norm(self.b(torch.relu(self.a_norm(self.a(x)))))
        out += self.proj_norm(self.proj(x)) if self.project else x
        return torch.relu(out)


class _Block(nn.Module):
    pad = 1
    conv_bias = False
    projection_bn = True
    stride_first = True

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        s1, s2 = (stride, 1) if self.stride_first else (1, stride)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=s1, padding=self.pad, bias=self.conv_bias)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, stride=s2, padding=self.pad, bias=self.conv_bias)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity()
        if self.needs_projection(c_in, c_out, stride):
            layers = [nn.Conv2d(c_in, c_out, 1, stride=self.shortcut_stride(stride), bias=self.conv_bias)]
            self.shortcut = nn.Sequential(*layers, *([nn.BatchNorm2d(c_out)] if self.projection_bn else []))

    def needs_projection(self, c_in, c_out, stride):
        return stride != 1 or c_in != c_out

    def shortcut_stride(self, stride):
        return stride

    def branch(self, x):
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def forward(self, x):
        return F.relu(self.branch(x) + self.shortcut(x))


class ResidualBlockNoReLUAfterSum(_Block):
    def forward(self, x):
        return self.branch(x) + self.shortcut(x)


class ResidualBlockReLUBeforeSum(_Block):
    def forward(self, x):
        return F.relu(F.relu(self.branch(x)) + self.shortcut(x))


class ResidualBlockShortcutNotAdded(_Block):
    def forward(self, x):
        return F.relu(self.branch(x))


class ResidualBlockProjectionWithoutStride(_Block):
    def shortcut_stride(self, stride):
        return 1


class ResidualBlockNoPadding(_Block):
    pad = 0


class ResidualBlockConvBiases(_Block):
    conv_bias = True


class ResidualBlockProjectionWithoutBN(_Block):
    projection_bn = False


class ResidualBlockAlwaysProjects(_Block):
    def needs_projection(self, c_in, c_out, stride):
        return True


class ResidualBlockProjectsOnChannelsOnly(_Block):
    """Forgets that a stride changes the shape too: crashes on the stride-only hidden case."""

    def needs_projection(self, c_in, c_out, stride):
        return c_in != c_out


class ResidualBlockStrideOnSecondConv(_Block):
    stride_first = False


class ResidualBlockDetachedShortcut(_Block):
    def forward(self, x):
        return F.relu(self.branch(x) + self.shortcut(x).detach())


# ----------------------------------------------------------------- Inception
class InceptionFunctional(nn.Module):
    """Correct, written differently: layers as attributes, F.max_pool2d and F.relu in forward."""

    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()
        self.one = nn.Conv2d(c_in, c1, kernel_size=1)
        self.r3 = nn.Conv2d(c_in, c3_reduce, kernel_size=1)
        self.three = nn.Conv2d(c3_reduce, c3, kernel_size=3, padding="same")
        self.r5 = nn.Conv2d(c_in, c5_reduce, kernel_size=1)
        self.five = nn.Conv2d(c5_reduce, c5, kernel_size=5, padding="same")
        self.proj = nn.Conv2d(c_in, pool_proj, kernel_size=1)

    def forward(self, x):
        outs = [self.one(x), self.three(F.relu(self.r3(x))), self.five(F.relu(self.r5(x))),
                self.proj(F.max_pool2d(x, 3, stride=1, padding=1))]
        return F.relu(torch.cat(outs, dim=1))


class _Inception(nn.Module):
    order = (0, 1, 2, 3)
    pool_pad = 1
    pad5 = 2
    reduce_relu = True

    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()
        self.b1 = nn.Conv2d(c_in, c1, 1)
        self.b3r = nn.Conv2d(c_in, c3_reduce, 1)
        self.b3 = nn.Conv2d(c3_reduce, c3, 3, padding=1)
        self.b5r = nn.Conv2d(c_in, c5_reduce, 1)
        self.b5 = nn.Conv2d(c5_reduce, c5, 5, padding=self.pad5)
        self.bp = nn.Conv2d(c_in, pool_proj, 1)

    def branches(self, x):
        mid = F.relu if self.reduce_relu else (lambda a: a)
        return [F.relu(self.b1(x)), F.relu(self.b3(mid(self.b3r(x)))), F.relu(self.b5(mid(self.b5r(x)))),
                F.relu(self.bp(F.max_pool2d(x, 3, 1, self.pool_pad)))]

    def forward(self, x):
        outs = self.branches(x)
        return torch.cat([outs[i] for i in self.order], dim=1)


class InceptionNoReductions(_Inception):
    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__(c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj)
        del self.b3r, self.b5r
        self.b3 = nn.Conv2d(c_in, c3, 3, padding=1)
        self.b5 = nn.Conv2d(c_in, c5, 5, padding=2)

    def branches(self, x):
        return [F.relu(self.b1(x)), F.relu(self.b3(x)), F.relu(self.b5(x)),
                F.relu(self.bp(F.max_pool2d(x, 3, 1, 1)))]


class InceptionBranchOrder(_Inception):
    order = (0, 2, 1, 3)


class InceptionNoReLUAfterReduction(_Inception):
    reduce_relu = False


class InceptionPoolWithoutPadding(_Inception):
    pool_pad = 0


class InceptionFiveByFivePaddedByOne(_Inception):
    pad5 = 1


class InceptionDetachedBranch(_Inception):
    def branches(self, x):
        outs = super().branches(x)
        outs[2] = outs[2].detach()
        return outs


# ----------------------------------------------------------------- TinySegmenter
class TinySegmenterSequential(nn.Module):
    """Correct, written differently: encoder and decoder as two nn.Sequential blocks."""

    def __init__(self, in_channels=1, n_classes=4, width=16):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), nn.ReLU(inplace=True))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(4 * w, 2 * w, kernel_size=2, stride=2), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * w, w, kernel_size=2, stride=2), nn.ReLU(inplace=True),
            nn.Conv2d(w, n_classes, 1))

    def forward(self, x):
        return self.decoder(self.encoder(x))


class _Segmenter(nn.Module):
    stride = 2
    up_kernel = 2
    up_relu = True

    def __init__(self, in_channels=1, n_classes=4, width=16):
        super().__init__()
        w, s, k = width, self.stride, self.up_kernel
        self.d1 = nn.Conv2d(in_channels, w, 3, padding=1)
        self.d2 = nn.Conv2d(w, 2 * w, 3, stride=s, padding=1)
        self.d3 = nn.Conv2d(2 * w, 4 * w, 3, stride=s, padding=1)
        self.u1 = nn.ConvTranspose2d(4 * w, 2 * w, k, stride=2, padding=(k - 2 + 1) // 2)
        self.u2 = nn.ConvTranspose2d(2 * w, w, k, stride=2, padding=(k - 2 + 1) // 2)
        self.out = nn.Conv2d(w, n_classes, 1)

    def forward(self, x):
        act = F.relu if self.up_relu else (lambda a: a)
        h = F.relu(self.d3(F.relu(self.d2(F.relu(self.d1(x))))))
        return self.out(act(self.u2(act(self.u1(h)))))


class TinySegmenterKernel3(_Segmenter):
    up_kernel = 3


class TinySegmenterNoStride(_Segmenter):
    stride = 1


class TinySegmenterNoReLUAfterUp(_Segmenter):
    up_relu = False


class TinySegmenterSoftmax(_Segmenter):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)


class TinySegmenterUpsample(nn.Module):
    """Fixed nearest-neighbour up-sampling instead of the transposed convolutions."""

    def __init__(self, in_channels=1, n_classes=4, width=16):
        super().__init__()
        w = width
        self.d1 = nn.Conv2d(in_channels, w, 3, padding=1)
        self.d2 = nn.Conv2d(w, 2 * w, 3, stride=2, padding=1)
        self.d3 = nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1)
        self.out = nn.Conv2d(4 * w, n_classes, 1)

    def forward(self, x):
        h = F.relu(self.d3(F.relu(self.d2(F.relu(self.d1(x))))))
        return self.out(F.interpolate(h, scale_factor=4))


class TinySegmenterChannelsLast(_Segmenter):
    def forward(self, x):
        return super().forward(x).permute(0, 2, 3, 1)


# ----------------------------------------------------------------- train_epoch
def train_epoch_counting(model, loader, loss_fn, optimizer, device):
    """Correct, written differently: sums the per-example losses with reduction switched by hand."""
    model.train()
    total, seen = 0.0, 0
    for batch in loader:
        x, y = (t.to(device) for t in batch)
        for p in model.parameters():
            p.grad = None
        logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(x)
        seen += len(x)
    return total / seen


def _loop(model, loader, loss_fn, optimizer, device, *, train=True, zero=True, step=True, weighted=True):
    if train:
        model.train()
    losses, sizes = [], []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        if zero:
            optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if step:
            optimizer.step()
        losses.append(loss.item())
        sizes.append(len(y))
    if weighted:
        return sum(l * n for l, n in zip(losses, sizes)) / sum(sizes)
    return sum(losses) / len(losses)


def train_epoch_no_zero_grad(model, loader, loss_fn, optimizer, device):
    return _loop(model, loader, loss_fn, optimizer, device, zero=False)


def train_epoch_no_step(model, loader, loss_fn, optimizer, device):
    return _loop(model, loader, loss_fn, optimizer, device, step=False)


def train_epoch_mean_of_batch_means(model, loader, loss_fn, optimizer, device):
    return _loop(model, loader, loss_fn, optimizer, device, weighted=False)


def train_epoch_no_train_mode(model, loader, loss_fn, optimizer, device):
    return _loop(model, loader, loss_fn, optimizer, device, train=False)


def train_epoch_returns_a_tensor(model, loader, loss_fn, optimizer, device):
    model.train()
    total, n = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x.to(device)), y.to(device))
        loss.backward()
        optimizer.step()
        total = total + loss.detach() * len(y)
        n += len(y)
    return total / n


def train_epoch_total_loss(model, loader, loss_fn, optimizer, device):
    return _loop(model, loader, loss_fn, optimizer, device) * sum(len(y) for _, y in loader)


def train_epoch_zero_grad_after_backward(model, loader, loss_fn, optimizer, device):
    model.train()
    total, n = 0.0, 0
    for x, y in loader:
        loss = loss_fn(model(x.to(device)), y.to(device))
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        total += loss.item() * len(y)
        n += len(y)
    return total / n


# ----------------------------------------------------------------- confusion_matrix
def confusion_matrix_loop(y_true, y_pred, n_classes):
    """Correct, written differently: a loop over the pairs."""
    cm = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        cm[t][p] += 1
    return cm


def confusion_matrix_add_at(y_true, y_pred, n_classes):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def confusion_matrix_transposed(y_true, y_pred, n_classes):
    return confusion_matrix_add_at(y_pred, y_true, n_classes)


def confusion_matrix_fancy_index(y_true, y_pred, n_classes):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    cm[y_true, y_pred] += 1
    return cm


def confusion_matrix_size_from_labels(y_true, y_pred, n_classes):
    k = int(max(y_true.max(), y_pred.max())) + 1
    return confusion_matrix_add_at(y_true, y_pred, k)


def confusion_matrix_normalised(y_true, y_pred, n_classes):
    cm = confusion_matrix_add_at(y_true, y_pred, n_classes)
    return cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)


def confusion_matrix_float_counts(y_true, y_pred, n_classes):
    cm = np.zeros((n_classes, n_classes))
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


# ----------------------------------------------------------------- per_class_accuracy
def per_class_accuracy_masked(cm):
    """Correct, written differently: np.divide with where=, NaN elsewhere."""
    rows = cm.sum(axis=1)
    out = np.full(rows.shape, np.nan)
    return np.divide(np.diag(cm), rows, out=out, where=rows > 0)


def per_class_accuracy_columns(cm):
    return np.diag(cm) / np.maximum(cm.sum(axis=0), 1)


def per_class_accuracy_overall(cm):
    return np.full(len(cm), np.trace(cm) / cm.sum())


def per_class_accuracy_percent(cm):
    return 100 * per_class_accuracy_masked(cm)


def per_class_accuracy_floor_division(cm):
    rows = cm.sum(axis=1)
    return np.where(rows > 0, np.diag(cm) // np.maximum(rows, 1), np.nan)


def per_class_accuracy_zero_for_empty(cm):
    rows = cm.sum(axis=1)
    return np.diag(cm) / np.maximum(rows, 1)


def per_class_accuracy_divides_by_zero(cm):
    return np.diag(cm) / cm.sum(axis=1)


# ----------------------------------------------------------------- class_weights
def class_weights_loop(y, n_classes):
    """Correct, written differently: counts in a loop, the formula per class."""
    counts = [0] * n_classes
    for label in y.tolist():
        counts[label] += 1
    return np.array([len(y) / (n_classes * c) if c else 0.0 for c in counts])


def class_weights_inverted(y, n_classes):
    counts = np.bincount(y, minlength=n_classes)
    return counts * n_classes / len(y)


def class_weights_not_normalised(y, n_classes):
    counts = np.bincount(y, minlength=n_classes).astype(float)
    return np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)


def class_weights_sum_to_one(y, n_classes):
    w = class_weights_not_normalised(y, n_classes)
    return w / w.sum()


def class_weights_no_minlength(y, n_classes):
    counts = np.bincount(y).astype(float)
    return np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)


def class_weights_divides_by_zero(y, n_classes):
    return len(y) / (n_classes * np.bincount(y, minlength=n_classes))


REFERENCE = {
    checks.check_simple_cnn_params: ref_cnns.simple_cnn_params,
    checks.check_simple_cnn: gpu_cnns.SimpleCNN,
    checks.check_residual_block: gpu_cnns.ResidualBlock,
    checks.check_inception: gpu_cnns.Inception,
    checks.check_train_epoch: gpu_cnns.train_epoch,
    checks.check_confusion_matrix: ref_cnns.confusion_matrix,
    checks.check_per_class_accuracy: ref_cnns.per_class_accuracy,
    checks.check_class_weights: ref_cnns.class_weights,
    checks.check_tiny_segmenter: gpu_cnns.TinySegmenter,
}

CORRECT = {
    checks.check_simple_cnn_params: [simple_cnn_params_layer_by_layer],
    checks.check_simple_cnn: [SimpleCNNSequential],
    checks.check_residual_block: [ResidualBlockFunctional],
    checks.check_inception: [InceptionFunctional],
    checks.check_train_epoch: [train_epoch_counting],
    checks.check_confusion_matrix: [confusion_matrix_loop, confusion_matrix_add_at],
    checks.check_per_class_accuracy: [per_class_accuracy_masked],
    checks.check_class_weights: [class_weights_loop],
    checks.check_tiny_segmenter: [TinySegmenterSequential],
}

MUTANTS = {
    checks.check_simple_cnn_params: [
        (simple_cnn_params_no_biases, "count is", True, "one bias per output"),
        (simple_cnn_params_k_not_squared, "count is", True, "k², not k"),
        (simple_cnn_params_no_pooling, "count is", True, "forgets the poolings"),
        (simple_cnn_params_valid_padding, "count is", True, "without padding"),
        (simple_cnn_params_one_input_channel, "count is", False, "reads in_channels"),
        (simple_cnn_params_true_division, "count is", False, None),
        (simple_cnn_params_float_side, "returned the float", True, "a count is an int"),
    ],
    checks.check_simple_cnn: [
        (SimpleCNNNoPadding, "number of parameters is", True, "without padding"),
        (SimpleCNNSoftmaxOutput, "output has wrong values", True, "return the logits"),
        (SimpleCNNAveragePooling, "output has wrong values", True, "maximum"),
        (SimpleCNNNoReLU, "output has wrong values", True, "ReLU after each convolution"),
        (SimpleCNNChannelsLast, "output has wrong values", True, r"\(N, C, H, W\) order"),
        (SimpleCNNHardCoded8, "number of parameters is", True, None),
        (SimpleCNNTrueDivision, "number of parameters is", False, None),
        (SimpleCNNDetachedFeatures, "no gradient reaches conv1.weight", True, "every parameter should learn"),
    ],
    checks.check_residual_block: [
        (ResidualBlockNoReLUAfterSum, "output has wrong values", True, "ReLU after the sum"),
        (ResidualBlockReLUBeforeSum, "output has wrong values", True, "after the sum only"),
        (ResidualBlockShortcutNotAdded, "output has wrong values", True, "shortcut is not added"),
        (ResidualBlockProjectionWithoutStride, None, True, None),
        (ResidualBlockNoPadding, None, True, None),
        (ResidualBlockConvBiases, "number of parameters is", True, "no biases in the convolutions"),
        (ResidualBlockProjectionWithoutBN, "number of parameters is", True, "and\\* a batch norm"),
        (ResidualBlockAlwaysProjects, "number of parameters is", True, "identity"),
        (ResidualBlockProjectsOnChannelsOnly, "number of parameters is", False, "a stride changes the shape too"),
        (ResidualBlockStrideOnSecondConv, "output has wrong values", True, "first 3×3"),
        (ResidualBlockDetachedShortcut, "no gradient reaches shortcut.0.weight", True, "every parameter should learn"),
    ],
    checks.check_inception: [
        (InceptionNoReductions, "number of parameters is", True, "1×1 reduction comes first"),
        (InceptionBranchOrder, "output has wrong values", True, "in the order 1×1, 3×3, 5×5, pool"),
        (InceptionNoReLUAfterReduction, "output has wrong values", True, "ReLU follows the 1×1 reductions"),
        (InceptionPoolWithoutPadding, None, True, None),
        (InceptionFiveByFivePaddedByOne, None, True, None),
        (InceptionDetachedBranch, "no gradient reaches b5r.weight", True, "every parameter should learn"),
    ],
    checks.check_tiny_segmenter: [
        (TinySegmenterKernel3, "number of parameters is", True, "2×2 with stride 2"),
        (TinySegmenterUpsample, "number of parameters is", True, "nn.Upsample"),
        (TinySegmenterNoStride, "output has shape", True, "stride 2"),
        (TinySegmenterNoReLUAfterUp, "output has wrong values", True, "ReLU follows each transposed"),
        (TinySegmenterSoftmax, "output has wrong values", True, "scores"),
        (TinySegmenterChannelsLast, "output has shape", True, r"\(N, C, H, W\) layout"),
    ],
    checks.check_train_epoch: [
        (train_epoch_no_zero_grad, "weight matrix after the epoch has wrong values", True, "zero_grad"),
        (train_epoch_no_step, "weight matrix after the epoch has wrong values", True, r"optimizer\.step\(\)"),
        (train_epoch_zero_grad_after_backward, "weight matrix after the epoch has wrong values", True, "not between"),
        (train_epoch_mean_of_batch_means, "mean loss is", False, "weight each batch"),
        (train_epoch_no_train_mode, "ran in eval mode", True, r"model\.train\(\)"),
        (train_epoch_returns_a_tensor, "is a torch.Tensor", True, None),
        (train_epoch_total_loss, "mean loss is", True, "not the total"),
    ],
    checks.check_confusion_matrix: [
        (confusion_matrix_transposed, "confusion matrix has wrong values", True, "transpose"),
        (confusion_matrix_fancy_index, "confusion matrix has wrong values", True, r"np\.add\.at"),
        (confusion_matrix_size_from_labels, "confusion matrix has shape", True, "by n_classes"),
        (confusion_matrix_normalised, "confusion matrix has wrong values", True, "return the counts"),
        (confusion_matrix_float_counts, "has dtype float64", True, "dtype=np.int64"),
    ],
    checks.check_per_class_accuracy: [
        (per_class_accuracy_columns, "has wrong values", True, "row sums"),
        (per_class_accuracy_overall, "has wrong values", True, "overall accuracy"),
        (per_class_accuracy_percent, "has wrong values", True, "percentages"),
        (per_class_accuracy_floor_division, "has wrong values", True, "integer division"),
        (per_class_accuracy_zero_for_empty, "without examples", False, "no accuracy: give it NaN"),
        (per_class_accuracy_divides_by_zero, "raised FloatingPointError", False, "without dividing"),
    ],
    checks.check_class_weights: [
        (class_weights_inverted, "has wrong values", True, "inverted"),
        (class_weights_not_normalised, "has wrong values", True, "average example keeps weight 1"),
        (class_weights_sum_to_one, "has wrong values", True, "not so that the weights sum to 1"),
        (class_weights_no_minlength, "has shape", False, "minlength"),
        (class_weights_divides_by_zero, "raised FloatingPointError", False, "without dividing by 0"),
    ],
}
