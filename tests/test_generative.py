"""dlcourse.ref.generative and dlcourse.data.mixtures: values, gradients and error messages.

Gradients: every written-out gradient against central finite differences in float64
(``numerical_gradient_array``, norm-wise relative error < 1e-7), and every loss and gradient against
PyTorch's built-ins (``F.binary_cross_entropy_with_logits``, ``F.logsigmoid``, autograd) within
1e-12 relative in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.data.mixtures import mixture_centers, mixture_of_gaussians
from dlcourse.ref import generative as R
from dlcourse.ref.gradcheck import numerical_gradient_array, rel_error

FD_TOL = 1e-7  # central differences (h = 1e-5) on entries of size ~1e-4 leave ~4e-8


def gaussians(rng: np.random.Generator, n: int = 4, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((n, d)), 0.8 * rng.standard_normal((n, d))


# ---------------------------------------------------------------- the closed forms


def test_kl_matches_its_definition_by_monte_carlo() -> None:
    """E_q[log q(z) − log p(z)] with many samples ≈ ½ Σ (σ² + μ² − 1 − log σ²) for one example."""
    rng = np.random.default_rng(0)
    mu, logvar = np.array([0.5, -1.0]), np.array([0.3, -0.7])
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * rng.standard_normal((400_000, 2))
    log_q = -0.5 * np.sum(((z - mu) / sigma) ** 2 + logvar + np.log(2 * np.pi), axis=1)
    log_p = -0.5 * np.sum(z**2 + np.log(2 * np.pi), axis=1)
    assert abs(np.mean(log_q - log_p) - R.gaussian_kl(mu, logvar)) < 0.01


def test_kl_is_zero_at_the_prior_and_positive_elsewhere() -> None:
    rng = np.random.default_rng(1)
    assert R.gaussian_kl(np.zeros((2, 3)), np.zeros((2, 3))) == pytest.approx(np.zeros(2))
    mu, logvar = gaussians(rng, 50, 4)
    assert (R.gaussian_kl(mu, logvar) > 0).all()
    # lecture 004's formula, −½ Σ (σ + μ² − 1 − log σ), is negative for some of these: it is no KL
    sigma = np.exp(0.5 * logvar)
    wrong = -0.5 * np.sum(sigma + mu**2 - 1 - np.log(sigma), axis=1)
    assert (wrong < 0).any()


def test_kl_against_torch_distributions() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    mu, logvar = gaussians(rng)
    q = torch.distributions.Normal(torch.tensor(mu), torch.tensor(np.exp(0.5 * logvar)))
    p = torch.distributions.Normal(torch.zeros(4, 3, dtype=torch.float64), torch.ones(4, 3, dtype=torch.float64))
    expected = torch.distributions.kl_divergence(q, p).sum(-1).numpy()
    np.testing.assert_allclose(R.gaussian_kl(mu, logvar), expected, rtol=1e-12)


def test_log_sigmoid_is_finite_and_equals_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.array([-1000.0, -50.0, -1.0, 0.0, 3.0, 800.0])
    got = R.log_sigmoid(x)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, torch.nn.functional.logsigmoid(torch.tensor(x)).numpy(), rtol=1e-12)
    assert R.log_sigmoid(np.array([1, 2])).dtype == np.float64  # integers are promoted


# ---------------------------------------------------------------- gradients against finite differences


def test_reparameterize_gradients_against_finite_differences() -> None:
    rng = np.random.default_rng(3)
    mu, logvar = gaussians(rng)
    z, cache = R.reparameterize_forward(mu, logvar, rng=7)
    dz = rng.standard_normal(z.shape)
    dmu, dlogvar = R.reparameterize_backward(dz, cache)
    num_mu = numerical_gradient_array(lambda m: R.reparameterize_forward(m, logvar, rng=7)[0], mu.copy(), dz)
    num_lv = numerical_gradient_array(lambda v: R.reparameterize_forward(mu, v, rng=7)[0], logvar.copy(), dz)
    assert rel_error(dmu, num_mu) < FD_TOL and rel_error(dlogvar, num_lv) < FD_TOL


def test_reparameterize_draws_one_eps_per_entry_from_the_rng() -> None:
    mu, logvar = np.zeros((500, 2)), np.log(np.full((500, 2), 4.0))  # σ = 2
    z, (eps, sigma) = R.reparameterize_forward(mu, logvar, rng=0)
    np.testing.assert_array_equal(eps, np.random.default_rng(0).standard_normal((500, 2)))
    np.testing.assert_allclose(sigma, 2.0)
    assert len(np.unique(z[:, 0])) == 500  # not one ε for the whole batch
    assert 1.8 < z.std() < 2.2
    z32, _ = R.reparameterize_forward(mu.astype(np.float32), logvar.astype(np.float32), rng=0)
    assert z32.dtype == np.float32


def test_gaussian_kl_backward_against_finite_differences() -> None:
    rng = np.random.default_rng(4)
    mu, logvar = gaussians(rng)
    dkl = rng.standard_normal(4)
    dmu, dlogvar = R.gaussian_kl_backward(dkl, mu, logvar)
    assert rel_error(dmu, numerical_gradient_array(lambda m: R.gaussian_kl(m, logvar), mu.copy(), dkl)) < FD_TOL
    assert rel_error(dlogvar, numerical_gradient_array(lambda v: R.gaussian_kl(mu, v), logvar.copy(), dkl)) < FD_TOL


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_vae_loss_backward_against_finite_differences(likelihood: str) -> None:
    rng = np.random.default_rng(5)
    x = rng.random((3, 6))
    logits = 2 * rng.standard_normal((3, 6))
    mu, logvar = gaussians(rng, 3, 2)
    grads = R.vae_loss_backward(x, logits, mu, logvar, 2.5, likelihood)
    args = [logits, mu, logvar]
    for i, grad in enumerate(grads):
        def f(a, i=i):
            changed = list(args)
            changed[i] = a
            return np.array(R.vae_loss(x, *changed, beta=2.5, likelihood=likelihood))
        assert rel_error(grad, numerical_gradient_array(f, args[i].copy(), np.array(1.0))) < FD_TOL


def test_gan_loss_gradients_against_finite_differences() -> None:
    rng = np.random.default_rng(6)
    real, fake = 3 * rng.standard_normal(5), 3 * rng.standard_normal(7)
    _, (dreal, dfake) = R.discriminator_loss(real, fake)
    one = np.array(1.0)
    assert rel_error(dreal, numerical_gradient_array(lambda r: np.array(R.discriminator_loss(r, fake)[0]),
                                                     real.copy(), one)) < FD_TOL
    assert rel_error(dfake, numerical_gradient_array(lambda f: np.array(R.discriminator_loss(real, f)[0]),
                                                     fake.copy(), one)) < FD_TOL
    for saturating in (False, True):
        _, dg = R.generator_loss(fake, saturating)
        num = numerical_gradient_array(lambda f: np.array(R.generator_loss(f, saturating)[0]), fake.copy(), one)
        assert rel_error(dg, num) < FD_TOL


# ---------------------------------------------------------------- against PyTorch


def test_losses_and_gradients_against_pytorch() -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    x = (rng.random((4, 6)) > 0.5).astype(np.float64)
    logits, (mu, logvar) = 3 * rng.standard_normal((4, 6)), gaussians(rng, 4, 2)
    tl, tm, tv = (torch.tensor(a, requires_grad=True) for a in (logits, mu, logvar))
    kl = 0.5 * torch.sum(tv.exp() + tm**2 - 1 - tv, dim=1)
    loss = (F.binary_cross_entropy_with_logits(tl, torch.tensor(x), reduction="none").sum(1) + 0.5 * kl).mean()
    loss.backward()
    assert R.vae_loss(x, logits, mu, logvar, 0.5) == pytest.approx(loss.item(), rel=1e-12)
    for got, t in zip(R.vae_loss_backward(x, logits, mu, logvar, 0.5), (tl, tm, tv)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12, atol=1e-15)

    real, fake = 4 * rng.standard_normal(6), 4 * rng.standard_normal(5)
    tr, tf = torch.tensor(real, requires_grad=True), torch.tensor(fake, requires_grad=True)
    d = F.binary_cross_entropy_with_logits(tr, torch.ones(6, dtype=torch.float64)) + \
        F.binary_cross_entropy_with_logits(tf, torch.zeros(5, dtype=torch.float64))
    d.backward()
    loss_d, (dr, df) = R.discriminator_loss(real, fake)
    assert loss_d == pytest.approx(d.item(), rel=1e-12)
    np.testing.assert_allclose(dr, tr.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(df, tf.grad.numpy(), rtol=1e-12)

    tf = torch.tensor(fake, requires_grad=True)
    g = F.binary_cross_entropy_with_logits(tf, torch.ones(5, dtype=torch.float64))
    g.backward()
    loss_g, dg = R.generator_loss(fake)
    assert loss_g == pytest.approx(g.item(), rel=1e-12)
    np.testing.assert_allclose(dg, tf.grad.numpy(), rtol=1e-12)
    tf = torch.tensor(fake, requires_grad=True)
    s = torch.log1p(-torch.sigmoid(tf)).mean()  # the minimax term itself, fine for these logits
    s.backward()
    loss_s, ds = R.generator_loss(fake, saturating=True)
    assert loss_s == pytest.approx(s.item(), rel=1e-10)
    np.testing.assert_allclose(ds, tf.grad.numpy(), rtol=1e-10)


def test_gan_losses_are_finite_for_extreme_logits() -> None:
    big = np.array([-1e4, 1e4])
    loss, (dr, df) = R.discriminator_loss(big, big)
    assert np.isfinite(loss) and loss == pytest.approx(1e4 / 2 + 1e4 / 2)  # one wrong-way logit of each
    assert np.isfinite(dr).all() and np.isfinite(df).all()
    assert np.isfinite(R.generator_loss(big)[0]) and np.isfinite(R.generator_loss(big, True)[0])


def test_saturating_gradient_vanishes_where_the_non_saturating_one_does_not() -> None:
    rejected = np.array([-8.0])  # D is sure the fake is fake
    assert abs(R.generator_loss(rejected, saturating=True)[1][0]) < 1e-3
    assert abs(R.generator_loss(rejected)[1][0]) > 0.99


def test_beta_weights_the_kl_and_the_batch_mean_keeps_its_meaning() -> None:
    rng = np.random.default_rng(8)
    x, logits = rng.random((3, 5)), rng.standard_normal((3, 5))
    mu, logvar = gaussians(rng, 3, 2)
    kl = R.gaussian_kl(mu, logvar).mean()
    assert R.vae_loss(x, logits, mu, logvar, 3.0) - R.vae_loss(x, logits, mu, logvar, 1.0) == pytest.approx(2 * kl)
    doubled = R.vae_loss(*(np.concatenate([a, a]) for a in (x, logits, mu, logvar)))
    assert doubled == pytest.approx(R.vae_loss(x, logits, mu, logvar))  # a mean over the batch


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 5), d=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_shapes_over_batch_and_latent_sizes(n: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    mu, logvar = gaussians(rng, n, d)
    z, cache = R.reparameterize_forward(mu, logvar, rng)
    assert z.shape == (n, d) and R.gaussian_kl(mu, logvar).shape == (n,)
    dmu, dlogvar = R.reparameterize_backward(np.ones((n, d)), cache)
    assert dmu.shape == dlogvar.shape == (n, d)
    assert np.isfinite(R.vae_loss(rng.random((n, 3)), rng.standard_normal((n, 3)), mu, logvar))


# ---------------------------------------------------------------- errors that say what was expected


@pytest.mark.parametrize("call,match", [
    (lambda: R.gaussian_kl(np.zeros((2, 3)), np.zeros((2, 2))), "expected the same shape"),
    (lambda: R.reparameterize_forward(np.zeros(()), np.zeros(())), r"expected \(N, D\)"),
    (lambda: R.reparameterize_backward(np.zeros((2, 2)), (np.zeros((2, 3)), np.ones((2, 3)))), "the shape of z"),
    (lambda: R.gaussian_kl_backward(np.zeros(3), np.zeros((2, 2)), np.zeros((2, 2))), "one entry per example"),
    (lambda: R.vae_loss(np.zeros((2, 4)), np.zeros((2, 5)), np.zeros((2, 2)), np.zeros((2, 2))), r"\(N, P\)"),
    (lambda: R.vae_loss(np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((3, 2)), np.zeros((3, 2))), "N = 2"),
    (lambda: R.vae_loss(np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((2, 2)), np.zeros((2, 2)), likelihood="x"),
     "expected one of"),
    (lambda: R.discriminator_loss(np.zeros(0), np.zeros(2)), "at least one"),
    (lambda: R.generator_loss(np.zeros(0)), "at least one"),
    (lambda: R.mode_coverage(np.zeros((3, 2)), np.zeros((2, 3)), 1.0), r"\(S, d\)"),
    (lambda: mixture_centers("spiral"), "expected one of"),
    (lambda: mixture_centers("grid", 8), "square number"),
    (lambda: mixture_of_gaussians(-1), "non-negative"),
])
def test_bad_input_is_explained(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- the mixture and mode coverage


def test_mixture_ring_and_grid() -> None:
    ring = mixture_centers("ring", 8, 2.0)
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 2.0)
    np.testing.assert_allclose(ring[0], [2.0, 0.0], atol=1e-15)
    grid = mixture_centers("grid", 9, 1.0)
    assert sorted(set(grid[:, 0].round(12))) == [-1.0, 0.0, 1.0] and len(grid) == 9
    x, labels, centers = mixture_of_gaussians(3000, "ring", 8, std=0.05, rng=0)
    assert x.shape == (3000, 2) and labels.shape == (3000,) and set(labels) == set(range(8))
    assert (x - centers[labels]).std() == pytest.approx(0.05, rel=0.1)
    again, _, _ = mixture_of_gaussians(3000, "ring", 8, std=0.05, rng=0)
    np.testing.assert_array_equal(x, again)


def test_mode_coverage_counts_modes_hit() -> None:
    x, labels, centers = mixture_of_gaussians(2000, std=0.05, rng=1)
    assert R.mode_coverage(x, centers, 0.25)[0] == 1.0
    collapsed = x[labels < 3]
    coverage, counts = R.mode_coverage(collapsed, centers, 0.25)
    assert coverage == 3 / 8 and (counts[3:] == 0).all()
    # a mode hit by a handful of samples only does not count
    few = np.concatenate([collapsed, x[labels == 5][:5]])
    assert R.mode_coverage(few, centers, 0.25, min_fraction=0.01)[0] == 3 / 8
    assert R.mode_coverage(few, centers, 0.25, min_fraction=0.001)[0] == 4 / 8
    assert R.mode_coverage(np.zeros((10, 2)), centers, 0.25)[0] == 0.0  # the centre of the ring is no mode
