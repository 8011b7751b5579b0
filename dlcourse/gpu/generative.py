"""Generative models in PyTorch: the twin of :mod:`dlcourse.ref.generative`, and the models of the lecture.

The twins have the reference's names, signatures and conventions (log-variances, a sum over each
example's dimensions and a mean over the batch, losses from logits) on tensors of any device;
their losses are 0-d tensors that autograd can differentiate, returned with the written-out
gradients. :class:`Reparameterize` is a ``torch.autograd.Function`` whose backward pass is
:func:`reparameterize_backward`, the notebook's exercise; :func:`reparameterize` is its one-call form.

Models, trained by the same code on a CPU or a GPU:

- :class:`Autoencoder` and :class:`VAE`: MLPs on flattened 8×8 digits with a small latent (2-D by
  default, so that it can be drawn), trained by :func:`train_autoencoder` (Adam; a VAE on the
  (β-)VAE loss, an autoencoder on its reconstruction term alone); :func:`negative_elbo` reports
  −ELBO in nats per image on held-out digits (binarised: pixels are 0 or 1, so that the Bernoulli
  likelihood is a real probability and the ELBO a real lower bound on log p(x)).
- :class:`MLPGenerator` and :class:`MLPDiscriminator` for 2-D data, :func:`gan_losses` (the
  discriminator's loss on detached fakes, the generator's non-saturating loss) and :func:`train_gan`,
  which keeps snapshots of the samples and their :func:`mode_coverage` as training goes.
- :func:`generative_setup` sizes the notebook's runs for the device (longer on a GPU).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.gpu.device import default_device, to_numpy, to_tensor
from dlcourse.ref import generative as _ref

__all__ = [
    # twins of dlcourse.ref.generative
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
    # autograd, models and training
    "Reparameterize",
    "reparameterize",
    "Autoencoder",
    "VAE",
    "train_autoencoder",
    "reconstruction_error",
    "negative_elbo",
    "MLPGenerator",
    "MLPDiscriminator",
    "gan_losses",
    "GANRun",
    "train_gan",
    "GenerativeSetup",
    "generative_setup",
]

Device = Union[torch.device, str, None]
Seed = Union[int, torch.Generator, None]


def _check_gaussian(kind: str, mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if mu.dim() < 1 or mu.shape != logvar.shape:
        raise ValueError(f"{kind}: mu has shape {tuple(mu.shape)} and logvar {tuple(logvar.shape)}; expected the "
                         f"same shape (N, D)")


# --------------------------------------------------------------------------- twins


def log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """log σ(x), finite for every finite x (``F.logsigmoid``). Shape as x."""
    return F.logsigmoid(x)


def _generator(rng: Seed) -> torch.Generator | None:
    if rng is None or isinstance(rng, torch.Generator):
        return rng
    return torch.Generator(device="cpu").manual_seed(int(rng))


def reparameterize_forward(mu: torch.Tensor, logvar: torch.Tensor, rng: Seed = None) -> tuple[torch.Tensor, tuple]:
    """z = μ + exp(logvar/2) ⊙ ε, ε ~ N(0, I) of mu's shape; returns (z, (eps, sigma)).

    ``rng``: a seed or a CPU ``torch.Generator`` (ε is drawn on the CPU and moved, so that a seed gives
    the same ε on every device); None uses torch's global generator.
    """
    _check_gaussian("reparameterize_forward", mu, logvar)
    eps = torch.randn(mu.shape, generator=_generator(rng), dtype=mu.dtype).to(mu.device)
    sigma = torch.exp(0.5 * logvar)
    return mu + sigma * eps, (eps, sigma)


def reparameterize_backward(dz: torch.Tensor, cache: tuple) -> tuple[torch.Tensor, torch.Tensor]:
    """dmu = dz, dlogvar = dz ⊙ ε ⊙ σ / 2 (see :func:`dlcourse.ref.reparameterize_backward`)."""
    eps, sigma = cache
    if dz.shape != eps.shape:
        raise ValueError(f"reparameterize_backward: dz has shape {tuple(dz.shape)}; expected {tuple(eps.shape)}")
    return dz.clone(), 0.5 * dz * eps * sigma


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """½ Σ_j (σ_j² + μ_j² − 1 − log σ_j²) over the last axis: (N, D) → (N,)."""
    _check_gaussian("gaussian_kl", mu, logvar)
    return 0.5 * torch.sum(torch.exp(logvar) + mu * mu - 1.0 - logvar, dim=-1)


def gaussian_kl_backward(dkl: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """dmu = dkl ⊙ μ, dlogvar = dkl ⊙ ½(σ² − 1); dkl (N,), mu and logvar (N, D)."""
    _check_gaussian("gaussian_kl_backward", mu, logvar)
    d = dkl.unsqueeze(-1)
    return d * mu, d * 0.5 * (torch.exp(logvar) - 1.0)


def _reconstruction(x: torch.Tensor, logits: torch.Tensor, likelihood: str) -> torch.Tensor:
    """−log p(x | z) per example (N,) (see :func:`dlcourse.ref.generative.vae_loss`)."""
    if likelihood not in _ref.LIKELIHOODS:
        raise ValueError(f"vae_loss: likelihood={likelihood!r}; expected one of {_ref.LIKELIHOODS}")
    if x.shape != logits.shape or x.dim() != 2:
        raise ValueError(f"vae_loss: x has shape {tuple(x.shape)} and logits {tuple(logits.shape)}; expected both (N, P)")
    if likelihood == "bernoulli":
        return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    return 0.5 * ((x - logits) ** 2).sum(dim=1)


def vae_loss(x: torch.Tensor, logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 1.0,
             likelihood: str = "bernoulli") -> torch.Tensor:
    """mean_n [−log p(x_n | z_n) + β KL_n], a 0-d tensor (differentiable)."""
    return torch.mean(_reconstruction(x, logits, likelihood) + beta * gaussian_kl(mu, logvar))


def vae_loss_backward(x: torch.Tensor, logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                      beta: float = 1.0, likelihood: str = "bernoulli") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dlogits, dmu, dlogvar) of :func:`vae_loss`, written out."""
    _reconstruction(x, logits, likelihood)  # validates the arguments
    n = x.shape[0]
    dlogits = (torch.sigmoid(logits) - x) / n if likelihood == "bernoulli" else (logits - x) / n
    dmu, dlogvar = gaussian_kl_backward(torch.full((n,), beta / n, dtype=mu.dtype, device=mu.device), mu, logvar)
    return dlogits, dmu, dlogvar


def discriminator_loss(real_logits: torch.Tensor,
                       fake_logits: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """mean softplus(−ℓ_real) + mean softplus(ℓ_fake) (BCE, real = 1, fake = 0), and (dreal, dfake)."""
    if real_logits.numel() == 0 or fake_logits.numel() == 0:
        raise ValueError("discriminator_loss: expected at least one real and one fake logit")
    loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + \
        F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    dreal = (torch.sigmoid(real_logits) - 1.0) / real_logits.numel()
    dfake = torch.sigmoid(fake_logits) / fake_logits.numel()
    return loss, (dreal.detach(), dfake.detach())


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-saturating mean softplus(−ℓ) (or, ``saturating``, −mean softplus(ℓ)), and its gradient."""
    if fake_logits.numel() == 0:
        raise ValueError("generator_loss: got no fake logits; expected at least one")
    p = torch.sigmoid(fake_logits).detach()
    if saturating:
        return -F.softplus(fake_logits).mean(), -p / fake_logits.numel()
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits)), (p - 1.0) / fake_logits.numel()


def mode_coverage(samples: Any, centers: Any, radius: float, min_fraction: float = 0.01) -> tuple[float, np.ndarray]:
    """Modes hit / modes present (see :func:`dlcourse.ref.mode_coverage`); tensors or arrays."""
    return _ref.mode_coverage(to_numpy(samples), to_numpy(centers), radius, min_fraction)


class Reparameterize(torch.autograd.Function):
    """z = μ + exp(logvar/2) ⊙ ε with ε given; backward by :func:`reparameterize_backward`."""

    @staticmethod
    def forward(ctx: Any, mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        sigma = torch.exp(0.5 * logvar)
        ctx.save_for_backward(eps, sigma)
        return mu + sigma * eps

    @staticmethod
    def backward(ctx: Any, dz: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        dmu, dlogvar = reparameterize_backward(dz, tuple(ctx.saved_tensors))
        return dmu, dlogvar, None


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
    """:class:`Reparameterize` applied; ε = ``torch.randn_like(mu)`` (one draw per entry) unless given."""
    _check_gaussian("reparameterize", mu, logvar)
    return Reparameterize.apply(mu, logvar, torch.randn_like(mu) if eps is None else eps)


# --------------------------------------------------------------------------- autoencoder and VAE


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of these sizes with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """x (N, P) → code (N, latent) → logits (N, P): a deterministic bottleneck.

    Args:
        n_in: P, pixels per image (64 for 8×8 digits).
        latent: size of the code.
        hidden: width of the hidden layers (two in the encoder, two in the decoder).
    """

    def __init__(self, n_in: int = 64, latent: int = 2, hidden: int = 128) -> None:
        super().__init__()
        self.latent = latent
        self.encoder = _mlp([n_in, hidden, hidden, latent])
        self.decoder = _mlp([latent, hidden, hidden, n_in])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, P) → (N, latent)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent) → logits (N, P); σ(logits) is the image."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class VAE(Autoencoder):
    """The encoder outputs (μ, log σ²) (N, latent) each; z = μ + σ ⊙ ε by :func:`reparameterize`.

    ``forward(x)`` returns (logits, mu, logvar); in ``eval()`` mode z = μ (no noise), which is what
    reconstructions and latent maps show.
    """

    def __init__(self, n_in: int = 64, latent: int = 2, hidden: int = 128) -> None:
        super().__init__(n_in, latent, hidden)
        self.encoder = _mlp([n_in, hidden, hidden, 2 * latent])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        """(N, P) → mu, logvar, (N, latent) each."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # type: ignore[override]
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar) if self.training else mu
        return self.decode(z), mu, logvar


def _model_loss(model: nn.Module, x: torch.Tensor, beta: float) -> torch.Tensor:
    if isinstance(model, VAE):
        logits, mu, logvar = model(x)
        return vae_loss(x, logits, mu, logvar, beta)
    return _reconstruction(x, model(x), "bernoulli").mean()


def train_autoencoder(model: nn.Module, x: Any, steps: int, batch_size: int = 128, lr: float = 2e-3,
                      beta: float = 1.0, rng: int = 0, log_every: int = 50) -> dict[str, list[float]]:
    """Adam on the (β-)VAE loss (a :class:`VAE`) or the summed Bernoulli reconstruction loss (an :class:`Autoencoder`).

    Args:
        model: trained on its own device.
        x: (N, P) data in [0, 1] (array or tensor), moved to the model's device once.
        steps: optimizer steps, each on a batch drawn with replacement by a generator seeded by ``rng``
            (the initial weights are the caller's: seed torch before building the model).

    Returns:
        history: "step", "loss" (mean of the last ``log_every`` batches, nats per image), "seconds".
    """
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    x = to_tensor(x, device, dtype)
    if x.dim() != 2:
        raise ValueError(f"train_autoencoder: x has shape {tuple(x.shape)}; expected (N, P)")
    gen = torch.Generator(device="cpu").manual_seed(int(rng))
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(int(rng))  # the VAE's ε come from the global generator
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"step": [], "loss": [], "seconds": []}
    model.train()
    t0, running = time.perf_counter(), []
    try:
        for step in range(1, steps + 1):
            idx = torch.randint(0, x.shape[0], (batch_size,), generator=gen).to(device)
            loss = _model_loss(model, x[idx], beta)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running.append(loss.detach())
            if step % log_every == 0 or step == steps:
                history["step"].append(step)
                history["loss"].append(float(torch.stack(running).mean()))
                history["seconds"].append(time.perf_counter() - t0)
                running = []
    finally:
        torch.random.set_rng_state(torch_state)
    model.eval()
    return history


@torch.no_grad()
def reconstruction_error(model: nn.Module, x: Any) -> float:
    """Mean over images of the summed squared error Σ_p (x_p − σ(logit_p))², with z = μ for a VAE."""
    param = next(model.parameters())
    x = to_tensor(x, param.device, param.dtype)
    was = model.training
    model.eval()
    out = model(x)
    model.train(was)
    logits = out[0] if isinstance(out, tuple) else out
    return float(((x - torch.sigmoid(logits)) ** 2).sum(dim=1).mean())


@torch.no_grad()
def negative_elbo(model: VAE, x: Any, samples: int = 10, rng: int = 0) -> dict[str, float]:
    """−ELBO = E_q[−log p(x | z)] + KL(q(z | x) ‖ N(0, I)) in nats per image, averaged over the images.

    E_q is estimated with ``samples`` draws of z per image (seeded). For binary x the Bernoulli
    likelihood is a probability, so −ELBO is an upper bound on −log p(x): lower is better.

    Returns:
        {"neg_elbo": …, "reconstruction": …, "kl": …}, each a mean over the images.
    """
    param = next(model.parameters())
    x = to_tensor(x, param.device, param.dtype)
    mu, logvar = model.encode(x)
    gen = _generator(rng)
    recon = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for _ in range(samples):
        z, _cache = reparameterize_forward(mu, logvar, gen)
        recon += _reconstruction(x, model.decode(z), "bernoulli") / samples
    kl = gaussian_kl(mu, logvar)
    return {"neg_elbo": float((recon + kl).mean()), "reconstruction": float(recon.mean()), "kl": float(kl.mean())}


# --------------------------------------------------------------------------- GAN on 2-D data


class MLPGenerator(nn.Module):
    """z (N, noise_dim) → x (N, out_dim): an MLP with ``layers`` hidden ReLU layers."""

    def __init__(self, noise_dim: int = 2, out_dim: int = 2, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.net = _mlp([noise_dim] + [hidden] * layers + [out_dim])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """x (N, in_dim) → logits (N,): D(x) = σ(logit) is the probability that x is real."""

    def __init__(self, in_dim: int = 2, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.net = _mlp([in_dim] + [hidden] * layers + [1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def gan_losses(discriminator: nn.Module, generator: nn.Module, real: torch.Tensor,
               z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The two losses of one GAN step: (d_loss, g_loss), 0-d tensors.

    - d_loss = :func:`discriminator_loss` on D(real) and D(G(z).detach()): the fakes are detached, so
      ``d_loss.backward()`` reaches the discriminator only;
    - g_loss = the non-saturating :func:`generator_loss` on D(G(z)), not detached: its gradient flows
      back through D into G (D's parameters get gradients too; only G's optimizer steps on them).
    """
    fake = generator(z)
    d_loss, _ = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    g_loss, _ = generator_loss(discriminator(fake))
    return d_loss, g_loss


@dataclass
class GANRun:
    """What :func:`train_gan` records: samples of a fixed noise batch at a few steps, and the losses."""

    steps: list[int]
    samples: list[np.ndarray]  # one (S, 2) array per snapshot
    coverage: list[float]  # mode_coverage of each snapshot
    d_loss: list[float]
    g_loss: list[float]
    seconds: float
    lr_d: float
    lr_g: float


def train_gan(data: Any, centers: Any, steps: int, lr_d: float = 1e-3, lr_g: float = 1e-3, batch_size: int = 128,
              snapshots: int = 10, n_samples: int = 1000, hidden: int = 64, radius: float = 0.25,
              min_fraction: float = 0.01, rng: int = 0, device: Device = None) -> GANRun:
    """Train an MLP GAN on 2-D points, one discriminator step and one generator step per iteration.

    Adam with β₁ = 0.5 for both networks; ``lr_g / lr_d`` is the learning-rate ratio the notebook
    varies. Both networks and all the noise are seeded by ``rng``.

    Args:
        data: (M, 2) training points (array or tensor).
        centers: (K, 2) the mixture's modes, for :func:`mode_coverage` of each snapshot.
        steps: training iterations.
        snapshots: how many times (evenly spaced, the last at ``steps``) G is run on a fixed batch of
            ``n_samples`` noise vectors, plus once before training.
        radius, min_fraction: :func:`mode_coverage`'s definition of a hit.

    Returns:
        a :class:`GANRun`.
    """
    device = default_device() if device is None else torch.device(device)
    data = to_tensor(data, device, torch.float32)
    if data.dim() != 2:
        raise ValueError(f"train_gan: data has shape {tuple(data.shape)}; expected (M, d)")
    centers = to_numpy(centers)
    state = torch.random.get_rng_state()
    torch.manual_seed(int(rng))
    try:
        generator = MLPGenerator(2, data.shape[1], hidden).to(device)
        discriminator = MLPDiscriminator(data.shape[1], hidden).to(device)
    finally:
        torch.random.set_rng_state(state)
    gen = torch.Generator(device="cpu").manual_seed(int(rng) + 1)
    fixed_z = torch.randn(n_samples, 2, generator=gen).to(device)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=(0.5, 0.999))
    at = set(np.linspace(0, steps, snapshots + 1).round().astype(int).tolist())
    run = GANRun([], [], [], [], [], 0.0, lr_d, lr_g)
    t0 = time.perf_counter()
    d_losses, g_losses = [], []
    for step in range(steps + 1):
        if step in at:
            with torch.no_grad():
                samples = to_numpy(generator(fixed_z)).astype(np.float64)
            run.steps.append(step)
            run.samples.append(samples)
            run.coverage.append(_ref.mode_coverage(samples, centers, radius, min_fraction)[0])
            run.d_loss.append(float(torch.stack(d_losses).mean()) if d_losses else float("nan"))
            run.g_loss.append(float(torch.stack(g_losses).mean()) if g_losses else float("nan"))
            d_losses, g_losses = [], []
        if step == steps:
            break
        idx = torch.randint(0, data.shape[0], (batch_size,), generator=gen).to(device)
        z = torch.randn(batch_size, 2, generator=gen).to(device)
        fake = generator(z)
        # alternating steps: D on detached fakes first, then G against the updated D
        d_loss, _ = discriminator_loss(discriminator(data[idx]), discriminator(fake.detach()))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss, _ = generator_loss(discriminator(fake))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()  # also fills D's .grad; opt_d zeroes it before D's next step
        opt_g.step()
        d_losses.append(d_loss.detach())
        g_losses.append(g_loss.detach())
    run.seconds = time.perf_counter() - t0
    return run


# --------------------------------------------------------------------------- sizes for the notebook


@dataclass(frozen=True)
class GenerativeSetup:
    """The notebook's run sizes: VAE and autoencoders on digits, GANs on the ring of Gaussians."""

    vae_steps: int = 1500
    vae_batch: int = 128
    vae_hidden: int = 128
    sweep_latents: tuple[int, ...] = (1, 2, 4, 8, 16)
    sweep_steps: int = 500
    gan_steps: int = 1000
    gan_batch: int = 128
    gan_points: int = 20000
    gan_lr_ratios: tuple[float, ...] = (0.5, 1.0, 5.0)
    gan_lr_d: float = 1e-3


def generative_setup(device: Device = None, **changes: Any) -> GenerativeSetup:
    """Sizes for ≤ ~30 s of training on 2 CPU cores; on CUDA longer runs in about the same time."""
    device = default_device() if device is None else torch.device(device)
    setup = GenerativeSetup()
    if device.type == "cuda":
        setup = replace(setup, vae_steps=6000, vae_batch=256, vae_hidden=256, sweep_steps=3000, gan_steps=4000,
                        gan_batch=512)
    return replace(setup, **changes)
