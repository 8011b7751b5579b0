"""Correct alternatives and known-wrong implementations (mutants) for the 04-backprop checks.

Each mutant is a mistake students really make, named after it. ``MUTANTS[check]`` lists
``(implementation, pattern, public, hint)`` entries, as ``check_harness`` describes.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import backprop as checks

Impl = Callable[..., Any]


# ----------------------------------------------------------------- affine forward
def affine_forward_einsum(x, w, b):
    xf = x.reshape(len(x), int(np.prod(x.shape[1:])))
    return np.einsum("nd,dm->nm", xf, w) + b[None, :], (x, w, b)


def affine_forward_no_bias(x, w, b):
    return x.reshape(x.shape[0], -1) @ w, (x, w, b)


def affine_forward_transposed_output(x, w, b):
    return (x.reshape(x.shape[0], -1) @ w + b).T, (x, w, b)


def affine_forward_no_flatten(x, w, b):
    return x @ w + b, (x, w, b)


def affine_forward_flattened_cache(x, w, b):
    xf = x.reshape(x.shape[0], -1)
    return xf @ w + b, (xf, w, b)


def affine_forward_returns_out_only(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b


def affine_forward_calls_reference(x, w, b):
    return ref.affine_forward(x, w, b)


# ----------------------------------------------------------------- affine backward
def affine_backward_loops(dout, cache):
    x, w, b = cache
    xf = x.reshape(x.shape[0], -1)
    dx, dw, db = np.zeros(xf.shape), np.zeros(w.shape), np.zeros(b.shape)  # float, whatever x's dtype
    for n in range(xf.shape[0]):  # one example at a time: slow, but right
        dx[n] = w @ dout[n]
        dw += np.outer(xf[n], dout[n])
        db += dout[n]
    return dx.reshape(x.shape), dw, db


def affine_backward_db_not_summed(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, dout


def affine_backward_db_mean(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, dout.mean(axis=0)


def affine_backward_dw_transposed(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), dout.T @ x.reshape(len(x), -1), dout.sum(0)


def affine_backward_dx_not_reshaped(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.reshape(len(x), -1).T @ dout, dout.sum(0)


def affine_backward_dw_divided_by_n(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout / len(x), dout.sum(0)


def affine_backward_dx_uses_w_not_transposed(dout, cache):
    x, w, b = cache
    return (dout @ w.T @ np.ones((w.shape[0], w.shape[0])) / w.shape[0]).reshape(x.shape), \
        x.reshape(len(x), -1).T @ dout, dout.sum(0)


# ----------------------------------------------------------------- activations
def relu_backward_where(dout, cache):
    return np.where(cache > 0, dout, 0.0)


def relu_backward_ge_zero(dout, cache):
    return dout * (cache >= 0)


def relu_backward_mask_only(dout, cache):
    return (cache > 0).astype(float)


def relu_backward_mask_from_dout(dout, cache):
    return dout * (dout > 0)


def relu_backward_in_place(dout, cache):
    dout[cache <= 0] = 0  # edits the caller's array
    return dout


def sigmoid_backward_from_cache_explicit(dout, cache):
    s = cache
    return dout * (s - s**2)


def sigmoid_backward_sigma_applied_again(dout, cache):
    s = 1 / (1 + np.exp(-cache))
    return dout * s * (1 - s)


def sigmoid_backward_no_dout(dout, cache):
    return cache * (1 - cache)


def sigmoid_backward_tanh_derivative(dout, cache):
    return dout * (1 - cache**2)


def sigmoid_backward_missing_one_minus(dout, cache):
    return dout * cache


def tanh_backward_via_cosh(dout, cache):
    x = np.arctanh(np.clip(cache, -1 + 1e-16, 1 - 1e-16))
    return dout / np.cosh(x) ** 2


def tanh_backward_not_squared(dout, cache):
    return dout * (1 - cache)


def tanh_backward_tanh_applied_again(dout, cache):
    return dout * (1 - np.tanh(cache) ** 2)


def tanh_backward_no_dout(dout, cache):
    return 1 - cache**2


def tanh_backward_sigmoid_derivative(dout, cache):
    return dout * cache * (1 - cache)


# ----------------------------------------------------------------- softmax cross-entropy
def softmax_ce_logsumexp(scores, y):
    n = len(y)
    m = scores.max(axis=1)
    lse = m + np.log(np.exp(scores - m[:, None]).sum(axis=1))
    loss = np.mean(lse - scores[np.arange(n), y])
    probs = np.exp(scores - lse[:, None])
    onehot = np.zeros_like(scores)
    onehot[np.arange(n), y] = 1
    return loss, (probs - onehot) / n


def softmax_ce_no_max_subtraction(scores, y):
    n = len(y)
    e = np.exp(scores)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    d = p.copy()
    d[np.arange(n), y] -= 1
    return loss, d / n


def softmax_ce_sum_not_mean(scores, y):
    loss, d = _stable(scores, y)
    return loss * len(y), d * len(y)


def _stable(scores, y):
    n = len(y)
    s = scores - scores.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), y] -= 1
    return -logp[np.arange(n), y].mean(), d / n


def softmax_ce_gradient_not_divided(scores, y):
    loss, d = _stable(scores, y)
    return loss, d * len(y)


def softmax_ce_gradient_sign_flipped(scores, y):
    loss, d = _stable(scores, y)
    return loss, -d


def softmax_ce_forgets_onehot(scores, y):
    loss, _ = _stable(scores, y)
    s = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    return loss, p / len(y)


def softmax_ce_per_example_loss(scores, y):
    n = len(y)
    s = scores - scores.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    _, d = _stable(scores, y)
    return -logp[np.arange(n), y], d


def softmax_ce_clipped_probabilities(scores, y):
    # "Stabilized" by clipping probabilities instead of working in log space: wrong for large logits.
    n = len(y)
    s = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log(np.clip(p[np.arange(n), y], 1e-12, 1.0)).mean()
    d = p.copy()
    d[np.arange(n), y] -= 1
    return loss, d / n


# ----------------------------------------------------------------- numerical gradient
def numerical_gradient_flat_view(f, x, h=1e-5):
    grad = np.empty(x.size)
    flat = x.reshape(-1)  # a view: writing into it perturbs x itself
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + h
        up = f(x)
        flat[i] = keep - h
        down = f(x)
        flat[i] = keep
        grad[i] = (up - down) / (2 * h)
    return grad.reshape(x.shape)


def numerical_gradient_forward_difference(f, x, h=1e-5):
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - fx) / h
        x[i] = old
    return grad


def numerical_gradient_divides_by_h(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / h
    return grad


def numerical_gradient_never_restores(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        up = f(x)
        x[i] -= 2 * h
        down = f(x)
        grad[i] = (up - down) / (2 * h)
    return grad


def numerical_gradient_perturbs_a_copy(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


def numerical_gradient_all_at_once(f, x, h=1e-5):
    x += h
    up = f(x)
    x -= 2 * h
    down = f(x)
    x += h
    return np.full_like(x, (up - down) / (2 * h))


def numerical_gradient_first_axis_only(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in range(x.shape[0]):  # treats x as 1-D: only x[i, 0, ...] on 2-D inputs... wrongly whole rows
        old = x[i].copy()
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


# ----------------------------------------------------------------- two-layer network
def _parts(params, X):
    h = X @ params["W1"] + params["b1"]
    a = np.maximum(h, 0)
    return h, a, a @ params["W2"] + params["b2"]


def two_layer_net_one_function(params, X, y=None, reg=0.0):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    h, a, s = _parts(params, X)
    if y is None:
        return s
    n = X.shape[0]
    z = s - s.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(n), y].sum() / n + reg / 2 * ((W1**2).sum() + (W2**2).sum())
    ds = np.exp(logp)
    ds[np.arange(n), y] -= 1
    ds /= n
    dh = (ds @ W2.T) * (h > 0)
    return loss, {"W1": X.T @ dh + reg * W1, "b1": dh.sum(0), "W2": a.T @ ds + reg * W2, "b2": ds.sum(0)}


def _with(params, X, y, reg, *, reg_factor=1.0, reg_bias=False, relu_mask=True, loss_reg_factor=None):
    W1, W2 = params["W1"], params["W2"]
    h, a, s = _parts(params, X)
    n = X.shape[0]
    z = s - s.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    lrf = reg_factor if loss_reg_factor is None else loss_reg_factor
    loss = -logp[np.arange(n), y].mean() + lrf * 0.5 * reg * ((W1**2).sum() + (W2**2).sum())
    if reg_bias:
        loss += 0.5 * reg * ((params["b1"] ** 2).sum() + (params["b2"] ** 2).sum())
    ds = np.exp(logp)
    ds[np.arange(n), y] -= 1
    ds /= n
    dh = ds @ W2.T
    if relu_mask:
        dh = dh * (h > 0)
    g = {"W1": X.T @ dh + reg_factor * reg * W1, "b1": dh.sum(0), "W2": a.T @ ds + reg_factor * reg * W2, "b2": ds.sum(0)}
    if reg_bias:
        g["b1"] = g["b1"] + reg * params["b1"]
        g["b2"] = g["b2"] + reg * params["b2"]
    return loss, g


def two_layer_net_regularizes_biases(params, X, y=None, reg=0.0):
    return _parts(params, X)[2] if y is None else _with(params, X, y, reg, reg_bias=True)


def two_layer_net_reg_without_half(params, X, y=None, reg=0.0):
    return _parts(params, X)[2] if y is None else _with(params, X, y, reg, reg_factor=2.0)


def two_layer_net_forgets_relu_in_backward(params, X, y=None, reg=0.0):
    return _parts(params, X)[2] if y is None else _with(params, X, y, reg, relu_mask=False)


def two_layer_net_returns_probabilities(params, X, y=None, reg=0.0):
    if y is None:
        s = _parts(params, X)[2]
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return _with(params, X, y, reg)


def two_layer_net_no_reg_gradient(params, X, y=None, reg=0.0):
    return _parts(params, X)[2] if y is None else _with(params, X, y, reg, reg_factor=0.0, loss_reg_factor=1.0)


def two_layer_net_no_hidden_activation(params, X, y=None, reg=0.0):
    h = X @ params["W1"] + params["b1"]
    s = h @ params["W2"] + params["b2"]
    if y is None:
        return s
    return _with(params, X, y, reg)


def two_layer_net_updates_params_in_place(params, X, y=None, reg=0.0):
    if y is None:
        return _parts(params, X)[2]
    loss, g = _with(params, X, y, reg)
    params["W1"] -= 0.0 * g["W1"] + 1e-3  # "helpfully" takes a step while computing gradients
    return loss, g


# ----------------------------------------------------------------- the worked example (linear net)
def linear_net_grads_einsum(x, y, W0, b0, W1, b1):
    x, y = np.asarray(x, float), np.asarray(y, float)
    a = np.einsum("nd,dh->nh", x, W0) + b0
    err = np.einsum("nh,hk->nk", a, W1) + b1 - y
    n = len(x)
    da = err @ W1.T / n
    return 0.5 * float((err * err).sum()) / n, {
        "W1": np.einsum("nh,nk->hk", a, err) / n, "b1": err.sum(axis=0) / n,
        "W0": np.einsum("nd,nh->dh", x, da), "b0": da.sum(axis=0)}


def _linear_parts(x, y, W0, b0, W1, b1):
    a = x @ W0 + b0
    return a, a @ W1 + b1 - y


def linear_net_grads_sums_over_the_batch(x, y, W0, b0, W1, b1):
    a, err = _linear_parts(x, y, W0, b0, W1, b1)
    da = err @ W1.T
    return 0.5 * float((err**2).sum()), {"W0": x.T @ da, "b0": da.sum(0), "W1": a.T @ err, "b1": err.sum(0)}


def linear_net_grads_sign_flipped(x, y, W0, b0, W1, b1):
    loss, g = ref_linear_net(x, y, W0, b0, W1, b1)
    return loss, {k: -v for k, v in g.items()}


def linear_net_grads_forgets_w1(x, y, W0, b0, W1, b1):
    a, err = _linear_parts(x, y, W0, b0, W1, b1)
    d = err / len(x)
    return 0.5 * float((err**2).sum()) / len(x), {"W0": x.T @ d, "b0": d.sum(0), "W1": a.T @ d, "b1": d.sum(0)}


def linear_net_grads_bias_not_summed(x, y, W0, b0, W1, b1):
    a, err = _linear_parts(x, y, W0, b0, W1, b1)
    d = err / len(x)
    da = d @ W1.T
    return 0.5 * float((err**2).sum()) / len(x), {"W0": x.T @ da, "b0": da.sum(0), "W1": a.T @ d, "b1": d}


def linear_net_grads_drops_the_half(x, y, W0, b0, W1, b1):
    loss, g = ref_linear_net(x, y, W0, b0, W1, b1)
    return 2 * loss, {k: 2 * v for k, v in g.items()}


def linear_net_grads_divides_in_place(x, y, W0, b0, W1, b1):
    a = x @ W0 + b0
    delta = a @ W1 + b1 - y
    loss = 0.5 * float((delta**2).sum()) / len(x)
    delta /= len(x)  # an integer array cannot hold the quotient: the lecture's example written with ints crashes
    da = delta @ W1.T
    return loss, {"W0": x.T @ da, "b0": da.sum(0), "W1": a.T @ delta, "b1": delta.sum(0)}


def linear_net_grads_float32(x, y, W0, b0, W1, b1):
    loss, g = ref_linear_net(x, y, W0, b0, W1, b1)
    return loss, {k: v.astype(np.float32) for k, v in g.items()}


def ref_linear_net(x, y, W0, b0, W1, b1):
    a, err = _linear_parts(np.asarray(x, float), np.asarray(y, float), W0, b0, W1, b1)
    d = err / len(x)
    da = d @ W1.T
    return 0.5 * float((err**2).sum()) / len(x), {"W0": x.T @ da, "b0": da.sum(0), "W1": a.T @ d, "b1": d.sum(0)}


# ----------------------------------------------------------------- edge cases of the layer exercises
def affine_forward_output_in_input_dtype(x, w, b):
    out = np.empty((x.shape[0], w.shape[1]), dtype=x.dtype)  # an int x makes an int output
    out[:] = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_forward_float32(x, w, b):
    return (x.reshape(x.shape[0], -1) @ w + b).astype(np.float32), (x, w, b)


def affine_backward_dx_zeros_like_x(dout, cache):
    x, w, b = cache
    dx = np.zeros_like(x)  # int when x is int
    dx[...] = (dout @ w.T).reshape(x.shape)
    return dx, x.reshape(len(x), -1).T @ dout, dout.sum(0)


def affine_backward_float32(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape).astype(np.float32), x.reshape(len(x), -1).T @ dout, dout.sum(0)


def relu_backward_zeros_like_cache(dout, cache):
    dx = np.zeros_like(cache)  # int when the layer's input was int
    dx[cache > 0] = dout[cache > 0]
    return dx


def relu_backward_float32(dout, cache):
    return (dout * (cache > 0)).astype(np.float32)


def sigmoid_backward_float32(dout, cache):
    return (dout * cache * (1 - cache)).astype(np.float32)


def tanh_backward_float32(dout, cache):
    return (dout * (1 - cache**2)).astype(np.float32)


def softmax_ce_classes_from_labels(scores, y):
    n = len(y)
    s = scores - scores.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    onehot = np.eye(y.max() + 1)[y]  # C taken from the labels: wrong when the batch misses the last classes
    return -logp[np.arange(n), y].mean(), (np.exp(logp) - onehot) / n


def softmax_ce_float32(scores, y):
    loss, d = _stable(scores, y)
    return loss, d.astype(np.float32)


def numerical_gradient_unravel(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for k in range(x.size):
        i = np.unravel_index(k, x.shape)
        keep = x[i]
        x[i] = keep + h
        up = f(x)
        x[i] = keep - h
        down = f(x)
        x[i] = keep
        grad[i] = (up - down) / (2 * h)
    return grad


def two_layer_net_relu_mask_at_zero(params, X, y=None, reg=0.0):
    if y is None:
        return _parts(params, X)[2]
    W1, W2 = params["W1"], params["W2"]
    h, a, s = _parts(params, X)
    n = X.shape[0]
    z = s - s.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ds = np.exp(logp)
    ds[np.arange(n), y] -= 1
    ds /= n
    dh = (ds @ W2.T) * (h >= 0)  # lets the gradient through at h = 0
    loss = -logp[np.arange(n), y].mean() + 0.5 * reg * ((W1**2).sum() + (W2**2).sum())
    return loss, {"W1": X.T @ dh + reg * W1, "b1": dh.sum(0), "W2": a.T @ ds + reg * W2, "b2": ds.sum(0)}


def two_layer_net_classes_from_labels(params, X, y=None, reg=0.0):
    if y is None:
        return _parts(params, X)[2]
    W1, W2 = params["W1"], params["W2"]
    h, a, s = _parts(params, X)
    n = X.shape[0]
    z = s - s.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    ds = (p - np.eye(y.max() + 1)[y]) / n  # C from the labels
    dh = (ds @ W2.T) * (h > 0)
    loss = -np.log(p[np.arange(n), y]).mean() + 0.5 * reg * ((W1**2).sum() + (W2**2).sum())
    return loss, {"W1": X.T @ dh + reg * W1, "b1": dh.sum(0), "W2": a.T @ ds + reg * W2, "b2": ds.sum(0)}


def two_layer_net_reg_default_not_zero(params, X, y=None, reg=1e-3):
    return _parts(params, X)[2] if y is None else _with(params, X, y, reg)


def two_layer_net_float32_grads(params, X, y=None, reg=0.0):
    if y is None:
        return _parts(params, X)[2]
    loss, g = _with(params, X, y, reg)
    return loss, {k: v.astype(np.float32) for k, v in g.items()}


# ----------------------------------------------------------------- relative error
def rel_error_where(a, b, eps=1e-12):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = np.abs(a) + np.abs(b)
    return float(np.max(np.abs(a - b) / np.where(denom > eps, denom, eps)))


def rel_error_mean(a, b, eps=1e-12):
    return float(np.mean(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))


def rel_error_norms(a, b, eps=1e-12):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))


def rel_error_eps_added(a, b, eps=1e-12):
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b) + eps)))


def rel_error_no_eps(a, b, eps=1e-12):
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


def rel_error_relative_to_a(a, b, eps=1e-12):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), eps)))


def rel_error_ratio_of_maxima(a, b, eps=1e-12):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), eps))


def rel_error_per_entry(a, b, eps=1e-12):
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)


# ----------------------------------------------------------------- gradient descent
def gradient_descent_while(loss_fn, params, *, lr, steps):
    params = dict((k, np.array(v, dtype=float)) for k, v in params.items())
    losses, t = [], 0
    while t < steps:
        loss, grads = loss_fn(params)
        losses.append(float(loss))
        params = {k: params[k] - lr * grads[k] for k in params}
        t += 1
    return params, losses


def gradient_descent_ascends(loss_fn, params, *, lr, steps):
    params, losses = dict(params), []
    for _ in range(steps):
        loss, grads = loss_fn(params)
        losses.append(loss)
        params = {k: p + lr * grads[k] for k, p in params.items()}
    return params, losses


def gradient_descent_records_after_the_step(loss_fn, params, *, lr, steps):
    params, losses = dict(params), []
    for _ in range(steps):
        _, grads = loss_fn(params)
        params = {k: p - lr * grads[k] for k, p in params.items()}
        losses.append(loss_fn(params)[0])
    return params, losses


def gradient_descent_gradient_once(loss_fn, params, *, lr, steps):
    params, losses = dict(params), []
    _, grads = loss_fn(params)
    for _ in range(steps):
        losses.append(loss_fn(params)[0])
        params = {k: p - lr * grads[k] for k, p in params.items()}
    return params, losses


def gradient_descent_weights_only(loss_fn, params, *, lr, steps):
    params, losses = {k: np.array(v, dtype=float) for k, v in params.items()}, []
    for _ in range(steps):
        loss, grads = loss_fn(params)
        losses.append(loss)
        params = {k: p - lr * grads[k] if k.startswith(("w", "W")) else p for k, p in params.items()}
    return params, losses


def gradient_descent_one_step_too_many(loss_fn, params, *, lr, steps):
    params, losses = dict(params), []
    for _ in range(steps + 1):
        loss, grads = loss_fn(params)
        losses.append(loss)
        params = {k: p - lr * grads[k] for k, p in params.items()}
    return params, losses


def gradient_descent_in_place(loss_fn, params, *, lr, steps):
    losses = []
    for _ in range(steps):
        loss, grads = loss_fn(params)
        losses.append(loss)
        for k in params:
            params[k] -= lr * grads[k]  # the caller's arrays
    return params, losses


def gradient_descent_returns_the_callers_arrays(loss_fn, params, *, lr, steps):
    new, losses = dict(params), []  # a new dict, but the same arrays until the first step
    for _ in range(steps):
        loss, grads = loss_fn(new)
        losses.append(loss)
        new = {k: p - lr * grads[k] for k, p in new.items()}
    return new, losses


def gradient_descent_steps_in_place_on_a_copy(loss_fn, params, *, lr, steps):
    params, losses = {k: v.copy() for k, v in params.items()}, []  # keeps an int dtype
    for _ in range(steps):
        loss, grads = loss_fn(params)
        losses.append(loss)
        for k in params:
            params[k] -= lr * grads[k]
    return params, losses


# ----------------------------------------------------------------- tables
CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_linear_net_grads: [linear_net_grads_einsum],
    checks.check_affine_forward: [affine_forward_einsum],
    checks.check_affine_backward: [affine_backward_loops],
    checks.check_relu_backward: [relu_backward_where],
    checks.check_sigmoid_backward: [sigmoid_backward_from_cache_explicit],
    checks.check_tanh_backward: [tanh_backward_via_cosh],
    checks.check_softmax_cross_entropy: [softmax_ce_logsumexp],
    checks.check_numerical_gradient: [numerical_gradient_unravel],
    checks.check_rel_error: [rel_error_where],
    checks.check_two_layer_net: [two_layer_net_one_function],
    checks.check_gradient_descent: [gradient_descent_while],
}

REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_linear_net_grads: ref.linear_net_grads,
    checks.check_affine_forward: ref.affine_forward,
    checks.check_affine_backward: ref.affine_backward,
    checks.check_relu_backward: ref.relu_backward,
    checks.check_sigmoid_backward: ref.sigmoid_backward,
    checks.check_tanh_backward: ref.tanh_backward,
    checks.check_softmax_cross_entropy: ref.softmax_cross_entropy,
    checks.check_numerical_gradient: ref.numerical_gradient,
    checks.check_rel_error: ref.rel_error,
    checks.check_two_layer_net: ref.two_layer_net,
    checks.check_gradient_descent: ref.gradient_descent,
}

# (mutant, pattern the failure message must match, fails already in the public cases?)
MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_linear_net_grads: [
        (linear_net_grads_sums_over_the_batch, "loss is", True, "summed over the batch"),
        (linear_net_grads_sign_flipped, r"grads\['W1'\] has wrong values", True, "sign is flipped"),
        (linear_net_grads_forgets_w1, r"grads\['W0'\] has shape", True, None),
        (linear_net_grads_bias_not_summed, r"grads\['b1'\] has shape", True, "sums over the batch"),
        (linear_net_grads_drops_the_half, "loss is", True, "don't drop the ½"),
        (linear_net_grads_divides_in_place, None, False, None),
        (linear_net_grads_float32, r"grads\['W1'\] has dtype float32, expected float64", True, "keep that precision"),
    ],
    checks.check_affine_forward: [
        (affine_forward_no_bias, "affine_forward's out has wrong values", True, "bias b is missing"),
        (affine_forward_transposed_output, "affine_forward's out has shape", True, "one row per example"),
        (affine_forward_no_flatten, None, True, None),
        (affine_forward_flattened_cache, "cache should be the tuple", True, None),
        (affine_forward_returns_out_only, "should return a tuple", True, None),
        (affine_forward_calls_reference, "called dlcourse.ref", True, None),
        (affine_forward_output_in_input_dtype, "out has wrong values", False, "cut to whole numbers"),
        (affine_forward_float32, "affine_forward's out has dtype float32", True, "keep that precision"),
    ],
    checks.check_affine_backward: [
        (affine_backward_db_not_summed, "db has shape", True, "summed over the batch"),
        (affine_backward_db_mean, "db has wrong values", True, "db is averaged"),
        (affine_backward_dw_transposed, "dw has shape", True, "dw is transposed"),
        (affine_backward_dx_not_reshaped, "dx has shape", True, "reshape"),
        (affine_backward_dw_divided_by_n, "dw has wrong values", True, "divided by N"),
        (affine_backward_dx_uses_w_not_transposed, "dx has wrong values", True, None),
        (affine_backward_dx_zeros_like_x, "dx has wrong values", False, "cut to whole numbers"),
        (affine_backward_float32, "dx has dtype float32", True, "keep that precision"),
    ],
    checks.check_relu_backward: [
        (relu_backward_ge_zero, "relu_backward's dx has wrong values", True, "at x = 0"),
        (relu_backward_mask_only, "relu_backward's dx has wrong values", True, "multiply the mask by dout"),
        (relu_backward_mask_from_dout, "relu_backward's dx has wrong values", True, "not from dout"),
        (relu_backward_in_place, "in place", True, None),
        (relu_backward_zeros_like_cache, "relu_backward's dx has wrong values", False, "cut to whole numbers"),
        (relu_backward_float32, "relu_backward's dx has dtype float32", True, "keep that precision"),
    ],
    checks.check_sigmoid_backward: [
        (sigmoid_backward_sigma_applied_again, "sigmoid_backward's dx has wrong values", True, "already holds σ"),
        (sigmoid_backward_no_dout, "sigmoid_backward's dx has wrong values", True, "multiply by dout"),
        (sigmoid_backward_tanh_derivative, "sigmoid_backward's dx has wrong values", True, "tanh's derivative"),
        (sigmoid_backward_missing_one_minus, "sigmoid_backward's dx has wrong values", True, r"not σ\(x\)"),
        (sigmoid_backward_float32, "sigmoid_backward's dx has dtype float32", True, "keep that precision"),
    ],
    checks.check_tanh_backward: [
        (tanh_backward_not_squared, "tanh_backward's dx has wrong values", True, "square the output"),
        (tanh_backward_tanh_applied_again, "tanh_backward's dx has wrong values", True, "already holds tanh"),
        (tanh_backward_no_dout, "tanh_backward's dx has wrong values", True, "multiply by dout"),
        (tanh_backward_sigmoid_derivative, "tanh_backward's dx has wrong values", True, "sigmoid's derivative"),
        (tanh_backward_float32, "tanh_backward's dx has dtype float32", True, "keep that precision"),
    ],
    checks.check_softmax_cross_entropy: [
        (softmax_ce_no_max_subtraction, "loss is", True, "subtract each row's maximum"),
        (softmax_ce_sum_not_mean, "loss is", True, "take the mean"),
        (softmax_ce_gradient_not_divided, "dscores has wrong values", True, "N times too large"),
        (softmax_ce_gradient_sign_flipped, "dscores has wrong values", True, "sign is flipped"),
        (softmax_ce_forgets_onehot, "dscores has wrong values", True, "subtract 1 at the correct class"),
        (softmax_ce_per_example_loss, "loss should", True, "return one number"),
        (softmax_ce_clipped_probabilities, "large scores", True, "overflows for large scores"),
        (softmax_ce_classes_from_labels, None, False, None),
        (softmax_ce_float32, "dscores has dtype float32", True, "keep that precision"),
    ],
    checks.check_numerical_gradient: [
        (numerical_gradient_forward_difference, "the numerical gradient has wrong values", True, "one-sided difference"),
        (numerical_gradient_divides_by_h, "the numerical gradient has wrong values", True, "divide by 2h"),
        (numerical_gradient_never_restores, "left x changed", True, None),
        (numerical_gradient_perturbs_a_copy, "the numerical gradient has wrong values", True, "change x itself in place"),
        (numerical_gradient_all_at_once, "wrong values", True, None),
        (numerical_gradient_first_axis_only, "wrong values", True, None),
        (numerical_gradient_flat_view, "the numerical gradient has wrong values", False, "not contiguous"),
    ],
    checks.check_rel_error: [
        (rel_error_mean, r"rel_error\(a, b\) is", True, "not the mean"),
        (rel_error_norms, r"rel_error\(a, b\) is", True, "norm-wise"),
        (rel_error_eps_added, r"rel_error\(a, b\) is", False, "floor on the denominator"),
        (rel_error_no_eps, r"rel_error\(a, b\) is nan", True, "0/0"),
        (rel_error_relative_to_a, r"rel_error\(a, b\) is", True, "symmetric"),
        (rel_error_ratio_of_maxima, r"rel_error\(a, b\) is", True, "entry by entry"),
        (rel_error_per_entry, "should be a single number", True, "return one number"),
    ],
    checks.check_two_layer_net: [
        (two_layer_net_regularizes_biases, "loss is", True, "biases are not regularized"),
        (two_layer_net_reg_without_half, "loss is", True, "factor 2"),
        (two_layer_net_forgets_relu_in_backward, r"grads\['W1'\] has wrong values", True, "backpropagate through the ReLU"),
        (two_layer_net_returns_probabilities, r"two_layer_net\(params, X\) has wrong values", True, "not softmax probabilities"),
        (two_layer_net_no_reg_gradient, r"grads\['W2'\] has wrong values", True, "add the penalty's gradient"),
        (two_layer_net_no_hidden_activation, r"two_layer_net\(params, X\) has wrong values", True, "apply ReLU"),
        (two_layer_net_updates_params_in_place, "in place", True, None),
        (two_layer_net_relu_mask_at_zero, r"grads\['b1'\] has wrong values", False, "mask with h > 0"),
        (two_layer_net_classes_from_labels, None, False, None),
        (two_layer_net_reg_default_not_zero, "loss is", False, None),
        (two_layer_net_float32_grads, r"grads\['W2'\] has dtype float32", True, "keep that precision"),
    ],
    checks.check_gradient_descent: [
        (gradient_descent_ascends, "losses has wrong values", True, "descent"),
        (gradient_descent_records_after_the_step, "losses has wrong values", True, "before its step"),
        (gradient_descent_gradient_once, "losses has wrong values", True, "call loss_fn again"),
        (gradient_descent_weights_only, "losses has wrong values", True, "bias too"),
        (gradient_descent_one_step_too_many, "losses has shape", True, "exactly `steps` steps"),
        (gradient_descent_in_place, "in place", True, None),
        (gradient_descent_returns_the_callers_arrays, "caller's own array", False, None),
        (gradient_descent_steps_in_place_on_a_copy, None, False, None),
    ],
}
