"""A two-layer network in PyTorch: the twin of :mod:`dlcourse.ref.networks`.

:func:`two_layer_net` chains the written-out forward/backward functions exactly as the NumPy
reference does; :class:`TwoLayerNet` is the same network as an ``nn.Module`` built from the
autograd Functions, so ``loss.backward()`` runs those same backward passes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from dlcourse.gpu.activations import activation_forward, relu, relu_backward, relu_forward
from dlcourse.gpu.device import default_device, torch_generator, to_tensor
from dlcourse.gpu.layers import affine, affine_backward, affine_forward
from dlcourse.gpu.losses import softmax_cross_entropy, softmax_cross_entropy_loss

__all__ = [
    "init_two_layer", "two_layer_net", "linear_net_grads", "mlp_forward", "collapse_linear", "TwoLayerNet", "params_from_numpy",
]

Params = dict[str, torch.Tensor]
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def init_two_layer(
    input_dim: int,
    hidden_dim: int,
    num_classes: int,
    rng: torch.Generator | np.random.Generator | int | None = 0,
    weight_scale: float | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
) -> Params:
    """Parameters W1 (D, H), b1 (H,), W2 (H, C), b2 (C,) as tensors of ``dtype`` on ``device``.

    Weights are Gaussian with standard deviation ``weight_scale``; by default He's
    √(2 / fan_in), which keeps the variance of ReLU activations roughly constant per layer.
    Biases start at zero. The draws come from a ``torch.Generator`` seeded from ``rng`` (made on
    the generator's device, then moved), so one seed gives the same parameters on every device;
    they differ from NumPy's draws: use :func:`params_from_numpy` to run the reference's parameters.
    """
    device = default_device() if device is None else torch.device(device)
    g = torch_generator(rng)
    s1 = math.sqrt(2.0 / input_dim) if weight_scale is None else weight_scale
    s2 = math.sqrt(2.0 / hidden_dim) if weight_scale is None else weight_scale

    def normal(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=g, dtype=dtype, device=g.device).to(device)

    return {
        "W1": s1 * normal(input_dim, hidden_dim),
        "b1": torch.zeros(hidden_dim, dtype=dtype, device=device),
        "W2": s2 * normal(hidden_dim, num_classes),
        "b2": torch.zeros(num_classes, dtype=dtype, device=device),
    }


def params_from_numpy(
    params: Mapping[str, Any], device: torch.device | str | None = None, dtype: torch.dtype | None = None
) -> Params:
    """The same parameters as tensors (copies, so updating them never changes the NumPy arrays).

    Args:
        params: name → array (e.g. from :func:`dlcourse.ref.init_two_layer`); tensors are accepted.
        device: None puts arrays on :func:`default_device` and leaves tensors where they are.
        dtype: None keeps each array's dtype (float64 stays float64).
    """
    return {k: to_tensor(v, device, dtype).detach().clone() for k, v in params.items()}


def two_layer_net(
    params: Params, X: torch.Tensor, y: torch.Tensor | None = None, reg: float = 0.0
) -> torch.Tensor | tuple[float, Params]:
    """Scores, or loss and gradients, of  X → affine → ReLU → affine → softmax-CE.

    The gradients come from the written-out backward passes, not from autograd.

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
    loss = data_loss + 0.5 * reg * (torch.sum(W1 * W1) + torch.sum(W2 * W2))

    da, dW2, db2 = affine_backward(dscores, cache2)
    dh = relu_backward(da, cache_relu)
    _, dW1, db1 = affine_backward(dh, cache1)
    grads = {"W1": dW1 + reg * W1, "b1": db1, "W2": dW2 + reg * W2, "b2": db2}
    return float(loss.detach()), grads


def linear_net_grads(
    x: torch.Tensor, y: torch.Tensor, W0: torch.Tensor, b0: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor
) -> tuple[float, Params]:
    """Loss and gradients of lecture 04's worked example (two linear layers, squared error), on tensors.

    a = x W0 + b0,  ŷ = a W1 + b1,  L = 1/(2N) Σ_n ‖ŷ_n − y_n‖²; the backward pass is written out
    as in :func:`dlcourse.ref.linear_net_grads`. Shapes: x (N, D), y (N, K), W0 (D, H), b0 (H,),
    W1 (H, K), b1 (K,). Returns (loss, {"W0", "b0", "W1", "b1"}) on W0's device and dtype.
    """
    x, y = to_tensor(x, W0.device, W0.dtype), to_tensor(y, W0.device, W0.dtype)
    n = x.shape[0]
    a = x @ W0 + b0
    y_hat = a @ W1 + b1
    delta = (y_hat - y) / n
    da = delta @ W1.T
    grads = {"W0": x.T @ da, "b0": da.sum(dim=0), "W1": a.T @ delta, "b1": delta.sum(dim=0)}
    return float(0.5 * torch.sum((y_hat - y) ** 2) / n), grads


class TwoLayerNet(nn.Module):
    """X (N, D) → affine → ReLU → affine → scores (N, C), built from the written-out Functions.

    Parameters W1 (D, H), b1 (H,), W2 (H, C), b2 (C,) have the reference's names and layout
    (weights are (in, out), unlike ``nn.Linear``), so ``net.W1.grad`` after ``loss.backward()``
    compares directly with ``dlcourse.ref.two_layer_net``'s ``grads["W1"]``.
    """

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        num_classes: int,
        rng: torch.Generator | np.random.Generator | int | None = 0,
        weight_scale: float | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        params = init_two_layer(input_dim, hidden_dim, num_classes, rng, weight_scale, device, dtype)
        for name in PARAM_NAMES:
            setattr(self, name, nn.Parameter(params[name]))

    @classmethod
    def from_params(
        cls,
        params: Mapping[str, Any],
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> TwoLayerNet:
        """A net holding copies of ``params`` (NumPy arrays or tensors: W1 (D, H), b1, W2 (H, C), b2).

        device/dtype as in :func:`params_from_numpy`: None keeps the arrays' dtype, leaves
        tensors on their device and puts NumPy arrays on :func:`default_device`.
        """
        tensors = params_from_numpy({k: params[k] for k in PARAM_NAMES}, device, dtype)
        (input_dim, hidden_dim), num_classes = tensors["W1"].shape, tensors["W2"].shape[1]
        net = cls(input_dim, hidden_dim, num_classes, device=tensors["W1"].device, dtype=tensors["W1"].dtype)
        for name in PARAM_NAMES:
            setattr(net, name, nn.Parameter(tensors[name]))
        return net

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """X (N, D) → scores (N, C)."""
        X = to_tensor(X, self.W1.device)
        return affine(relu(affine(X, self.W1, self.b1)), self.W2, self.b2)

    def loss(self, X: torch.Tensor, y: torch.Tensor, reg: float = 0.0) -> torch.Tensor:
        """Mean softmax cross-entropy of the scores against y (N,) plus ½·reg·(‖W1‖² + ‖W2‖²); a 0-d tensor."""
        data_loss = softmax_cross_entropy_loss(self(X), y)
        return data_loss + 0.5 * reg * (torch.sum(self.W1 * self.W1) + torch.sum(self.W2 * self.W2))

    def grads(self) -> dict[str, torch.Tensor | None]:
        """name → ``.grad`` of each parameter (None before the first backward), like the reference's grads."""
        return {name: getattr(self, name).grad for name in PARAM_NAMES}


# --------------------------------------------------------------------------- lecture 02: multilayer perceptrons

Layers = list[tuple[torch.Tensor, torch.Tensor]]


def mlp_forward(
    x: torch.Tensor, layers: Layers, activation: str = "relu", output_activation: str = "linear"
) -> torch.Tensor:
    """Feed-forward: a⁽⁰⁾ = x, a⁽ˡ⁺¹⁾ = g(a⁽ˡ⁾ W_l + b_l). x (N, D), W_l (d_l, d_{l+1}) → (N, d_L)."""

    a = x
    for i, (w, b) in enumerate(layers):
        name = output_activation if i == len(layers) - 1 else activation
        a, _ = activation_forward(a @ w + b, name)
    return a


def collapse_linear(layers: Layers) -> tuple[torch.Tensor, torch.Tensor]:
    """The single affine map (W_c (d_0, d_L), b_c (d_L,)) equal to a stack of linear layers."""
    w_c, b_c = layers[0]
    for w, b in layers[1:]:
        w_c, b_c = w_c @ w, b_c @ w + b
    return w_c, b_c
