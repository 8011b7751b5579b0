"""Checks for lecture 06-init-normalization, part 2: batch normalization and standardization.

The batch-norm contract is :func:`dlcourse.ref.batchnorm_forward`'s:
``batchnorm_forward(x, gamma, beta, state, cfg) -> (out, cache, new_state)`` with
cache = (x, x̂, μ, σ², γ, ε) and ``state`` = {"running_mean", "running_var"} returned as a new
dict (changing the given one in place fails the check, as every in-place change does; so does
returning the dict it was given). Hidden cases add
a feature that is constant over the batch (σ² = 0), momentum 0 and 1, an eval batch of one,
integer and transposed inputs, and float64 outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_float64_like
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import GRAD_TOL, expect_backward_matches_finite_differences
from dlcourse.checks.guard import call_student, unpack

__all__ = ["check_batchnorm_forward", "check_batchnorm_backward", "check_standardize"]

SALT = 60_607  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

# Forward values, statistics and the cache (the backward pass uses the shared GRAD_TOL).
_TOL = {"rtol": 1e-6, "atol": 1e-9}


# --------------------------------------------------------------------------- forward

Case = tuple[str, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray], dict[str, Any]]


def _bn_cases(hidden: bool) -> Iterator[Case]:
    rng = case_rng(hidden, SALT)
    dims = [(6, 4), (10, 3)]
    if hidden:
        dims += [(2, 5), (int(rng.integers(3, 20)), int(rng.integers(1, 8))), (32, 2)]
    def draw(n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        # Features far from zero mean and unit variance, so that normalizing visibly matters.
        x = rng.standard_normal((n, d)) * rng.uniform(0.5, 4.0, d) + rng.uniform(-3, 3, d)
        state = {"running_mean": rng.standard_normal(d), "running_var": rng.uniform(0.5, 2.0, d)}
        return x, rng.uniform(0.5, 2.0, d), rng.standard_normal(d), state

    for i, (n, d) in enumerate(dims):
        x, gamma, beta, state = draw(n, d)
        momentum = [0.1, 0.3, 0.05, 0.5, 0.2][i]
        eps = 1e-5 if i % 2 == 0 else 1e-3
        for mode in ("train", "eval"):
            cfg = {"mode": mode, "momentum": momentum, "eps": eps}
            yield f"{mode} mode, x of shape {(n, d)}, momentum {momentum}, eps {eps}", x, gamma, beta, state, cfg
    if hidden:
        x, gamma, beta, state = draw(6, 3)
        x[:, 1] = 2.5  # σ² = 0: x̂ is 0 there, and only ε keeps the division finite
        for mode in ("train", "eval"):
            yield f"{mode} mode, x of shape (6, 3) with feature 1 constant over the batch (σ² = 0), momentum 0.1", \
                x, gamma, beta, state, {"mode": mode, "momentum": 0.1, "eps": 1e-5}
        x, gamma, beta, state = draw(5, 2)
        for m in (0.0, 1.0):
            yield f"train mode, x of shape (5, 2), momentum {m} (running statistics {'kept' if m == 0 else 'replaced'})", \
                x, gamma, beta, state, {"mode": "train", "momentum": m, "eps": 1e-5}
        x, gamma, beta, state = draw(1, 4)
        yield "eval mode, a batch of one example, x of shape (1, 4)", x, gamma, beta, state, \
            {"mode": "eval", "momentum": 0.1, "eps": 1e-5}
        _, gamma, beta, state = draw(4, 3)
        x = rng.integers(0, 256, size=(4, 3))
        for mode in ("train", "eval"):
            yield f"{mode} mode, integer x (pixel values 0–255) of shape (4, 3)", x, gamma, beta, state, \
                {"mode": mode, "momentum": 0.1, "eps": 1e-5}
        x, gamma, beta, state = draw(3, 5)
        yield "train mode, x of shape (3, 5) stored column by column (a transposed, non-contiguous array)", \
            np.asfortranarray(x), gamma, beta, state, {"mode": "train", "momentum": 0.2, "eps": 1e-5}


def _bn_mistakes(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, state: dict[str, np.ndarray],
                 cfg: dict[str, Any]) -> tuple[list[Mistake], list[Mistake], list[Mistake]]:
    eps, m = cfg["eps"], cfg["momentum"]
    n = x.shape[0]
    mu, var = x.mean(axis=0), x.var(axis=0)
    rm, rv = state["running_mean"], state["running_var"]
    train = cfg["mode"] == "train"
    use_mu, use_var = (mu, var) if train else (rm, rv)
    out_m = [
        Mistake(gamma * (x - mu) / np.sqrt(var + eps) + beta if not train else None,
                "in eval mode normalize with the running averages state['running_mean'] and "
                "state['running_var'], not with the batch statistics: a test example's output must not "
                "depend on the rest of its batch."),
        Mistake(gamma * (x - rm) / np.sqrt(rv + eps) + beta if train else None,
                "in train mode normalize with the batch statistics; the running averages are for eval mode."),
        Mistake(gamma * (x - use_mu) / (np.sqrt(use_var) + eps) + beta,
                "ε goes inside the square root: x̂ = (x − μ) / √(σ² + ε)."),
        Mistake(gamma * (x - mu) / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta if train else None,
                "normalize with the biased batch variance (divide by N); only the running average uses N − 1."),
        Mistake(beta * (x - use_mu) / np.sqrt(use_var + eps) + gamma, "γ scales and β shifts: y = γ·x̂ + β."),
        Mistake((x - use_mu) / np.sqrt(use_var + eps), "scale and shift the normalized values: y = γ·x̂ + β."),
    ]
    if train:
        unbiased = var * n / (n - 1)
        mean_m = [
            Mistake(m * rm + (1 - m) * mu, "PyTorch's momentum is the weight of the NEW value: "
                    "running ← (1 − momentum)·running + momentum·batch."),
            Mistake(rm, "update the running mean in train mode: (1 − momentum)·running_mean + momentum·μ."),
            Mistake(mu, "blend the batch mean into the running mean with the momentum instead of replacing it."),
        ]
        var_m = [
            Mistake((1 - m) * rv + m * var, "the running variance uses the UNBIASED batch variance "
                    "(divide by N − 1, i.e. σ²·N/(N − 1)), as PyTorch does; the normalization itself uses N."),
            Mistake(m * rv + (1 - m) * unbiased, "PyTorch's momentum is the weight of the NEW value: "
                    "running ← (1 − momentum)·running + momentum·batch."),
            Mistake(rv, "update the running variance in train mode."),
            Mistake((1 - m) * rv + m * np.sqrt(unbiased), "the running average is of the variance, not of the "
                    "standard deviation."),
        ]
    else:
        mean_m = [Mistake(m * mu + (1 - m) * rm, "eval mode leaves the running statistics unchanged.")]
        var_m = [Mistake((1 - m) * rv + m * var * n / (n - 1) if n > 1 else None,  # no unbiased variance of one
                         "eval mode leaves the running statistics unchanged.")]
    return out_m, mean_m, var_m


def _expect_new_dict(new_state: dict[str, Any], state: dict[str, np.ndarray], case: str) -> None:
    """The returned state is a new dict: the caller keeps the old one (e.g. to evaluate before the step)."""
    if new_state is state:
        raise CheckFailure(f"batchnorm_forward returned the state dict it was given ({case}): return a new dict, "
                           f"e.g. {{'running_mean': ..., 'running_var': ...}}.")


def _expect_state(state: Any, case: str) -> dict[str, Any]:
    if not isinstance(state, dict) or not {"running_mean", "running_var"} <= set(state):
        raise CheckFailure(f"batchnorm_forward should return a new state dict with keys 'running_mean' and "
                           f"'running_var', got {type(state).__name__} ({case}).")
    return state


@exercise("batchnorm_forward")
def check_batchnorm_forward(batchnorm_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``batchnorm_forward(x, gamma, beta, state, cfg) -> (out, cache, new_state)`` in both modes."""
    run = CheckRun("batchnorm_forward", hidden)
    for case, x, gamma, beta, state, cfg in run.cases(_bn_cases(hidden)):
        with run.case():
            result = call_student(batchnorm_forward, x, gamma, beta, state, cfg, name="batchnorm_forward")
            out, cache, new_state = unpack(result, 3, name="batchnorm_forward", names=("out", "cache", "state"))
            e_out, e_cache, e_state = ref.batchnorm_forward(x, gamma, beta, state, cfg)
            out_m, mean_m, var_m = _bn_mistakes(x, gamma, beta, state, cfg)
            expect_array(out, e_out, what="out", case=case, **_TOL, mistakes=out_m)
            expect_float64_like(out, e_out, what="out", case=case)
            new_state = _expect_state(new_state, case)
            _expect_new_dict(new_state, state, case)
            expect_array(new_state["running_mean"], e_state["running_mean"], what="state['running_mean']", case=case,
                         **_TOL, mistakes=mean_m)
            expect_array(new_state["running_var"], e_state["running_var"], what="state['running_var']", case=case,
                         **_TOL, mistakes=var_m)
            if cfg["mode"] == "train":
                _expect_cache(cache, e_cache, case)
    if hidden:
        _expect_running_average_over_steps(batchnorm_forward)
    run.passed(run.count + hidden)  # the ten steps count as one case


def _expect_cache(cache: Any, expected: tuple, case: str) -> None:
    contract = "cache should be the tuple (x, x_hat, mu, var, gamma, eps), as batchnorm_backward expects"
    if not isinstance(cache, (tuple, list)) or len(cache) != 6:
        raise CheckFailure(f"batchnorm_forward's {contract}; got {type(cache).__name__} ({case}).")
    for name, got, want in zip(("x", "x_hat", "mu", "var", "gamma", "eps"), cache, expected):
        if not np.allclose(np.asarray(got, dtype=np.float64), want, **_TOL) or np.shape(got) != np.shape(want):
            hint = " (the biased batch variance, divide by N)" if name == "var" else ""
            raise CheckFailure(f"batchnorm_forward's {contract}: item `{name}` differs{hint} ({case}).")


def _expect_running_average_over_steps(batchnorm_forward: Callable[..., Any]) -> None:
    """Ten train steps, feeding each returned state into the next call, then one eval step."""
    rng = case_rng(True, SALT)
    d = 3
    gamma, beta = np.ones(d), np.zeros(d)
    mine = theirs = ref.init_bn_state(d)
    cfg = {"mode": "train", "momentum": 0.1, "eps": 1e-5}
    for _ in range(10):
        x = rng.standard_normal((8, d)) * 2 + 5
        _, _, mine = call_student(batchnorm_forward, x, gamma, beta, mine, cfg, name="batchnorm_forward")
        _, _, theirs = ref.batchnorm_forward(x, gamma, beta, theirs, cfg)
    case = "ten train steps from PyTorch's initial state (zeros, ones), each using the state returned before"
    expect_array(_expect_state(mine, case)["running_mean"], theirs["running_mean"], what="state['running_mean']",
                 case=case, **_TOL)
    expect_array(mine["running_var"], theirs["running_var"], what="state['running_var']", case=case, **_TOL)


# --------------------------------------------------------------------------- backward


@exercise("batchnorm_backward")
def check_batchnorm_backward(batchnorm_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)`` (train mode)."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("batchnorm_backward", hidden)
    for case, x, gamma, beta, state, cfg in run.cases(c for c in _bn_cases(hidden) if c[5]["mode"] == "train"):
        with run.case():
            _, cache, _ = ref.batchnorm_forward(x, gamma, beta, state, cfg)
            dout = rng.standard_normal(x.shape)
            if not x.flags.c_contiguous:
                dout = np.asfortranarray(dout)  # transposed like x
            result = call_student(batchnorm_backward, dout, cache, name="batchnorm_backward")
            dx, dgamma, dbeta = unpack(result, 3, name="batchnorm_backward", names=("dx", "dgamma", "dbeta"))
            e_dx, e_dgamma, e_dbeta = ref.batchnorm_backward(dout, cache)
            _, x_hat, mu, var, g, eps = cache
            s = np.sqrt(var + eps)
            n = x.shape[0]
            only_mean = g / s * (dout - dout.mean(axis=0))  # forgets the path through σ²
            expect_array(dbeta, e_dbeta, what="dbeta", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout.mean(axis=0), "dbeta is averaged: sum dout over the batch (the 1/N is already in dout)."),
                Mistake(dout, "dbeta must be summed over the batch."),
            ])
            expect_array(dgamma, e_dgamma, what="dgamma", case=case, **GRAD_TOL, mistakes=[
                Mistake((dout * x).sum(axis=0), "dgamma = Σ dout ⊙ x̂: multiply by the normalized x̂, not by x."),
                Mistake(dout.sum(axis=0), "dgamma = Σ dout ⊙ x̂ (γ multiplies x̂)."),
                Mistake(dout * x_hat, "dgamma must be summed over the batch."),
            ])
            expect_array(dx, e_dx, what="dx", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout * g / s, "x also reaches the output through the batch mean μ and variance σ²: "
                        "add the gradients along those paths (dx = γ/(N√(σ²+ε))·(N·dout − Σdout − x̂·Σ dout⊙x̂))."),
                Mistake(only_mean, "the path through the variance σ² is missing (the term −x̂·Σ(dout⊙x̂)/N)."),
                Mistake(e_dx / g, "multiply by γ: the normalized x̂ is scaled by γ on its way to the output."),
                Mistake(g / (n * s) * (n * dout - dout.sum(axis=0) - x_hat * (dout * x_hat).sum(axis=0)) * s**2 / s,
                        "divide by √(σ² + ε), the standard deviation, once."),
            ])
            for label, got, want in (("dx", dx, e_dx), ("dgamma", dgamma, e_dgamma), ("dbeta", dbeta, e_dbeta)):
                expect_float64_like(got, want, what=label, case=case)
            # With N = 2, x̂ = ±1 whatever x is, so dx is ~0 and finite differences measure only noise; a
            # constant feature (σ² = 0) has a slope of γ/√ε, too steep for differences with h = 1e-5.
            if hidden and n > 2 and "constant" not in case:
                expect_backward_matches_finite_differences(
                    "batchnorm_backward", lambda xx, gg, bb: ref.batchnorm_forward(xx, gg, bb, state, cfg)[0],
                    (x.astype(np.float64), gamma, beta), dout, (dx, dgamma, dbeta), ("dx", "dgamma", "dbeta"),
                    case=case)
    run.passed()


# --------------------------------------------------------------------------- standardization


def _std_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    rng = case_rng(hidden, SALT)
    dims = [(20, 3, 8), (50, 4, 10)]
    if hidden:
        dims += [(2, 1, 1), (int(rng.integers(5, 40)), int(rng.integers(1, 6)), 3)]
    for n_train, d, n_test in dims:
        scale, shift = rng.uniform(0.5, 100, d), rng.uniform(-50, 150, d)
        X_train = rng.standard_normal((n_train, d)) * scale + shift
        X_test = rng.standard_normal((n_test, d)) * scale + shift + scale  # a shifted test split
        yield f"X_train {X_train.shape}, X_test {X_test.shape}", X_train, X_test
    X_train = rng.integers(0, 256, size=(12, 3)).astype(np.float64)
    X_train[:, 1] = 128.0  # a constant feature (a pixel that is always mid-grey)
    yield "pixel values 0–255 with a constant feature", X_train, rng.integers(0, 256, size=(4, 3)).astype(np.float64)
    if hidden:
        X_train = rng.integers(0, 256, size=(10, 4))
        yield "integer pixel values 0–255 (an integer array)", X_train, rng.integers(0, 256, size=(3, 4))
        yield "a training split of one example (every std is 0)", rng.standard_normal((1, 3)) * 5 + 2, \
            rng.standard_normal((4, 3))
        yield "X_train and X_test transposed (non-contiguous)", (rng.standard_normal((3, 15)) * 4 + 1).T, \
            rng.standard_normal((3, 5)).T


@exercise("standardize")
def check_standardize(standardize: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``standardize(X_train, X_test) -> (Z_train, Z_test, mean, std)`` (training statistics only)."""
    run = CheckRun("standardize", hidden)
    for case, X_train, X_test in run.cases(_std_cases(hidden)):
        with run.case():
            result = call_student(standardize, X_train, X_test, name="standardize")
            Z_train, Z_test, mean, std = unpack(result, 4, name="standardize", names=("Z_train", "Z_test", "mean", "std"))
            e_train, e_test, e_mean, e_std = ref.standardize(X_train, X_test)
            both = np.concatenate([X_train, X_test])
            std_all = np.where(both.std(axis=0) > 0, both.std(axis=0), 1.0)
            leak = "use the training split's statistics only: statistics of the test data leak into the model."
            expect_array(mean, e_mean, what="mean", case=case, mistakes=[
                Mistake(both.mean(axis=0), "the mean is over training AND test data; " + leak),
                Mistake(X_train.mean(axis=1), "average over examples (axis 0): one mean per feature."),
            ])
            ddof1 = X_train.std(axis=0, ddof=1) if len(X_train) > 1 else e_std
            expect_array(std, e_std, what="std", case=case, nonfinite_hint="a constant feature has std 0: use 1 in its place "
                         "so that it maps to 0 instead of dividing by zero.", mistakes=[
                Mistake(std_all, "the std is over training AND test data; " + leak),
                Mistake(np.where(ddof1 > 0, ddof1, 1.0), "use the population standard deviation (ddof=0, np.std's "
                        "default), as the reference and scikit-learn's StandardScaler do."),
                Mistake(X_train.std(axis=0), "a constant feature has std 0: use 1 in its place so that it maps to 0 "
                        "instead of dividing by zero."),
                Mistake(X_train.var(axis=0), "divide by the standard deviation, not the variance."),
            ])
            expect_array(Z_train, e_train, what="Z_train", case=case, nonfinite_hint="a constant feature has std 0: use 1 "
                         "in its place so that it maps to 0.", mistakes=[
                Mistake(X_train / e_std, "subtract the mean before dividing by the std."),
                Mistake((X_train - both.mean(axis=0)) / std_all, leak),
            ])
            own_std = np.where(X_test.std(axis=0) > 0, X_test.std(axis=0), 1.0)
            expect_array(Z_test, e_test, what="Z_test", case=case, nonfinite_hint="a constant feature has std 0: use 1 "
                         "in its place.", mistakes=[
                Mistake((X_test - X_test.mean(axis=0)) / own_std, "the test split is standardized with its own "
                        "statistics; " + leak + " Transform it with the training mean and std."),
                Mistake((X_test - both.mean(axis=0)) / std_all, leak),
                Mistake(X_test, "standardize the test split too, with the training mean and std."),
            ])
            for label, got, want in (("Z_train", Z_train, e_train), ("Z_test", Z_test, e_test), ("mean", mean, e_mean),
                                     ("std", std, e_std)):
                expect_float64_like(got, want, what=label, case=case)
    run.passed()
