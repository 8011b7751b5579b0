"""Correct alternatives and known-wrong implementations (mutants) for the 12-generative checks.

Each mutant is a mistake students really make, named after it. ``MUTANTS[check]`` lists
``(implementation, pattern, public, hint)`` entries, as ``check_harness`` describes. Everything
here is written as a student would write it: nothing calls ``dlcourse.ref`` or ``dlcourse.gpu``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import generative as checks

Impl = Callable[..., Any]


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


# ----------------------------------------------------------------- reparameterize forward
def reparam_normal(mu, logvar, rng):
    """rng.normal with loc 0, scale 1 draws the same numbers as standard_normal; std via sqrt(exp)."""
    eps = rng.normal(0.0, 1.0, size=np.shape(mu))
    sigma = np.sqrt(np.exp(np.asarray(logvar, dtype=np.float64)))
    return np.asarray(mu, dtype=np.float64) + sigma * eps, (eps, sigma)


def _reparam(mu, logvar, rng, sigma_of, eps_shape=None):
    mu, logvar = np.asarray(mu, dtype=float), np.asarray(logvar, dtype=float)
    eps = rng.standard_normal(mu.shape if eps_shape is None else eps_shape(mu))
    sigma = sigma_of(logvar)
    return mu + sigma * eps, (np.broadcast_to(eps, mu.shape), sigma)


def reparam_logvar_as_log_sigma(mu, logvar, rng):
    return _reparam(mu, logvar, rng, np.exp)


def reparam_logvar_as_sigma(mu, logvar, rng):
    return _reparam(mu, logvar, rng, lambda lv: lv)


def reparam_no_sigma(mu, logvar, rng):
    mu = np.asarray(mu, dtype=float)
    eps = rng.standard_normal(mu.shape)
    return mu + eps, (eps, np.exp(0.5 * np.asarray(logvar, dtype=float)))


def reparam_one_eps_for_the_batch(mu, logvar, rng):
    return _reparam(mu, logvar, rng, lambda lv: np.exp(lv / 2), lambda m: m.shape[-1])


def reparam_one_eps_per_example(mu, logvar, rng):
    return _reparam(mu, logvar, rng, lambda lv: np.exp(lv / 2), lambda m: (m.shape[0], 1))


def reparam_float32(mu, logvar, rng):
    z, cache = _reparam(mu, logvar, rng, lambda lv: np.exp(lv / 2))
    return z.astype(np.float32), cache


def reparam_cache_swapped(mu, logvar, rng):
    z, (eps, sigma) = _reparam(mu, logvar, rng, lambda lv: np.exp(lv / 2))
    return z, (sigma, eps)


def reparam_uniform_noise(mu, logvar, rng):
    mu = np.asarray(mu, dtype=float)
    eps = rng.random(mu.shape)
    sigma = np.exp(0.5 * np.asarray(logvar, dtype=float))
    return mu + sigma * eps, (eps, sigma)


# ----------------------------------------------------------------- reparameterize backward
def reparam_backward_via_logvar(dz, cache):
    eps, sigma = cache
    logvar = 2 * np.log(sigma)
    return dz * 1.0, dz * eps * 0.5 * np.exp(0.5 * logvar)


def reparam_backward_no_chain(dz, cache):
    eps, sigma = cache
    return dz.copy(), dz * eps


def reparam_backward_no_half(dz, cache):
    eps, sigma = cache
    return dz.copy(), dz * eps * sigma


def reparam_backward_no_eps(dz, cache):
    eps, sigma = cache
    return dz.copy(), 0.5 * dz * sigma


def reparam_backward_variance(dz, cache):
    eps, sigma = cache
    return dz.copy(), 0.5 * dz * eps * sigma**2


def reparam_backward_dmu_scaled(dz, cache):
    eps, sigma = cache
    return dz * sigma, 0.5 * dz * eps * sigma


def reparam_backward_float32(dz, cache):
    eps, sigma = cache
    return dz.astype(np.float32), (0.5 * dz * eps * sigma).astype(np.float32)


# ----------------------------------------------------------------- Gaussian KL
def kl_loop(mu, logvar):
    mu, logvar = np.asarray(mu, dtype=float), np.asarray(logvar, dtype=float)
    out = np.zeros(mu.shape[0])
    for n in range(mu.shape[0]):
        for j in range(mu.shape[1]):
            var = np.exp(logvar[n, j])
            out[n] += 0.5 * (var + mu[n, j] ** 2 - 1 - np.log(var))
    return out


def kl_lecture_004(mu, logvar):
    sigma = np.exp(np.asarray(logvar, dtype=float) / 2)
    return -0.5 * np.sum(sigma + np.asarray(mu, dtype=float) ** 2 - 1 - np.log(sigma), axis=1)


def kl_sigma_instead_of_variance(mu, logvar):
    sigma = np.exp(np.asarray(logvar, dtype=float) / 2)
    return 0.5 * np.sum(sigma + np.asarray(mu, dtype=float) ** 2 - 1 - np.log(sigma), axis=1)


def kl_logvar_as_log_sigma(mu, logvar):
    lv = np.asarray(logvar, dtype=float)
    return 0.5 * np.sum(np.exp(2 * lv) + np.asarray(mu, dtype=float) ** 2 - 1 - 2 * lv, axis=1)


def kl_no_half(mu, logvar):
    lv = np.asarray(logvar, dtype=float)
    return np.sum(np.exp(lv) + np.asarray(mu, dtype=float) ** 2 - 1 - lv, axis=1)


def kl_mean_over_latents(mu, logvar):
    lv = np.asarray(logvar, dtype=float)
    return 0.5 * np.mean(np.exp(lv) + np.asarray(mu, dtype=float) ** 2 - 1 - lv, axis=1)


def kl_batch_mean(mu, logvar):
    return kl_loop(mu, logvar).mean()


def kl_keepdims(mu, logvar):
    lv = np.asarray(logvar, dtype=float)
    return 0.5 * np.sum(np.exp(lv) + np.asarray(mu, dtype=float) ** 2 - 1 - lv, axis=1, keepdims=True)


def kl_negative(mu, logvar):
    return -kl_loop(mu, logvar)


def kl_float32(mu, logvar):
    return kl_loop(mu, logvar).astype(np.float32)


# ----------------------------------------------------------------- VAE loss
def vae_loss_alternative(x, logits, mu, logvar, beta=1.0):
    """BCE as −[x log σ + (1 − x) log(1 − σ)] through log-sigmoids, then one mean over examples."""
    x, logits = np.asarray(x, dtype=float), np.asarray(logits, dtype=float)
    log_p, log_not_p = -np.logaddexp(0, -logits), -np.logaddexp(0, logits)
    recon = -(x * log_p + (1 - x) * log_not_p).sum(axis=1)
    return float((recon + beta * kl_loop(mu, logvar)).mean())


def _vae_terms(x, logits, mu, logvar):
    x, logits = np.asarray(x, dtype=float), np.asarray(logits, dtype=float)
    return (_softplus(logits) - x * logits).sum(axis=1), kl_loop(mu, logvar)


def vae_kl_summed_recon_averaged(x, logits, mu, logvar, beta=1.0):
    bce, kl = _vae_terms(x, logits, mu, logvar)
    return float(bce.mean() + beta * kl.sum())


def vae_summed_over_batch(x, logits, mu, logvar, beta=1.0):
    bce, kl = _vae_terms(x, logits, mu, logvar)
    return float(bce.sum() + beta * kl.sum())


def vae_bce_mean_over_pixels(x, logits, mu, logvar, beta=1.0):
    x, logits = np.asarray(x, dtype=float), np.asarray(logits, dtype=float)
    bce = np.mean(_softplus(logits) - x * logits)
    return float(bce + beta * kl_loop(mu, logvar).mean())


def vae_beta_on_reconstruction(x, logits, mu, logvar, beta=1.0):
    bce, kl = _vae_terms(x, logits, mu, logvar)
    return float((beta * bce + kl).mean())


def vae_no_kl(x, logits, mu, logvar, beta=1.0):
    bce, _ = _vae_terms(x, logits, mu, logvar)
    return float(bce.mean())


def vae_elbo_sign(x, logits, mu, logvar, beta=1.0):
    bce, kl = _vae_terms(x, logits, mu, logvar)
    return float((bce - beta * kl).mean())


def vae_naive_sigmoid_log(x, logits, mu, logvar, beta=1.0):
    x, logits = np.asarray(x, dtype=float), np.asarray(logits, dtype=float)
    p = 1 / (1 + np.exp(-logits))
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    return float((bce + beta * kl_loop(mu, logvar)).mean())


def vae_beta_default_zero(x, logits, mu, logvar, beta=0.0):
    bce, kl = _vae_terms(x, logits, mu, logvar)
    return float((bce + beta * kl).mean())


# ----------------------------------------------------------------- discriminator loss
def d_loss_bce_form(real_logits, fake_logits):
    """−[y log σ + (1 − y) log(1 − σ)] with y = 1 for real and 0 for fake, gradients σ − y over each batch."""
    r, f = np.asarray(real_logits, dtype=float), np.asarray(fake_logits, dtype=float)
    loss = np.mean(np.maximum(r, 0) - r + np.log1p(np.exp(-np.abs(r)))) + \
        np.mean(np.maximum(f, 0) + np.log1p(np.exp(-np.abs(f))))
    return float(loss), ((_sigmoid(r) - 1) / r.size, _sigmoid(f) / f.size)


def d_loss_labels_swapped(real_logits, fake_logits):
    r, f = np.asarray(real_logits, dtype=float), np.asarray(fake_logits, dtype=float)
    return float(_softplus(r).mean() + _softplus(-f).mean()), (_sigmoid(r) / r.size, (_sigmoid(f) - 1) / f.size)


def d_loss_sum(real_logits, fake_logits):
    r, f = np.asarray(real_logits, dtype=float), np.asarray(fake_logits, dtype=float)
    return float(_softplus(-r).sum() + _softplus(f).sum()), (_sigmoid(r) - 1, _sigmoid(f))


def d_loss_concatenated_mean(real_logits, fake_logits):
    r, f = np.asarray(real_logits, dtype=float), np.asarray(fake_logits, dtype=float)
    n = r.size + f.size
    return float((_softplus(-r).sum() + _softplus(f).sum()) / n), ((_sigmoid(r) - 1) / n, _sigmoid(f) / n)


def d_loss_naive_log(real_logits, fake_logits):
    r, f = np.asarray(real_logits, dtype=float), np.asarray(fake_logits, dtype=float)
    pr, pf = 1 / (1 + np.exp(-r)), 1 / (1 + np.exp(-f))
    return float(-np.mean(np.log(pr)) - np.mean(np.log(1 - pf))), ((pr - 1) / r.size, pf / f.size)


def d_loss_grad_not_averaged(real_logits, fake_logits):
    r, f = np.asarray(real_logits, dtype=float), np.asarray(fake_logits, dtype=float)
    return float(_softplus(-r).mean() + _softplus(f).mean()), (_sigmoid(r) - 1, _sigmoid(f))


def d_loss_flat_gradients(real_logits, fake_logits):
    r, f = np.asarray(real_logits, dtype=float), np.asarray(fake_logits, dtype=float)
    loss = float(_softplus(-r).mean() + _softplus(f).mean())
    return loss, (((_sigmoid(r) - 1) / r.size).ravel(), (_sigmoid(f) / f.size).ravel())


# ----------------------------------------------------------------- generator loss
def g_loss_bce_form(fake_logits):
    f = np.asarray(fake_logits, dtype=float)
    loss = np.mean(np.maximum(f, 0) - f + np.log1p(np.exp(-np.abs(f))))
    return float(loss), (_sigmoid(f) - 1) / f.size


def g_loss_saturating(fake_logits):
    f = np.asarray(fake_logits, dtype=float)
    return float(-_softplus(f).mean()), -_sigmoid(f) / f.size


def g_loss_fake_label(fake_logits):
    f = np.asarray(fake_logits, dtype=float)
    return float(_softplus(f).mean()), _sigmoid(f) / f.size


def g_loss_sum(fake_logits):
    f = np.asarray(fake_logits, dtype=float)
    return float(_softplus(-f).sum()), _sigmoid(f) - 1


def g_loss_naive_log(fake_logits):
    f = np.asarray(fake_logits, dtype=float)
    p = 1 / (1 + np.exp(-f))
    return float(-np.mean(np.log(p))), (p - 1) / f.size


def g_loss_gradient_sign(fake_logits):
    f = np.asarray(fake_logits, dtype=float)
    return float(_softplus(-f).mean()), (1 - _sigmoid(f)) / f.size


# ----------------------------------------------------------------- one GAN step in PyTorch
def _bce(logits, target):
    import torch.nn.functional as F

    return F.binary_cross_entropy_with_logits(logits, target)


def gan_losses_reference_style(discriminator, generator, real, z):
    import torch

    fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    d_loss = _bce(real_logits, torch.ones_like(real_logits)) + _bce(fake_logits, torch.zeros_like(fake_logits))
    g_logits = discriminator(fake)
    return d_loss, _bce(g_logits, torch.ones_like(g_logits))


def gan_losses_softplus(discriminator, generator, real, z):
    """log-sigmoids written with softplus; the fakes are generated twice."""
    import torch.nn.functional as F

    d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(generator(z).detach())).mean()
    g_loss = F.softplus(-discriminator(generator(z))).mean()
    return d_loss, g_loss


def gan_losses_no_detach(discriminator, generator, real, z):
    import torch

    fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    d_loss = _bce(real_logits, torch.ones_like(real_logits)) + _bce(fake_logits, torch.zeros_like(fake_logits))
    return d_loss, _bce(fake_logits, torch.ones_like(fake_logits))


def gan_losses_detach_in_generator_loss(discriminator, generator, real, z):
    import torch

    fake = generator(z).detach()
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    d_loss = _bce(real_logits, torch.ones_like(real_logits)) + _bce(fake_logits, torch.zeros_like(fake_logits))
    return d_loss, _bce(fake_logits, torch.ones_like(fake_logits))


def gan_losses_detach_discriminator_output(discriminator, generator, real, z):
    import torch

    fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake).detach()
    d_loss = _bce(real_logits, torch.ones_like(real_logits)) + _bce(fake_logits, torch.zeros_like(fake_logits))
    return d_loss, _bce(fake_logits, torch.ones_like(fake_logits))


def gan_losses_labels_swapped(discriminator, generator, real, z):
    import torch

    fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    d_loss = _bce(real_logits, torch.zeros_like(real_logits)) + _bce(fake_logits, torch.ones_like(fake_logits))
    g_logits = discriminator(fake)
    return d_loss, _bce(g_logits, torch.ones_like(g_logits))


def gan_losses_saturating(discriminator, generator, real, z):
    import torch
    import torch.nn.functional as F

    fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    d_loss = _bce(real_logits, torch.ones_like(real_logits)) + _bce(fake_logits, torch.zeros_like(fake_logits))
    return d_loss, -F.softplus(discriminator(fake)).mean()


def gan_losses_floats(discriminator, generator, real, z):
    d_loss, g_loss = gan_losses_reference_style(discriminator, generator, real, z)
    return d_loss.item(), g_loss.item()


REFERENCE: dict[Any, Impl] = {
    checks.check_reparameterize_forward: ref.reparameterize_forward,
    checks.check_reparameterize_backward: ref.reparameterize_backward,
    checks.check_gaussian_kl: ref.gaussian_kl,
    checks.check_vae_loss: ref.vae_loss,
    checks.check_discriminator_loss: ref.discriminator_loss,
    checks.check_generator_loss: ref.generator_loss,
    checks.check_gan_losses: gan_losses_reference_style,
}

CORRECT: dict[Any, list[Impl]] = {
    checks.check_reparameterize_forward: [reparam_normal],
    checks.check_reparameterize_backward: [reparam_backward_via_logvar],
    checks.check_gaussian_kl: [kl_loop],
    checks.check_vae_loss: [vae_loss_alternative],
    checks.check_discriminator_loss: [d_loss_bce_form],
    checks.check_generator_loss: [g_loss_bce_form],
    checks.check_gan_losses: [gan_losses_softplus],
}

LOG_SIGMA = r"log σ², the log of the \*variance\*"
ONE_EPS = "one ε per entry"
STABLE = r"np\.logaddexp"
SWAPPED = "labels are swapped"

MUTANTS: dict[Any, list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_reparameterize_forward: [
        (reparam_logvar_as_log_sigma, "z has wrong values", True, LOG_SIGMA),
        (reparam_logvar_as_sigma, "z has wrong values", True, r"not logvar itself"),
        (reparam_no_sigma, "z has wrong values", True, r"scale the noise by σ"),
        (reparam_one_eps_for_the_batch, "z has wrong values", True, ONE_EPS),
        (reparam_one_eps_per_example, "z has wrong values", True, ONE_EPS),
        (reparam_uniform_noise, "z has wrong values", True, None),
        (reparam_float32, "dtype float32, expected float64", True, "keep that precision"),
        (reparam_cache_swapped, "the cache's eps has wrong values", True, None),
    ],
    checks.check_reparameterize_backward: [
        (reparam_backward_no_chain, "dlogvar has wrong values", True, r"∂σ/∂logvar = σ / 2"),
        (reparam_backward_no_half, "dlogvar has wrong values", True, "factor ½ is missing"),
        (reparam_backward_no_eps, "dlogvar has wrong values", True, "ε multiplies σ"),
        (reparam_backward_variance, "dlogvar has wrong values", True, "σ² is the variance"),
        (reparam_backward_dmu_scaled, "dmu has wrong values", True, "slope 1"),
        (reparam_backward_float32, "dtype float32", True, "keep that precision"),
    ],
    checks.check_gaussian_kl: [
        (kl_lecture_004, "gaussian_kl has wrong values", True, "lecture 004's formula"),
        (kl_sigma_instead_of_variance, "gaussian_kl has wrong values", True, r"variances: σ² = exp\(logvar\)"),
        (kl_logvar_as_log_sigma, "gaussian_kl has wrong values", True, LOG_SIGMA),
        (kl_no_half, "gaussian_kl has wrong values", True, "factor ½"),
        (kl_mean_over_latents, "gaussian_kl has wrong values", True, "sum over the latent dimensions"),
        (kl_batch_mean, r"shape \(\), expected \(4,\)", True, "one KL per example"),
        (kl_keepdims, r"shape \(4, 1\), expected \(4,\)", True, "no keepdims"),
        (kl_negative, "gaussian_kl has wrong values", True, "the sign"),
        (kl_float32, "dtype float32", True, "keep that precision"),
    ],
    checks.check_vae_loss: [
        (vae_kl_summed_recon_averaged, "vae_loss is", True, "KL is summed over the batch but the reconstruction"),
        (vae_summed_over_batch, "vae_loss is", True, "average over the batch"),
        (vae_bce_mean_over_pixels, "vae_loss is", True, "sum the binary cross-entropy over the pixels"),
        (vae_beta_on_reconstruction, "vae_loss is", True, "β weights the KL term"),
        (vae_no_kl, "vae_loss is", True, "add the KL term"),
        (vae_elbo_sign, "vae_loss is", True, "the KL is added"),
        (vae_naive_sigmoid_log, r"vae_loss is (nan|inf)", False, STABLE),
        (vae_beta_default_zero, "vae_loss is", True, "beta defaults to 1.0"),
    ],
    checks.check_discriminator_loss: [
        (d_loss_labels_swapped, "loss is", True, SWAPPED),
        (d_loss_sum, "loss is", True, r"mean, not sum"),
        (d_loss_concatenated_mean, "loss is", True, "separately"),
        (d_loss_naive_log, r"loss is (nan|inf)", False, STABLE),
        (d_loss_grad_not_averaged, "dreal has wrong values", True, "divide by the batch size"),
        (d_loss_flat_gradients, r"dreal has shape \(6,\), expected \(6, 1\)", False, "shape of what it is"),
    ],
    checks.check_generator_loss: [
        (g_loss_saturating, "loss is", True, "saturating loss"),
        (g_loss_fake_label, "loss is", True, r"D\(G\(z\)\) → 1"),
        (g_loss_sum, "loss is", True, "mean, not sum"),
        (g_loss_naive_log, r"loss is (nan|inf)", False, STABLE),
        (g_loss_gradient_sign, "dfake has wrong values", True, "the sign"),
    ],
    checks.check_gan_losses: [
        (gan_losses_no_detach, "d_loss.backward\\(\\) changed the generator's gradients", True, r"G\(z\)\.detach\(\)"),
        (gan_losses_detach_in_generator_loss, "g_loss.backward\\(\\) gives the generator no gradient", True,
         "without detaching"),
        (gan_losses_detach_discriminator_output, "d_loss.backward\\(\\) gives the discriminator no gradient|"
         "g_loss carries no gradient", True, r"detach only the generator's output"),
        (gan_losses_labels_swapped, "d_loss is", True, "real data is labelled 1"),
        (gan_losses_saturating, "g_loss is", True, "non-saturating"),
        (gan_losses_floats, "should be a 0-d torch.Tensor", True, "keep the losses as tensors"),
    ],
}
