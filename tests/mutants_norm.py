"""Correct alternatives and known-wrong implementations (mutants) for the 06 normalization checks."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import norm as checks
from impersonate import as_student

Impl = Callable[..., Any]


# ----------------------------------------------------------------- batchnorm forward
def _bn(x, gamma, beta, state, cfg, *, eval_batch_stats=False, biased_running=False, momentum_reversed=False,
        eps_outside=False, unbiased_normalization=False, no_update=False, update_in_eval=False):
    eps, m = cfg.get("eps", 1e-5), cfg.get("momentum", 0.1)
    n = x.shape[0]
    mu, var = x.mean(axis=0), x.var(axis=0)
    rm, rv = state["running_mean"], state["running_var"]
    if cfg.get("mode", "train") == "train" or update_in_eval:
        batch_var = var if biased_running else var * n / (n - 1)
        if no_update:
            new = {"running_mean": rm.copy(), "running_var": rv.copy()}
        elif momentum_reversed:
            new = {"running_mean": m * rm + (1 - m) * mu, "running_var": m * rv + (1 - m) * batch_var}
        else:
            new = {"running_mean": (1 - m) * rm + m * mu, "running_var": (1 - m) * rv + m * batch_var}
    else:
        new = {"running_mean": rm.copy(), "running_var": rv.copy()}
    if cfg.get("mode", "train") == "train" or eval_batch_stats:
        use_mu, use_var = mu, (x.var(axis=0, ddof=1) if unbiased_normalization else var)
    else:
        use_mu, use_var = rm, rv
    x_hat = (x - use_mu) / (np.sqrt(use_var) + eps if eps_outside else np.sqrt(use_var + eps))
    return gamma * x_hat + beta, (x, x_hat, use_mu, use_var, gamma, eps), new


def batchnorm_forward_explicit_sums(x, gamma, beta, state, cfg):
    cfg = cfg or {}
    n = x.shape[0]
    eps, m = cfg.get("eps", 1e-5), cfg.get("momentum", 0.1)
    if cfg.get("mode", "train") == "train":
        mu = np.sum(x, axis=0) / n
        var = np.sum((x - mu) ** 2, axis=0) / n
        new = {"running_mean": state["running_mean"] + m * (mu - state["running_mean"]),
               "running_var": state["running_var"] + m * (np.sum((x - mu) ** 2, axis=0) / (n - 1) - state["running_var"])}
    else:
        mu, var = state["running_mean"], state["running_var"]
        new = dict(state)
    x_hat = (x - mu) * (var + eps) ** -0.5
    return x_hat * gamma + beta, (x, x_hat, mu, var, gamma, eps), new


def batchnorm_forward_batch_stats_in_eval(x, gamma, beta, state, cfg):
    return _bn(x, gamma, beta, state, cfg, eval_batch_stats=True)


def batchnorm_forward_biased_running_var(x, gamma, beta, state, cfg):
    return _bn(x, gamma, beta, state, cfg, biased_running=True)


def batchnorm_forward_keras_momentum(x, gamma, beta, state, cfg):
    return _bn(x, gamma, beta, state, cfg, momentum_reversed=True)


def batchnorm_forward_eps_outside_sqrt(x, gamma, beta, state, cfg):
    return _bn(x, gamma, beta, state, cfg, eps_outside=True)


def batchnorm_forward_unbiased_normalization(x, gamma, beta, state, cfg):
    return _bn(x, gamma, beta, state, cfg, unbiased_normalization=True)


def batchnorm_forward_never_updates_running_stats(x, gamma, beta, state, cfg):
    return _bn(x, gamma, beta, state, cfg, no_update=True)


def batchnorm_forward_updates_in_eval(x, gamma, beta, state, cfg):
    return _bn(x, gamma, beta, state, cfg, update_in_eval=True)


def batchnorm_forward_updates_state_in_place(x, gamma, beta, state, cfg):
    out, cache, new = _bn(x, gamma, beta, state, cfg)
    state["running_mean"][...] = new["running_mean"]  # CS231n style: the caller's arrays change
    state["running_var"][...] = new["running_var"]
    return out, cache, state


# ----------------------------------------------------------------- batchnorm backward
def batchnorm_backward_forgets_mean_and_var_paths(dout, cache):
    x, x_hat, mu, var, gamma, eps = cache
    return dout * gamma / np.sqrt(var + eps), (dout * x_hat).sum(0), dout.sum(0)


def batchnorm_backward_forgets_var_path(dout, cache):
    x, x_hat, mu, var, gamma, eps = cache
    return gamma / np.sqrt(var + eps) * (dout - dout.mean(0)), (dout * x_hat).sum(0), dout.sum(0)


def batchnorm_backward_dgamma_with_x(dout, cache):
    x, x_hat, mu, var, gamma, eps = cache
    dx, _, db = _alt(dout, cache)
    return dx, (dout * x).sum(0), db


def _alt(dout, cache):
    x, x_hat, mu, var, gamma, eps = cache
    n = x.shape[0]
    db, dg = dout.sum(0), (dout * x_hat).sum(0)
    return gamma / (n * np.sqrt(var + eps)) * (n * dout - db - x_hat * dg), dg, db


def batchnorm_backward_dbeta_mean(dout, cache):
    dx, dg, db = _alt(dout, cache)
    return dx, dg, dout.mean(0)


def batchnorm_backward_forgets_gamma(dout, cache):
    x, x_hat, mu, var, gamma, eps = cache
    dx, dg, db = _alt(dout, cache)
    return dx / gamma, dg, db


def batchnorm_backward_via_jacobian(dout, cache):
    """Column by column through the full N×N Jacobian of each feature: slow but right."""
    x, x_hat, mu, var, gamma, eps = cache
    n, d = x.shape
    s = np.sqrt(var + eps)
    dx = np.empty((n, d))  # float, whatever x's dtype
    for j in range(d):
        jac = (np.eye(n) - 1.0 / n - np.outer(x_hat[:, j], x_hat[:, j]) / n) / s[j]  # ∂x̂_i/∂x_k
        dx[:, j] = gamma[j] * jac.T @ dout[:, j]
    return dx, np.einsum("nd,nd->d", dout, x_hat), dout.sum(0)


# ----------------------------------------------------------------- standardize
def standardize_with_keepdims(X_train, X_test):
    mean = np.mean(X_train, axis=0, keepdims=True)
    std = np.sqrt(np.mean((X_train - mean) ** 2, axis=0, keepdims=True))
    std[std == 0] = 1.0
    return (X_train - mean) / std, (X_test - mean) / std, mean.ravel(), std.ravel()


def standardize_statistics_of_all_data(X_train, X_test):
    both = np.concatenate([X_train, X_test])
    mean, std = both.mean(0), both.std(0)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_test - mean) / std, mean, std


def standardize_test_with_own_statistics(X_train, X_test):
    def z(X):
        s = np.where(X.std(0) > 0, X.std(0), 1.0)
        return (X - X.mean(0)) / s, X.mean(0), s
    Z_train, mean, std = z(X_train)
    return Z_train, z(X_test)[0], mean, std


def standardize_sample_std(X_train, X_test):
    mean, std = X_train.mean(0), X_train.std(0, ddof=1)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_test - mean) / std, mean, std


def standardize_divides_by_zero(X_train, X_test):
    mean, std = X_train.mean(0), X_train.std(0)
    with np.errstate(all="ignore"):
        return (X_train - mean) / std, (X_test - mean) / std, mean, std


def standardize_forgets_test(X_train, X_test):
    mean, std = X_train.mean(0), np.where(X_train.std(0) > 0, X_train.std(0), 1.0)
    return (X_train - mean) / std, X_test, mean, std


# ----------------------------------------------------------------- tables

# ----------------------------------------------------------------- edge cases
def batchnorm_forward_returns_the_given_state_in_eval(x, gamma, beta, state, cfg):
    out, cache, new = _bn(x, gamma, beta, state, cfg)
    return out, cache, (state if cfg["mode"] == "eval" else new)  # "unchanged", but the same dict


def batchnorm_forward_momentum_zero_means_default(x, gamma, beta, state, cfg):
    return _bn(x, gamma, beta, state, dict(cfg, momentum=cfg["momentum"] or 0.1))  # 0 is falsy


def batchnorm_forward_x_hat_in_the_input_dtype(x, gamma, beta, state, cfg):
    out, cache, new = _bn(x, gamma, beta, state, cfg)
    x_hat = np.empty_like(x)  # an integer x makes x̂ an integer array
    x_hat[...] = cache[1]
    return gamma * x_hat + beta, (x, x_hat, *cache[2:]), new


def batchnorm_backward_dx_empty_like_x(dout, cache):
    dx, dg, db = _alt(dout, cache)
    out = np.empty_like(cache[0])  # the cached x: an integer array when the input was
    out[...] = dx
    return out, dg, db


def batchnorm_backward_std_without_eps(dout, cache):
    x, x_hat, mu, var, gamma, eps = cache
    n = x.shape[0]
    db, dg = dout.sum(0), (dout * x_hat).sum(0)
    return gamma / (n * np.sqrt(var)) * (n * dout - db - x_hat * dg), dg, db  # σ² = 0 divides by 0


def batchnorm_backward_float32(dout, cache):
    dx, dg, db = _alt(dout, cache)
    return dx.astype(np.float32), dg, db


def standardize_in_place_on_copies(X_train, X_test):
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0] = 1.0
    Z_train, Z_test = X_train.copy(), X_test.copy()  # copies keep an integer dtype
    Z_train -= mean
    Z_test -= mean
    return Z_train / std, Z_test / std, mean, std


def standardize_float32(X_train, X_test):
    Z_train, Z_test, mean, std = _standardize(X_train, X_test)
    return Z_train.astype(np.float32), Z_test.astype(np.float32), mean, std


def _standardize(X_train, X_test):
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_test - mean) / std, mean, std


CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_batchnorm_forward: [batchnorm_forward_explicit_sums],
    checks.check_batchnorm_backward: [batchnorm_backward_via_jacobian, as_student(ref.batchnorm_backward_alt)],
    checks.check_standardize: [standardize_with_keepdims],
}

REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_batchnorm_forward: ref.batchnorm_forward,
    checks.check_batchnorm_backward: ref.batchnorm_backward,
    checks.check_standardize: ref.standardize,
}

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_batchnorm_forward: [
        (batchnorm_forward_batch_stats_in_eval, "out has wrong values", True, "in eval mode normalize with the running averages"),
        (batchnorm_forward_biased_running_var, r"state\['running_var'\] has wrong values", True, "UNBIASED"),
        (batchnorm_forward_keras_momentum, r"state\['running_mean'\] has wrong values", True, "weight of the NEW value"),
        (batchnorm_forward_eps_outside_sqrt, "out has wrong values", True, "inside the square root"),
        (batchnorm_forward_unbiased_normalization, "out has wrong values", True, "biased batch variance"),
        (batchnorm_forward_never_updates_running_stats, r"state\['running_mean'\] has wrong values", True, "update the running mean"),
        (batchnorm_forward_updates_in_eval, r"state\['running_mean'\] has wrong values", True, "eval mode leaves the running statistics unchanged"),
        (batchnorm_forward_updates_state_in_place, "in place", True, None),
        (batchnorm_forward_returns_the_given_state_in_eval, "returned the state dict it was given", True, None),
        (batchnorm_forward_momentum_zero_means_default, r"state\['running_mean'\] has wrong values", False, None),
        (batchnorm_forward_x_hat_in_the_input_dtype, "out has wrong values", False, None),
    ],
    checks.check_batchnorm_backward: [
        (batchnorm_backward_forgets_mean_and_var_paths, "dx has wrong values", True, "batch mean μ and variance σ²"),
        (batchnorm_backward_forgets_var_path, "dx has wrong values", True, "path through the variance"),
        (batchnorm_backward_dgamma_with_x, "dgamma has wrong values", True, "not by x"),
        (batchnorm_backward_dbeta_mean, "dbeta has wrong values", True, "dbeta is averaged"),
        (batchnorm_backward_forgets_gamma, "dx has wrong values", True, "multiply by γ"),
        (batchnorm_backward_dx_empty_like_x, "dx has wrong values", False, None),
        (batchnorm_backward_std_without_eps, "dx has wrong values", True, None),
        (batchnorm_backward_float32, "dx has dtype float32", True, "keep that precision"),
    ],
    checks.check_standardize: [
        (standardize_statistics_of_all_data, "mean has wrong values", True, "training AND test"),
        (standardize_test_with_own_statistics, "Z_test has wrong values", True, "its own statistics"),
        (standardize_sample_std, "std has wrong values", True, "population standard deviation"),
        (standardize_divides_by_zero, "constant feature", True, "a constant feature has std 0"),
        (standardize_forgets_test, "Z_test has wrong values", True, "standardize the test split too"),
        (standardize_in_place_on_copies, None, False, None),
        (standardize_float32, "Z_train has dtype float32", True, "float64"),
    ],
}
