"""Every 09-cnns check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from dlcourse.checks import CheckFailure
from dlcourse.checks import cnns as checks
from check_harness import check_tests
from mutants_cnns import CORRECT, MUTANTS, REFERENCE, SimpleCNNSequential

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_importing_the_checks_does_not_import_torch():
    code = "import sys, dlcourse.checks.cnns; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_class_that_is_not_a_module_is_explained():
    class SimpleCNN:
        def __init__(self, *sizes):
            self.sizes = sizes

    with pytest.raises(CheckFailure, match="should build a torch.nn.Module"):
        checks.check_simple_cnn(SimpleCNN)


def test_a_numpy_output_is_explained():
    class SimpleCNN(SimpleCNNSequential):
        def forward(self, x):
            return super().forward(x).detach().numpy()

    with pytest.raises(CheckFailure, match="should return a torch.Tensor"):
        checks.check_simple_cnn(SimpleCNN)


def test_layers_in_another_order_cannot_take_the_weights():
    class SimpleCNN(SimpleCNNSequential):
        def __init__(self, in_size=8, in_channels=1, n_classes=10):
            super().__init__(in_size, in_channels, n_classes)
            self.extra = nn.Linear(2, 2)  # one tensor too many, and never used

    with pytest.raises(CheckFailure, match="number of parameters"):
        checks.check_simple_cnn(SimpleCNN)


def test_messages_name_the_case():
    with pytest.raises(CheckFailure) as info:
        checks.check_confusion_matrix(MUTANTS[checks.check_confusion_matrix][0][0])
    assert "8 labels of 3 classes" in str(info.value)


def test_hidden_cases_cover_the_edge_classes():
    """Defaults, a batch of one, odd sizes, stride-only projections, ragged batches, absent classes."""
    cnn = list(checks._cnn_cases(True))
    assert any(args == () for _, args, _ in cnn) and any(n == 1 for _, _, n in cnn)
    assert any(args and args[0] % 4 for _, args, _ in cnn)  # pooling floors
    blocks = [args for _, args, _, _ in checks._block_cases(True)]
    assert (4, 4, 2) in blocks and (5, 5) in blocks
    sizes = [s for _, s, _, _, _ in checks._train_cases(True)]
    assert any(len(set(s)) > 1 for s in sizes) and [1] in sizes
    labels = list(checks._label_cases(True))
    assert any(t.dtype == np.int32 for _, t, _, _ in labels) and any(not p.flags.c_contiguous for _, _, p, _ in labels)
    assert any((np.bincount(t, minlength=k) == 0).any() for _, t, _, k in labels)


def test_the_weighted_loss_weights_rare_classes_up():
    """The check's convention is the one nn.CrossEntropyLoss(weight=...) expects: rare classes weigh more."""
    y = np.array([0] * 9 + [1])
    w = MUTANTS[checks.check_class_weights][0][0](y, 2)  # inverted: the common class weighs more
    assert w[0] > w[1]
    right = CORRECT[checks.check_class_weights][0](y, 2)
    assert right[1] == pytest.approx(9 * right[0])
    loss = nn.CrossEntropyLoss(weight=torch.as_tensor(right))
    assert float(loss(torch.zeros(10, 2, dtype=torch.float64), torch.as_tensor(y))) == pytest.approx(np.log(2))
