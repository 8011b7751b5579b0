"""PyTorch twins of :mod:`dlcourse.ref`: the same names, signatures and return structures on tensors.

Every public name of ``dlcourse.ref`` is here, operating on torch tensors of any device; outputs
stay on the input's device and dtype. The forward/backward contract is unchanged::

    out, cache = affine_forward(x, w, b)      # cache = (x, w, b)
    dx, dw, db = affine_backward(dout, cache)

Where the lesson is the backward pass, ``torch.autograd.Function``s run those written-out
backward functions under ``loss.backward()``: :class:`Affine`, :class:`ReLU`, :class:`Sigmoid`,
:class:`Tanh`, :class:`SoftmaxCrossEntropy`, with one-call forms :func:`affine`, :func:`relu`,
:func:`sigmoid`, :func:`tanh`, :func:`softmax_cross_entropy_loss`, and the ``nn.Module``
:class:`TwoLayerNet` built from them::

    net = TwoLayerNet.from_params(ref_params)          # NumPy W1 (D, H), b1, W2 (H, C), b2
    net.loss(X, y, reg=0.1).backward()
    rel_error(net.W1.grad, ref_grads["W1"])

Importing this package imports torch; ``import dlcourse`` alone does not.
"""

from dlcourse.gpu.activations import (
    ReLU,
    Sigmoid,
    Tanh,
    relu,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    tanh,
    tanh_backward,
    tanh_forward,
)
from dlcourse.gpu.device import default_device, to_numpy, to_tensor
from dlcourse.gpu.gradcheck import numerical_gradient, numerical_gradient_array, rel_error
from dlcourse.gpu.layers import Affine, affine, affine_backward, affine_forward
from dlcourse.gpu.losses import SoftmaxCrossEntropy, softmax, softmax_cross_entropy, softmax_cross_entropy_loss
from dlcourse.gpu.networks import TwoLayerNet, init_two_layer, params_from_numpy, two_layer_net
from dlcourse.gpu.optim import sgd

__all__ = [
    # twins of dlcourse.ref, in its order
    "affine_forward",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "sigmoid",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "softmax",
    "softmax_cross_entropy",
    "init_two_layer",
    "two_layer_net",
    "numerical_gradient",
    "numerical_gradient_array",
    "rel_error",
    "sgd",
    # autograd Functions with written-out backward passes, and their one-call forms
    "Affine",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "SoftmaxCrossEntropy",
    "affine",
    "relu",
    "tanh",
    "softmax_cross_entropy_loss",
    "TwoLayerNet",
    # moving between NumPy and devices
    "params_from_numpy",
    "default_device",
    "to_tensor",
    "to_numpy",
]
