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

Each module declares its public names in ``__all__``; the lines below bring them here in lecture
order, as in :mod:`dlcourse.ref`. Importing this package imports torch; ``import dlcourse`` alone
does not.
"""

from dlcourse.gpu.device import *  # 00 devices: default_device, to_tensor, to_numpy
from dlcourse.gpu.tensors import *  # 00 tensors
from dlcourse.gpu.autodiff import *  # 01 automatic differentiation
from dlcourse.gpu.activations import *  # 02 activations (and autograd Functions with written-out backward)
from dlcourse.gpu.layers import *  # 02 perceptron, dense and affine layers
from dlcourse.gpu.networks import *  # 02 MLPs; 04 the two-layer network, TwoLayerNet
from dlcourse.gpu.losses import *  # 03 losses and softmax
from dlcourse.gpu.gradcheck import *  # 04 numerical gradients, relative error
from dlcourse.gpu.optim import *  # 05 optimizers (functions and torch.optim.Optimizer subclasses)
from dlcourse.gpu.init import *  # 06 initialization
from dlcourse.gpu.norm import *  # 06 batch normalization
from dlcourse.gpu.regularization import *  # 07 regularization
from dlcourse.gpu.conv import *  # 08 convolution by unfold + matmul
from dlcourse.gpu.cnns import *  # 09 CNN architectures: SimpleCNN, ResidualBlock, Inception, TinySegmenter, training
from dlcourse.gpu.rnn import *  # 10 recurrent networks (autograd Functions, modules equal to nn.RNN/LSTM/GRU)
from dlcourse.gpu.charlm import *  # 10 the character-level language model
from dlcourse.gpu.attention import *  # 11 attention twins, MultiHeadAttention, the transformer block
from dlcourse.gpu.generative import *  # 12 generative-model twins, autoencoder, VAE, GAN on 2-D data
from dlcourse.gpu.rl import *  # 13 reinforcement learning twins, REINFORCE on CartPole
from dlcourse.gpu.uncertainty import *  # 14 uncertainty twins, MC-dropout sampling, deep ensembles, random labels

from dlcourse.ref._namespace import public_names as _public_names

__all__ = _public_names(globals())
