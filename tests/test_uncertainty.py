"""``dlcourse.ref.uncertainty`` (NumPy) and ``dlcourse.gpu.uncertainty`` (PyTorch) for 14-limits-uncertainty.

- entropy against ``scipy.stats.entropy`` and ``torch.distributions.Categorical``; AUROC against
  ``sklearn.metrics.roc_auc_score`` with ties (hypothesis); ECE against a loop written here from
  the definition, with its edge convention (right-closed bins) and empty bins;
- the PyTorch twins equal the reference (float64: 1e-10) on every device (conftest's ``device``
  fixture: the CUDA case has the marker ``cuda`` and is skipped without a GPU);
- MC dropout keeps batch norm in eval mode and restores the model's modes; the ensemble and the
  random-label experiment run a few steps only (the numbers of the full runs are the notebook's).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.data.regression import gap_regression
from dlcourse.ref import uncertainty as U

FEW = settings(max_examples=25, deadline=None)


def dirichlet(rng: np.random.Generator, n: int, c: int, alpha: float = 1.0) -> np.ndarray:
    return rng.dirichlet(np.full(c, alpha), size=n)


def ece_by_definition(probs: np.ndarray, labels: np.ndarray, n_bins: int) -> float:
    """ECE from its definition, one bin at a time, with the bins (lo, hi] written as comparisons."""
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for b in range(n_bins):
        inside = (conf > edges[b]) & (conf <= edges[b + 1])
        if b == 0:
            inside |= conf == 0
        if inside.any():
            total += inside.mean() * abs((pred[inside] == labels[inside]).mean() - conf[inside].mean())
    return total


# --------------------------------------------------------------------------- entropy


def test_entropy_matches_scipy_in_nats_and_bits() -> None:
    from scipy.stats import entropy

    rng = np.random.default_rng(0)
    p = dirichlet(rng, 6, 5, 0.3)
    p[0] = [1, 0, 0, 0, 0]  # 0 · log 0 = 0
    np.testing.assert_allclose(U.predictive_entropy(p), entropy(p, axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(U.predictive_entropy(p, base=2), entropy(p, base=2, axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(U.predictive_entropy(p.T, axis=0), entropy(p, axis=1), rtol=1e-12)
    assert U.predictive_entropy(np.full(4, 0.25), base=2) == pytest.approx(2.0)


def test_entropy_refuses_logits_and_bad_bases() -> None:
    with pytest.raises(ValueError, match="Logits"):
        U.predictive_entropy(np.array([[2.0, -1.0, 0.5]]))
    with pytest.raises(ValueError, match="sum to 1"):
        U.predictive_entropy(np.array([[0.2, 0.2]]))
    with pytest.raises(ValueError, match="base"):
        U.predictive_entropy(np.array([0.5, 0.5]), base=1)


def test_entropy_from_logits_is_stable_and_agrees() -> None:
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 4)) * 3
    np.testing.assert_allclose(U.predictive_entropy_from_logits(z), U.predictive_entropy(U.temperature_scale(z, 1.0)),
                               rtol=1e-12)
    huge = np.array([[1000.0, 0.0, -1000.0], [500.0, 500.0, -2000.0]])
    h = U.predictive_entropy_from_logits(huge)
    assert np.isfinite(h).all()
    np.testing.assert_allclose(h, [0.0, np.log(2)], atol=1e-12)


def test_entropy_matches_torch_categorical() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    z = rng.standard_normal((7, 6)) * 2
    expected = torch.distributions.Categorical(logits=torch.tensor(z)).entropy().numpy()
    np.testing.assert_allclose(U.predictive_entropy_from_logits(z), expected, rtol=1e-12)


# --------------------------------------------------------------------------- MC dropout, ensembles


def test_mc_dropout_stats_are_over_the_sample_axis_population_variance() -> None:
    rng = np.random.default_rng(3)
    s = rng.standard_normal((9, 4, 3))
    mean, var = U.mc_dropout_stats(s)
    assert mean.shape == var.shape == (4, 3)
    np.testing.assert_allclose(var, ((s - s.mean(0)) ** 2).sum(0) / 9, rtol=1e-12)
    _, var1 = U.mc_dropout_stats(s[:1])
    assert (var1 == 0).all()  # one pass: no spread, and no 0/0
    assert U.mc_dropout_stats(np.arange(6).reshape(3, 2))[0].dtype == np.float64


@FEW
@given(st.integers(1, 5), st.integers(1, 6), st.integers(2, 5), st.integers(0, 2**31))
def test_ensemble_disagreement_is_nonnegative_and_zero_on_agreement(m: int, n: int, c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(c) * 0.5, size=(m, n))
    mi = U.ensemble_disagreement(p)
    assert mi.shape == (n,) and (mi > -1e-12).all()
    assert mi.max() <= np.log(min(m, c)) + 1e-9  # I(y; member) ≤ min(H(member), H(y))
    np.testing.assert_allclose(U.ensemble_disagreement(np.repeat(p[:1], m, axis=0)), 0.0, atol=1e-12)


def test_ensemble_disagreement_of_confident_contradicting_members_is_log_2_bits() -> None:
    p = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    assert U.ensemble_disagreement(p, base=2) == pytest.approx([1.0])


def test_ensemble_regression_splits_the_mixture_variance() -> None:
    rng = np.random.default_rng(4)
    mu, var = rng.standard_normal((5, 7)), rng.random((5, 7))
    mean, aleatoric, epistemic = U.ensemble_regression(mu, var)
    # the variance of the uniform mixture of N(μ_m, σ²_m): E[σ²] + E[μ²] − E[μ]²
    mixture = (var + mu**2).mean(0) - mu.mean(0) ** 2
    np.testing.assert_allclose(aleatoric + epistemic, mixture, rtol=1e-12)
    np.testing.assert_allclose(mean, mu.mean(0))
    assert (U.ensemble_regression(mu)[1] == 0).all()


# --------------------------------------------------------------------------- calibration


@FEW
@given(st.integers(1, 60), st.integers(2, 5), st.integers(1, 15), st.integers(0, 2**31))
def test_ece_matches_the_definition(n: int, c: int, n_bins: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = dirichlet(rng, n, c, 0.4)
    y = rng.integers(0, c, n)
    with np.errstate(all="raise"):  # empty bins must not divide by zero
        ece = U.expected_calibration_error(p, y, n_bins)
    assert ece == pytest.approx(ece_by_definition(p, y, n_bins), abs=1e-12)
    bins = U.reliability_diagram(p, y, n_bins)
    assert bins.counts.sum() == n and np.isnan(bins.accuracy[bins.counts == 0]).all()


def test_bins_are_right_closed() -> None:
    """A confidence on an edge belongs to the bin below it: 0.5 with two bins is in (0, 0.5]."""
    assert U.calibration_bin_index(np.array([0.0, 0.5, 0.50001, 1.0]), 2).tolist() == [0, 0, 1, 1]
    edges = np.linspace(0, 1, 11)
    assert U.calibration_bin_index(edges[1:], 10).tolist() == list(range(10))
    p = np.array([[0.5, 0.5], [0.5, 0.5], [0.75, 0.25]])
    bins = U.reliability_diagram(p, np.array([0, 1, 0]), 2)
    assert bins.counts.tolist() == [2, 1]
    assert U.expected_calibration_error(p, np.array([0, 1, 0]), 2) == pytest.approx(ece_by_definition(
        p, np.array([0, 1, 0]), 2))


def test_calibration_inputs_are_checked() -> None:
    p = np.array([[0.7, 0.3]])
    with pytest.raises(ValueError, match="labels"):
        U.expected_calibration_error(p, np.array([2]))
    with pytest.raises(ValueError, match="n_bins"):
        U.expected_calibration_error(p, np.array([0]), 0)
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        U.expected_calibration_error(np.ones((2, 2, 2)) / 2, np.array([0, 1]))


def test_fit_temperature_recovers_the_temperature_the_labels_were_drawn_at() -> None:
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4000, 5)) * 3
    p = U.temperature_scale(z, 2.0)
    y = np.array([rng.choice(5, p=row) for row in p])
    t = U.fit_temperature(z, y)
    assert t == pytest.approx(2.0, rel=0.1)
    cal = U.expected_calibration_error(U.temperature_scale(z, t), y)
    assert cal < U.expected_calibration_error(U.temperature_scale(z, 1.0), y)


# --------------------------------------------------------------------------- OOD and AUROC


def test_max_softmax_score_is_stable() -> None:
    z = np.array([[1000.0, 0.0], [0.0, 0.0], [3.0, 1.0]])
    np.testing.assert_allclose(U.max_softmax_score(z), U.temperature_scale(z, 1.0).max(1), rtol=1e-12)
    assert np.isfinite(U.max_softmax_score(z)).all()


@FEW
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 4)), min_size=2, max_size=40))
def test_auroc_matches_sklearn_with_ties(pairs: list[tuple[int, int]]) -> None:
    from sklearn.metrics import roc_auc_score

    y = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs], dtype=float) / 2  # few distinct values: many ties
    if y.min() == y.max():
        with pytest.raises(ValueError, match="both classes"):
            U.auroc(y, s)
        return
    assert U.auroc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert U.auroc(1 - y, s) == pytest.approx(1 - roc_auc_score(y, s), abs=1e-12)  # classes swapped


def test_ood_auroc_puts_in_distribution_first() -> None:
    assert U.ood_auroc(np.array([0.9, 0.8]), np.array([0.3, 0.8])) == pytest.approx(0.875)  # 3.5 of 4 pairs
    with pytest.raises(ValueError, match="1-D"):
        U.ood_auroc(np.ones((2, 2)), np.ones(2))


# --------------------------------------------------------------------------- random labels, data


def test_shuffle_labels_permutes_without_touching_its_input() -> None:
    y = np.repeat(np.arange(4), 5)
    before = y.copy()
    s = U.shuffle_labels(y, np.random.default_rng(0))
    assert (y == before).all() and np.bincount(s).tolist() == np.bincount(y).tolist() and (s != y).any()
    assert (U.shuffle_labels(y, np.random.default_rng(0)) == s).all()  # reproducible from the rng
    with pytest.raises(ValueError, match="Generator"):
        U.shuffle_labels(y, 0)  # type: ignore[arg-type]


def test_gap_regression_leaves_the_gap_empty() -> None:
    x, y = gap_regression(200, 0.1, 2.0, rng=1)
    assert x.shape == y.shape == (200, 1) and (np.abs(x) >= 1.0).all() and (np.abs(x) <= 3.0).all()
    assert (np.diff(x[:, 0]) >= 0).all()
    with pytest.raises(ValueError, match="gap"):
        gap_regression(10, 0.1, 7.0)


# --------------------------------------------------------------------------- PyTorch twins and experiments


torch = pytest.importorskip("torch")
G = pytest.importorskip("dlcourse.gpu.uncertainty")
from dlcourse.gpu.device import to_numpy  # noqa: E402


def test_twins_equal_the_reference(device: str) -> None:
    rng = np.random.default_rng(6)
    z = rng.standard_normal((40, 4)) * 2
    p = U.temperature_scale(z, 1.0)
    y = np.array([rng.choice(4, p=row) for row in U.temperature_scale(z, 1.5)])  # a finite best temperature
    t = lambda a: torch.tensor(a, device=device)  # noqa: E731
    close = lambda a, b: np.testing.assert_allclose(to_numpy(a), b, rtol=1e-10, atol=1e-12)  # noqa: E731
    close(G.predictive_entropy(t(p), base=2), U.predictive_entropy(p, base=2))
    close(G.predictive_entropy_from_logits(t(z)), U.predictive_entropy_from_logits(z))
    samples = rng.standard_normal((6, 5, 3))
    for a, b in zip(G.mc_dropout_stats(t(samples)), U.mc_dropout_stats(samples)):
        close(a, b)
    members = rng.dirichlet(np.ones(3), size=(4, 5))
    close(G.ensemble_disagreement(t(members)), U.ensemble_disagreement(members))
    close(G.max_softmax_score(t(z)), U.max_softmax_score(z))
    close(G.temperature_scale(t(z), 1.7), U.temperature_scale(z, 1.7))
    assert G.expected_calibration_error(t(p), t(y), 7) == pytest.approx(U.expected_calibration_error(p, y, 7), abs=1e-12)
    edge = np.array([[0.5, 0.5], [0.75, 0.25]])  # a confidence on an edge: the same right-closed bin
    assert G.expected_calibration_error(t(edge), t(np.array([1, 0])), 2) == pytest.approx(
        U.expected_calibration_error(edge, np.array([1, 0]), 2), abs=1e-12)
    labels, scores = rng.integers(0, 2, 30), rng.integers(0, 5, 30).astype(float)
    assert G.auroc(t(labels), t(scores)) == pytest.approx(U.auroc(labels, scores), abs=1e-12)
    assert G.fit_temperature(t(z), t(y)) == pytest.approx(U.fit_temperature(z, y), rel=1e-4)
    assert G.fit_temperature(t(z), t(y), bounds=(3.0, 4.0)) == 3.0  # the optimum (≈ 1.5) clipped, as the reference's
    assert U.fit_temperature(z, y, bounds=(3.0, 4.0)) == pytest.approx(3.0, abs=1e-4)
    close(G.predictive_entropy_from_logits(t(z.T), axis=0), U.predictive_entropy_from_logits(z.T, axis=0))
    close(G.max_softmax_score(t(z.T), axis=0), U.max_softmax_score(z.T, axis=0))
    # the remaining twins: same draws, same bins (edges included), same tuples
    labels7 = rng.integers(0, 4, 9)
    np.testing.assert_array_equal(to_numpy(G.shuffle_labels(t(labels7), np.random.default_rng(3))),
                                  U.shuffle_labels(labels7, np.random.default_rng(3)))
    conf = np.array([0.0, 0.2, 0.25, 0.5, 0.51, 1.0])
    np.testing.assert_array_equal(to_numpy(G.calibration_bin_index(t(conf), 4)), U.calibration_bin_index(conf, 4))
    for got, want in zip(G.reliability_diagram(t(p), t(y), 7), U.reliability_diagram(p, y, 7)):
        np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert isinstance(G.reliability_diagram(t(p), t(y)), U.ReliabilityBins)
    means, variances = rng.standard_normal((4, 6)), rng.uniform(0.1, 1, (4, 6))
    for got, want in zip(G.ensemble_regression(t(means), t(variances)), U.ensemble_regression(means, variances)):
        close(got, want)
    close(G.ensemble_regression(t(means))[1], U.ensemble_regression(means)[1])
    s_in, s_out = rng.integers(0, 4, 12).astype(float), rng.integers(0, 4, 7).astype(float)  # ties on purpose
    assert G.ood_auroc(t(s_in), t(s_out)) == pytest.approx(U.ood_auroc(s_in, s_out), abs=1e-12)


def test_mc_dropout_samples_switch_on_dropout_only(device: str) -> None:
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm1d(6)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), bn, torch.nn.Dropout(0.5), torch.nn.Linear(6, 2)).to(device)
    model.eval()
    x = torch.randn(3, 4, device=device, requires_grad=True)
    before = bn.running_mean.clone()
    s = G.mc_dropout_samples(model, x, 20)
    assert s.shape == (20, 3, 2) and not s.requires_grad
    assert not model.training and not any(m.training for m in model.modules())  # modes restored
    assert torch.equal(bn.running_mean, before)  # batch norm stayed in eval mode: no update
    assert (s.std(0) > 0).any()  # dropout was on: the passes differ
    model.train()
    G.mc_dropout_samples(model, x, 2)
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="n_samples"):
        G.mc_dropout_samples(model, x, 0)


def test_ensemble_trains_and_disagrees_most_in_the_gap() -> None:
    x, y = gap_regression(40, 0.1, 3.0, rng=0)
    model = G.train_ensemble(x, y, n_members=3, hidden=16, steps=300, lr=0.02, device="cpu")
    grid = np.array([[-2.5], [0.0], [2.5]])
    means, variances = G.ensemble_predict(model, grid)
    assert means.shape == variances.shape == (3, 3) and (variances > 0).all()
    _, _, epistemic = U.ensemble_regression(means, variances)
    assert epistemic[1] > max(epistemic[0], epistemic[2])  # the members disagree where there is no data


def test_random_labels_are_memorised_and_test_accuracy_is_chance() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((260, 4))
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)  # learnable: 4 quadrant classes
    true, shuffled = G.random_label_experiment(x, y, U.shuffle_labels, n_train=160, hidden=64, steps=250,
                                               lr=1e-2, eval_every=50, device="cpu")
    assert true.test_accuracy[-1] > 0.75  # real labels generalise (chance: 0.25)
    assert shuffled.train_accuracy[-1] == 1.0  # random ones are memorised …
    assert shuffled.test_accuracy[-1] < 0.45  # … and predict the test set at about chance (0.25)
    assert shuffled.steps[-1] == 250 and len(shuffled.train_accuracy) == 5
