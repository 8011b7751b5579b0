"""Limits and uncertainty in PyTorch: the twins of :mod:`dlcourse.ref.uncertainty` and the experiments.

The twins take tensors of any device and keep it (same names, conventions and results as the
NumPy reference: entropy in nats unless ``base``, population variance over the sample axis 0,
mutual information for ensembles, right-closed equal-width calibration bins, AUROC with ties ½).

On top of them, what needs a network:

- :func:`mc_dropout_samples`: T forward passes of a model with its dropout layers *on* and
  everything else (batch norm!) in evaluation mode, without gradients; the model's modes are
  restored afterwards.
- :class:`EnsembleMLP` / :func:`train_ensemble` / :func:`ensemble_predict`: a deep ensemble
  (Lakshminarayanan et al., 2017) for 1-D regression, M small networks trained in parallel (one
  batched matmul per layer), each predicting a mean and a variance with the Gaussian NLL.
- :func:`train_classifier` and :func:`random_label_experiment`: the random-label experiment
  (Zhang et al., 2017; the notebook uses scikit-learn's digits) — an MLP fits shuffled labels
  perfectly and predicts the test set at chance.
- :func:`fit_temperature`: temperature scaling (Guo et al., 2017), T fitted by L-BFGS on the NLL
  of a validation split.

Sizes grow on a GPU (:func:`experiment_scale`), so the notebook's runs stay within its CPU budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.gpu.device import default_device, to_tensor
from dlcourse.ref.uncertainty import ReliabilityBins

__all__ = [
    # twins of dlcourse.ref.uncertainty (ReliabilityBins is the reference's own type, holding tensors here)
    "shuffle_labels",
    "predictive_entropy",
    "predictive_entropy_from_logits",
    "mc_dropout_stats",
    "ensemble_disagreement",
    "ensemble_regression",
    "calibration_bin_index",
    "ReliabilityBins",
    "reliability_diagram",
    "expected_calibration_error",
    "temperature_scale",
    "fit_temperature",
    "max_softmax_score",
    "auroc",
    "ood_auroc",
    # networks and experiments
    "mc_dropout_samples",
    "EnsembleMLP",
    "train_ensemble",
    "ensemble_predict",
    "ClassifierRun",
    "train_classifier",
    "random_label_experiment",
    "experiment_scale",
]


def _log_base(base: float | None) -> float:
    if base is None:
        return 1.0
    if isinstance(base, bool) or not base > 0 or base == 1:
        raise ValueError(f"base must be a positive number other than 1 (or None for nats), got {base!r}")
    return math.log(base)


# --------------------------------------------------------------------------- twins


def shuffle_labels(y: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """``y[perm]`` with ``perm = rng.permutation(N)``: the reference's draw, so both give the same labels.

    The permutation comes from NumPy's generator (one seed, one experiment on either side); the
    result stays on ``y``'s device and ``y`` is left unchanged.
    """
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D tensor of labels (N,), got shape {tuple(y.shape)}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return y[torch.as_tensor(rng.permutation(y.shape[0]), device=y.device)]


def predictive_entropy(probs: torch.Tensor, axis: int = -1, base: float | None = None) -> torch.Tensor:
    """H(p) = −Σ p log p along ``axis`` (0 · log 0 = 0); nats unless ``base``. Shape (…)."""
    p = probs
    terms = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p))
    return -terms.sum(axis) / _log_base(base)


def predictive_entropy_from_logits(logits: torch.Tensor, axis: int = -1, base: float | None = None) -> torch.Tensor:
    """The entropy of softmax(logits) along ``axis``, from log-softmax (stable for any logits). Shape (…)."""
    log_p = torch.log_softmax(logits, axis)
    return -(log_p.exp() * log_p).sum(axis) / _log_base(base)


def mc_dropout_stats(samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and population variance (divide by T) over the sample axis 0 of (T, …) samples."""
    return samples.mean(0), samples.var(0, unbiased=False)


def ensemble_regression(means: torch.Tensor, variances: torch.Tensor | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """An ensemble's (M, N) member means (and noise variances): mean, aleatoric, epistemic, each (N,).

    Aleatoric = mean_m σ²_m, epistemic = the population variance of the means over the members.
    """
    if means.ndim != 2:
        raise ValueError(f"means must be (M, N), got shape {tuple(means.shape)}")
    if variances is None:
        aleatoric = torch.zeros_like(means[0])
    else:
        if variances.shape != means.shape or bool((variances < 0).any()):
            raise ValueError(f"variances must be ≥ 0 with the means' shape {tuple(means.shape)}, "
                             f"got shape {tuple(variances.shape)}")
        aleatoric = variances.mean(0)
    return means.mean(0), aleatoric, means.var(0, unbiased=False)


def ensemble_disagreement(member_probs: torch.Tensor, base: float | None = None) -> torch.Tensor:
    """Mutual information H(mean_m p_m) − mean_m H(p_m) of (M, N, C) probabilities: (N,)."""
    if member_probs.ndim != 3:
        raise ValueError(f"member_probs must be (M, N, C), got shape {tuple(member_probs.shape)}")
    return (predictive_entropy(member_probs.mean(0), base=base)
            - predictive_entropy(member_probs, base=base).mean(0))


def calibration_bin_index(confidences: torch.Tensor, n_bins: int) -> torch.Tensor:
    """Which of ``n_bins`` equal-width right-closed bins over [0, 1] each confidence falls in: (N,) int64.

    As in the reference, a confidence on an edge goes to the bin below it, and 0 to bin 0.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    c = confidences
    if c.ndim != 1 or (c.numel() and (float(c.min()) < 0 or float(c.max()) > 1)):
        raise ValueError(f"confidences must be a 1-D tensor in [0, 1], got shape {tuple(c.shape)}")
    inner = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)[1:-1].to(c.device, c.dtype)
    return torch.searchsorted(inner, c.contiguous(), right=False).to(torch.int64)


def reliability_diagram(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 10) -> ReliabilityBins:
    """Per-bin accuracy and mean confidence of (N, C) ``probs`` against (N,) ``labels``.

    The reference's :class:`ReliabilityBins`, its fields as tensors on ``probs``' device (NaN
    where a bin is empty).
    """
    conf, pred = probs.max(dim=1)
    correct = (pred == labels).to(probs.dtype)
    b = calibration_bin_index(conf, n_bins)
    counts = torch.bincount(b, minlength=n_bins)
    filled = counts > 0
    safe = torch.where(filled, counts, torch.ones_like(counts)).to(probs.dtype)
    nan = torch.full_like(safe, float("nan"))
    acc = torch.where(filled, torch.bincount(b, weights=correct, minlength=n_bins) / safe, nan)
    mean_conf = torch.where(filled, torch.bincount(b, weights=conf, minlength=n_bins) / safe, nan)
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64).to(probs.device, probs.dtype)
    return ReliabilityBins(edges, counts.to(torch.int64), acc, mean_conf)


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 10) -> float:
    """ECE over equal-width right-closed bins (b/B, (b+1)/B], weighted by count, empty bins skipped."""
    conf, pred = probs.max(dim=1)
    correct = (pred == labels).to(probs.dtype)
    inner = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)[1:-1].to(probs.device, probs.dtype)
    b = torch.searchsorted(inner, conf.contiguous(), right=False)  # c on an edge goes to the bin below
    counts = torch.bincount(b, minlength=n_bins).to(probs.dtype)
    gap = torch.bincount(b, weights=correct, minlength=n_bins) - torch.bincount(b, weights=conf, minlength=n_bins)
    # Σ_b (n_b/N) |acc_b − conf_b| = (1/N) Σ_b |Σ_{i∈b} (correct_i − conf_i)|: empty bins add 0, no division
    return float(gap.abs().sum() / counts.sum())


def temperature_scale(logits: torch.Tensor, temperature: float | torch.Tensor) -> torch.Tensor:
    """softmax(logits / T) over the last axis."""
    return torch.softmax(logits / temperature, -1)


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, bounds: tuple[float, float] = (0.05, 20.0),
                    tol: float = 1e-6, max_iter: int = 100) -> float:
    """The T in ``bounds`` minimising the mean NLL of softmax(logits / T), by L-BFGS on log T (from T = 1).

    ``logits`` (N, C) and ``labels`` (N,) come from a validation split; the logits are detached.
    The NLL is convex in 1/T, so the optimum found is the reference's (its golden-section search
    over the same ``bounds``), and one outside ``bounds`` is clipped to them, as the reference's
    search is. L-BFGS stops once the loss or log T changes by less than min(``tol``, 1e-9): its own
    default, which on this one-parameter problem already lands within the reference's ``tol``.
    """
    low, high = bounds
    if not 0 < low < high:
        raise ValueError(f"bounds must be 0 < low < high, got {bounds!r}")
    z = logits.detach()
    log_t = torch.zeros((), dtype=z.dtype, device=z.device, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=max_iter, tolerance_change=min(tol, 1e-9),
                            line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(z / log_t.exp(), labels)
        loss.backward()
        return loss

    opt.step(closure)
    return float(min(max(float(log_t.detach().exp()), low), high))


def max_softmax_score(logits: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """max_c softmax(z)_c along ``axis`` (higher = more in-distribution-looking). Shape (…)."""
    return torch.softmax(logits, axis).amax(axis)


def auroc(labels: torch.Tensor, scores: torch.Tensor) -> float:
    """P(positive scores higher than negative), ties ½, from average ranks (Mann–Whitney), O(N log N).

    ``torch.unique`` sorts the distinct scores and counts them; a run of c equal scores ending at
    rank e (1-based) shares the rank e − (c − 1)/2.
    """
    pos = labels.bool()
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUROC needs both classes")
    _, inverse, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).to(torch.float64)
    ranks = (ends - (counts.to(torch.float64) - 1) / 2)[inverse]
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def ood_auroc(scores_in: torch.Tensor, scores_out: torch.Tensor) -> float:
    """AUROC of telling in-distribution (positives) from out-of-distribution examples by a 1-D score."""
    if scores_in.ndim != 1 or scores_out.ndim != 1:
        raise ValueError(f"scores_in and scores_out must be 1-D, got {tuple(scores_in.shape)} and "
                         f"{tuple(scores_out.shape)}")
    labels = torch.cat([torch.ones_like(scores_in, dtype=torch.int64), torch.zeros_like(scores_out, dtype=torch.int64)])
    return auroc(labels, torch.cat([scores_in, scores_out]))


# --------------------------------------------------------------------------- MC dropout


def _is_dropout(module: nn.Module) -> bool:
    return isinstance(module, (nn.modules.dropout._DropoutNd, nn.AlphaDropout, nn.FeatureAlphaDropout))


def mc_dropout_samples(model: nn.Module, x: torch.Tensor, n_samples: int) -> torch.Tensor:
    """T = ``n_samples`` outputs of ``model`` on ``x`` with dropout on, stacked: (T, *model(x).shape).

    Only the dropout layers are switched to training mode: ``model.train()`` would also make
    batch norm use the batch's statistics (and update its running ones). No gradients are kept,
    and every module's mode is restored afterwards, even if the model raises.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}")
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        for m in model.modules():
            if _is_dropout(m):
                m.train()
        with torch.no_grad():
            return torch.stack([model(x) for _ in range(n_samples)])
    finally:
        for m, mode in modes.items():
            m.train(mode)


# --------------------------------------------------------------------------- deep ensemble


class EnsembleMLP(nn.Module):
    """M independent MLPs 1 → H → H → 2 (mean, raw variance) evaluated in one batched pass.

    Layer weights are (M, in, out) tensors, so the M members train in parallel as one network
    with block-diagonal structure: no member sees another's parameters. The variance is
    softplus(raw) + 1e-6, so it stays positive.
    """

    def __init__(self, n_members: int = 5, hidden: int = 50, generator: torch.Generator | None = None) -> None:
        super().__init__()
        sizes = [(1, hidden), (hidden, hidden), (hidden, 2)]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in sizes:
            bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default range, drawn per member
            w = (torch.rand(n_members, fan_in, fan_out, generator=generator) * 2 - 1) * bound
            b = (torch.rand(n_members, 1, fan_out, generator=generator) * 2 - 1) * bound
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (N, 1) shared by all members, or (M, N, 1). Returns means, variances: (M, N) each."""
        m = self.weights[0].shape[0]
        h = x.expand(m, *x.shape) if x.ndim == 2 else x
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < len(self.weights) - 1:
                h = torch.tanh(h)
        return h[..., 0], F.softplus(h[..., 1]) + 1e-6


def train_ensemble(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, n_members: int = 5,
                   hidden: int = 50, steps: int = 1500, lr: float = 0.01, seed: int = 0,
                   device: torch.device | str | None = None) -> EnsembleMLP:
    """Train a deep ensemble on 1-D data (x, y of shape (N, 1)) by the mean Gaussian NLL, full batch.

    Members differ only by their random initialisation (as in the deep-ensembles paper, which
    found bootstrapping unnecessary). The first third of the steps fits the means alone (MSE), so
    that no member explains its misfit away as noise before it has found the function.
    """
    device = default_device() if device is None else torch.device(device)
    g = torch.Generator().manual_seed(seed)
    model = EnsembleMLP(n_members, hidden, generator=g).to(device)
    xt = to_tensor(x, device, torch.float32).reshape(-1, 1)
    yt = to_tensor(y, device, torch.float32).reshape(1, -1).expand(n_members, -1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    warm = steps // 3
    for step in range(steps):
        opt.zero_grad()
        mean, var = model(xt)
        loss = F.mse_loss(mean, yt) if step < warm else F.gaussian_nll_loss(mean, yt, var)
        loss.backward()
        opt.step()
    return model


def ensemble_predict(model: EnsembleMLP, x: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Each member's mean and variance on x (N, 1): two float64 arrays (M, N), for the NumPy reference."""
    p = next(model.parameters())
    with torch.no_grad():
        mean, var = model(to_tensor(x, p.device, p.dtype).reshape(-1, 1))
    return mean.double().cpu().numpy(), var.double().cpu().numpy()


# --------------------------------------------------------------------------- random labels


def experiment_scale(device: torch.device | str | None = None) -> dict[str, int]:
    """Sizes of the notebook's runs: small on a CPU (the 2-core budget), larger on a GPU."""
    device = default_device() if device is None else torch.device(device)
    if device.type == "cuda":
        return {"hidden": 1024, "steps": 600, "members": 10, "ensemble_steps": 3000}
    return {"hidden": 256, "steps": 300, "members": 5, "ensemble_steps": 1000}


@dataclass
class ClassifierRun:
    """What :func:`train_classifier` returns: the model and its accuracy curves."""

    model: nn.Module
    steps: list[int] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def train_classifier(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *,
                     hidden: int = 512, steps: int = 1500, lr: float = 1e-3, dropout: float = 0.0,
                     eval_every: int = 50, seed: int = 0, device: torch.device | str | None = None,
                     progress: Callable[[int, float], None] | None = None) -> ClassifierRun:
    """Train an MLP D → H → H → C with Adam on the full training set, and record accuracies.

    No regularisation beyond optional dropout, and no early stopping: the network is free to
    memorise, which is the point of the random-label experiment.

    Args:
        x_train: (N, D) float; y_train: (N,) ints; x_test, y_test likewise.
        hidden: H; steps: full-batch Adam steps; lr: learning rate; dropout: rate after each
            hidden layer (0: none); eval_every: steps between accuracy records; seed: init seed;
            device: where to train (default: CUDA if available); progress: called as
            ``progress(step, train_accuracy)`` at each record (a progress bar, say).
    """
    device = default_device() if device is None else torch.device(device)
    torch.manual_seed(seed)
    n_classes = int(max(np.max(y_train), np.max(y_test))) + 1
    layers: list[nn.Module] = []
    width = x_train.shape[1]
    for _ in range(2):
        layers += [nn.Linear(width, hidden), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
        width = hidden
    model = nn.Sequential(*layers, nn.Linear(width, n_classes)).to(device)
    xs, xt = to_tensor(x_train, device, torch.float32), to_tensor(x_test, device, torch.float32)
    ys, yt = to_tensor(y_train, device, torch.int64), to_tensor(y_test, device, torch.int64)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    run = ClassifierRun(model)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(xs), ys).backward()
        opt.step()
        if step % eval_every == 0 or step == steps:
            model.eval()
            run.steps.append(step)
            run.train_accuracy.append(_accuracy(model, xs, ys))
            run.test_accuracy.append(_accuracy(model, xt, yt))
            if progress is not None:
                progress(step, run.train_accuracy[-1])
    run.seconds = time.perf_counter() - start
    return run


def random_label_experiment(x: np.ndarray, y: np.ndarray,
                            shuffle: Callable[[np.ndarray, np.random.Generator], np.ndarray], *,
                            n_train: int = 600, seed: int = 0, **train_kwargs: object
                            ) -> tuple[ClassifierRun, ClassifierRun]:
    """The same MLP trained on true labels and on shuffled ones (the notebook uses the digits).

    ``x`` (N, D), ``y`` (N,) are split at random into ``n_train`` training and N − n_train test
    examples; ``shuffle(y_train, rng)`` makes the random labels (the notebook passes the
    student's function). The test set keeps its true labels, so the shuffled run's test
    accuracy is the chance level however well it fits its training set.

    Returns:
        (true-label run, shuffled-label run), see :class:`ClassifierRun`.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or y.shape != (x.shape[0],) or not 0 < n_train < len(y):
        raise ValueError(f"expected x (N, D), y (N,) and 0 < n_train < N; got {x.shape}, {y.shape}, {n_train}")
    order = np.random.default_rng(seed).permutation(len(y))
    train, test = order[:n_train], order[n_train:]
    rng = np.random.default_rng(seed + 1)
    runs = []
    for labels in (y[train], np.asarray(shuffle(y[train], rng))):
        runs.append(train_classifier(x[train], labels, x[test], y[test], seed=seed, **train_kwargs))  # type: ignore[arg-type]
    return runs[0], runs[1]
