"""CNN architectures in PyTorch: lecture 09's reference modules, training loop and probes.

Reference ``nn.Module``s (the students' modules are checked against them with copied weights):

- :class:`SimpleCNN` — lecture 004's Conv(32) → pool → Conv(64) → pool → flatten → Dense(1024)
  → Dense(10), with 3×3 convolutions padded by 1 (the size is kept) and 2×2 max-pooling, for any
  square input of side ``in_size`` ≥ 4 (8×8 digits, 28×28 MNIST). It returns logits: the
  softmax of the lecture's last layer lives inside ``nn.CrossEntropyLoss``.
- :class:`ResidualBlock` — y = ReLU(F(x) + S(x)), F = conv3×3(stride) → BN → ReLU → conv3×3 → BN,
  S the identity, or a 1×1 convolution with the same stride and a BN (a *projection*) when the
  block changes the number of channels or the resolution.
- :class:`Inception` — 1×1 | 1×1 → 3×3 | 1×1 → 5×5 | 3×3 max-pool → 1×1, each convolution
  followed by a ReLU, concatenated along the channels in that order.
- :class:`TinySegmenter` — a fully convolutional net: two stride-2 convolutions down, two
  stride-2 transposed convolutions up, a 1×1 convolution to a score per class and pixel.

Helpers the checks and the notebook use: :func:`copy_weights` (a state copied by name, or by
order and shape when the names differ), :func:`parameters_without_gradient` (a detached branch),
:func:`zero_residual_branch` (the block reduces to its shortcut), :func:`train_epoch`,
:func:`predict`, :func:`fit` (a ``tqdm.auto`` bar over the epochs), :func:`batches`, and the twins
of :mod:`dlcourse.ref.cnns`' metrics on tensors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.gpu.device import default_device
from dlcourse.ref import cnns as _ref
from dlcourse.ref.cnns import (  # the formulas and shape tables are their own twins (re-exported)
    batchnorm2d_params,
    conv2d_params,
    conv_transpose2d_params,
    inception_params,
    inception_shapes,
    linear_params,
    match_state,
    residual_block_params,
    residual_block_shapes,
    segmenter_params,
    segmenter_shapes,
    simple_cnn_flat_features,
    simple_cnn_params,
    simple_cnn_shapes,
)

__all__ = [
    *_ref.__all__,  # every name of the reference, as its twin (the formulas and shape tables are the same functions)
    "SimpleCNN",
    "ResidualBlock",
    "Inception",
    "TinySegmenter",
    "count_parameters",
    "copy_weights",
    "load_state",
    "parameters_without_gradient",
    "zero_residual_branch",
    "batches",
    "train_epoch",
    "predict",
    "History",
    "fit",
]

Device = torch.device | str | None


# --------------------------------------------------------------------------- metrics (twins of ref)


def _labels(y: Any, what: str, n_classes: int, device: torch.device | None = None) -> torch.Tensor:
    t = torch.as_tensor(y, device=device)
    if t.ndim != 1:
        raise ValueError(f"{what} should be a 1-D tensor of class labels, got shape {tuple(t.shape)}")
    t = t.long()
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= n_classes):
        raise ValueError(f"{what} has labels outside 0..{n_classes - 1}")
    return t


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int) -> torch.Tensor:
    """C (K, K) int64 on y_true's device, C[i, j] = #{true class i predicted as j} (rows: truth)."""
    t = _labels(y_true, "y_true", n_classes)
    p = _labels(y_pred, "y_pred", n_classes, t.device)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred should have the same length, got {t.shape[0]} and {p.shape[0]}")
    return torch.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_accuracy(cm: torch.Tensor) -> torch.Tensor:
    """(K,) float64: C[i, i] / Σ_j C[i, j], NaN for a class without examples."""
    c = torch.as_tensor(cm)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"cm should be a square (K, K) confusion matrix, got shape {tuple(c.shape)}")
    totals = c.sum(dim=1).double()
    return torch.where(totals > 0, torch.diagonal(c).double() / totals.clamp(min=1), torch.nan)


def class_weights(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(K,) float64 w_c = N / (K · n_c), 0 for an absent class (see :func:`dlcourse.ref.cnns.class_weights`)."""
    labels = _labels(y, "y", n_classes)
    if labels.numel() == 0:
        raise ValueError("y is empty: class weights need at least one labelled example")
    counts = torch.bincount(labels, minlength=n_classes).double()
    return torch.where(counts > 0, labels.numel() / (n_classes * counts.clamp(min=1)), 0.0)


def mean_iou(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> tuple[float, torch.Tensor]:
    """(mean IoU over the classes that occur, (K,) IoU per class, NaN where a class is absent)."""
    p, t = torch.as_tensor(pred), torch.as_tensor(target)
    if p.shape != t.shape:
        raise ValueError(f"pred and target should have the same shape, got {tuple(p.shape)} and {tuple(t.shape)}")
    cm = confusion_matrix(t.reshape(-1), p.reshape(-1), n_classes).double()
    inter = torch.diagonal(cm)
    union = cm.sum(dim=0) + cm.sum(dim=1) - inter
    iou = torch.where(union > 0, inter / union.clamp(min=1), torch.nan)
    return float(torch.nanmean(iou)), iou


# --------------------------------------------------------------------------- modules


class SimpleCNN(nn.Module):
    """Conv(32) → ReLU → pool → Conv(64) → ReLU → pool → flatten → Dense(hidden) → ReLU → Dense(n_classes).

    Input (N, in_channels, in_size, in_size); output logits (N, n_classes). Convolutions 3×3 with
    padding 1, pooling 2×2 with stride 2. Parameters: :func:`simple_cnn_params`.
    """

    def __init__(self, in_size: int = 8, in_channels: int = 1, n_classes: int = 10, hidden: int = 1024) -> None:
        super().__init__()
        flat = simple_cnn_flat_features(in_size)  # also rejects an input too small for two poolings
        self.conv1 = nn.Conv2d(in_channels, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(flat, hidden)
        self.fc2 = nn.Linear(hidden, n_classes)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The feature maps after each convolution's ReLU: [(N, 32, S, S), (N, 64, S/2, S/2)]."""
        a1 = F.relu(self.conv1(x))
        a2 = F.relu(self.conv2(self.pool(a1)))
        return [a1, a2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(self.features(x)[1])
        return self.fc2(F.relu(self.fc1(h.flatten(1))))


class ResidualBlock(nn.Module):
    """y = ReLU(F(x) + S(x)): the basic block of ResNet, with a projection shortcut when needed.

    x (N, c_in, H, W) → y (N, c_out, ⌈H/stride⌉, ⌈W/stride⌉). F: conv3×3(c_in → c_out, stride, pad 1)
    → BN → ReLU → conv3×3(c_out → c_out, pad 1) → BN; convolutions without bias (the BN's β is one).
    S: the identity when the shapes agree, else conv1×1(c_in → c_out, stride) → BN. The ReLU comes
    *after* the sum, so the block can pass x through unchanged when F learns 0.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(residual + self.shortcut(x))


class Inception(nn.Module):
    """GoogLeNet's inception module: four branches over the same input, concatenated.

    x (N, c_in, H, W) → (N, c1 + c3 + c5 + pool_proj, H, W), branches in this order:
    1×1 conv (c1); 1×1 (c3_reduce) → 3×3 pad 1 (c3); 1×1 (c5_reduce) → 5×5 pad 2 (c5);
    3×3 max-pool stride 1 pad 1 → 1×1 (pool_proj). Every convolution is followed by a ReLU.
    """

    def __init__(self, c_in: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int, pool_proj: int) -> None:
        super().__init__()
        self.branch1 = nn.Sequential(nn.Conv2d(c_in, c1, 1), nn.ReLU())
        self.branch3 = nn.Sequential(nn.Conv2d(c_in, c3_reduce, 1), nn.ReLU(), nn.Conv2d(c3_reduce, c3, 3, padding=1),
                                     nn.ReLU())
        self.branch5 = nn.Sequential(nn.Conv2d(c_in, c5_reduce, 1), nn.ReLU(), nn.Conv2d(c5_reduce, c5, 5, padding=2),
                                     nn.ReLU())
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(c_in, pool_proj, 1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)


class TinySegmenter(nn.Module):
    """A fully convolutional segmenter: a score per class for every pixel.

    x (N, in_channels, H, W) with H, W multiples of 4 → logits (N, n_classes, H, W).
    Down: conv3×3 (width) → ReLU → conv3×3 stride 2 (2·width) → ReLU → conv3×3 stride 2 (4·width) → ReLU;
    up: 2×2 transposed conv stride 2 (2·width) → ReLU → 2×2 transposed conv stride 2 (width) → ReLU;
    read-out: 1×1 conv (n_classes). No dense layer, so any multiple-of-4 size works.
    """

    def __init__(self, in_channels: int = 1, n_classes: int = 4, width: int = 16) -> None:
        super().__init__()
        self.down1 = nn.Conv2d(in_channels, width, 3, padding=1)
        self.down2 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.down3 = nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1)
        self.up1 = nn.ConvTranspose2d(4 * width, 2 * width, 2, stride=2)
        self.up2 = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.head = nn.Conv2d(width, n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"TinySegmenter needs H and W divisible by 4 (two stride-2 steps), got {tuple(x.shape[-2:])}")
        h = F.relu(self.down3(F.relu(self.down2(F.relu(self.down1(x))))))
        return self.head(F.relu(self.up2(F.relu(self.up1(h)))))


# --------------------------------------------------------------------------- probes


def count_parameters(model: nn.Module) -> int:
    """Σ p.numel() over the trainable parameters (what the formulas of dlcourse.ref.cnns predict)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def copy_weights(student: nn.Module, reference: nn.Module) -> nn.Module:
    """Copy ``reference``'s parameters and batch-norm statistics into ``student`` and return ``student``.

    Entries are paired by :func:`match_state` (by name, else by order and shape; the batch norms'
    step counters are left out); raises its ValueError when the architectures differ.
    """
    src, dst = _state(reference), _state(student)
    pairs = match_state({k: tuple(v.shape) for k, v in dst.items()}, {k: tuple(v.shape) for k, v in src.items()})
    with torch.no_grad():
        for mine, theirs in pairs:
            dst[mine].copy_(src[theirs])
    return student


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Parameters and float buffers by name (num_batches_tracked counts steps: it is not a weight)."""
    return {k: v for k, v in model.state_dict(keep_vars=True).items() if not k.endswith("num_batches_tracked")}


def load_state(model: nn.Module, params: dict[str, Any]) -> nn.Module:
    """``model`` with ``params`` (arrays or tensors, paired by :func:`match_state`) copied in."""
    dst = _state(model)
    pairs = match_state({k: tuple(v.shape) for k, v in dst.items()}, {k: tuple(np.shape(v)) for k, v in params.items()})
    with torch.no_grad():
        for mine, theirs in pairs:
            dst[mine].copy_(torch.as_tensor(params[theirs]))
    return model


def _apply(model: nn.Module, x: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    model = load_state(model.to(device=x.device, dtype=x.dtype), params).eval()
    with torch.no_grad():
        return model(x)


def simple_cnn_output(x: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    """Logits (N, K) of :class:`SimpleCNN` holding ``params`` (as :func:`simple_cnn_shapes` names them)."""
    n_hidden, n_classes = params["fc1.weight"].shape[0], params["fc2.weight"].shape[0]
    return _apply(SimpleCNN(x.shape[-1], x.shape[1], n_classes, n_hidden), x, params)


def residual_block_output(x: torch.Tensor, params: dict[str, Any], stride: int = 1) -> torch.Tensor:
    """:class:`ResidualBlock` holding ``params``, in eval mode, applied to x (N, C_in, H, W)."""
    c_out = params["conv1.weight"].shape[0]
    return _apply(ResidualBlock(x.shape[1], c_out, stride), x, params)


def inception_output(x: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    """:class:`Inception` holding ``params`` applied to x (N, C_in, H, W)."""
    sizes = [params[f"{n}.weight"].shape[0] for n in ("branch1.0", "branch3.0", "branch3.2", "branch5.0", "branch5.2",
                                                      "branch_pool.1")]
    return _apply(Inception(x.shape[1], *sizes), x, params)


def segmenter_output(x: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    """:class:`TinySegmenter` holding ``params`` applied to x (N, C, H, W)."""
    return _apply(TinySegmenter(x.shape[1], params["head.weight"].shape[0], params["down1.weight"].shape[0]), x, params)


def parameters_without_gradient(model: nn.Module, *inputs: torch.Tensor) -> list[str]:
    """Names of the trainable parameters that the gradient of ``model(*inputs)`` does not reach.

    The loss is Σ out · r for a fixed random r (a plain sum would cancel in some layers, e.g. before
    a batch norm). A parameter is unreached when its ``.grad`` stays None: the graph does not lead
    to it (a branch computed but never used, or cut by ``.detach()``/``.data``/``torch.no_grad()``).
    An all-zero gradient is not counted: a ReLU that is off on every input gives one legitimately.
    """
    model.zero_grad(set_to_none=True)
    out = model(*inputs)
    g = torch.Generator(device="cpu").manual_seed(0)
    weights = torch.randn(out.shape, generator=g, dtype=out.dtype).to(out.device)
    (out * weights).sum().backward()
    dead = [name for name, p in model.named_parameters()
            if p.requires_grad and p.grad is None]
    model.zero_grad(set_to_none=True)
    return dead


def zero_residual_branch(block: ResidualBlock) -> ResidualBlock:
    """Set the last batch norm's γ and β of the residual branch to 0 and return the block.

    The branch F(x) then outputs 0 and the block computes ReLU(S(x)): the shortcut alone. (ResNets
    are often initialised this way, so that every block starts as the identity.)
    """
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    return block


# --------------------------------------------------------------------------- training


def batches(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, batch_size: int = 64, shuffle: bool = False,
            seed: int | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Mini-batches [(x_b (B, ...) float32, y_b (B,) int64)] on the CPU; the last may be smaller.

    ``shuffle`` permutes the examples with ``seed`` first. The loop moves each batch to its device.
    """
    xt = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    yt = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if xt.shape[0] != yt.shape[0]:
        raise ValueError(f"x and y should have the same number of examples, got {xt.shape[0]} and {yt.shape[0]}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    xt = xt.float() if xt.is_floating_point() else xt
    order = torch.arange(xt.shape[0])
    if shuffle:
        order = torch.randperm(xt.shape[0], generator=torch.Generator().manual_seed(0 if seed is None else seed))
    return [(xt[idx], yt[idx].long()) for idx in order.split(batch_size)]


def train_epoch(model: nn.Module, loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
                loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], optimizer: torch.optim.Optimizer,
                device: Device = None) -> float:
    """One pass over ``loader`` (x (B, ...), y (B,) pairs); returns the mean loss per example.

    For each batch: move it to ``device`` (default: the model's), clear the gradients, forward,
    loss, backward, step. The mean weights each batch by its size, so a smaller last batch counts
    for what it holds: Σ_b B_b · loss_b / Σ_b B_b (for a loss that averages over its batch).
    """
    device = next(model.parameters()).device if device is None else torch.device(device)
    model.train()  # dropout on, batch norm on batch statistics
    total, count = 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * y.shape[0]  # .item(): a float, the graph of this batch is freed
        count += y.shape[0]
    if count == 0:
        raise ValueError("the loader gave no batches")
    return total / count


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray | torch.Tensor, batch_size: int = 512, device: Device = None) -> np.ndarray:
    """The argmax class of every example of ``x`` (N, ...) in eval mode: (N,) int64 NumPy."""
    device = next(model.parameters()).device if device is None else torch.device(device)
    model.eval()
    xt = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).float()
    out = [model(xt[i:i + batch_size].to(device)).argmax(dim=1).cpu() for i in range(0, xt.shape[0], batch_size)]
    return torch.cat(out).numpy().astype(np.int64) if out else np.zeros(0, dtype=np.int64)


@dataclass
class History:
    """What :func:`fit` records per epoch: mean training loss, validation accuracy, and the total time."""

    train_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0


def fit(model: nn.Module, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, *,
        epochs: int = 10, lr: float = 1e-3, batch_size: int = 64, weight: np.ndarray | None = None,
        device: Device = None, seed: int = 0, progress: bool = True,
        epoch_fn: Callable[..., float] = train_epoch, cpu_threads: int | None = 1) -> History:
    """Train ``model`` with Adam and cross-entropy (optionally class-weighted), reshuffling every epoch.

    The model moves to ``device`` (default :func:`default_device`); a ``tqdm.auto`` bar over the
    epochs shows the loss and validation accuracy (``progress=False`` for none: a bar writes to
    stderr, which an nbgrader test cell must not). ``epoch_fn`` is the one-epoch loop, e.g. the
    student's ``train_epoch``. ``cpu_threads``: on the CPU, train with this many torch threads
    (restored afterwards; None keeps torch's setting). One is the default because these networks'
    convolutions are too small to share: extra OpenMP threads spin-wait, and on a machine whose
    cores are busy with anything else (two notebooks, a grader) the wait costs 5–20× (measured with
    benchmarks/cnns.py). Returns the :class:`History`.
    """
    from tqdm.auto import trange

    device = default_device() if device is None else torch.device(device)
    model.to(device)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    w = None if weight is None else torch.as_tensor(np.asarray(weight), dtype=torch.float32, device=device)
    loss_fn = nn.CrossEntropyLoss(weight=w)
    history, start = History(), time.perf_counter()
    threads = torch.get_num_threads()
    if device.type == "cpu" and cpu_threads is not None:
        torch.set_num_threads(cpu_threads)
    try:
        bar = trange(epochs, desc="epochs", disable=not progress, leave=False)
        for epoch in bar:
            loss = epoch_fn(model, batches(x_train, y_train, batch_size, shuffle=True, seed=seed + epoch), loss_fn,
                            optimizer, device)
            acc = float(np.mean(predict(model, x_val, device=device) == np.asarray(y_val)))
            history.train_loss.append(float(loss))
            history.val_accuracy.append(acc)
            bar.set_postfix(loss=f"{loss:.3f}", val_acc=f"{acc:.3f}")
    finally:
        torch.set_num_threads(threads)
    history.seconds = time.perf_counter() - start
    return history
