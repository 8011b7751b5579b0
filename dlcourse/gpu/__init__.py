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
from dlcourse.gpu.networks import TwoLayerNet, init_two_layer, linear_net_grads, params_from_numpy, two_layer_net
from dlcourse.gpu.optim import sgd
# lectures 00 and 01: tensors, automatic differentiation
from dlcourse.gpu.tensors import minibatches, one_hot, pairwise_distances, tensor_bytes
from dlcourse.gpu.autodiff import (
    TwoLayerGraph,
    Value,
    numerical_partials,
    two_layer_graph_backward,
    two_layer_graph_forward,
)
# lecture 07: regularization
from dlcourse.gpu.regularization import (
    stratified_split,
    l2_penalty,
    l1_penalty,
    dropout_forward,
    dropout_backward,
    dropconnect_forward,
    dropconnect_backward,
    EarlyStopping,
    random_flip,
    random_shift,
    add_noise,
    grid_search_points,
    random_search_points,
)
# lecture 06: initialization and normalization
from dlcourse.gpu.init import (
    fan_in_fan_out,
    calculate_gain,
    xavier_std,
    kaiming_std,
    glorot_bound,
    xavier_uniform,
    xavier_normal,
    kaiming_uniform,
    kaiming_normal,
    propagate_through_depth,
)
from dlcourse.gpu.norm import (
    init_bn_state,
    batchnorm_forward,
    batchnorm_backward,
    batchnorm_backward_alt,
    spatial_batchnorm_forward,
    spatial_batchnorm_backward,
    standardize,
    BatchNorm,
    BatchNormFunction,
)
# lecture 02: activations, neurons, dense layers, MLPs
from dlcourse.gpu.activations import (
    activation_backward,
    activation_forward,
    elu_backward,
    elu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    softplus,
    softplus_backward,
    softplus_forward,
)
from dlcourse.gpu.layers import dense_backward, dense_forward, perceptron
from dlcourse.gpu.networks import collapse_linear, mlp_forward
# lecture 03: losses
from dlcourse.gpu.losses import (
    bce,
    bce_with_logits,
    cross_entropy,
    huber,
    kl_divergence,
    log_softmax,
    log_softmax_backward,
    mae,
    mse,
    softmax_backward,
)
# lecture 05: optimizers and learning-rate schedules
from dlcourse.gpu.optim import (
    Adadelta,
    Adagrad,
    Adam,
    Momentum,
    Nesterov,
    RMSprop,
    SGD,
    adadelta,
    adagrad,
    adam,
    cosine_annealing,
    exponential_decay,
    nesterov,
    rmsprop,
    set_lr,
    sgd_momentum,
    step_decay,
    train_minibatch,
    gradient_descent,
)

# lecture 08: convolution by unfold + matmul
from dlcourse.gpu.conv import (
    conv_output_size,
    same_output_size,
    same_padding,
    conv_param_count,
    correlate2d,
    convolve2d,
    conv_forward_naive,
    conv_matrix,
    im2col,
    col2im,
    conv_forward,
    conv_backward,
    conv1x1_forward,
    conv_transpose_forward,
    conv_transpose_backward,
    max_pool_forward,
    max_pool_backward,
    avg_pool_forward,
    avg_pool_backward,
    Conv2d,
    conv2d,
)

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
    "linear_net_grads",
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
    # lecture 02
    "leaky_relu_forward",
    "leaky_relu_backward",
    "elu_forward",
    "elu_backward",
    "softplus",
    "softplus_forward",
    "softplus_backward",
    "activation_forward",
    "activation_backward",
    "perceptron",
    "dense_forward",
    "dense_backward",
    "mlp_forward",
    "collapse_linear",
    # lecture 03
    "mse",
    "mae",
    "huber",
    "bce",
    "bce_with_logits",
    "softmax_backward",
    "log_softmax",
    "log_softmax_backward",
    "cross_entropy",
    "kl_divergence",
    # lecture 05
    "sgd_momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "step_decay",
    "exponential_decay",
    "cosine_annealing",
    "train_minibatch",
    "gradient_descent",
    "SGD",
    "Momentum",
    "Nesterov",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "set_lr",
    # lecture 06
    "fan_in_fan_out",
    "calculate_gain",
    "xavier_std",
    "kaiming_std",
    "glorot_bound",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "propagate_through_depth",
    "init_bn_state",
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "standardize",
    "BatchNorm",
    "BatchNormFunction",
    # lecture 00
    "tensor_bytes",
    "one_hot",
    "minibatches",
    "pairwise_distances",
    # lecture 01
    "Value",
    "numerical_partials",
    "two_layer_graph_forward",
    "two_layer_graph_backward",
    "TwoLayerGraph",
    # lecture 08
    "conv_output_size",
    "same_output_size",
    "same_padding",
    "conv_param_count",
    "correlate2d",
    "convolve2d",
    "conv_forward_naive",
    "conv_matrix",
    "im2col",
    "col2im",
    "conv_forward",
    "conv_backward",
    "conv1x1_forward",
    "conv_transpose_forward",
    "conv_transpose_backward",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "Conv2d",
    "conv2d",
    # lecture 07
    "stratified_split",
    "l2_penalty",
    "l1_penalty",
    "dropout_forward",
    "dropout_backward",
    "dropconnect_forward",
    "dropconnect_backward",
    "EarlyStopping",
    "random_flip",
    "random_shift",
    "add_noise",
    "grid_search_points",
    "random_search_points",
]
