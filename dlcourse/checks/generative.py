"""Checks for lecture 12-generative.

Each ``check_*`` takes the student's function and ``hidden``. The contracts are those of
:mod:`dlcourse.ref.generative`: the encoder's second output is the **log-variance** log σ²; losses
are summed over each example's dimensions and **averaged over the batch**; GAN losses take the
discriminator's logits. Public cases are small and fixed; hidden ones add a batch of one and a
latent of size one, integer and non-contiguous (transposed) inputs, extreme log-variances and
logits (where a formula that is right on paper overflows), documented defaults, the float64 dtype
of the results and finite-difference gradient checks. Expected values come from
:mod:`dlcourse.ref` at check time (and, for the PyTorch exercise, from the check's own copies of
the networks run after the student's call).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_float64_like, expect_scalar
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import GRAD_TOL, expect_backward_matches_finite_differences, \
    expect_matches_finite_differences
from dlcourse.checks.guard import call_student, unpack

__all__ = [
    "check_reparameterize_forward",
    "check_reparameterize_backward",
    "check_gaussian_kl",
    "check_vae_loss",
    "check_discriminator_loss",
    "check_generator_loss",
    "check_gan_losses",
]

SALT = 121_212  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

LOGVAR_AS_LOG_SIGMA = ("logvar is log σ², the log of the *variance*: σ = exp(logvar / 2), σ² = exp(logvar). "
                       "Treating it as log σ squares σ once too often.")
STABLE = ("with large logits e^ℓ overflows or σ(ℓ) rounds to exactly 0 or 1, and its log is −inf: use "
          "log σ(ℓ) = −np.logaddexp(0, −ℓ) and log(1 − σ(ℓ)) = −np.logaddexp(0, ℓ).")


def _noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values as ``a`` (2-D), as a transposed view (not C-contiguous)."""
    return np.ascontiguousarray(a.T).T


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


# --------------------------------------------------------------------------- Gaussian cases

GaussCase = tuple[str, np.ndarray, np.ndarray]


def _gauss_cases(hidden: bool) -> Iterator[GaussCase]:
    """(description, mu, logvar), both (N, D)."""
    rng = case_rng(hidden, SALT)
    yield "mu, logvar (4, 3)", rng.standard_normal((4, 3)), 0.8 * rng.standard_normal((4, 3))
    yield "mu, logvar (2, 5)", 2 * rng.standard_normal((2, 5)), rng.uniform(-2, 1.5, (2, 5))
    if not hidden:
        return
    yield "a batch of one, one latent dimension: mu, logvar (1, 1)", rng.standard_normal((1, 1)), \
        rng.standard_normal((1, 1))
    yield "integer mu and logvar (3, 2)", rng.integers(-2, 3, (3, 2)), rng.integers(-1, 2, (3, 2))
    yield "non-contiguous (transposed) mu, logvar (3, 4)", _noncontiguous(rng.standard_normal((3, 4))), \
        _noncontiguous(rng.standard_normal((3, 4)))
    yield "extreme log-variances (−12 … 4), mu (2, 4)", rng.standard_normal((2, 4)), \
        np.array([[-12.0, 4.0, -6.0, 0.0], [3.0, -9.0, 1.0, -0.5]])
    yield "the prior itself: mu = 0, logvar = 0 (2, 3)", np.zeros((2, 3)), np.zeros((2, 3))
    n, d = int(rng.integers(2, 9)), int(rng.integers(2, 7))
    yield f"mu, logvar ({n}, {d})", rng.standard_normal((n, d)), rng.standard_normal((n, d))


# --------------------------------------------------------------------------- reparameterisation


@exercise("reparameterize_forward")
def check_reparameterize_forward(reparameterize_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``reparameterize_forward(mu, logvar, rng) -> (z, (eps, sigma))``, ε = rng.standard_normal(mu.shape)."""
    run = CheckRun("reparameterize_forward", hidden)
    for i, (case, mu, logvar) in enumerate(run.cases(_gauss_cases(hidden))):
        with run.case():
            seed = 1000 + i
            result = call_student(reparameterize_forward, mu, logvar, np.random.default_rng(seed),
                                  name="reparameterize_forward")
            z, cache = unpack(result, 2, name="reparameterize_forward", names=("z", "cache"))
            expected, (eps, sigma) = ref.reparameterize_forward(mu, logvar, np.random.default_rng(seed))
            m, lv = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
            shared = np.random.default_rng(seed).standard_normal(m.shape[-1])  # one ε for the whole batch
            per_example = np.random.default_rng(seed).standard_normal((m.shape[0], 1))
            batch_hint = ("draw one ε per entry, rng.standard_normal(mu.shape): with one ε shared by the batch every "
                          "example gets the same noise.")
            expect_float64_like(z, expected, what="reparameterize_forward's z", case=case)
            expect_array(z, expected, what="reparameterize_forward's z", case=case, mistakes=[
                Mistake(m + np.exp(lv) * eps, LOGVAR_AS_LOG_SIGMA),
                Mistake(m + lv * eps, "logvar is log σ²; σ = exp(logvar / 2), not logvar itself."),
                Mistake(m + np.exp(lv / 2) * eps ** 2, "z = μ + σ ⊙ ε with ε ~ N(0, 1) drawn once per entry."),
                Mistake(m + eps, "scale the noise by σ = exp(logvar / 2): z = μ + σ ⊙ ε."),
                Mistake(m + sigma * shared if m.shape[0] > 1 else None, batch_hint, name="one eps"),
                Mistake(m + sigma * per_example if m.shape[1] > 1 else None, batch_hint, name="one eps"),
            ])
            if not isinstance(cache, (tuple, list)) or len(cache) != 2:
                raise CheckFailure(f"reparameterize_forward's cache should be the tuple (eps, sigma), got "
                                   f"{type(cache).__name__} ({case}).")
            expect_array(cache[0], eps, what="the cache's eps", case=case)
            expect_array(cache[1], sigma, what="the cache's sigma", case=case,
                         mistakes=[Mistake(np.exp(lv), LOGVAR_AS_LOG_SIGMA), Mistake(lv, "store σ = exp(logvar / 2).")])
    run.passed()


@exercise("reparameterize_backward")
def check_reparameterize_backward(reparameterize_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``reparameterize_backward(dz, cache) -> (dmu, dlogvar)`` with cache = (eps, sigma)."""
    rng = case_rng(hidden, SALT + 1)
    run = CheckRun("reparameterize_backward", hidden)
    for i, (case, mu, logvar) in enumerate(run.cases(_gauss_cases(hidden))):
        with run.case():
            m, lv = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
            _, cache = ref.reparameterize_forward(m, lv, np.random.default_rng(2000 + i))
            eps, sigma = cache
            dz = rng.standard_normal(m.shape)
            result = call_student(reparameterize_backward, dz, cache, name="reparameterize_backward")
            dmu, dlogvar = unpack(result, 2, name="reparameterize_backward", names=("dmu", "dlogvar"))
            emu, elv = ref.reparameterize_backward(dz, cache)
            case = case + ", dz of the same shape"
            expect_float64_like(dmu, emu, what="dmu", case=case)
            expect_array(dmu, emu, what="dmu", case=case, **GRAD_TOL, mistakes=[
                Mistake(dz * sigma, "z = μ + σ ⊙ ε depends on μ with slope 1: dmu = dz."),
                Mistake(dz * eps, "z = μ + σ ⊙ ε depends on μ with slope 1: dmu = dz."),
            ])
            expect_float64_like(dlogvar, elv, what="dlogvar", case=case)
            expect_array(dlogvar, elv, what="dlogvar", case=case, **GRAD_TOL, mistakes=[
                Mistake(dz * eps, "σ = exp(logvar / 2) depends on logvar: the chain rule adds ∂σ/∂logvar = σ / 2."),
                Mistake(dz * eps * sigma, "∂σ/∂logvar = ∂ exp(logvar / 2)/∂logvar = σ / 2: the factor ½ is missing."),
                Mistake(0.5 * dz * sigma, "dz/dlogvar = ε ⊙ σ / 2: ε multiplies σ in z, so it multiplies its gradient."),
                Mistake(0.5 * dz * eps * sigma ** 2, "σ / 2 is the derivative of σ = exp(logvar / 2); σ² is the "
                        "variance, not its derivative."),
                Mistake(dz * eps * sigma ** 2, LOGVAR_AS_LOG_SIGMA),
            ])
            if hidden:
                expect_backward_matches_finite_differences(
                    "reparameterize_backward", lambda a, b: a + np.exp(0.5 * b) * eps, [m, lv], dz, [dmu, dlogvar],
                    ("dmu", "dlogvar"), case=case)
    run.passed()


# --------------------------------------------------------------------------- the KL term


@exercise("gaussian_kl")
def check_gaussian_kl(gaussian_kl: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``gaussian_kl(mu, logvar) -> (N,)``: ½ Σ_j (σ_j² + μ_j² − 1 − log σ_j²) per example."""
    run = CheckRun("gaussian_kl", hidden)
    for case, mu, logvar in run.cases(_gauss_cases(hidden)):
        with run.case():
            got = call_student(gaussian_kl, mu, logvar, name="gaussian_kl")
            if isinstance(got, (float, np.floating)):
                got = np.asarray(got)  # a single number: judged by its shape, (), below
            expected = ref.gaussian_kl(mu, logvar)
            m, lv = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
            sigma = np.exp(lv / 2)
            with np.errstate(all="ignore"):
                with_sigma = 0.5 * np.sum(sigma + m ** 2 - 1 - np.log(sigma), axis=1)
            terms = np.exp(lv) + m ** 2 - 1 - lv
            expect_float64_like(got, expected, what="gaussian_kl", case=case)
            expect_array(got, expected, what="gaussian_kl", case=case, mistakes=[
                Mistake(-with_sigma, "that is lecture 004's formula, −½ Σ (σ + μ² − 1 − log σ), which is wrong twice: "
                        "the KL uses variances, σ² = exp(logvar), and its sign is +: "
                        "½ Σ (σ² + μ² − 1 − log σ²) ≥ 0."),
                Mistake(with_sigma, "the KL uses variances: σ² = exp(logvar) and log σ² = logvar, not σ and log σ."),
                Mistake(0.5 * np.sum(np.exp(2 * lv) + m ** 2 - 1 - 2 * lv, axis=1), LOGVAR_AS_LOG_SIGMA),
                Mistake(-0.5 * np.sum(terms, axis=1), "the sign: KL = +½ Σ (σ² + μ² − 1 − log σ²), never negative."),
                Mistake(np.sum(terms, axis=1), "the factor ½ is missing."),
                Mistake(0.5 * np.mean(terms, axis=1) if m.shape[1] > 1 else None,
                        "sum over the latent dimensions (the KL of independent dimensions adds up), don't average."),
                Mistake(np.asarray(np.mean(expected)), "return one KL per example, shape (N,): the batch mean is "
                        "taken in the loss.", shape_only=True),
                Mistake(expected[:, None], "return shape (N,), one number per example (no keepdims).", shape_only=True),
                Mistake(0.5 * terms, "sum over the latent dimensions: one number per example, shape (N,).",
                        shape_only=True),
            ])
    run.passed()


# --------------------------------------------------------------------------- the (β-)VAE loss

VAECase = tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, Any]


def _vae_cases(hidden: bool) -> Iterator[VAECase]:
    """(description, x, logits, mu, logvar, beta or None for the default)."""
    rng = case_rng(hidden, SALT + 2)

    def draw(n: int, p: int, d: int, scale: float = 2.0) -> tuple[np.ndarray, ...]:
        return (rng.random((n, p)), scale * rng.standard_normal((n, p)), rng.standard_normal((n, d)),
                rng.standard_normal((n, d)))

    yield "x, logits (4, 6), mu, logvar (4, 2), beta default", *draw(4, 6, 2), None
    yield "x, logits (3, 5), mu, logvar (3, 3), beta=4.0", *draw(3, 5, 3), 4.0
    if not hidden:
        return
    yield "a batch of one: x, logits (1, 4), mu, logvar (1, 2), beta=2.0", *draw(1, 4, 2), 2.0
    x, logits, mu, logvar = draw(3, 4, 2)
    yield "binary x with logits of ±800, (3, 4), beta=0.5", (rng.random((3, 4)) > 0.5).astype(float), \
        800.0 * np.sign(rng.standard_normal((3, 4))), mu, logvar, 0.5
    yield "beta=0.0 (a plain autoencoder's loss), (2, 5)", *draw(2, 5, 2), 0.0
    yield "integer x in {0, 1} (3, 6), beta=1.5", rng.integers(0, 2, (3, 6)), *draw(3, 6, 2)[1:], 1.5
    x, logits, mu, logvar = draw(4, 3, 3)
    yield "non-contiguous (transposed) x and logits (4, 3), beta=3.0", _noncontiguous(x), _noncontiguous(logits), \
        mu, logvar, 3.0


@exercise("vae_loss")
def check_vae_loss(vae_loss: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``vae_loss(x, logits, mu, logvar, beta=1.0) -> float``: mean_n [BCE_n + β KL_n]."""
    run = CheckRun("vae_loss", hidden)
    for case, x, logits, mu, logvar, beta in run.cases(_vae_cases(hidden)):
        with run.case():
            args = (x, logits, mu, logvar) if beta is None else (x, logits, mu, logvar, beta)
            got = call_student(vae_loss, *args, name="vae_loss")
            b = 1.0 if beta is None else beta
            expected = ref.vae_loss(x, logits, mu, logvar, b)
            xf, lf = np.asarray(x, dtype=np.float64), np.asarray(logits, dtype=np.float64)
            bce = np.sum(_softplus(lf) - xf * lf, axis=1)  # per example
            kl = ref.gaussian_kl(mu, logvar)
            n, p = xf.shape
            sat = "a sum over the batch (or a mean over the pixels) changes the scale of one term only"
            expect_scalar(got, expected, what="vae_loss", case=case, nonfinite_hint=STABLE, mistakes=[
                Mistake(np.mean(bce) + b * np.sum(kl) if n > 1 and b > 0 else None,
                        "the KL is summed over the batch but the reconstruction averaged: use one reduction for both "
                        "terms (sum over each example's dimensions, mean over the batch), or β means N·β."),
                Mistake(np.sum(bce) + b * np.sum(kl) if n > 1 else None,
                        "average over the batch: mean_n [BCE_n + β KL_n], so that the loss does not grow with N."),
                Mistake(np.mean(bce) / p + b * np.mean(kl) if p > 1 else None,
                        f"sum the binary cross-entropy over the pixels of an example (−log p(x|z) of the whole image); "
                        f"{sat}."),
                Mistake(b * np.mean(bce) + np.mean(kl) if b != 1 else None, "β weights the KL term, not the "
                        "reconstruction: mean_n [BCE_n + β KL_n]."),
                Mistake(np.mean(bce) if b > 0 else None, "add the KL term, β · KL(q(z|x) ‖ N(0, I))."),
                Mistake(np.mean(bce) if beta is None else None, "beta defaults to 1.0 (the plain VAE, whose loss is "
                        "the negative ELBO)."),
                Mistake(-expected, "the loss is the *negative* ELBO: reconstruction error + β KL, to be minimised."),
                Mistake(np.mean(bce) - b * np.mean(kl) if b > 0 else None,
                        "the KL is added: loss = −ELBO = BCE + β KL."),
            ])
    run.passed()


# --------------------------------------------------------------------------- GAN losses


def _logit_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(description, real_logits, fake_logits)."""
    rng = case_rng(hidden, SALT + 3)
    yield "real logits (5,), fake logits (3,)", 2 * rng.standard_normal(5), 2 * rng.standard_normal(3)
    yield "real logits (4,), fake logits (6,)", 1.5 * rng.standard_normal(4) + 1, 1.5 * rng.standard_normal(6) - 1
    if not hidden:
        return
    yield "one real and one fake logit (1,)", rng.standard_normal(1), rng.standard_normal(1)
    yield "logits of ±800 (D completely sure, right and wrong)", np.array([800.0, -800.0, 3.0]), \
        np.array([-800.0, 800.0])
    yield "integer logits", rng.integers(-3, 4, 4), rng.integers(-3, 4, 5)
    yield "logits of shape (6, 1), as nn.Linear(h, 1) gives", rng.standard_normal((6, 1)), rng.standard_normal((2, 1))
    m, k = int(rng.integers(2, 12)), int(rng.integers(2, 12))
    yield f"real logits ({m},), fake logits ({k},)", 3 * rng.standard_normal(m), 3 * rng.standard_normal(k)


def _loss_and_grads(result: Any, name: str, n_grads: int) -> tuple[Any, tuple[Any, ...]]:
    loss, grads = unpack(result, 2, name=name, names=("loss", "grads" if n_grads > 1 else "dfake"))
    if n_grads == 1:
        return loss, (grads,)
    return loss, unpack(grads, n_grads, name=f"{name}'s gradients", names=("dreal", "dfake"))


@exercise("discriminator_loss")
def check_discriminator_loss(discriminator_loss: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``discriminator_loss(real_logits, fake_logits) -> (loss, (dreal, dfake))``.

    loss = −mean log σ(ℓ_real) − mean log(1 − σ(ℓ_fake)), each mean over its own batch.
    """
    run = CheckRun("discriminator_loss", hidden)
    for case, real, fake in run.cases(_logit_cases(hidden)):
        with run.case():
            result = call_student(discriminator_loss, real, fake, name="discriminator_loss")
            loss, (dreal, dfake) = _loss_and_grads(result, "discriminator_loss", 2)
            expected, (er, ef) = ref.discriminator_loss(real, fake)
            r, f = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
            pr, pf = np.exp(ref.log_sigmoid(r)), np.exp(ref.log_sigmoid(f))
            swapped = ("the labels are swapped: real data is labelled 1 and fakes 0. The discriminator maximises "
                       "E[log D(x)] + E[log(1 − D(G(z)))]; lecture 004 writes the two terms the other way round.")
            expect_scalar(loss, expected, what="discriminator_loss's loss", case=case, nonfinite_hint=STABLE, mistakes=[
                Mistake(np.mean(_softplus(r)) + np.mean(_softplus(-f)), swapped, name="swapped"),
                Mistake(np.sum(_softplus(-r)) + np.sum(_softplus(f)) if r.size * f.size > 1 else None,
                        "average each term over its batch (mean, not sum)."),
                Mistake(np.concatenate([_softplus(-r).ravel(), _softplus(f).ravel()]).mean() if r.size != f.size
                        else None, "average the real and the fake terms separately, each over its own batch, and add "
                        "them: mean BCE(real, 1) + mean BCE(fake, 0)."),
                Mistake(0.5 * expected, "this course's discriminator loss is the sum of the two means, without ½."),
                Mistake(-expected, "minimise the *negative* of E[log D(x)] + E[log(1 − D(G(z)))]: the loss is a "
                        "binary cross-entropy, ≥ 0."),
            ])
            for got, exp, what, wrong in ((dreal, er, "dreal", [
                Mistake(pr - 1, "divide by the batch size: the loss is a mean over the real logits."),
                Mistake((1 - pr) / r.size, "∂/∂ℓ [−log σ(ℓ)] = σ(ℓ) − 1 (negative: raising a real logit lowers the "
                        "loss)."),
                Mistake(pr / r.size, swapped, name="swapped"),
            ]), (dfake, ef, "dfake", [
                Mistake(pf, "divide by the batch size: the loss is a mean over the fake logits."),
                Mistake((pf - 1) / f.size, swapped, name="swapped"),
                Mistake(-pf / f.size, "∂/∂ℓ [−log(1 − σ(ℓ))] = σ(ℓ) (positive: raising a fake logit raises the loss)."),
            ])):
                if isinstance(got, np.ndarray) and isinstance(exp, np.ndarray) and got.shape != exp.shape \
                        and got.size == exp.size:
                    raise CheckFailure(f"{what} has shape {got.shape}, expected {exp.shape} ({case}).\n  Hint: a "
                                       f"gradient has the shape of what it is the gradient of.")
                expect_float64_like(got, exp, what=what, case=case)
                expect_array(got, exp, what=what, case=case, **GRAD_TOL, mistakes=wrong, nonfinite_hint=STABLE)
            if hidden and np.abs(r).max() < 100:
                _own_gradient_check(lambda a, b: ref.discriminator_loss(a, b)[0], [r, f], [dreal, dfake],
                                    ("dreal", "dfake"), "discriminator_loss", case)
    run.passed()


def _own_gradient_check(loss: Callable[..., float], inputs: list[np.ndarray], grads: list[Any],
                        labels: tuple[str, ...], name: str, case: str) -> None:
    """Each gradient against central differences of the reference loss."""
    for i, (grad, label) in enumerate(zip(grads, labels)):
        args = [a.copy() for a in inputs]

        def f(z: np.ndarray, i: int = i, args: list[np.ndarray] = args) -> np.ndarray:
            args[i] = z
            return np.array(loss(*args))

        numeric = ref.numerical_gradient_array(f, args[i], np.array(1.0))
        expect_matches_finite_differences(grad, numeric, what=f"{name}: {label}", case=case)


def _fake_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray]]:
    """(description, fake_logits): the fake logits of :func:`_logit_cases`."""
    for _, _, fake in _logit_cases(hidden):
        extreme = " with logits of ±800" if np.abs(fake).max() >= 800 else ""
        yield f"fake logits of shape {fake.shape} and dtype {fake.dtype}{extreme}", fake


@exercise("generator_loss")
def check_generator_loss(generator_loss: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``generator_loss(fake_logits) -> (loss, dfake)``: the non-saturating −mean log σ(ℓ_fake)."""
    run = CheckRun("generator_loss", hidden)
    for case, fake in run.cases(_fake_cases(hidden)):
        with run.case():
            result = call_student(generator_loss, fake, name="generator_loss")
            loss, (dfake,) = _loss_and_grads(result, "generator_loss", 1)
            expected, ef = ref.generator_loss(fake)
            f = np.asarray(fake, dtype=np.float64)
            pf = np.exp(ref.log_sigmoid(f))
            saturating = ("that is the saturating loss log(1 − D(G(z))) of the minimax game: its gradient σ(ℓ) vanishes "
                          "when D rejects the fakes (ℓ ≪ 0), early in training. Use the non-saturating "
                          "−log D(G(z)) = softplus(−ℓ).")
            expect_scalar(loss, expected, what="generator_loss's loss", case=case, nonfinite_hint=STABLE, mistakes=[
                Mistake(-np.mean(_softplus(f)), saturating, name="saturating"),
                Mistake(np.mean(_softplus(f)), "the generator wants D(G(z)) → 1: its loss is −log D(G(z)) = "
                        "softplus(−ℓ) (label 1 for its fakes), not the discriminator's −log(1 − D(G(z))).",
                        name="label 0"),
                Mistake(np.sum(_softplus(-f)) if f.size > 1 else None, "average over the batch (mean, not sum)."),
                Mistake(-expected, "the loss is −mean log σ(ℓ) ≥ 0, to be minimised."),
            ])
            if isinstance(dfake, np.ndarray) and dfake.shape != ef.shape and dfake.size == ef.size:
                raise CheckFailure(f"dfake has shape {dfake.shape}, expected {ef.shape} ({case}).\n  Hint: a gradient "
                                   f"has the shape of what it is the gradient of.")
            expect_float64_like(dfake, ef, what="dfake", case=case)
            expect_array(dfake, ef, what="dfake", case=case, **GRAD_TOL, nonfinite_hint=STABLE, mistakes=[
                Mistake(-pf / f.size, saturating, name="saturating"),
                Mistake(pf / f.size, "the generator's fakes carry label 1: ∂/∂ℓ [−log σ(ℓ)] = σ(ℓ) − 1.",
                        name="label 0"),
                Mistake(pf - 1 if f.size > 1 else None, "divide by the batch size: the loss is a mean."),
                Mistake((1 - pf) / f.size, "the sign: ∂/∂ℓ [−log σ(ℓ)] = σ(ℓ) − 1 (raising D's logit on a fake "
                        "lowers the generator's loss)."),
            ])
            if hidden and np.abs(f).max() < 100:
                _own_gradient_check(lambda a: ref.generator_loss(a)[0], [f], [dfake], ("dfake",), "generator_loss", case)
    run.passed()


# --------------------------------------------------------------------------- one GAN step in PyTorch


def _gan_cases(hidden: bool) -> Iterator[tuple[str, int, int, int, int]]:
    """(description, seed, real batch M, noise batch K, hidden width)."""
    rng = case_rng(hidden, SALT + 4)
    yield "real (16, 2), z (16, 2), width 8", 0, 16, 16, 8
    yield "real (8, 2), z (12, 2), width 6", 1, 8, 12, 6
    if hidden:
        yield "a batch of one: real (1, 2), z (1, 2)", 2, 1, 1, 4
        yield "real (5, 2), z (3, 2), width 16", int(rng.integers(3, 1000)), 5, 3, 16


def _gan_nets(seed: int, width: int) -> tuple[Any, Any]:
    """A discriminator (N, 2) → (N,) logits and a generator (K, 2) → (K, 2), float64, seeded."""
    import torch
    from torch import nn

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        disc = nn.Sequential(nn.Linear(2, width), nn.LeakyReLU(0.2), nn.Linear(width, 1), nn.Flatten(0)).double()
        gen = nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, 2)).double()
    return disc, gen


def _grads(module: Any) -> list[Any]:
    return [p.grad for p in module.parameters()]


def _any_gradient(grads: list[Any]) -> bool:
    return any(g is not None and bool(g.abs().sum() > 0) for g in grads)


@exercise("gan_losses")
def check_gan_losses(gan_losses: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``gan_losses(discriminator, generator, real, z) -> (d_loss, g_loss)``, two 0-d tensors.

    d_loss must not reach the generator (the fakes are detached), g_loss must (they are not); the
    values are the discriminator loss and the non-saturating generator loss on the same fakes.
    """
    import torch

    run = CheckRun("gan_losses", hidden)
    for case, seed, m, k, width in run.cases(_gan_cases(hidden)):
        with run.case():
            disc, gen = _gan_nets(seed, width)
            g = torch.Generator().manual_seed(seed + 7)
            real = torch.randn(m, 2, generator=g, dtype=torch.float64) * 2
            z = torch.randn(k, 2, generator=g, dtype=torch.float64)
            result = call_student(gan_losses, disc, gen, real, z, name="gan_losses")
            d_loss, g_loss = unpack(result, 2, name="gan_losses", names=("d_loss", "g_loss"))
            for what, value in (("d_loss", d_loss), ("g_loss", g_loss)):
                if not isinstance(value, torch.Tensor) or value.dim() != 0:
                    shape = f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else type(value).__name__
                    raise CheckFailure(f"{what} should be a 0-d torch.Tensor (a loss to call .backward() on), got "
                                       f"{shape} ({case}).\n  Hint: keep the losses as tensors (no .item(), no float()) "
                                       f"and average with .mean().")
            with torch.no_grad():
                real_logits = disc(real).numpy()
                fake_logits = disc(gen(z)).numpy()
            expected_d = ref.discriminator_loss(real_logits, fake_logits)[0]
            expected_g = ref.generator_loss(fake_logits)[0]
            swapped = ("real data is labelled 1 and fakes 0 in the discriminator's loss: "
                       "BCE(D(real), 1) + BCE(D(fake), 0).")
            expect_scalar(float(d_loss.detach()), expected_d, what="d_loss", case=case, rtol=1e-6, mistakes=[
                Mistake(ref.discriminator_loss(fake_logits, real_logits)[0], swapped),
                Mistake(ref.discriminator_loss(-real_logits, -fake_logits)[0], swapped),
            ])
            expect_scalar(float(g_loss.detach()), expected_g, what="g_loss", case=case, rtol=1e-6, mistakes=[
                Mistake(ref.generator_loss(fake_logits, saturating=True)[0],
                        "use the non-saturating generator loss −log D(G(z)) = BCE(D(fake), 1), not log(1 − D(G(z))), "
                        "whose gradient vanishes while D rejects the fakes."),
                Mistake(float(np.mean(_softplus(fake_logits))), "the generator labels its fakes 1: BCE(D(fake), 1)."),
            ])
            if not d_loss.requires_grad or not g_loss.requires_grad:
                raise CheckFailure(f"{'d_loss' if not d_loss.requires_grad else 'g_loss'} carries no gradient "
                                   f"({case}).\n  Hint: detach only the generator's output, G(z).detach(), and only "
                                   f"for d_loss; no torch.no_grad(), no .detach() of a logit or a loss.")
            for p in (*disc.parameters(), *gen.parameters()):
                p.grad = None
            d_loss.backward(retain_graph=True)
            if _any_gradient(_grads(gen)):
                raise CheckFailure(f"d_loss.backward() changed the generator's gradients ({case}).\n  Hint: detach the "
                                   f"fakes for the discriminator's loss, D(G(z).detach()): its step must not train G.")
            if not _any_gradient(_grads(disc)):
                raise CheckFailure(f"d_loss.backward() gives the discriminator no gradient ({case}).\n  Hint: detach "
                                   f"the generator's output, not the discriminator's.")
            for p in (*disc.parameters(), *gen.parameters()):
                p.grad = None
            g_loss.backward()
            if not _any_gradient(_grads(gen)):
                raise CheckFailure(f"g_loss.backward() gives the generator no gradient ({case}).\n  Hint: the "
                                   f"generator learns through the discriminator: compute g_loss on D(G(z)) without "
                                   f"detaching anything.")
            expected_grads = _generator_grads(disc, gen, z)
            for (name, _), got, exp in zip(gen.named_parameters(), _grads(gen), expected_grads):
                expect_array(got.numpy(), exp, what=f"the generator's gradient {name} from g_loss", case=case,
                             rtol=1e-6, atol=1e-9)
    run.passed()


def _generator_grads(disc: Any, gen: Any, z: Any) -> list[np.ndarray]:
    """The generator's parameter gradients of the non-saturating loss, by the chain rule through copies."""
    import copy

    import torch

    d2, g2 = copy.deepcopy(disc), copy.deepcopy(gen)
    logits = d2(g2(z))
    loss = torch.nn.functional.softplus(-logits).mean()
    return [t.numpy() for t in torch.autograd.grad(loss, list(g2.parameters()))]
