"""Checks for lecture 14-limits-uncertainty.

Each ``check_*`` takes the student's function and ``hidden``; the contracts are those of
:mod:`dlcourse.ref.uncertainty` (entropy in nats unless ``base``; population variance over the
sample axis 0; ensemble disagreement = mutual information; equal-width right-closed bins, empty
ones skipped; AUROC with ties counting ½, positives = label 1). Expected values come from
:mod:`dlcourse.ref` at check time. Public cases are small and fixed; hidden ones add batches of
one, integer and non-contiguous inputs, huge logits, ties, one-hot probabilities (0 · log 0),
confidences exactly on bin edges, T = 1 sample, and other defaults.

``check_shuffle_labels`` and ``check_mc_dropout_samples`` judge properties (a permutation drawn
from the given generator; outputs that a model with fresh dropout masks can produce), since a
right answer may draw its random numbers differently from the reference. The MC-dropout check
imports torch when it runs (``import dlcourse.checks.uncertainty`` does not).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_float64_like, expect_scalar
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.guard import call_strict, call_student, unpack

__all__ = [
    "check_shuffle_labels",
    "check_predictive_entropy_from_logits",
    "check_mc_dropout_samples",
    "check_mc_dropout_stats",
    "check_ensemble_disagreement",
    "check_expected_calibration_error",
    "check_max_softmax_score",
    "check_auroc",
]

SALT = 141_414  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

STABLE_LOG = ("work from log-probabilities: log p = z − max z − log Σ e^(z − max z) (log-softmax); the log of a "
              "softmax that underflowed to 0 is −∞, and 0 · (−∞) = nan.")
ZERO_LOG_ZERO = "a probability of exactly 0 contributes 0 to the entropy (0 · log 0 = 0): skip it, never take log 0."


def _noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values as ``a`` (2-D or more), as a transposed view that is not C-contiguous."""
    return np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)


def _fail(message: str, hint: str = "") -> None:
    raise CheckFailure(message + (f"\n  Hint: {hint}" if hint else ""))


# --------------------------------------------------------------------------- random labels


@exercise("shuffle_labels")
def check_shuffle_labels(shuffle_labels: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``shuffle_labels(y, rng) -> (N,)``: a permutation of y drawn from ``rng`` only, y unchanged."""
    rng = case_rng(hidden, SALT)
    cases: list[tuple[str, np.ndarray]] = [("y = 24 labels of 4 classes", rng.permutation(np.repeat(np.arange(4), 6)))]
    if hidden:
        cases += [
            ("y sorted by class, 30 labels of 3 classes", np.repeat(np.arange(3), 10)),
            ("y int32 of 10 classes (50 labels)", rng.integers(0, 10, 50).astype(np.int32)),
            ("y a non-contiguous view y[::2] (20 labels)", rng.integers(0, 5, 40)[::2]),
            ("y of one label", np.array([7])),
        ]
    run = CheckRun("shuffle_labels", hidden)
    for case, y in run.cases(cases):
        with run.case():
            seed = int(rng.integers(2**31))
            got = call_student(shuffle_labels, y, np.random.default_rng(seed), name="shuffle_labels")
            if hasattr(got, "detach"):
                _fail(f"shuffle_labels returned a torch.Tensor ({case}); return a NumPy array.")
            if not isinstance(got, np.ndarray) or got.shape != y.shape:
                what = f"shape {got.shape}" if isinstance(got, np.ndarray) else f"a {type(got).__name__}"
                _fail(f"shuffle_labels should return an array of shape {y.shape}, got {what} ({case}).")
            if got.dtype != y.dtype:
                _fail(f"shuffle_labels returned dtype {got.dtype}, expected the labels' dtype {y.dtype} ({case}).",
                      "labels are class indices: permute them, do not convert them.")
            if not np.array_equal(np.sort(got), np.sort(y)):
                _fail(f"shuffle_labels changed the class counts ({case}): got {np.bincount(got.astype(np.int64)).tolist()}"
                      f" labels per class, expected {np.bincount(y.astype(np.int64)).tolist()}.",
                      "draw a permutation of the labels (rng.permutation(N)): labels drawn anew at random change "
                      "the class balance, and with it the chance level the experiment compares against.")
            if y.size < 10:
                continue
            if np.array_equal(got, y):
                _fail(f"shuffle_labels returned the labels in their original order ({case}).",
                      "index y with a random permutation: y[rng.permutation(len(y))].")
            again = call_student(shuffle_labels, y, np.random.default_rng(seed), name="shuffle_labels")
            if not np.array_equal(again, got):
                _fail(f"two calls with generators of the same seed gave different labels ({case}).",
                      "draw every random number from the rng argument (rng.permutation), not from np.random's "
                      "global state: the experiment must be reproducible.")
            other = call_student(shuffle_labels, y, np.random.default_rng(seed + 1), name="shuffle_labels")
            if np.array_equal(other, got):
                _fail(f"generators of different seeds gave the same labels ({case}).",
                      "use the rng you are given; a generator of your own with a fixed seed ignores it.")
    run.passed()


# --------------------------------------------------------------------------- entropy


def _entropy_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, dict[str, Any]]]:
    rng = case_rng(hidden, SALT)
    yield "logits (4, 3)", rng.standard_normal((4, 3)) * 2, {}
    yield "logits (3, 5), base=2", rng.standard_normal((3, 5)) * 2, {"base": 2}
    if hidden:
        yield "logits (1, 4), a batch of one", rng.standard_normal((1, 4)), {}
        yield "huge logits (±1000)", np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 799.0]]), {}
        yield "integer logits with ties (3, 4)", rng.integers(-2, 3, (3, 4)), {}
        yield "logits (2, 3, 4), classes on the last axis, base=10", rng.standard_normal((2, 3, 4)), {"base": 10}
        yield "logits (5, 3) with classes on axis 0 (axis=0)", rng.standard_normal((5, 3)), {"axis": 0}
        yield "non-contiguous (transposed) logits (4, 6), base=2", _noncontiguous(rng.standard_normal((4, 6))), {"base": 2}


def _softmax_and_log(z: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    log_p = ref.log_softmax(np.asarray(z, dtype=np.float64), axis)
    return np.exp(log_p), log_p


@exercise("predictive_entropy_from_logits")
def check_predictive_entropy_from_logits(predictive_entropy_from_logits: Callable[..., Any],
                                         hidden: bool = False) -> None:
    """Check ``predictive_entropy_from_logits(logits, axis=-1, base=None) -> (…)``: H(softmax(logits))."""
    run = CheckRun("predictive_entropy_from_logits", hidden)
    for case, z, kw in run.cases(_entropy_cases(hidden)):
        with run.case():
            got = call_strict(predictive_entropy_from_logits, z, **kw, name="predictive_entropy_from_logits",
                              hint=STABLE_LOG)
            expected = ref.predictive_entropy_from_logits(z, **kw)
            axis, base = kw.get("axis", -1), kw.get("base")
            p, log_p = _softmax_and_log(z, axis)
            nats = ref.predictive_entropy_from_logits(z, axis=axis)
            scale = 1.0 if base is None else math.log(base)
            other_axis = 0 if axis != 0 else -1
            wrong_axis = ref.predictive_entropy_from_logits(z, axis=other_axis) if z.ndim > 1 else None
            expect_float64_like(got, expected, what="the entropy", case=case)
            expect_array(got, expected, what="the entropy", case=case, mistakes=[
                Mistake(nats if base is not None else None,
                        "use the base you are given: entropy in base b is the entropy in nats divided by log(b)."),
                Mistake(nats / math.log(2) if base != 2 else None,
                        "the default unit is the nat: the natural logarithm np.log (base=None), not log2."),
                Mistake(-(p * np.asarray(z, dtype=np.float64)).sum(axis=axis) / scale,
                        "logits are not log-probabilities: log p = z − logsumexp(z); −Σ p·z leaves out the "
                        "normalisation."),
                Mistake(-expected, "entropy is −Σ p log p: with the minus sign it is ≥ 0."),
                Mistake(wrong_axis if wrong_axis is not None and wrong_axis.shape != expected.shape else None,
                        "the classes lie along `axis` (the last one by default): sum over that axis only.",
                        name="axis", shape_only=True, partial=True),
            ], nonfinite_hint=STABLE_LOG)
    run.passed()


# --------------------------------------------------------------------------- MC dropout


def _dropout_model(torch: Any, d: int, p: float, seed: int, nested: bool) -> Any:
    """Dropout(p) → Linear(d, d) → BatchNorm1d(d) in float64, batch norm with running statistics of its own.

    Both later layers are invertible maps in eval mode, so each output reveals the dropped input:
    every recovered entry must be 0 or x/(1 − p).
    """
    nn = torch.nn
    g = torch.Generator().manual_seed(seed)
    linear = nn.Linear(d, d).double()
    bn = nn.BatchNorm1d(d).double()
    with torch.no_grad():
        linear.weight.copy_(torch.eye(d, dtype=torch.float64) + 0.3 * torch.randn(d, d, generator=g, dtype=torch.float64))
        linear.bias.copy_(torch.randn(d, generator=g, dtype=torch.float64))
        bn.running_mean.copy_(torch.randn(d, generator=g, dtype=torch.float64))
        bn.running_var.copy_(0.5 + torch.rand(d, generator=g, dtype=torch.float64))
        bn.weight.copy_(1.0 + torch.rand(d, generator=g, dtype=torch.float64))
        bn.bias.copy_(torch.randn(d, generator=g, dtype=torch.float64))
    if nested:
        return nn.Sequential(nn.Sequential(nn.Dropout(p), linear), bn)
    return nn.Sequential(nn.Dropout(p), linear, bn)


def _recover_inputs(torch: Any, model: Any, out: Any) -> np.ndarray:
    """The dropped-and-scaled inputs that produced ``out`` (T, N, d), inverting batch norm and the linear map."""
    bn = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)][0]
    linear = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][0]
    with torch.no_grad():
        h = (out - bn.bias) / bn.weight * torch.sqrt(bn.running_var + bn.eps) + bn.running_mean
        u = torch.linalg.solve(linear.weight, (h - linear.bias).reshape(-1, h.shape[-1]).T).T
    return u.reshape(out.shape).numpy()


def _mc_cases(hidden: bool) -> Iterator[tuple[str, dict[str, Any]]]:
    rng = case_rng(hidden, SALT)
    yield "x (4, 5), p = 0.5, T = 30, model in eval mode", dict(n=4, d=5, p=0.5, t=30, train=False)
    yield "x (3, 6), p = 0.3, T = 25, model in train mode", dict(n=3, d=6, p=0.3, t=25, train=True)
    if hidden:
        yield "x (1, 4), a batch of one, p = 0.5, T = 40", dict(n=1, d=4, p=0.5, t=40, train=False)
        yield "T = 1 sample, x (5, 3)", dict(n=5, d=3, p=0.5, t=1, train=False)
        yield "x (6, 4) that requires grad, p = 0.4, T = 20", dict(n=6, d=4, p=0.4, t=20, train=False, grad=True)
        yield ("dropout inside a nested nn.Sequential, x (4, 5), T = 6 (= d + 1)",
               dict(n=4, d=5, p=0.5, t=6, train=False, nested=True))
        yield "x (2, 8), p = 0.2, T = 50", dict(n=2, d=8, p=0.2, t=50, train=False, seed=int(rng.integers(1000)))


@exercise("mc_dropout_samples")
def check_mc_dropout_samples(mc_dropout_samples: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``mc_dropout_samples(model, x, n_samples) -> Tensor (T, *model(x).shape)`` with dropout on."""
    import torch

    rng = case_rng(hidden, SALT)
    run = CheckRun("mc_dropout_samples", hidden)
    for case, c in run.cases(_mc_cases(hidden)):
        with run.case():
            n, d, p, t = c["n"], c["d"], c["p"], c["t"]
            model = _dropout_model(torch, d, p, int(rng.integers(2**31)) + c.get("seed", 0), c.get("nested", False))
            model.train(c["train"])
            modes = [m.training for m in model.modules()]
            bn = model[-1]
            stats = (bn.running_mean.clone(), bn.running_var.clone())
            x = torch.tensor(rng.standard_normal((n, d)) + 1.0, dtype=torch.float64, requires_grad=c.get("grad", False))
            with torch.random.fork_rng():
                torch.manual_seed(int(rng.integers(2**31)))
                got = call_student(mc_dropout_samples, model, x, t, name="mc_dropout_samples")
            if not isinstance(got, torch.Tensor):
                _fail(f"mc_dropout_samples should return a torch.Tensor, got {type(got).__name__} ({case}).",
                      "torch.stack the T outputs along a new first axis.")
            if tuple(got.shape) != (t, n, d):
                swapped = tuple(got.shape) == (n, t, d)
                _fail(f"mc_dropout_samples returned shape {tuple(got.shape)}, expected (T, N, d) = {(t, n, d)} ({case}).",
                      "the samples go on a new first axis: torch.stack(outputs, dim=0)." if swapped else "")
            if got.requires_grad:
                _fail(f"the samples carry a computation graph (requires_grad=True) ({case}).",
                      "sampling is prediction, not training: run the passes under torch.no_grad().")
            if not (torch.equal(bn.running_mean, stats[0]) and torch.equal(bn.running_var, stats[1])):
                _fail(f"the model's batch-norm running statistics changed ({case}).",
                      "model.train() switches batch norm to training mode too (batch statistics, updated running "
                      "ones): put the model in eval mode and switch on only its dropout layers.")
            now = [m.training for m in model.modules()]
            if now != modes:
                _fail(f"the model's train/eval modes were not restored ({case}): before {modes}, after {now}.",
                      "remember each module's .training before you switch, and set it back afterwards, so that "
                      "training (or evaluation) goes on as it was.")
            u = _recover_inputs(torch, model, got.detach())
            xs = x.detach().numpy()
            if np.allclose(u, xs[None], rtol=1e-8, atol=1e-8):
                _fail(f"every sample equals the model's output with dropout off ({case}).",
                      "MC dropout keeps dropout ON at test time: model.eval() switches it off; switch the "
                      "dropout modules (nn.Dropout) back to training mode.")
            kept = np.isclose(u, xs[None] / (1 - p), rtol=1e-8, atol=1e-8)
            dropped = np.isclose(u, 0.0, atol=1e-8)
            if not (kept | dropped).all():
                _fail(f"the samples are not outputs of this model with dropout masks ({case}).",
                      "pass x through the model itself, once per sample, with the model in eval mode and only "
                      "its dropout layers in training mode.")
            if t > 1 and all(torch.equal(got[0], got[i]) for i in range(1, t)):
                _fail(f"all {t} samples are identical ({case}).",
                      "each sample needs a forward pass of its own (a new dropout mask): call the model T times "
                      "rather than repeating one output.")
            rate = float(dropped.mean())
            # five standard deviations of the dropped fraction: a right answer fails about once in 10⁶ runs
            if dropped.size >= 100 and abs(rate - p) > 5 * math.sqrt(p * (1 - p) / dropped.size):
                _fail(f"{rate:.2f} of the inputs were dropped, expected about p = {p} ({case}).")
    run.passed()


def _stats_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray]]:
    rng = case_rng(hidden, SALT)
    yield "samples (8, 5, 3) (T, N, C)", rng.dirichlet(np.ones(3), size=(8, 5))
    yield "samples (6, 4) (T, N), regression outputs", rng.standard_normal((6, 4))
    if hidden:
        yield "one sample: (1, 3, 2)", rng.random((1, 3, 2))
        yield "T = N = C: samples (4, 4, 4)", rng.random((4, 4, 4))
        yield "integer samples (5, 3)", rng.integers(0, 5, (5, 3))
        yield "non-contiguous samples (7, 6, 5)", _noncontiguous(rng.standard_normal((7, 5, 6)))


@exercise("mc_dropout_stats")
def check_mc_dropout_stats(mc_dropout_stats: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``mc_dropout_stats(samples) -> (mean, var)`` over axis 0, population variance."""
    run = CheckRun("mc_dropout_stats", hidden)
    for case, s in run.cases(_stats_cases(hidden)):
        with run.case():
            got = unpack(call_student(mc_dropout_stats, s, name="mc_dropout_stats"), 2, name="mc_dropout_stats",
                         names=("mean", "var"))
            mean, var = ref.mc_dropout_stats(s)
            f = np.asarray(s, dtype=np.float64)
            swap = "return (mean, var) in this order."
            axis_hint = "the T samples lie along axis 0: average over axis 0 only."
            expect_float64_like(got[0], mean, what="the mean", case=case)
            expect_array(got[0], mean, what="the mean", case=case, mistakes=[
                Mistake(var, swap),
                Mistake(f.mean(axis=1), axis_hint, name="mean axis"),
                Mistake(f.mean(axis=-1), axis_hint, name="mean axis"),
            ])
            t = f.shape[0]
            expect_float64_like(got[1], var, what="the variance", case=case)
            expect_array(got[1], var, what="the variance", case=case, mistakes=[
                Mistake(f.var(axis=0, ddof=1) if t > 1 else None,
                        "the spread of these T samples is the population variance, Σ(s − mean)² / T (ddof=0, "
                        "np.var's default); dividing by T − 1 estimates another quantity."),
                Mistake(np.sqrt(var), "return the variance, not the standard deviation (no square root)."),
                Mistake(f.var(axis=1), axis_hint, name="var axis"),
                Mistake(f.var(axis=-1), axis_hint, name="var axis"),
            ])
    run.passed()


# --------------------------------------------------------------------------- ensembles


def _ensemble_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray]]:
    rng = case_rng(hidden, SALT)
    p = rng.dirichlet(np.ones(3), size=(4, 5))
    p[:, 0] = p[0, 0]  # example 0: every member says the same
    yield "member_probs (4, 5, 3), members agree on example 0", p
    if hidden:
        yield "one member: (1, 3, 4)", rng.dirichlet(np.ones(4), size=(1, 3))
        yield "one example: (5, 1, 2)", rng.dirichlet(np.ones(2), size=(5, 1))
        one_hot = np.eye(3)[rng.integers(0, 3, (3, 4))]
        yield "one-hot members (3, 4, 3) (probabilities of exactly 0)", one_hot
        yield "M = N = C: (3, 3, 3)", rng.dirichlet(np.ones(3) * 0.3, size=(3, 3))
        yield "non-contiguous member_probs (6, 4, 4)", _noncontiguous(rng.dirichlet(np.ones(4), size=(6, 4)))


def _entropy_nats(p: np.ndarray) -> np.ndarray:
    return ref.predictive_entropy(p)


@exercise("ensemble_disagreement")
def check_ensemble_disagreement(ensemble_disagreement: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``ensemble_disagreement(member_probs) -> (N,)``: H(mean_m p_m) − mean_m H(p_m), in nats."""
    run = CheckRun("ensemble_disagreement", hidden)
    for case, p in run.cases(_ensemble_cases(hidden)):
        with run.case():
            got = call_strict(ensemble_disagreement, p, name="ensemble_disagreement", hint=ZERO_LOG_ZERO)
            expected = ref.ensemble_disagreement(p)
            total = _entropy_nats(p.mean(axis=0))
            aleatoric = _entropy_nats(p).mean(axis=0)
            over_examples = _entropy_nats(p.mean(axis=1)) - _entropy_nats(p).mean(axis=1)
            expect_float64_like(got, expected, what="the disagreement", case=case)
            expect_array(got, expected, what="the disagreement", case=case, mistakes=[
                Mistake(total, "H(mean of the members) is the total uncertainty; subtract the members' mean entropy "
                        "(the part each member already has, aleatoric) to keep only their disagreement."),
                Mistake(aleatoric, "the members' mean entropy is the aleatoric part; disagreement is the entropy of "
                        "their averaged prediction minus it."),
                Mistake(-expected, "the order is H(mean_m p_m) − mean_m H(p_m), which is ≥ 0."),
                Mistake(expected / math.log(2), "use the natural logarithm (nats)."),
                Mistake(over_examples if over_examples.shape != expected.shape or p.shape[0] == p.shape[1] else None,
                        "average over the members (axis 0), not over the examples.", name="axis",
                        shape_only=over_examples.shape != expected.shape),
            ], nonfinite_hint=ZERO_LOG_ZERO)
    run.passed()


# --------------------------------------------------------------------------- calibration


def _ece_variant(probs: np.ndarray, labels: np.ndarray, n_bins: int, *, weighted: bool = True,
                 left_closed: bool = False, true_class: bool = False) -> float:
    """ECE with one known slip, written out bin by bin."""
    conf = probs[np.arange(len(labels)), labels] if true_class else probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    if left_closed:
        b = np.minimum(np.floor(conf * n_bins).astype(np.int64), n_bins - 1)
    else:
        b = ref.calibration_bin_index(conf, n_bins)
    gaps, weights = [], []
    for k in range(n_bins):
        inside = b == k
        if inside.any():
            gaps.append(abs(correct[inside].mean() - conf[inside].mean()))
            weights.append(inside.mean())
    return float(np.dot(weights, gaps) if weighted else np.mean(gaps))


def _mixed_labels(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Labels that make confident predictions under-confident and unsure ones over-confident.

    With a model miscalibrated the same way in every bin, ECE is |accuracy − mean confidence|
    whatever the binning; bins whose gaps differ in sign tell binning mistakes apart.
    """
    right = rng.random(len(p)) < np.where(p.max(axis=1) > 0.6, 0.95, 0.2)
    return np.where(right, p.argmax(axis=1), rng.integers(0, p.shape[1], len(p)))


def _ece_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray, int | None]]:
    rng = case_rng(hidden, SALT)
    p = rng.dirichlet(np.ones(3) * 0.7, size=40)
    yield "probs (40, 3), 10 bins (the default; some bins are empty)", p, _mixed_labels(p, rng), None
    p = rng.dirichlet(np.ones(4) * 0.5, size=30)
    yield "probs (30, 4), n_bins=5", p, _mixed_labels(p, rng), 5
    if hidden:
        edges = np.array([[0.5, 0.5], [0.75, 0.25], [0.25, 0.75], [1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
        yield "confidences exactly on bin edges (0.5, 0.75, 1), n_bins=4", edges, np.array([0, 0, 1, 1, 1, 1]), 4
        yield "one example, probs (1, 3)", rng.dirichlet(np.ones(3), size=1), np.array([1]), None
        p = rng.dirichlet(np.ones(5) * 0.3, size=200)
        yield "probs (200, 5), int32 labels, n_bins=15", p, _mixed_labels(p, rng).astype(np.int32), 15
        p = rng.dirichlet(np.ones(2), size=25)
        yield "every prediction right, probs (25, 2)", p, p.argmax(1), None


@exercise("expected_calibration_error")
def check_expected_calibration_error(expected_calibration_error: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``expected_calibration_error(probs, labels, n_bins=10) -> float`` (right-closed bins, weighted)."""
    run = CheckRun("expected_calibration_error", hidden)
    for case, p, y, n_bins in run.cases(_ece_cases(hidden)):
        with run.case():
            args = (p, y) if n_bins is None else (p, y, n_bins)
            got = call_strict(expected_calibration_error, *args, name="expected_calibration_error",
                              hint="an empty bin has no mean: 0/0. Skip empty bins (they carry weight 0).")
            expected = ref.expected_calibration_error(*args)
            b = 10 if n_bins is None else n_bins

            def differs(value: float) -> float | None:
                return value if not math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12) else None

            conf = p.max(axis=1)
            expect_scalar(got, expected, what="the ECE", case=case, mistakes=[
                Mistake(differs(_ece_variant(p, y, b, weighted=False)),
                        "weight each bin's gap by its share of the examples, n_b / N: a plain mean over bins lets a "
                        "bin of one example count as much as a bin of hundreds."),
                Mistake(differs(_ece_variant(p, y, b, true_class=True)),
                        "the confidence is the probability of the *predicted* class (the largest one), not of the "
                        "true class."),
                Mistake(differs(abs(float((p.argmax(1) == y).mean()) - float(conf.mean()))),
                        "compare accuracy and confidence within each bin; one gap over all examples lets over- and "
                        "under-confident bins cancel."),
                Mistake(differs(_ece_variant(p, y, b, left_closed=True)),
                        "the bins are right-closed, (b/B, (b+1)/B]: a confidence on an edge belongs to the bin "
                        "below it (np.searchsorted(inner_edges, c, side='left')).", partial=True),
                Mistake(differs(ref.expected_calibration_error(p, y, 10)) if b != 10 else None,
                        "use the n_bins you are given (10 is only the default)."),
            ])
    run.passed()


# --------------------------------------------------------------------------- out of distribution


def _msp_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray]]:
    rng = case_rng(hidden, SALT)
    yield "logits (5, 4)", rng.standard_normal((5, 4)) * 2
    if hidden:
        yield "huge logits (±1000)", np.array([[1000.0, -1000.0, 0.0], [700.0, 700.0, -5.0]])
        yield "logits (1, 3), a batch of one", rng.standard_normal((1, 3))
        yield "integer logits with ties (4, 3)", rng.integers(-1, 2, (4, 3))
        yield "non-contiguous logits (6, 5)", _noncontiguous(rng.standard_normal((5, 6)).T.copy())


@exercise("max_softmax_score")
def check_max_softmax_score(max_softmax_score: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``max_softmax_score(logits) -> (N,)``: the largest softmax probability of each row."""
    run = CheckRun("max_softmax_score", hidden)
    for case, z in run.cases(_msp_cases(hidden)):
        with run.case():
            got = call_strict(max_softmax_score, z, name="max_softmax_score",
                              hint="subtract each row's maximum before exp (softmax is unchanged, nothing overflows).")
            expected = ref.max_softmax_score(z)
            f = np.asarray(z, dtype=np.float64)
            with np.errstate(all="ignore"):
                columns = ref.softmax(f, axis=0).max(axis=1)
            expect_float64_like(got, expected, what="the score", case=case)
            expect_array(got, expected, what="the score", case=case, mistakes=[
                Mistake(f.max(axis=1), "the score is a probability: take the softmax first, then its maximum "
                        "(the largest logit is not in [0, 1] and depends on a shift of all logits)."),
                Mistake(f.argmax(axis=1), "return the largest probability, not the index of the predicted class."),
                Mistake(columns, "softmax over the classes (the last axis) of each example, not over the batch."),
                Mistake(ref.softmax(f, axis=1).min(axis=1), "the score is the *largest* softmax probability."),
            ])
    run.passed()


def _auroc_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    rng = case_rng(hidden, SALT)
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1])
    yield "12 examples, scores with ties", y, rng.integers(0, 4, 12) / 4 + 0.25 * y
    yield "8 examples, distinct scores", rng.permutation(np.repeat([0, 1], 4)), rng.standard_normal(8)
    if hidden:
        yield "bool labels, 20 examples", rng.random(20) < 0.4, rng.integers(0, 5, 20).astype(float)
        yield "every score tied", np.array([0, 1, 0, 1, 1]), np.full(5, 0.3)
        yield "one positive among 6", np.array([0, 0, 0, 1, 0, 0]), np.array([0.1, 0.5, 0.5, 0.5, 0.9, 0.2])
        yield "integer scores, perfectly separated", np.array([0, 0, 1, 1, 1]), np.array([1, 2, 3, 4, 5])
        yield "sorted by label, ties across the classes", np.array([0, 0, 0, 1, 1, 1]), np.array([1.0, 2, 2, 2, 2, 3])


def _auroc_variant(y: np.ndarray, s: np.ndarray, tie: float) -> float:
    pos, neg = s[y.astype(bool)], s[~y.astype(bool)]
    d = pos[:, None] - neg[None, :]
    return float(((d > 0) + tie * (d == 0)).mean())


@exercise("auroc")
def check_auroc(auroc: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``auroc(labels, scores) -> float``: P(positive scores higher), ties ½ (sklearn's roc_auc_score)."""
    run = CheckRun("auroc", hidden)
    for case, y, s in run.cases(_auroc_cases(hidden)):
        with run.case():
            got = call_student(auroc, y, s, name="auroc")
            expected = ref.auroc(y, s)
            pos = y.astype(bool)
            n_pos, n_neg = int(pos.sum()), int((~pos).sum())
            ordinal = np.empty(len(s))
            ordinal[np.argsort(s, kind="stable")] = np.arange(1, len(s) + 1)

            def differs(value: float) -> float | None:
                return value if not math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12) else None

            expect_scalar(got, expected, what="the AUROC", case=case, mistakes=[
                Mistake(differs(1.0 - expected), "the classes are swapped: label 1 is the positive class, and "
                        "positives should score higher."),
                Mistake(differs(_auroc_variant(y, s, 0.0)), "a tie between a positive and a negative counts ½ "
                        "(a coin flip), not 0: use average ranks for tied scores."),
                Mistake(differs(_auroc_variant(y, s, 1.0)), "a tie between a positive and a negative counts ½, "
                        "not 1: use average ranks for tied scores."),
                Mistake(differs(float((ordinal[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))),
                        "tied scores must share the mean of their ranks; ranks from argsort order ties by position."),
                Mistake(differs(float(ref.auroc(y, s) + (n_pos + 1) / (2 * n_neg))),
                        "subtract n₊(n₊ + 1)/2, the positives' rank sum when they all score lowest, before dividing "
                        "by n₊·n₋."),
            ])
    run.passed()
