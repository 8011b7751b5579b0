"""Generative models in NumPy: the VAE's reparameterisation and Gaussian KL, the (β-)VAE loss, and
the GAN's discriminator and generator losses from logits, each with its gradient.

Conventions, used in every function here and in the PyTorch twins (:mod:`dlcourse.gpu.generative`):

- The encoder outputs a mean μ and a **log-variance** ``logvar`` = log σ² per latent dimension,
  both (N, D) for a batch of N examples and a D-dimensional latent; σ = exp(logvar / 2).
- **Reduction.** A loss is a sum over the dimensions of one example (pixels for the reconstruction,
  latent dimensions for the KL) and a **mean over the batch**. Both terms of the VAE loss use it,
  so that β keeps its meaning whatever the batch size (a KL summed over the batch next to a
  reconstruction averaged over it would multiply β by N).
- GAN losses take the discriminator's **logits** ℓ (D(x) = σ(ℓ)) and use log σ(ℓ) = −softplus(−ℓ),
  so no probability is ever rounded to 0 or 1 before its logarithm.

Two statements of lecture 004 are wrong and are corrected here:

- its KL term is −½ Σ (σ_j + μ_j² − 1 − log σ_j); the KL divergence of N(μ, diag σ²) from N(0, I) is
  **+½ Σ (σ_j² + μ_j² − 1 − log σ_j²)** (variances, not standard deviations, and a positive sign:
  a KL divergence is ≥ 0);
- its GAN objective puts D(G(z)) where D(x) belongs. The discriminator maximises
  **E_x[log D(x)] + E_z[log(1 − D(G(z)))]** (real data labelled 1, fakes 0), and the generator
  minimises the same expression (or, in practice, maximises E_z[log D(G(z))], the non-saturating loss).
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

__all__ = [
    "log_sigmoid",
    "reparameterize_forward",
    "reparameterize_backward",
    "gaussian_kl",
    "gaussian_kl_backward",
    "vae_loss",
    "vae_loss_backward",
    "discriminator_loss",
    "generator_loss",
    "mode_coverage",
]

Seed = Union[int, np.random.Generator, None]
LIKELIHOODS = ("bernoulli", "gaussian")


def _float(a: Any) -> np.ndarray:
    """``a`` as a float array: float32 stays float32, integers become float64."""
    a = np.asarray(a)
    return a if a.dtype.kind == "f" else a.astype(np.float64)


def _gaussian_args(kind: str, mu: Any, logvar: Any) -> tuple[np.ndarray, np.ndarray]:
    """μ and log σ² as float arrays of one shape (..., D), or a ValueError that says what was expected."""
    mu, logvar = _float(mu), _float(logvar)
    if mu.ndim < 1:
        raise ValueError(f"{kind}: mu has shape {mu.shape}; expected (N, D) (or (D,) for one example)")
    if mu.shape != logvar.shape:
        raise ValueError(f"{kind}: mu has shape {mu.shape} but logvar has shape {logvar.shape}; expected the same "
                         f"shape (N, D): one mean and one log-variance per latent dimension")
    dtype = np.result_type(mu, logvar)
    return mu.astype(dtype, copy=False), logvar.astype(dtype, copy=False)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log σ(x) = −log(1 + e^{−x}) = −logaddexp(0, −x), finite for every finite x. Shape as x.

    ``np.log(sigmoid(x))`` is −inf once σ(x) rounds to 0 (x < −745 in float64, −104 in float32).
    """
    x = _float(x)
    return -np.logaddexp(0.0, -x)


# --------------------------------------------------------------------------- reparameterisation


def reparameterize_forward(mu: np.ndarray, logvar: np.ndarray, rng: Seed = None) -> tuple[np.ndarray, tuple]:
    """z = μ + σ ⊙ ε with σ = exp(logvar / 2) and ε ~ N(0, I) drawn afresh for every entry.

    Args:
        mu: (N, D) means.
        logvar: (N, D) log-variances log σ².
        rng: a ``np.random.Generator`` or a seed; ε = ``rng.standard_normal(mu.shape)``, one
            independent draw per example and dimension (one ε shared by the batch would give
            every example the same noise).

    Returns:
        z: (N, D), of mu's float dtype.
        cache: (eps, sigma), both (N, D), for :func:`reparameterize_backward`.
    """
    mu, logvar = _gaussian_args("reparameterize_forward", mu, logvar)
    rng = np.random.default_rng(rng)
    eps = rng.standard_normal(mu.shape).astype(mu.dtype, copy=False)
    sigma = np.exp(0.5 * logvar)
    return mu + sigma * eps, (eps, sigma)


def reparameterize_backward(dz: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of z = μ + exp(logvar/2) ⊙ ε: ∂z/∂μ = 1 and ∂z/∂logvar = ½ σ ⊙ ε.

    Args:
        dz: (N, D) upstream gradient.
        cache: (eps, sigma) from :func:`reparameterize_forward`.

    Returns:
        dmu (N, D) = dz, and dlogvar (N, D) = dz ⊙ ε ⊙ σ / 2. ε itself gets no gradient: the noise
        is an input, which is the point of the trick.
    """
    eps, sigma = cache
    dz = _float(dz)
    if dz.shape != eps.shape:
        raise ValueError(f"reparameterize_backward: dz has shape {dz.shape}; expected {eps.shape}, the shape of z")
    return dz.copy(), 0.5 * dz * eps * sigma


# --------------------------------------------------------------------------- KL to the prior


def gaussian_kl(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_j (σ_j² + μ_j² − 1 − log σ_j²), per example.

    Lecture 004 writes −½ Σ (σ_j + μ_j² − 1 − log σ_j): σ where σ² belongs, and the sign flipped;
    its value can be negative, which no KL divergence is.

    Args:
        mu, logvar: (N, D) (or (D,) for one example), logvar = log σ².

    Returns:
        (N,) (or a 0-d array): the sum over the D latent dimensions; average it over the batch
        yourself (the module's reduction).
    """
    mu, logvar = _gaussian_args("gaussian_kl", mu, logvar)
    return 0.5 * np.sum(np.exp(logvar) + mu * mu - 1.0 - logvar, axis=-1)


def gaussian_kl_backward(dkl: np.ndarray, mu: np.ndarray, logvar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of :func:`gaussian_kl`: ∂KL/∂μ = μ and ∂KL/∂logvar = ½ (σ² − 1), times dkl.

    The cache of this layer is its inputs, so they are passed directly.

    Args:
        dkl: (N,) upstream gradient, one entry per example (1/N each for a batch mean).
        mu, logvar: (N, D) the inputs of the forward pass.

    Returns:
        dmu (N, D), dlogvar (N, D).
    """
    mu, logvar = _gaussian_args("gaussian_kl_backward", mu, logvar)
    dkl = _float(dkl)
    if dkl.shape != mu.shape[:-1]:
        raise ValueError(f"gaussian_kl_backward: dkl has shape {dkl.shape}; expected {mu.shape[:-1]}, one entry "
                         f"per example")
    d = dkl[..., None]
    return d * mu, d * 0.5 * (np.exp(logvar) - 1.0)


# --------------------------------------------------------------------------- the (β-)VAE loss


def _vae_args(x: Any, logits: Any, mu: Any, logvar: Any, likelihood: str) -> tuple[np.ndarray, ...]:
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"vae_loss: likelihood={likelihood!r}; expected one of {LIKELIHOODS}")
    x, logits = _float(x), _float(logits)
    mu, logvar = _gaussian_args("vae_loss", mu, logvar)
    if x.shape != logits.shape or x.ndim != 2:
        raise ValueError(f"vae_loss: x has shape {x.shape} and logits {logits.shape}; expected both (N, P), "
                         f"one row of P pixels per example")
    if mu.ndim != 2 or mu.shape[0] != x.shape[0]:
        raise ValueError(f"vae_loss: mu and logvar have shape {mu.shape}; expected (N, D) with N = {x.shape[0]} as in x")
    return x, logits, mu, logvar


def _reconstruction(x: np.ndarray, logits: np.ndarray, likelihood: str) -> np.ndarray:
    """−log p(x | z) per example, up to a constant, (N,).

    bernoulli: Σ_p BCE(σ(logits_p), x_p) = Σ_p [softplus(ℓ) − x ℓ] (x in [0, 1]);
    gaussian (unit variance, ``logits`` are then the means): ½ Σ_p (x_p − logits_p)².
    """
    if likelihood == "bernoulli":
        return np.sum(np.logaddexp(0.0, logits) - x * logits, axis=1)
    return 0.5 * np.sum((x - logits) ** 2, axis=1)


def vae_loss(x: np.ndarray, logits: np.ndarray, mu: np.ndarray, logvar: np.ndarray, beta: float = 1.0,
             likelihood: str = "bernoulli") -> float:
    """The (β-)VAE loss: mean over the batch of [−log p(x | z) + β · KL(q(z | x) ‖ N(0, I))].

    With β = 1 it is the negative ELBO (up to the constant of the likelihood). Both terms are summed
    over their dimensions per example and averaged over the batch (module docstring).

    Args:
        x: (N, P) data (pixels in [0, 1] for the Bernoulli likelihood).
        logits: (N, P) the decoder's output: logits of p(x_p = 1 | z), or means for "gaussian".
        mu, logvar: (N, D) the encoder's output.
        beta: weight of the KL term (β > 1: a β-VAE).
        likelihood: "bernoulli" (binary cross-entropy from logits) or "gaussian" (½ squared error).

    Returns:
        the loss, a float.
    """
    x, logits, mu, logvar = _vae_args(x, logits, mu, logvar, likelihood)
    per_example = _reconstruction(x, logits, likelihood) + beta * gaussian_kl(mu, logvar)
    return float(np.mean(per_example))


def vae_loss_backward(x: np.ndarray, logits: np.ndarray, mu: np.ndarray, logvar: np.ndarray, beta: float = 1.0,
                      likelihood: str = "bernoulli") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`vae_loss` with respect to logits (N, P), mu (N, D) and logvar (N, D).

    dlogits = (σ(ℓ) − x)/N (bernoulli) or (ℓ − x)/N (gaussian); dmu, dlogvar = β/N · ∂KL.
    """
    x, logits, mu, logvar = _vae_args(x, logits, mu, logvar, likelihood)
    n = x.shape[0]
    if likelihood == "bernoulli":
        dlogits = (np.exp(log_sigmoid(logits)) - x) / n
    else:
        dlogits = (logits - x) / n
    dmu, dlogvar = gaussian_kl_backward(np.full(n, beta / n, dtype=mu.dtype), mu, logvar)
    return dlogits, dmu, dlogvar


# --------------------------------------------------------------------------- GAN losses


def discriminator_loss(real_logits: np.ndarray, fake_logits: np.ndarray) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """L_D = −mean log D(x) − mean log(1 − D(G(z))), from logits (D = σ(logit)).

    Minimising it is maximising E[log D(x)] + E[log(1 − D(G(z)))]: binary cross-entropy with real
    examples labelled 1 and fakes labelled 0, each term averaged over its own batch. With
    log σ(ℓ) = −softplus(−ℓ) and log(1 − σ(ℓ)) = −softplus(ℓ): L_D = mean softplus(−ℓ_real) + mean softplus(ℓ_fake).

    Args:
        real_logits: (M,) (any shape) logits on real data.
        fake_logits: (K,) (any shape) logits on generated data.

    Returns:
        loss, and (dreal, dfake) = ((σ(ℓ_real) − 1)/M, σ(ℓ_fake)/K), shapes as the inputs.
    """
    real, fake = _float(real_logits), _float(fake_logits)
    if real.size == 0 or fake.size == 0:
        raise ValueError(f"discriminator_loss: got {real.size} real and {fake.size} fake logits; expected at least "
                         f"one of each")
    loss = np.mean(np.logaddexp(0.0, -real)) + np.mean(np.logaddexp(0.0, fake))
    dreal = (np.exp(log_sigmoid(real)) - 1.0) / real.size
    dfake = np.exp(log_sigmoid(fake)) / fake.size
    return float(loss), (dreal, dfake)


def generator_loss(fake_logits: np.ndarray, saturating: bool = False) -> tuple[float, np.ndarray]:
    """The generator's loss from the discriminator's logits on fakes, and its gradient.

    - non-saturating (default): L_G = −mean log D(G(z)) = mean softplus(−ℓ); dℓ = (σ(ℓ) − 1)/K.
      Early in training D rejects the fakes (ℓ ≪ 0) and this gradient is close to −1/K: strong.
    - ``saturating=True``: L_G = mean log(1 − D(G(z))) = −mean softplus(ℓ), the minimax objective's
      own term; dℓ = −σ(ℓ)/K, which vanishes exactly when D rejects the fakes.

    Args:
        fake_logits: (K,) (any shape) the discriminator's logits on generated samples.

    Returns:
        loss, and dfake of fake_logits' shape.
    """
    fake = _float(fake_logits)
    if fake.size == 0:
        raise ValueError("generator_loss: got no fake logits; expected at least one")
    p = np.exp(log_sigmoid(fake))
    if saturating:
        return float(-np.mean(np.logaddexp(0.0, fake))), -p / fake.size
    return float(np.mean(np.logaddexp(0.0, -fake))), (p - 1.0) / fake.size


# --------------------------------------------------------------------------- evaluating a generator


def mode_coverage(samples: np.ndarray, centers: np.ndarray, radius: float,
                  min_fraction: float = 0.01) -> tuple[float, np.ndarray]:
    """Modes hit / modes present, for samples of a mixture whose component means are ``centers``.

    A mode is **hit** when at least ``min_fraction`` of the samples lie within ``radius`` of its
    centre (Euclidean distance). A generator that collapses onto a few modes hits few; one that
    spreads its samples everywhere may hit none.

    Args:
        samples: (S, d) generated points.
        centers: (K, d) the modes' centres.
        radius: the distance within which a sample counts for a mode.
        min_fraction: the share of all S samples a mode needs to count as hit.

    Returns:
        coverage in [0, 1], and counts (K,), the number of samples within ``radius`` of each centre.
    """
    samples, centers = _float(samples), _float(centers)
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(f"mode_coverage: samples {samples.shape} and centers {centers.shape}; expected (S, d) and "
                         f"(K, d) with the same d")
    if len(samples) == 0 or len(centers) == 0:
        raise ValueError("mode_coverage: expected at least one sample and one centre")
    dist = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)  # (S, K)
    counts = np.sum(dist <= radius, axis=0)
    return float(np.mean(counts >= min_fraction * len(samples))), counts
