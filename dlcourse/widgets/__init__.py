"""Interactive figures for the lecture notebooks, one module per topic.

- ``dlcourse.widgets.tensors``   00-setup: tensor/broadcasting explorer.
- ``dlcourse.widgets.autodiff``  01-autodiff: computation-graph viewer with values and gradients.
- ``dlcourse.widgets.neurons``   02-neurons-mlp: activations, perceptron line, universal approximation.
- ``dlcourse.widgets.losses``    03-losses: softmax temperature, L1 vs L2 line fit with an outlier.
- ``dlcourse.widgets.backprop``  04-backprop: train a two-layer net on 2-D data; decision regions,
  loss and accuracy curves (``training_dashboard``, ``show_training``).
- ``dlcourse.widgets.optimization`` 05-optimization: optimizer race, learning rates, batch noise.
- ``dlcourse.widgets.init``      06-init-normalization: activation/gradient statistics through depth.
- ``dlcourse.widgets.regularization`` 07-regularization: overfitting, dropout masks, search coverage.
- ``dlcourse.widgets.conv``      08-convolution: kernels, sliding windows, convolution matrices.
- ``dlcourse.widgets.cnns``      09-cnns: filter and feature-map viewer, misclassification gallery, confusion explorer.
- ``dlcourse.widgets.rnn``       10-rnns: gradient norm through time (spectral-radius slider), sampling temperature.
- ``dlcourse.widgets.attention`` 11-attention: attention heat maps per head (scaling, masks), a trained
  model's maps, the positional-encoding viewer.
- ``dlcourse.widgets.generative`` 12-generative: latent traversal, grid and interpolation of a 2-D VAE,
  GAN training snapshots against the learning-rate ratio, latent size vs reconstruction error.
- ``dlcourse.widgets.rl``        13-reinforcement: Q-learning on the gridworld (values, policy arrows; step/run/reset),
  the discount-factor slider.
- ``dlcourse.widgets.uncertainty`` 14-limits-uncertainty: an ensemble's spread on 1-D data (noise and gap
  sliders), a reliability diagram with a temperature slider.
- ``dlcourse.widgets.compat``    what keeps widgets working on ipywidgets 7.7 (Colab) and 8.x,
  with or without a front end (``show_figure``, ``is_headless``).

Every widget module has the same three layers: pure compute functions (NumPy), pure plotting
functions (matplotlib's object-oriented API, drawing on an ``ax``/``fig`` they are given) and a
thin ipywidgets wrapper that trains/recomputes on demand and renders into an ``Output``.
Widgets run headless: a notebook executed by nbclient, nbval or nbgrader records their figures.

This package imports neither matplotlib nor ipywidgets; its modules import them inside the
functions that draw, so ``import dlcourse.widgets.backprop`` is cheap too. Submodules load on
first attribute access: ``dlcourse.widgets.backprop`` works after ``import dlcourse.widgets``.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def __getattr__(name: str) -> ModuleType:
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise  # the submodule exists but one of its imports is missing: say so
        raise AttributeError(f"module {__name__!r} has no attribute or submodule {name!r}") from None
