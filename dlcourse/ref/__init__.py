"""NumPy reference implementations: the answer key of every exercise, public on purpose.

Layers follow one contract (the same as CS231n's ``layers.py``)::

    out, cache = thing_forward(x, *params)
    grads      = thing_backward(dout, cache)

and optimizers ``update(w, dw, state, cfg) -> (w, state)``.
``dlcourse.gpu`` mirrors every public name here with PyTorch.
"""

from dlcourse.ref.activations import (
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from dlcourse.ref.gradcheck import numerical_gradient, numerical_gradient_array, rel_error
from dlcourse.ref.layers import affine_backward, affine_forward
from dlcourse.ref.losses import softmax, softmax_cross_entropy
from dlcourse.ref.networks import init_two_layer, two_layer_net
from dlcourse.ref.optim import sgd

__all__ = [
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
]
