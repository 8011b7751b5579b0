"""NumPy reference implementations: the answer key of every exercise, public on purpose.

Layers follow one contract (the same as CS231n's ``layers.py``)::

    out, cache = thing_forward(x, *params)
    grads      = thing_backward(dout, cache)

and optimizers ``update(w, dw, state, cfg) -> (w, state)``.
``dlcourse.gpu`` mirrors every public name here with PyTorch.

Each module declares its public names in ``__all__``; the lines below bring them here in lecture
order, and ``__all__`` lists them in that order. A new lecture's module is one more line.
"""

from dlcourse.ref.tensors import *  # 00 tensors: memory, one-hot labels, mini-batches, distances
from dlcourse.ref.autodiff import *  # 01 automatic differentiation: Value, the two-layer graph
from dlcourse.ref.activations import *  # 02 activations
from dlcourse.ref.layers import *  # 02 perceptron, dense and affine layers
from dlcourse.ref.networks import *  # 02 MLPs; 04 the two-layer network
from dlcourse.ref.losses import *  # 03 losses and softmax
from dlcourse.ref.gradcheck import *  # 04 numerical gradients, relative error
from dlcourse.ref.optim import *  # 05 optimizers and learning-rate schedules
from dlcourse.ref.init import *  # 06 initialization
from dlcourse.ref.norm import *  # 06 batch normalization
from dlcourse.ref.regularization import *  # 07 regularization
from dlcourse.ref.conv import *  # 08 convolution, im2col, pooling, transposed convolution
from dlcourse.ref.cnns import *  # 09 CNN architectures: parameter counts, confusion matrix, class weights
from dlcourse.ref.rnn import *  # 10 recurrent networks: RNN, LSTM, GRU, embeddings, clipping, causal conv
from dlcourse.ref.attention import *  # 11 attention: positional encoding, masks, scaled dot-product and multi-head
from dlcourse.ref.generative import *  # 12 generative models: reparameterisation, Gaussian KL, (β-)VAE and GAN losses
from dlcourse.ref.rl import *  # 13 reinforcement learning: returns, ε-greedy, Q-learning, DQN and REINFORCE losses
from dlcourse.ref.uncertainty import *  # 14 limits and uncertainty: entropy, MC dropout, ensembles, calibration, AUROC

from dlcourse.ref._namespace import public_names as _public_names

__all__ = _public_names(globals())
