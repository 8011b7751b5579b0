"""A two-layer network: affine → ReLU → affine → softmax cross-entropy."""

from __future__ import annotations

import numpy as np

from dlcourse.ref.activations import activation_forward, relu_backward, relu_forward
from dlcourse.ref.layers import affine_backward, affine_forward
from dlcourse.ref.losses import softmax_cross_entropy

__all__ = [
    "init_two_layer", "two_layer_net", "linear_net_grads", "mlp_forward", "collapse_linear",
]

Params = dict[str, np.ndarray]


def init_two_layer(
    input_dim: int,
    hidden_dim: int,
    num_classes: int,
    rng: np.random.Generator | int | None = 0,
    weight_scale: float | None = None,
) -> Params:
    """Parameters W1 (D, H), b1 (H,), W2 (H, C), b2 (C,) in float64.

    Weights are Gaussian with standard deviation ``weight_scale``; by default He's
    √(2 / fan_in), which keeps the variance of ReLU activations roughly constant per layer.
    Biases start at zero.
    """
    rng = np.random.default_rng(rng)
    s1 = np.sqrt(2.0 / input_dim) if weight_scale is None else weight_scale
    s2 = np.sqrt(2.0 / hidden_dim) if weight_scale is None else weight_scale
    return {
        "W1": s1 * rng.standard_normal((input_dim, hidden_dim)),
        "b1": np.zeros(hidden_dim),
        "W2": s2 * rng.standard_normal((hidden_dim, num_classes)),
        "b2": np.zeros(num_classes),
    }


def two_layer_net(
    params: Params, X: np.ndarray, y: np.ndarray | None = None, reg: float = 0.0
) -> np.ndarray | tuple[float, Params]:
    """Scores, or loss and gradients, of  X → affine → ReLU → affine → softmax-CE.

    Args:
        params: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
        X: (N, D) inputs.
        y: (N,) integer labels, or None to get the scores only.
        reg: L2 strength; the loss adds ½·reg·(‖W1‖² + ‖W2‖²) (biases are not penalized),
            so each weight gradient gains reg·W.

    Returns:
        scores (N, C) when ``y`` is None, else ``(loss, grads)`` with grads shaped like params.
    """
    h, cache1 = affine_forward(X, params["W1"], params["b1"])
    a, cache_relu = relu_forward(h)
    scores, cache2 = affine_forward(a, params["W2"], params["b2"])
    if y is None:
        return scores

    data_loss, dscores = softmax_cross_entropy(scores, y)
    W1, W2 = params["W1"], params["W2"]
    loss = data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

    da, dW2, db2 = affine_backward(dscores, cache2)
    dh = relu_backward(da, cache_relu)
    _, dW1, db1 = affine_backward(dh, cache1)
    grads = {"W1": dW1 + reg * W1, "b1": db1, "W2": dW2 + reg * W2, "b2": db2}
    return float(loss), grads


def linear_net_grads(
    x: np.ndarray, y: np.ndarray, W0: np.ndarray, b0: np.ndarray, W1: np.ndarray, b1: np.ndarray
) -> tuple[float, Params]:
    """Loss and gradients of lecture 04's worked example: two *linear* layers and a squared error.

    a = x W0 + b0,  ŷ = a W1 + b1,  L = 1/(2N) Σ_n ‖ŷ_n − y_n‖²  (½(ŷ − y)² for one example).
    Backward: δ = (ŷ − y)/N; dW1 = aᵀδ, db1 = Σ_n δ_n; da = δ W1ᵀ; dW0 = xᵀ da, db0 = Σ_n da_n.

    Args:
        x: (N, D) inputs; y: (N, K) targets.
        W0: (D, H), b0: (H,), W1: (H, K), b1: (K,).

    Returns:
        (loss, grads) with grads = {"W0", "b0", "W1", "b1"}, each shaped like its parameter.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = x.shape[0]
    a = x @ W0 + b0
    y_hat = a @ W1 + b1
    delta = (y_hat - y) / n
    da = delta @ W1.T
    grads = {"W0": x.T @ da, "b0": da.sum(axis=0), "W1": a.T @ delta, "b1": delta.sum(axis=0)}
    return float(0.5 * np.sum((y_hat - y) ** 2) / n), grads


# --------------------------------------------------------------------------- lecture 02: multilayer perceptrons

Layers = list[tuple[np.ndarray, np.ndarray]]


def mlp_forward(
    x: np.ndarray, layers: Layers, activation: str = "relu", output_activation: str = "linear"
) -> np.ndarray:
    """The feed-forward algorithm: a⁽⁰⁾ = x, a⁽ˡ⁺¹⁾ = g(a⁽ˡ⁾ W_l + b_l), for l = 0 … L−1.

    Args:
        x: (N, D) inputs.
        layers: [(W_0, b_0), …, (W_{L−1}, b_{L−1})] with W_l (d_l, d_{l+1}) and b_l (d_{l+1},);
            d_0 = D.
        activation: g of every hidden layer (all layers but the last).
        output_activation: g of the last layer ("linear": raw scores).

    Returns:
        (N, d_L) outputs of the last layer.
    """

    a = x
    for i, (w, b) in enumerate(layers):
        name = output_activation if i == len(layers) - 1 else activation
        a, _ = activation_forward(a @ w + b, name)
    return a


def collapse_linear(layers: Layers) -> tuple[np.ndarray, np.ndarray]:
    """The single affine map equal to a stack of *linear* layers (no activations).

    ((x W_0 + b_0) W_1 + b_1) ⋯ = x (W_0 W_1 ⋯ W_{L−1}) + b_c, where b_c pushes each bias
    through the layers after it: b_c = (⋯(b_0 W_1 + b_1) W_2 + b_2 ⋯).

    Args:
        layers: [(W_l (d_l, d_{l+1}), b_l (d_{l+1},)), …], at least one.

    Returns:
        W_c: (d_0, d_L) and b_c: (d_L,), new arrays (never the layers' own, even for one layer).
    """
    w_c, b_c = (np.array(a, copy=True) for a in layers[0])
    for w, b in layers[1:]:
        w_c, b_c = w_c @ w, b_c @ w + b
    return w_c, b_c
