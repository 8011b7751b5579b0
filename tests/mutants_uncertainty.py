"""Correct alternatives and known-wrong implementations (mutants) for the 14-limits-uncertainty checks.

Each mutant is a mistake students really make, named after it. ``MUTANTS[check]`` lists
``(implementation, pattern, public, hint)`` entries, as ``check_harness`` describes. Everything
here is written as a student would write it: nothing calls ``dlcourse.ref`` or ``dlcourse.gpu``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import uncertainty as checks
from dlcourse.gpu import uncertainty as gpu_uncertainty

Impl = Callable[..., Any]
WRONG = "wrong values|is .*, expected"


# ----------------------------------------------------------------- random labels
def shuffle_by_choice(y, rng):
    return rng.choice(y, size=len(y), replace=False)


def shuffle_a_copy(y, rng):
    out = np.array(y, copy=True)
    rng.shuffle(out)
    return out


def shuffle_identity(y, rng):
    return np.array(y)


def shuffle_uniform_labels(y, rng):
    return rng.integers(0, y.max() + 1, size=len(y)).astype(y.dtype)


def shuffle_global_state(y, rng):
    return y[np.random.permutation(len(y))]


def shuffle_fixed_seed(y, rng):
    return y[np.random.default_rng(0).permutation(len(y))]


def shuffle_in_place(y, rng):
    rng.shuffle(y)
    return y


def shuffle_as_float(y, rng):
    return y[rng.permutation(len(y))].astype(np.float64)


# ----------------------------------------------------------------- entropy
def _log_softmax(z, axis):
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def entropy_logsumexp(logits, axis=-1, base=None):
    lp = _log_softmax(logits, axis)
    h = -(np.exp(lp) * lp).sum(axis=axis)
    return h if base is None else h / np.log(base)


def entropy_moved_axis(logits, axis=-1, base=None):
    """Classes moved to the end, entropy as logsumexp(z) − Σ p z (the same quantity, rearranged)."""
    z = np.moveaxis(np.asarray(logits, dtype=np.float64), axis, -1)
    m = z.max(axis=-1, keepdims=True)
    e = np.exp(z - m)
    lse = np.log(e.sum(axis=-1)) + m[..., 0]
    p = e / e.sum(axis=-1, keepdims=True)
    h = lse - (p * z).sum(axis=-1)
    return h / (1.0 if base is None else np.log(base))


def entropy_ignores_base(logits, axis=-1, base=None):
    return entropy_logsumexp(logits, axis)


def entropy_always_bits(logits, axis=-1, base=None):
    return entropy_logsumexp(logits, axis) / np.log(2)


def entropy_logits_as_log_probs(logits, axis=-1, base=None):
    z = np.asarray(logits, dtype=np.float64)
    p = np.exp(_log_softmax(z, axis))
    h = -(p * z).sum(axis=axis)
    return h if base is None else h / np.log(base)


def entropy_without_minus(logits, axis=-1, base=None):
    return -entropy_logsumexp(logits, axis, base)


def entropy_last_axis_always(logits, axis=-1, base=None):
    return entropy_logsumexp(logits, -1, base)


def entropy_log_of_softmax(logits, axis=-1, base=None):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)
    h = -(p * np.log(p)).sum(axis=axis)  # log 0 after underflow: 0 · (−inf)
    return h if base is None else h / np.log(base)


# ----------------------------------------------------------------- MC dropout samples (PyTorch)
def _dropout_only(model):
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]


def mc_samples_batched(model, x, n_samples):
    """One big batch of T copies of x, split back into T samples; modes saved in a dict."""
    import torch

    saved = {m: m.training for m in model.modules()}
    model.eval()
    for m in _dropout_only(model):
        m.train()
    with torch.no_grad():
        out = model(x.repeat(n_samples, *([1] * (x.dim() - 1))))
    for m, mode in saved.items():
        m.training = mode
    return out.reshape(n_samples, *x.shape[:1], *out.shape[1:])


def mc_samples_train_dropout_modules(model, x, n_samples):
    import torch

    modes = [m.training for m in model.modules()]
    model.eval()
    for m in model.modules():
        if m.__class__.__name__.startswith("Dropout"):
            m.train()
    outs = []
    with torch.no_grad():
        for _ in range(n_samples):
            outs.append(model(x))
    for m, mode in zip(model.modules(), modes):
        m.train(mode)
    return torch.stack(outs)


def mc_samples_dropout_off(model, x, n_samples):
    import torch

    was = model.training
    model.eval()
    with torch.no_grad():
        out = torch.stack([model(x) for _ in range(n_samples)])
    model.train(was)
    return out


def mc_samples_model_train(model, x, n_samples):
    import torch

    was = model.training
    model.train()  # batch norm too
    with torch.no_grad():
        out = torch.stack([model(x) for _ in range(n_samples)])
    model.train(was)
    return out


def mc_samples_one_pass_repeated(model, x, n_samples):
    import torch

    modes = [m.training for m in model.modules()]
    model.eval()
    for m in _dropout_only(model):
        m.train()
    with torch.no_grad():
        once = model(x)
    for m, mode in zip(model.modules(), modes):
        m.train(mode)
    return torch.stack([once] * n_samples)


def mc_samples_modes_not_restored(model, x, n_samples):
    import torch

    model.eval()
    for m in _dropout_only(model):
        m.train()
    with torch.no_grad():
        return torch.stack([model(x) for _ in range(n_samples)])


def mc_samples_stacked_on_dim_1(model, x, n_samples):
    return mc_samples_train_dropout_modules(model, x, n_samples).transpose(0, 1)


def mc_samples_with_graph(model, x, n_samples):
    import torch

    modes = [m.training for m in model.modules()]
    model.eval()
    for m in _dropout_only(model):
        m.train()
    out = torch.stack([model(x) for _ in range(n_samples)])  # no torch.no_grad()
    for m, mode in zip(model.modules(), modes):
        m.train(mode)
    return out


# ----------------------------------------------------------------- MC dropout stats
def stats_by_sums(samples):
    s = np.asarray(samples, dtype=np.float64)
    t = s.shape[0]
    mean = s.sum(axis=0) / t
    return mean, ((s - mean) ** 2).sum(axis=0) / t


def stats_second_moment(samples):
    s = np.asarray(samples, dtype=np.float64)
    mean = s.mean(axis=0)
    return mean, np.maximum((s**2).mean(axis=0) - mean**2, 0.0)


def stats_sample_variance(samples):
    s = np.asarray(samples, dtype=np.float64)
    return s.mean(axis=0), s.var(axis=0, ddof=1) if s.shape[0] > 1 else np.zeros(s.shape[1:])


def stats_std(samples):
    s = np.asarray(samples, dtype=np.float64)
    return s.mean(axis=0), s.std(axis=0)


def stats_last_axis(samples):
    s = np.asarray(samples, dtype=np.float64)
    return s.mean(axis=-1), s.var(axis=-1)


def stats_variance_wrong_axis(samples):
    s = np.asarray(samples, dtype=np.float64)
    return s.mean(axis=0), s.var(axis=1)


def stats_swapped(samples):
    s = np.asarray(samples, dtype=np.float64)
    return s.var(axis=0), s.mean(axis=0)


# ----------------------------------------------------------------- ensembles
def _entropy(p):
    p = np.asarray(p, dtype=np.float64)
    logs = np.log(np.where(p > 0, p, 1.0))
    return -(p * logs).sum(axis=-1)


def disagreement_mi(member_probs):
    p = np.asarray(member_probs, dtype=np.float64)
    return _entropy(p.mean(axis=0)) - _entropy(p).mean(axis=0)


def disagreement_kl_to_mean(member_probs):
    """Mutual information as the members' mean KL divergence from the averaged prediction."""
    p = np.asarray(member_probs, dtype=np.float64)
    mean = p.mean(axis=0)
    ratio = np.where(p > 0, p / np.where(mean > 0, mean, 1.0), 1.0)
    return (p * np.log(ratio)).sum(axis=-1).mean(axis=0)


def disagreement_total_only(member_probs):
    return _entropy(np.asarray(member_probs, dtype=np.float64).mean(axis=0))


def disagreement_aleatoric_only(member_probs):
    return _entropy(member_probs).mean(axis=0)


def disagreement_reversed(member_probs):
    return -disagreement_mi(member_probs)


def disagreement_bits(member_probs):
    return disagreement_mi(member_probs) / np.log(2)


def disagreement_over_examples(member_probs):
    p = np.asarray(member_probs, dtype=np.float64)
    return _entropy(p.mean(axis=1)) - _entropy(p).mean(axis=1)


def disagreement_naive_log(member_probs):
    p = np.asarray(member_probs, dtype=np.float64)
    h = lambda q: -(q * np.log(q)).sum(axis=-1)  # noqa: E731  # log 0 on one-hot members
    return h(p.mean(axis=0)) - h(p).mean(axis=0)


# ----------------------------------------------------------------- calibration
def ece_loop(probs, labels, n_bins=10):
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece = 0.0
    for b in range(n_bins):
        inside = (conf > edges[b]) & (conf <= edges[b + 1])
        if b == 0:
            inside |= conf == 0.0
        n_b = inside.sum()
        if n_b:
            ece += n_b / len(conf) * abs(correct[inside].mean() - conf[inside].mean())
    return float(ece)


def ece_bincount(probs, labels, n_bins=10):
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(float)
    b = np.clip(np.ceil(conf * n_bins - 1e-12).astype(int) - 1, 0, n_bins - 1)
    # Σ_b |Σ_{i∈b} (correct_i − conf_i)| / N: the weights n_b/N cancel the per-bin means
    gap = np.bincount(b, weights=correct - conf, minlength=n_bins)
    return float(np.abs(gap).sum() / len(conf))


def _bins(conf, n_bins):
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], conf, side="left")


def ece_unweighted(probs, labels, n_bins=10):
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    b = _bins(conf, n_bins)
    gaps = [abs(correct[b == k].mean() - conf[b == k].mean()) for k in range(n_bins) if (b == k).any()]
    return float(np.mean(gaps))


def ece_empty_bins_divide_by_zero(probs, labels, n_bins=10):
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    b = _bins(conf, n_bins)
    counts = np.bincount(b, minlength=n_bins)
    acc = np.bincount(b, weights=correct, minlength=n_bins) / counts  # 0/0 for empty bins
    mean_conf = np.bincount(b, weights=conf, minlength=n_bins) / counts
    return float(np.sum(counts / len(conf) * np.abs(acc - mean_conf)))


def ece_true_class_confidence(probs, labels, n_bins=10):
    conf = probs[np.arange(len(labels)), labels]
    correct = probs.argmax(axis=1) == labels
    b = _bins(conf, n_bins)
    return float(sum((b == k).mean() * abs(correct[b == k].mean() - conf[b == k].mean())
                     for k in range(n_bins) if (b == k).any()))


def ece_without_bins(probs, labels, n_bins=10):
    return float(abs((probs.argmax(axis=1) == labels).mean() - probs.max(axis=1).mean()))


def ece_left_closed_bins(probs, labels, n_bins=10):
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    b = np.minimum((conf * n_bins).astype(int), n_bins - 1)  # [lo, hi): an edge goes to the bin above
    return float(sum((b == k).mean() * abs(correct[b == k].mean() - conf[b == k].mean())
                     for k in range(n_bins) if (b == k).any()))


def ece_ten_bins_always(probs, labels, n_bins=10):
    return ece_loop(probs, labels, 10)


# ----------------------------------------------------------------- max-softmax score
def msp_reciprocal(logits):
    z = np.asarray(logits, dtype=np.float64)
    return 1.0 / np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)


def msp_softmax_then_max(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).max(axis=-1)


def msp_max_logit(logits):
    return np.asarray(logits, dtype=np.float64).max(axis=1)


def msp_argmax(logits):
    return np.asarray(logits).argmax(axis=1)


def msp_softmax_over_batch(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return (e / e.sum(axis=0, keepdims=True)).max(axis=1)


def msp_min(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).min(axis=1)


def msp_unshifted(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z)  # overflows for large logits
    return (e / e.sum(axis=1, keepdims=True)).max(axis=1)


# ----------------------------------------------------------------- AUROC
def auroc_pairs(labels, scores):
    pos = np.asarray(scores, float)[np.asarray(labels).astype(bool)]
    neg = np.asarray(scores, float)[~np.asarray(labels).astype(bool)]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return float(wins / (len(pos) * len(neg)))


def auroc_trapezoid(labels, scores):
    """The area under the ROC curve by the trapezoid rule over the thresholds (ties: one diagonal step)."""
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, float)
    thresholds = np.unique(s)[::-1]
    tpr = [0.0] + [float((s[y] >= t).mean()) for t in thresholds]
    fpr = [0.0] + [float((s[~y] >= t).mean()) for t in thresholds]
    return float(np.trapezoid(tpr, fpr) if hasattr(np, "trapezoid") else np.trapz(tpr, fpr))


def auroc_swapped(labels, scores):
    return auroc_pairs(1 - np.asarray(labels).astype(int), scores)


def auroc_ties_lose(labels, scores):
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, float)
    return float((s[y][:, None] > s[~y][None, :]).mean())


def auroc_ties_win(labels, scores):
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, float)
    return float((s[y][:, None] >= s[~y][None, :]).mean())


def auroc_ordinal_ranks(labels, scores):
    y = np.asarray(labels).astype(bool)
    ranks = np.empty(len(y))
    ranks[np.argsort(scores, kind="stable")] = np.arange(1, len(y) + 1)
    n_pos, n_neg = y.sum(), (~y).sum()
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auroc_rank_sum_not_centred(labels, scores):
    return auroc_pairs(labels, scores) + (np.sum(labels) + 1) / (2 * (len(labels) - np.sum(labels)))


# ----------------------------------------------------------------- tables
REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_shuffle_labels: ref.shuffle_labels,
    checks.check_predictive_entropy_from_logits: ref.predictive_entropy_from_logits,
    checks.check_mc_dropout_samples: gpu_uncertainty.mc_dropout_samples,
    checks.check_mc_dropout_stats: ref.mc_dropout_stats,
    checks.check_ensemble_disagreement: ref.ensemble_disagreement,
    checks.check_expected_calibration_error: ref.expected_calibration_error,
    checks.check_max_softmax_score: ref.max_softmax_score,
    checks.check_auroc: ref.auroc,
}

CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_shuffle_labels: [shuffle_by_choice, shuffle_a_copy],
    checks.check_predictive_entropy_from_logits: [entropy_logsumexp, entropy_moved_axis],
    checks.check_mc_dropout_samples: [mc_samples_batched, mc_samples_train_dropout_modules],
    checks.check_mc_dropout_stats: [stats_by_sums, stats_second_moment],
    checks.check_ensemble_disagreement: [disagreement_mi, disagreement_kl_to_mean],
    checks.check_expected_calibration_error: [ece_loop, ece_bincount],
    checks.check_max_softmax_score: [msp_reciprocal, msp_softmax_then_max],
    checks.check_auroc: [auroc_pairs, auroc_trapezoid],
}

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_shuffle_labels: [
        (shuffle_identity, "original order", True, "permutation"),
        (shuffle_uniform_labels, "changed the class counts", True, "class balance"),
        (shuffle_global_state, "same seed gave different labels", True, "global state"),
        (shuffle_fixed_seed, "different seeds gave the same labels", True, "use the rng you are given"),
        (shuffle_in_place, "changed|modified|in place", True, None),
        (shuffle_as_float, "dtype float64", True, "permute them"),
    ],
    checks.check_predictive_entropy_from_logits: [
        (entropy_ignores_base, WRONG, True, "use the base you are given"),
        (entropy_always_bits, WRONG, True, "the natural logarithm"),
        (entropy_logits_as_log_probs, WRONG, True, "not log-probabilities"),
        (entropy_without_minus, WRONG, True, "minus sign"),
        (entropy_last_axis_always, "shape", False, "the classes lie along `axis`"),
        (entropy_log_of_softmax, "FloatingPointError|nan", False, "log-softmax"),
    ],
    checks.check_mc_dropout_samples: [
        (mc_samples_dropout_off, "dropout off", True, "keeps dropout ON"),
        (mc_samples_model_train, "batch-norm running statistics changed", True, "switch on only its dropout"),
        (mc_samples_one_pass_repeated, "identical", True, "forward pass of its own"),
        (mc_samples_modes_not_restored, "not restored", True, "set it back"),
        (mc_samples_stacked_on_dim_1, "shape", True, "new first axis"),
        (mc_samples_with_graph, "computation graph", True, "torch.no_grad"),
    ],
    checks.check_mc_dropout_stats: [
        (stats_sample_variance, "variance has wrong values", True, "population variance"),
        (stats_std, "variance has wrong values", True, "not the standard deviation"),
        (stats_last_axis, "mean has (wrong values|shape)", True, "axis 0"),
        (stats_variance_wrong_axis, "variance has (wrong values|shape)", True, "axis 0"),
        (stats_swapped, "mean has wrong values", True, r"\(mean, var\) in this order"),
    ],
    checks.check_ensemble_disagreement: [
        (disagreement_total_only, WRONG, True, "subtract the members' mean entropy"),
        (disagreement_aleatoric_only, WRONG, True, "aleatoric part"),
        (disagreement_reversed, WRONG, True, "≥ 0"),
        (disagreement_bits, WRONG, True, "natural logarithm"),
        (disagreement_over_examples, "shape", True, "over the members"),
        (disagreement_naive_log, "FloatingPointError|nan", False, "0 · log 0 = 0"),
    ],
    checks.check_expected_calibration_error: [
        (ece_unweighted, WRONG, True, "share of the examples"),
        (ece_empty_bins_divide_by_zero, "FloatingPointError|nan", True, "empty bin"),
        (ece_true_class_confidence, WRONG, True, r"\*predicted\* class"),
        (ece_without_bins, WRONG, True, "within each bin"),
        (ece_left_closed_bins, WRONG, False, "right-closed"),
        (ece_ten_bins_always, WRONG, True, "n_bins you are given"),
    ],
    checks.check_max_softmax_score: [
        (msp_max_logit, WRONG, True, "take the softmax first"),
        (msp_argmax, WRONG, True, "not the index"),
        (msp_softmax_over_batch, WRONG, True, "not over the batch"),
        (msp_min, WRONG, True, r"\*largest\*"),
        (msp_unshifted, "FloatingPointError|overflow|nan", False, "subtract each row's maximum"),
    ],
    checks.check_auroc: [
        (auroc_swapped, WRONG, True, "classes are swapped"),
        (auroc_ties_lose, WRONG, True, "not 0"),
        (auroc_ties_win, WRONG, True, "not 1"),
        (auroc_ordinal_ranks, WRONG, True, "mean of their ranks"),
        (auroc_rank_sum_not_centred, WRONG, True, r"subtract n₊\(n₊ \+ 1\)/2"),
    ],
}
