"""Correct alternatives and known-wrong implementations (mutants) for the 02-neurons-mlp checks.

``MUTANTS[check]`` lists ``(implementation, pattern, public, hint)`` entries, as ``check_harness``
describes.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import neurons as checks
from dlcourse.ref.layers import dense_forward as _ref_dense_forward

Impl = Callable[..., Any]


# ----------------------------------------------------------------- sigmoid
def sigmoid_via_tanh(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # σ(z) = (1 + tanh(z/2))/2: never overflows


def sigmoid_masked(z):
    out = np.empty_like(z, dtype=float)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1 + e)
    return out


def sigmoid_naive(z):
    return 1 / (1 + np.exp(-z))  # overflows at z = −1000


def sigmoid_where_both_branches(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


def sigmoid_other_form(z):
    return np.exp(z) / (1 + np.exp(z))  # inf/inf = nan at z = +1000


def sigmoid_sign_flipped(z):
    return 0.5 * (1.0 - np.tanh(0.5 * z))


def sigmoid_math_exp(z):
    return np.array([1 / (1 + math.exp(-v)) for v in np.ravel(z)]).reshape(np.shape(z))


def sigmoid_calls_reference(z):
    return ref.sigmoid(z)


# ----------------------------------------------------------------- ELU backward
def elu_backward_from_output(dout, cache):
    x, alpha = cache
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return dout * np.where(x > 0, 1.0, out + alpha)  # ELU′ = ELU + α on the negative side


def elu_backward_overflows(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha * np.exp(x))


def elu_backward_no_alpha(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))


def elu_backward_elu_itself(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha * np.expm1(np.minimum(x, 0)))


def elu_backward_ge_zero(dout, cache):
    x, alpha = cache
    return dout * np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0)))


def elu_backward_no_dout(dout, cache):
    x, alpha = cache
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))


def elu_backward_in_place(dout, cache):
    x, alpha = cache
    neg = x <= 0
    dout[neg] *= alpha * np.exp(x[neg])
    return dout


# ----------------------------------------------------------------- perceptron
def perceptron_loop(x, w, w0):
    out = np.zeros(x.shape[0])
    for n in range(x.shape[0]):
        z = w0 + sum(x[n, j] * w[j] for j in range(len(w)))
        out[n] = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
    return out


def perceptron_no_activation(x, w, w0):
    return w0 + x @ w


def perceptron_no_bias(x, w, w0):
    return sigmoid_via_tanh(x @ w)


def perceptron_bias_subtracted(x, w, w0):
    return sigmoid_via_tanh(x @ w - w0)


def perceptron_step(x, w, w0):
    return (w0 + x @ w > 0).astype(float)


def perceptron_column(x, w, w0):
    return sigmoid_via_tanh(w0 + x @ w.reshape(-1, 1))


def perceptron_naive_sigmoid(x, w, w0):
    return 1 / (1 + np.exp(-(w0 + x @ w)))


# ----------------------------------------------------------------- dense layer
def _act(z, activation):
    return {"linear": lambda v: v, "relu": lambda v: np.maximum(v, 0), "sigmoid": sigmoid_via_tanh,
            "tanh": np.tanh}[activation](z)


def dense_forward_einsum(x, W, b, activation="relu"):
    return _act(np.einsum("nd,dm->nm", x, W) + b, activation)


def dense_forward_no_bias(x, W, b, activation="relu"):
    return _act(x @ W, activation)


def dense_forward_bias_after_activation(x, W, b, activation="relu"):
    return _act(x @ W, activation) + b


def dense_forward_no_activation(x, W, b, activation="relu"):
    return x @ W + b


def dense_forward_transposed_weights(x, W, b, activation="relu"):
    return _act(x @ W.T + b, activation)


def dense_forward_returns_cache(x, W, b, activation="relu"):
    return _act(x @ W + b, activation), (x, W, b)


def dense_forward_reference(x, W, b, activation="relu"):
    return _ref_dense_forward(x, W, b, activation)[0]  # the exercise returns out only, no cache


# ----------------------------------------------------------------- MLP
def mlp_forward_recursive(x, layers, activation="relu"):
    (W, b), rest = layers[0], layers[1:]
    z = x @ W + b
    return z if not rest else mlp_forward_recursive(_act(z, activation), rest, activation)


def mlp_forward_activation_on_output(x, layers, activation="relu"):
    a = x
    for W, b in layers:
        a = _act(a @ W + b, activation)
    return a


def mlp_forward_no_activation(x, layers, activation="relu"):
    a = x
    for W, b in layers:
        a = a @ W + b
    return a


def mlp_forward_skips_last_layer(x, layers, activation="relu"):
    a = x
    for W, b in layers[:-1]:
        a = _act(a @ W + b, activation)
    return a


def mlp_forward_activation_first_only(x, layers, activation="relu"):
    a = _act(x @ layers[0][0] + layers[0][1], activation)
    for W, b in layers[1:]:
        a = a @ W + b
    return a


# ----------------------------------------------------------------- XOR
def xor_network_reference():
    # h1 = relu(x1 + x2), h2 = relu(x1 + x2 − 1);  y = h1 − 2·h2
    return [(np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([0.0, -1.0])), (np.array([[1.0], [-2.0]]), np.array([0.0]))]


def xor_network_wide():
    W1 = np.array([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0]])
    return [(W1, np.zeros(3)), (np.array([[1.0], [1.0], [0.0]]), np.zeros(1))]  # |x1 − x2|


def xor_network_linear():
    return [(np.array([[0.5], [0.5]]), np.array([0.0]))]


def xor_network_or():
    return [(np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0])), (np.array([[0.5], [0.5]]), np.array([0.0]))]


def xor_network_knife_edge():
    layers = xor_network_reference()
    return [layers[0], (layers[1][0] * 0.51, layers[1][1])]  # 0.51 at (0, 1): right, but barely


def xor_network_bad_shapes():
    return [(np.ones((2, 2)), np.zeros(3)), (np.ones((2, 1)), np.zeros(1))]


def xor_network_not_pairs():
    return np.ones((2, 2))


# ----------------------------------------------------------------- linear collapse
def collapse_linear_reduce(layers):
    W, b = np.eye(layers[0][0].shape[0]), np.zeros(layers[0][0].shape[0])
    for Wl, bl in layers:
        W, b = W @ Wl, b @ Wl + bl
    return W, b


def collapse_linear_reversed(layers):
    W = layers[-1][0]
    for Wl, _ in reversed(layers[:-1]):
        W = W @ Wl
    return W, collapse_linear_reduce(layers)[1]


def collapse_linear_last_bias(layers):
    W = layers[0][0]
    for Wl, _ in layers[1:]:
        W = W @ Wl
    return W, layers[-1][1]


def collapse_linear_summed_biases(layers):
    W = layers[0][0]
    for Wl, _ in layers[1:]:
        W = W @ Wl
    return W, sum(b for _, b in layers)


def collapse_linear_no_bias(layers):
    W = layers[0][0]
    for Wl, _ in layers[1:]:
        W = W @ Wl
    return W, np.zeros(W.shape[1])


def collapse_linear_returns_w_only(layers):
    return collapse_linear_reduce(layers)[0]


# ----------------------------------------------------------------- edge cases (issue 10): dtypes, defaults, aliasing
def _stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_empty_like(z):
    """Fills an array made like z: for integer z it is an integer array, and every value is truncated."""
    out = np.empty_like(z)
    pos = z >= 0
    e = np.exp(-np.abs(z))
    out[pos] = 1 / (1 + e[pos])
    out[~pos] = e[~pos] / (1 + e[~pos])
    return out


def sigmoid_float32(z):
    return _stable_sigmoid(z).astype(np.float32)


def elu_backward_alpha_or_default(dout, cache):
    x, alpha = cache
    alpha = alpha or 1.0  # "no α given": but α = 0 is a valid α
    return dout * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))


def elu_backward_float32(dout, cache):
    x, alpha = cache
    return (dout * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))).astype(np.float32)


def perceptron_empty_like(x, w, w0):
    out = np.empty_like(x[:, 0])  # integer x: an integer array
    out[:] = _stable_sigmoid(w0 + x @ w)
    return out


def perceptron_float32(x, w, w0):
    return _stable_sigmoid(w0 + x @ w).astype(np.float32)


def dense_forward_default_linear(x, W, b, activation="linear"):
    return _ref_dense_forward_values(x, W, b, activation)


def dense_forward_float32(x, W, b, activation="relu"):
    return _ref_dense_forward_values(x, W, b, activation).astype(np.float32)


def _ref_dense_forward_values(x, W, b, activation):
    z = x @ W + b
    return {"linear": z, "relu": np.maximum(z, 0), "sigmoid": _stable_sigmoid(z), "tanh": np.tanh(z)}[activation]


def mlp_forward_default_linear(x, layers, activation="linear"):
    a = x
    for i, (W, b) in enumerate(layers):
        a = _ref_dense_forward_values(a, W, b, activation if i < len(layers) - 1 else "linear")
    return a


def mlp_forward_float32(x, layers, activation="relu"):
    return mlp_forward_default_linear(x, layers, activation).astype(np.float32)


def collapse_linear_returns_the_layer(layers):
    """For a single layer this returns the layer's own arrays: later in-place updates change them."""
    W_c, b_c = layers[0]
    for W, b in layers[1:]:
        W_c, b_c = W_c @ W, b_c @ W + b
    return W_c, b_c


CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_sigmoid: [sigmoid_via_tanh, sigmoid_masked],
    checks.check_elu_backward: [elu_backward_from_output],
    checks.check_perceptron: [perceptron_loop],
    checks.check_dense_forward: [dense_forward_einsum],
    checks.check_mlp_forward: [mlp_forward_recursive],
    checks.check_xor_network: [xor_network_wide],
    checks.check_collapse_linear: [collapse_linear_reduce],
}

REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_sigmoid: ref.sigmoid,
    checks.check_elu_backward: ref.elu_backward,
    checks.check_perceptron: ref.perceptron,
    checks.check_dense_forward: dense_forward_reference,
    checks.check_mlp_forward: ref.mlp_forward,
    checks.check_xor_network: xor_network_reference,
    checks.check_collapse_linear: ref.collapse_linear,
}

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_sigmoid: [
        (sigmoid_naive, "overflow", True, "overflows for z = −1000"),
        (sigmoid_where_both_branches, "sigmoid raised", True, "np.where evaluates both branches"),
        (sigmoid_other_form, "FloatingPointError", True, "overflows for z = −1000"),
        (sigmoid_sign_flipped, r"sigmoid\(z\) has wrong values", True, "sign of the exponent is flipped"),
        (sigmoid_math_exp, "OverflowError", True, "overflows for z = −1000"),
        (sigmoid_calls_reference, "called dlcourse.ref", True, None),
        (sigmoid_empty_like, r"sigmoid\(z\) has wrong values \(integer z", False, "integer array"),
        (sigmoid_float32, r"sigmoid\(z\) has wrong values", True, "float32"),
    ],
    checks.check_elu_backward: [
        (elu_backward_overflows, "elu_backward raised", True, "np.minimum"),
        (elu_backward_no_alpha, "elu_backward's dx has wrong values", True, "multiply by α"),
        (elu_backward_elu_itself, "elu_backward's dx has wrong values", True, "the −1 disappears"),
        (elu_backward_ge_zero, "elu_backward's dx has wrong values", True, "left derivative"),
        (elu_backward_no_dout, "elu_backward's dx has wrong values", True, "multiply by dout"),
        (elu_backward_in_place, "in place|np.minimum", True, None),
        (elu_backward_alpha_or_default, r"elu_backward's dx has wrong values \(α = 0", False, "α = 0 is a valid α"),
        (elu_backward_float32, "the dtype of elu_backward's dx is float32, expected float64", True, "return float64"),
    ],
    checks.check_perceptron: [
        (perceptron_no_activation, r"perceptron\(x, w, w0\) has wrong values", True, "apply the activation"),
        (perceptron_no_bias, r"perceptron\(x, w, w0\) has wrong values", True, "add the bias"),
        (perceptron_bias_subtracted, r"perceptron\(x, w, w0\) has wrong values", True, "not subtracted"),
        (perceptron_step, r"perceptron\(x, w, w0\) has wrong values", True, "not a hard step"),
        (perceptron_column, r"perceptron\(x, w, w0\) has shape", True, r"not \(N, 1\)"),
        (perceptron_naive_sigmoid, "overflow", False, "overflows for z = −1000"),
        (perceptron_empty_like, r"perceptron\(x, w, w0\) has wrong values \(integer x", False, "integer array"),
        (perceptron_float32, r"perceptron\(x, w, w0\) has wrong values", True, "float32"),
    ],
    checks.check_dense_forward: [
        (dense_forward_no_bias, r"dense_forward\(x, W, b, 'relu'\) has wrong values", True, "add the bias b before"),
        (dense_forward_bias_after_activation, r"dense_forward\(x, W, b, 'relu'\) has wrong values", True, r"not g\(xW\) \+ b"),
        (dense_forward_no_activation, r"dense_forward\(x, W, b, 'relu'\) has wrong values", True, "apply the activation"),
        (dense_forward_transposed_weights, r"dense_forward\(x, W, b, 'relu'\) has wrong values", True, "not x @ W.T"),
        (dense_forward_returns_cache, "only, got a tuple", True, None),
        (dense_forward_default_linear, r"dense_forward\(x, W, b\) has wrong values \(activation not given", False,
         "documented default, ReLU"),
        (dense_forward_float32, r"dense_forward\(x, W, b, 'relu'\) has wrong values", True, "float32"),
    ],
    checks.check_mlp_forward: [
        (mlp_forward_activation_on_output, r"mlp_forward\(x, layers\) has wrong values", True, "last layer is linear"),
        (mlp_forward_no_activation, r"mlp_forward\(x, layers\) has wrong values", True, "after every hidden layer"),
        (mlp_forward_skips_last_layer, r"mlp_forward\(x, layers\) has shape", True, "last layer is missing"),
        (mlp_forward_activation_first_only, r"mlp_forward\(x, layers\) has wrong values", True, "not only the first"),
        (mlp_forward_default_linear, r"mlp_forward\(x, layers\) has wrong values \(layer sizes \[3, 4, 2\], activation not given",
         False, "documented default, ReLU"),
        (mlp_forward_float32, r"mlp_forward\(x, layers\) has wrong values", True, "float32"),
    ],
    checks.check_xor_network: [
        (xor_network_linear, "cannot separate XOR", True, None),
        (xor_network_or, "gets XOR wrong", True, None),
        (xor_network_knife_edge, "too close to the threshold", False, None),
        (xor_network_bad_shapes, "do not chain", True, None),
        (xor_network_not_pairs, r"list of \(W, b\) pairs", True, None),
    ],
    checks.check_collapse_linear: [
        (collapse_linear_reversed, "W_c has wrong values", True, "the order matters"),
        (collapse_linear_last_bias, "b_c has wrong values", True, "earlier biases count"),
        (collapse_linear_summed_biases, "b_c has wrong values", True, "multiplied by every later W"),
        (collapse_linear_no_bias, "b_c has wrong values", True, "do not vanish"),
        (collapse_linear_returns_w_only, "should return a tuple", True, None),
        (collapse_linear_returns_the_layer, "W_c is the array W_0 of the layers itself", False, None),
    ],
}
