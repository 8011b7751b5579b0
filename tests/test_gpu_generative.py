"""dlcourse.gpu.generative against dlcourse.ref.generative and PyTorch's autograd, on every device.

Twins take the ``device`` fixture (``cuda`` skipped cleanly without a GPU). Tolerances: 1e-10
relative in float64 (twins against the NumPy reference and written-out gradients against
autograd). Training is tested for a few steps only: the loss falls, the snapshots have the
documented structure; the notebook's full runs are measured by ``benchmarks/notebooks.py``.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from dlcourse.data.mixtures import mixture_of_gaussians
from dlcourse.ref import generative as R

torch = pytest.importorskip("torch")
G = pytest.importorskip("dlcourse.gpu.generative")

TOL = 1e-10


def T(a, device, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a), dtype=torch.float64, device=device, requires_grad=requires_grad)


def close(actual, expected) -> None:
    np.testing.assert_allclose(G.to_numpy(actual), G.to_numpy(expected), rtol=TOL, atol=TOL)


def test_every_ref_name_has_a_twin_with_the_same_signature() -> None:
    for name in R.__all__:
        assert name in G.__all__, f"dlcourse.gpu.generative lacks {name}"
        ref_params = [p.name for p in inspect.signature(getattr(R, name)).parameters.values()]
        gpu_params = [p.name for p in inspect.signature(getattr(G, name)).parameters.values()]
        assert gpu_params[: len(ref_params)] == ref_params, name


def test_twins_equal_the_reference(device: torch.device) -> None:
    rng = np.random.default_rng(0)
    mu, logvar = rng.standard_normal((4, 3)), 0.5 * rng.standard_normal((4, 3))
    x, logits = (rng.random((4, 6)) > 0.5).astype(float), 2 * rng.standard_normal((4, 6))
    tm, tv, tx, tl = (T(a, device) for a in (mu, logvar, x, logits))
    close(G.gaussian_kl(tm, tv), R.gaussian_kl(mu, logvar))
    dkl = rng.standard_normal(4)
    for got, exp in zip(G.gaussian_kl_backward(T(dkl, device), tm, tv), R.gaussian_kl_backward(dkl, mu, logvar)):
        close(got, exp)
    for likelihood in ("bernoulli", "gaussian"):
        loss = G.vae_loss(tx, tl, tm, tv, 2.0, likelihood)
        assert loss.device.type == device.type
        assert loss.item() == pytest.approx(R.vae_loss(x, logits, mu, logvar, 2.0, likelihood), rel=TOL)
        for got, exp in zip(G.vae_loss_backward(tx, tl, tm, tv, 2.0, likelihood),
                            R.vae_loss_backward(x, logits, mu, logvar, 2.0, likelihood)):
            close(got, exp)
    real, fake = 3 * rng.standard_normal(5), 3 * rng.standard_normal(6)
    loss, grads = G.discriminator_loss(T(real, device), T(fake, device))
    ref_loss, ref_grads = R.discriminator_loss(real, fake)
    assert loss.item() == pytest.approx(ref_loss, rel=TOL)
    for got, exp in zip(grads, ref_grads):
        close(got, exp)
    for saturating in (False, True):
        loss, grad = G.generator_loss(T(fake, device), saturating)
        ref_loss, ref_grad = R.generator_loss(fake, saturating)
        assert loss.item() == pytest.approx(ref_loss, rel=TOL)
        close(grad, ref_grad)
    close(G.log_sigmoid(T([-900.0, 0.0, 900.0], device)), R.log_sigmoid(np.array([-900.0, 0.0, 900.0])))
    x2, _, centers = mixture_of_gaussians(400, rng=1)
    assert G.mode_coverage(T(x2, device), centers, 0.25) [0] == R.mode_coverage(x2, centers, 0.25)[0]


def test_written_out_gradients_equal_autograd(device: torch.device) -> None:
    rng = np.random.default_rng(1)
    mu, logvar = T(rng.standard_normal((3, 2)), device, True), T(rng.standard_normal((3, 2)), device, True)
    eps = T(rng.standard_normal((3, 2)), device)
    dz = T(rng.standard_normal((3, 2)), device)
    z = G.reparameterize(mu, logvar, eps)  # the written-out backward
    z.backward(dz)
    mu2, logvar2 = mu.detach().clone().requires_grad_(), logvar.detach().clone().requires_grad_()
    (mu2 + torch.exp(0.5 * logvar2) * eps).backward(dz)  # autograd's own
    close(mu.grad, mu2.grad)
    close(logvar.grad, logvar2.grad)
    assert torch.autograd.gradcheck(lambda m, v: G.Reparameterize.apply(m, v, eps), (mu2.detach().requires_grad_(),
                                                                                   logvar2.detach().requires_grad_()))
    fake = T(3 * rng.standard_normal(5), device, True)
    loss, grad = G.discriminator_loss(T(rng.standard_normal(4), device), fake)
    loss.backward()
    close(fake.grad, grad[1])


def test_reparameterize_forward_is_seeded_and_one_eps_per_entry(device: torch.device) -> None:
    mu, logvar = torch.zeros(300, 2, dtype=torch.float64, device=device), torch.zeros(300, 2, dtype=torch.float64,
                                                                                        device=device)
    z1, (eps, sigma) = G.reparameterize_forward(mu, logvar, rng=3)
    z2, _ = G.reparameterize_forward(mu, logvar, rng=3)
    close(z1, z2)
    assert z1.device.type == device.type and len(torch.unique(z1[:, 0])) == 300
    dmu, dlogvar = G.reparameterize_backward(torch.ones_like(z1), (eps, sigma))
    close(dlogvar, 0.5 * eps * sigma)


def test_bad_shapes_are_explained() -> None:
    with pytest.raises(ValueError, match="same shape"):
        G.gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"\(N, P\)"):
        G.vae_loss(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 2), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="expected one of"):
        G.vae_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 2), torch.zeros(2, 2), likelihood="poisson")
    with pytest.raises(ValueError, match=r"\(M, d\)"):
        G.train_gan(np.zeros(5), np.zeros((1, 2)), 1)


# ---------------------------------------------------------------- models and training (a few steps)


def test_vae_and_autoencoder_shapes_and_training_lowers_the_loss(device: torch.device) -> None:
    rng = np.random.default_rng(2)
    x = (rng.random((64, 16)) > 0.5).astype(np.float32)
    x[:32, :8] = 1.0  # some structure to learn
    torch.manual_seed(0)
    vae = G.VAE(16, latent=2, hidden=16).to(device)
    logits, mu, logvar = vae(torch.tensor(x, device=device))
    assert logits.shape == (64, 16) and mu.shape == logvar.shape == (64, 2)
    history = G.train_autoencoder(vae, x, steps=60, batch_size=32, lr=1e-2, log_every=20)
    assert history["loss"][-1] < history["loss"][0] and not vae.training
    score = G.negative_elbo(vae, x, samples=2)
    assert score["neg_elbo"] == pytest.approx(score["reconstruction"] + score["kl"], rel=1e-5)
    assert score["kl"] >= 0
    torch.manual_seed(0)
    ae = G.Autoencoder(16, latent=3, hidden=16).to(device)
    before = G.reconstruction_error(ae, x)
    G.train_autoencoder(ae, x, steps=60, batch_size=32, lr=1e-2)
    assert G.reconstruction_error(ae, x) < before
    assert ae.encode(torch.tensor(x, device=device)).shape == (64, 3)


def test_vae_in_eval_mode_decodes_the_mean() -> None:
    torch.manual_seed(0)
    vae = G.VAE(8, 2, 8).eval()
    x = torch.rand(5, 8)
    logits, mu, _ = vae(x)
    close(logits, vae.decode(mu))


def test_gan_losses_detach_the_fakes_for_the_discriminator_only() -> None:
    torch.manual_seed(0)
    g, d = G.MLPGenerator(2, 2, 8), G.MLPDiscriminator(2, 8)
    real, z = torch.randn(16, 2), torch.randn(16, 2)
    d_loss, g_loss = G.gan_losses(d, g, real, z)
    d_loss.backward()
    assert all(p.grad is None for p in g.parameters()) and all(p.grad is not None for p in d.parameters())
    g_loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())
    fake = g(z)
    expected_d, _ = G.discriminator_loss(d(real), d(fake))
    assert d_loss.item() == pytest.approx(expected_d.item())
    assert g_loss.item() == pytest.approx(G.generator_loss(d(fake))[0].item())


def test_train_gan_records_snapshots(device: torch.device) -> None:
    x, _, centers = mixture_of_gaussians(500, rng=0)
    run = G.train_gan(x, centers, steps=20, batch_size=32, snapshots=4, n_samples=50, hidden=16, device=device)
    assert run.steps == [0, 5, 10, 15, 20]
    assert len(run.samples) == len(run.coverage) == len(run.d_loss) == 5
    assert run.samples[0].shape == (50, 2) and np.isnan(run.d_loss[0]) and np.isfinite(run.d_loss[1:]).all()
    assert all(0.0 <= c <= 1.0 for c in run.coverage)
    again = G.train_gan(x, centers, steps=20, batch_size=32, snapshots=4, n_samples=50, hidden=16, device=device)
    np.testing.assert_allclose(run.samples[-1], again.samples[-1], rtol=1e-5, atol=1e-6)  # seeded


def test_setup_scales_up_on_cuda() -> None:
    cpu, cuda = G.generative_setup("cpu"), G.generative_setup("cuda")
    assert cuda.vae_steps > cpu.vae_steps and cuda.gan_steps > cpu.gan_steps
    assert G.generative_setup("cpu", vae_steps=5).vae_steps == 5
