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
from dlcourse.ref.networks import init_two_layer, linear_net_grads, two_layer_net
from dlcourse.ref.optim import sgd
# lectures 00 and 01: tensors, automatic differentiation
from dlcourse.ref.tensors import minibatches, one_hot, pairwise_distances, tensor_bytes
from dlcourse.ref.autodiff import Value, numerical_partials, two_layer_graph_backward, two_layer_graph_forward
# lecture 07: regularization
from dlcourse.ref.regularization import (
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
from dlcourse.ref.init import (
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
from dlcourse.ref.norm import (
    init_bn_state,
    batchnorm_forward,
    batchnorm_backward,
    batchnorm_backward_alt,
    spatial_batchnorm_forward,
    spatial_batchnorm_backward,
    standardize,
)
# lecture 02: activations, neurons, dense layers, MLPs
from dlcourse.ref.activations import (
    ACTIVATIONS,
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
from dlcourse.ref.layers import dense_backward, dense_forward, perceptron
from dlcourse.ref.networks import collapse_linear, mlp_forward
# lecture 03: losses
from dlcourse.ref.losses import (
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
from dlcourse.ref.optim import (
    adadelta,
    adagrad,
    adam,
    cosine_annealing,
    exponential_decay,
    nesterov,
    rmsprop,
    sgd_momentum,
    gradient_descent,
    step_decay,
    train_minibatch,
)

# lecture 08: convolution, im2col, pooling, transposed convolution
from dlcourse.ref.conv import (
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
)

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
    "linear_net_grads",
    "numerical_gradient",
    "numerical_gradient_array",
    "rel_error",
    "sgd",
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
