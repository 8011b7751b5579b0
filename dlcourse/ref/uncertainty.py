"""Knowing when a network does not know, in NumPy: entropy, MC dropout, ensembles, calibration, OOD.

Every function takes what a trained classifier already gives — probabilities (…, C) or logits —
or the stacked outputs of several stochastic forward passes, and returns a number per example
(or one number for a data set). Conventions, stated once:

- **Entropy** H(p) = −Σ_c p_c log p_c is in nats (natural log) unless ``base`` is given
  (``base=2``: bits); 0 · log 0 = 0. The maximum, log C, belongs to the uniform distribution.
- **MC dropout** (Gal & Ghahramani, 2016): T forward passes with dropout *on*, stacked on axis 0
  as (T, …). Mean and variance are over that sample axis; the variance is the *population*
  variance (divide by T, ``ddof=0``), the variance of the T samples themselves, as
  ``np.var`` and ``torch.var(unbiased=False)`` give it.
- **Ensemble disagreement** of M members' probabilities (M, N, C) is the *mutual information*
  between the prediction and the member: I = H(p̄) − (1/M) Σ_m H(p_m), the total entropy of
  the averaged prediction minus the members' average entropy (aleatoric part). It is ≥ 0 and
  0 exactly when all members agree. For regression, :func:`ensemble_regression` splits the
  predictive variance into the mean of the members' noise variances (aleatoric) plus the
  population variance of their means (epistemic).
- **Calibration**: the confidence of a prediction is its largest probability, the prediction
  its arg max (the first one on ties). Equal-width bins over [0, 1] are **right-closed**:
  bin b holds the confidences in (b/B, (b+1)/B], and the first bin also holds 0. The expected
  calibration error weighs each bin's gap |accuracy − mean confidence| by its share of the
  examples, ECE = Σ_b (n_b / N) |acc_b − conf_b|; empty bins contribute nothing (their mean is
  undefined, never computed as 0/0).
- **AUROC** is the probability that a random positive scores higher than a random negative,
  ties counting one half: the Mann–Whitney statistic from average ranks, equal to
  ``sklearn.metrics.roc_auc_score(labels, scores)``. For out-of-distribution detection with the
  max-softmax score the positives are the *in-distribution* examples (they score higher).
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from dlcourse.ref.losses import log_softmax, softmax

__all__ = [
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
]


# --------------------------------------------------------------------------- input checks


def _float_array(name: str, a: object, min_ndim: int = 1) -> np.ndarray:
    """``a`` as a float array (integers become float64), or a ValueError that says what was expected."""
    a = np.asarray(a)
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise ValueError(f"{name} must be a real numeric array, got dtype {a.dtype}")
    if a.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {a.shape}")
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def _probabilities(name: str, p: object, axis: int = -1, min_ndim: int = 1) -> np.ndarray:
    """Probability vectors along ``axis``: entries ≥ 0 summing to 1 (to 1e-6), else a ValueError.

    The check is what catches the classic slip of passing logits where probabilities belong.
    """
    p = _float_array(name, p, min_ndim)
    if p.size == 0:
        return p
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError(f"{name} must hold probabilities (finite, ≥ 0); got entries from {p.min():.3g} to "
                         f"{p.max():.3g}. Logits? Use the *_from_logits variant or a softmax first.")
    sums = p.sum(axis=axis)
    if not np.allclose(sums, 1.0, atol=1e-6):
        raise ValueError(f"{name} must sum to 1 along axis {axis}; got sums from {sums.min():.6g} to {sums.max():.6g}")
    return p


def _log_base(base: float | None) -> float:
    """log(base), the divisor that turns nats into units of ``base`` (1 for nats)."""
    if base is None:
        return 1.0
    if isinstance(base, bool) or not isinstance(base, numbers.Real) or not base > 0 or base == 1:
        raise ValueError(f"base must be a positive number other than 1 (or None for nats), got {base!r}")
    return math.log(base)


def _labels(name: str, y: object, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n or not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
        raise ValueError(f"{name} must be a 1-D integer array of length {n}, got shape {y.shape}, dtype {y.dtype}")
    return y.astype(np.int64)


def _n_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    return int(n_bins)


# --------------------------------------------------------------------------- random labels


def shuffle_labels(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of the labels, for the random-label experiment (Zhang et al., 2017).

    Shuffling keeps each class's count (so chance accuracy is unchanged) but breaks every link
    between an input and its label: what a network learns from them is memorisation.

    Args:
        y: (N,) labels, any dtype.
        rng: the only source of randomness (one ``rng.permutation(N)`` draw).

    Returns:
        (N,) a new array, ``y[perm]``; ``y`` itself is left unchanged.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels (N,), got shape {y.shape}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return y[rng.permutation(y.shape[0])]


# --------------------------------------------------------------------------- entropy


def predictive_entropy(probs: np.ndarray, axis: int = -1, base: float | None = None) -> np.ndarray:
    """H(p) = −Σ_c p_c log p_c along ``axis``, with 0 · log 0 = 0.

    Args:
        probs: (…, C) probabilities (≥ 0, summing to 1 along ``axis``).
        axis: the class axis.
        base: the logarithm's base; None = e (nats), 2 = bits.

    Returns:
        (…) the entropy of each distribution, in [0, log C / log base].
    """
    p = _probabilities("probs", probs, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)  # 0 · log 0 = 0, never 0 · (−∞)
    return -terms.sum(axis=axis) / _log_base(base)


def predictive_entropy_from_logits(logits: np.ndarray, axis: int = -1, base: float | None = None) -> np.ndarray:
    """The entropy of softmax(logits) without forming log p from p: H = −Σ p (z − logsumexp z).

    Stable for any logits: an underflowed p = 0 multiplies a finite log p, and the result equals
    :func:`predictive_entropy` (softmax(logits)) wherever that one is accurate.

    Args:
        logits: (…, C) unnormalised scores; axis: the class axis; base: as for predictive_entropy.

    Returns:
        (…) entropies.
    """
    z = _float_array("logits", logits)
    log_p = log_softmax(z, axis)
    return -(np.exp(log_p) * log_p).sum(axis=axis) / _log_base(base)


# --------------------------------------------------------------------------- MC dropout and ensembles


def mc_dropout_stats(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of T stochastic forward passes, over the sample axis 0.

    Args:
        samples: (T, …) outputs of T passes with dropout on (probabilities (T, N, C) or
            regression outputs (T, N)); T ≥ 1.

    Returns:
        mean (…) = (1/T) Σ_t s_t, and the population variance (…) = (1/T) Σ_t (s_t − mean)²
        (ddof = 0: the spread of these T samples; with T = 1 it is 0, not 0/0).
    """
    s = _float_array("samples", samples)
    if s.shape[0] < 1:
        raise ValueError(f"samples must hold at least one pass on axis 0 (T, …), got shape {s.shape}")
    return s.mean(axis=0), s.var(axis=0)


def ensemble_disagreement(member_probs: np.ndarray, base: float | None = None) -> np.ndarray:
    """Mutual information between prediction and member: H(mean_m p_m) − mean_m H(p_m).

    Args:
        member_probs: (M, N, C) each member's class probabilities for N examples.
        base: the logarithm's base, as for :func:`predictive_entropy`.

    Returns:
        (N,) ≥ 0 (rounding aside); 0 where every member predicts the same distribution,
        largest where confident members contradict each other.
    """
    p = _probabilities("member_probs", member_probs, -1, 3)
    if p.ndim != 3:
        raise ValueError(f"member_probs must be (M, N, C), got shape {p.shape}")
    total = predictive_entropy(p.mean(axis=0), base=base)
    expected = predictive_entropy(p, base=base).mean(axis=0)
    return total - expected


def ensemble_regression(means: np.ndarray, variances: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An ensemble's 1-D regression prediction, its aleatoric and its epistemic variance.

    Treating the ensemble as a uniform mixture of the members' Gaussians N(μ_m, σ²_m), its
    variance is mean_m σ²_m (noise the members agree is in the data: aleatoric) plus
    var_m μ_m (population variance of their means: how much they disagree, epistemic).

    Args:
        means: (M, N) each member's predicted mean.
        variances: (M, N) each member's predicted noise variance, or None (no aleatoric part).

    Returns:
        mean (N,), aleatoric (N,), epistemic (N,).
    """
    mu = _float_array("means", means, 2)
    if mu.ndim != 2:
        raise ValueError(f"means must be (M, N), got shape {mu.shape}")
    if variances is None:
        aleatoric = np.zeros(mu.shape[1])
    else:
        var = _float_array("variances", variances, 2)
        if var.shape != mu.shape or (var < 0).any():
            raise ValueError(f"variances must be ≥ 0 with the means' shape {mu.shape}, got shape {var.shape}")
        aleatoric = var.mean(axis=0)
    return mu.mean(axis=0), aleatoric, mu.var(axis=0)


# --------------------------------------------------------------------------- calibration


def calibration_bin_index(confidences: np.ndarray, n_bins: int) -> np.ndarray:
    """Which of ``n_bins`` equal-width, right-closed bins over [0, 1] each confidence falls in.

    Bin b covers (e_b, e_{b+1}] with edges e = linspace(0, 1, B + 1); 0 goes to bin 0. A
    confidence equal to an edge goes to the bin *below* it (searchsorted on the inner edges,
    side="left"), so the answer never depends on how c·B rounds.

    Returns:
        (N,) int64 in 0 … B − 1.
    """
    n_bins = _n_bins(n_bins)
    c = _float_array("confidences", confidences)
    if c.ndim != 1 or (c.size and (c.min() < 0 or c.max() > 1)):
        raise ValueError(f"confidences must be a 1-D array in [0, 1], got shape {c.shape}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], c, side="left").astype(np.int64)


class ReliabilityBins(NamedTuple):
    """Reliability-diagram data for B equal-width bins (NaN where a bin is empty)."""

    edges: np.ndarray  # (B + 1,) linspace(0, 1, B + 1)
    counts: np.ndarray  # (B,) int64, examples per bin
    accuracy: np.ndarray  # (B,) fraction correct in each bin
    confidence: np.ndarray  # (B,) mean confidence in each bin


def _confidence_and_correct(probs: object, labels: object) -> tuple[np.ndarray, np.ndarray]:
    p = _probabilities("probs", probs, -1, 2)
    if p.ndim != 2:
        raise ValueError(f"probs must be (N, C), got shape {p.shape}")
    y = _labels("labels", labels, p.shape[0])
    if y.size and (y.min() < 0 or y.max() >= p.shape[1]):
        raise ValueError(f"labels must lie in 0 … {p.shape[1] - 1}, got {y.min()} … {y.max()}")
    return p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)


def reliability_diagram(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> ReliabilityBins:
    """Per-bin accuracy and mean confidence of a classifier's predictions.

    Args:
        probs: (N, C) predicted probabilities; labels: (N,) true classes; n_bins: B.

    Returns:
        :class:`ReliabilityBins`; a perfectly calibrated model has accuracy = confidence in
        every non-empty bin.
    """
    conf, correct = _confidence_and_correct(probs, labels)
    b = calibration_bin_index(conf, n_bins)
    counts = np.bincount(b, minlength=n_bins)
    filled = counts > 0
    safe = np.where(filled, counts, 1)  # empty bins: NaN below, never 0/0
    acc = np.where(filled, np.bincount(b, weights=correct, minlength=n_bins) / safe, np.nan)
    mean_conf = np.where(filled, np.bincount(b, weights=conf, minlength=n_bins) / safe, np.nan)
    return ReliabilityBins(np.linspace(0.0, 1.0, n_bins + 1), counts.astype(np.int64), acc, mean_conf)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    """ECE = Σ_b (n_b / N) |acc_b − conf_b| over the non-empty right-closed bins.

    Args:
        probs: (N, C) predicted probabilities (N ≥ 1); labels: (N,) true classes; n_bins: B.

    Returns:
        a float in [0, 1].
    """
    bins = reliability_diagram(probs, labels, n_bins)
    n = int(bins.counts.sum())
    if n == 0:
        raise ValueError("expected_calibration_error needs at least one example")
    filled = bins.counts > 0
    gaps = np.abs(bins.accuracy[filled] - bins.confidence[filled])
    return float((bins.counts[filled] / n * gaps).sum())


def temperature_scale(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) over the last axis: T > 1 softens, T < 1 sharpens; the arg max never changes."""
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not temperature > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    return softmax(_float_array("logits", logits) / float(temperature), -1)


def _nll(logits: np.ndarray, y: np.ndarray, temperature: float) -> float:
    log_p = log_softmax(logits / temperature, -1)
    return float(-log_p[np.arange(y.shape[0]), y].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, bounds: tuple[float, float] = (0.05, 20.0),
                    tol: float = 1e-6) -> float:
    """The temperature T that minimises the mean NLL of softmax(logits / T) on held-out data.

    The NLL is convex in 1/T, so a golden-section search over log T inside ``bounds`` finds the
    minimum (to ``tol`` in log T). Fit it on a validation split, never on the training data (where
    an overfit network is over-confident *and* right, so T would stay near 1).

    Args:
        logits: (N, C); labels: (N,) ints; bounds: the search interval for T.

    Returns:
        T > 0, a float.
    """
    z = _float_array("logits", logits, 2)
    if z.ndim != 2:
        raise ValueError(f"logits must be (N, C), got shape {z.shape}")
    y = _labels("labels", labels, z.shape[0])
    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = _nll(z, y, math.exp(a)), _nll(z, y, math.exp(b))
    while hi - lo > tol:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = _nll(z, y, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = _nll(z, y, math.exp(b))
    return math.exp((lo + hi) / 2.0)


# --------------------------------------------------------------------------- out of distribution


def max_softmax_score(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """The maximum softmax probability (Hendrycks & Gimpel, 2017): high = looks in-distribution.

    Computed stably: max_c softmax(z)_c = exp(max_c z_c − logsumexp z) = 1 / Σ_c e^{z_c − max z}.

    Args:
        logits: (…, C); axis: the class axis.

    Returns:
        (…) scores in [1/C, 1].
    """
    z = _float_array("logits", logits)
    shifted = z - z.max(axis=axis, keepdims=True)
    return 1.0 / np.exp(shifted).sum(axis=axis)


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1 … N of ``x``, tied values sharing the mean of the ranks they span."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])  # where each run of equal values begins
    ends = np.r_[starts[1:], xs.size]  # one past its end
    mean_rank = (starts + 1 + ends) / 2.0  # the mean of ranks starts+1 … ends
    ranks = np.empty(x.size)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a random positive > that of a random negative), ties ½.

    From average ranks (Mann–Whitney): AUROC = (R₊ − n₊(n₊ + 1)/2) / (n₊ n₋), R₊ the sum of the
    positives' ranks. The argument order is ``sklearn.metrics.roc_auc_score``'s.

    Args:
        labels: (N,) 0/1 or bool, 1 = positive; both classes must occur.
        scores: (N,) real, higher = more likely positive.

    Returns:
        a float in [0, 1]; 0.5 is chance, 1 − AUROC is the answer with the classes swapped.
    """
    s = _float_array("scores", scores)
    y = np.asarray(labels)
    if s.ndim != 1 or y.shape != s.shape:
        raise ValueError(f"labels and scores must be 1-D of the same length, got {y.shape} and {s.shape}")
    if not (y.dtype == bool or np.issubdtype(y.dtype, np.integer)) or not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0/1 (or bool), 1 = positive")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    pos = y.astype(bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"AUROC needs both classes; got {n_pos} positives and {n_neg} negatives")
    r_pos = _average_ranks(s)[pos].sum()
    return float((r_pos - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def ood_auroc(scores_in: np.ndarray, scores_out: np.ndarray) -> float:
    """AUROC of separating in-distribution (positives) from out-of-distribution examples by a score.

    Args:
        scores_in: (N_in,) scores of in-distribution examples (e.g. max-softmax, higher = more typical);
        scores_out: (N_out,) scores of out-of-distribution ones.
    """
    a, b = _float_array("scores_in", scores_in), _float_array("scores_out", scores_out)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"scores_in and scores_out must be 1-D, got {a.shape} and {b.shape}")
    return auroc(np.r_[np.ones(a.size, np.int64), np.zeros(b.size, np.int64)], np.r_[a, b])
