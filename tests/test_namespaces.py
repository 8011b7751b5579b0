"""The namespaces of ``dlcourse.ref`` and ``dlcourse.gpu``: built from their modules' ``__all__``.

Each package star-imports its modules in lecture order and lists their ``__all__`` one after
another as its own. These tests keep that true as modules are added (lectures 09–14), and keep
every name that existed when the namespaces were rebuilt this way.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "dlcourse"

# The public names of each package before its namespace was assembled from its modules' __all__
# (its __all__ then, plus ACTIVATIONS, which dlcourse.ref imported without listing it). Names may
# be added; none may disappear.
REF_NAMES_BEFORE = """
    ACTIVATIONS EarlyStopping Value activation_backward activation_forward adadelta adagrad adam
    add_noise affine_backward affine_forward avg_pool_backward avg_pool_forward
    batchnorm_backward batchnorm_backward_alt batchnorm_forward bce bce_with_logits
    calculate_gain col2im collapse_linear conv1x1_forward conv_backward conv_forward
    conv_forward_naive conv_matrix conv_output_size conv_param_count conv_transpose_backward
    conv_transpose_forward convolve2d correlate2d cosine_annealing cross_entropy dense_backward
    dense_forward dropconnect_backward dropconnect_forward dropout_backward dropout_forward
    elu_backward elu_forward exponential_decay fan_in_fan_out glorot_bound grid_search_points
    huber im2col init_bn_state init_two_layer kaiming_normal kaiming_std kaiming_uniform
    kl_divergence l1_penalty l2_penalty leaky_relu_backward leaky_relu_forward log_softmax
    log_softmax_backward mae max_pool_backward max_pool_forward minibatches mlp_forward mse
    nesterov numerical_gradient numerical_gradient_array numerical_partials one_hot
    pairwise_distances perceptron propagate_through_depth random_flip random_search_points
    random_shift rel_error relu_backward relu_forward rmsprop same_output_size same_padding sgd
    sgd_momentum sigmoid sigmoid_backward sigmoid_forward softmax softmax_backward
    softmax_cross_entropy softplus softplus_backward softplus_forward spatial_batchnorm_backward
    spatial_batchnorm_forward standardize step_decay stratified_split tanh_backward tanh_forward
    tensor_bytes train_minibatch two_layer_graph_backward two_layer_graph_forward two_layer_net
    xavier_normal xavier_std xavier_uniform
""".split()
NAMES_BEFORE = {
    "dlcourse.ref": REF_NAMES_BEFORE,
    # every name of dlcourse.ref but ACTIVATIONS, and these
    "dlcourse.gpu": [name for name in REF_NAMES_BEFORE if name != "ACTIVATIONS"] + """
    Adadelta Adagrad Adam Affine BatchNorm BatchNormFunction Conv2d Momentum Nesterov RMSprop
    ReLU SGD Sigmoid SoftmaxCrossEntropy Tanh TwoLayerGraph TwoLayerNet affine conv2d
    default_device params_from_numpy relu set_lr softmax_cross_entropy_loss tanh to_numpy
    to_tensor
    """.split(),
}

# Modules kept out of their package's namespace for now, and why; they are imported by module name
# (``from dlcourse.gpu import rnn``). Merging one is its import line plus deleting its entry here.
NOT_MERGED: dict[str, str] = {}

PACKAGES = ["dlcourse.ref", pytest.param("dlcourse.gpu", marks=pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="dlcourse.gpu needs torch"))]


def star_imports(package: str) -> list[str]:
    """The modules ``package/__init__.py`` star-imports, in the order of its lines."""
    tree = ast.parse((PACKAGE_DIR / package.split(".")[1] / "__init__.py").read_text())
    return [
        node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and [a.name for a in node.names] == ["*"]
    ]


def public_modules(package: str) -> list[str]:
    """Every module file of the package whose name does not start with an underscore."""
    folder = PACKAGE_DIR / package.split(".")[1]
    return sorted(f"{package}.{p.stem}" for p in folder.glob("*.py") if not p.stem.startswith("_"))


@pytest.mark.parametrize("package", PACKAGES)
def test_no_public_name_disappeared(package: str) -> None:
    pkg = importlib.import_module(package)
    missing = sorted(set(NAMES_BEFORE[package]) - set(pkg.__all__))
    assert not missing, f"{package} lost {missing}"
    for name in pkg.__all__:
        assert hasattr(pkg, name), f"{package}.__all__ lists {name}, which it does not have"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_module_declares_all_and_is_star_imported(package: str) -> None:
    modules = public_modules(package)
    assert set(NOT_MERGED) <= set(public_modules("dlcourse.ref") + public_modules("dlcourse.gpu")), "stale NOT_MERGED"
    imported = star_imports(package)
    assert sorted(imported) == sorted(set(modules) - set(NOT_MERGED)), (
        f"{package}/__init__.py must star-import each public module exactly once (or NOT_MERGED says why not)"
    )
    for module in modules:
        mod = importlib.import_module(module)
        assert isinstance(getattr(mod, "__all__", None), list), f"{module} declares no __all__ list"
        for name in mod.__all__:
            assert hasattr(mod, name), f"{module}.__all__ lists {name}, which it does not define"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_exported_name_hides_a_module(package: str) -> None:
    """``from dlcourse.gpu.rnn import *`` binding a function ``rnn`` would replace the attribute
    ``dlcourse.gpu.rnn`` (the module) with it, and ``from dlcourse.gpu import rnn`` would give the function."""
    module_names = {m.rsplit(".", 1)[1] for m in public_modules(package)}
    for module in star_imports(package):
        clash = sorted(module_names & set(importlib.import_module(module).__all__))
        assert not clash, f"{module} exports {clash}, the name of a module of {package}"


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_the_modules_all_in_import_order(package: str) -> None:
    pkg = importlib.import_module(package)
    expected = [name for module in star_imports(package) for name in importlib.import_module(module).__all__]
    duplicated = sorted({name for name in expected if expected.count(name) > 1})
    assert not duplicated, f"exported by two modules of {package} (the later import would hide the other): {duplicated}"
    assert pkg.__all__ == expected
    for module in star_imports(package):
        mod = importlib.import_module(module)
        for name in mod.__all__:
            assert getattr(pkg, name) is getattr(mod, name), f"{package}.{name} is not {module}.{name}"


def test_modules_are_imported_in_lecture_order() -> None:
    """The trailing comment of each star import names its lecture; the numbers never decrease."""
    for package in ("ref", "gpu"):
        lines = (PACKAGE_DIR / package / "__init__.py").read_text().splitlines()
        lectures = [int(m.group(1)) for line in lines if (m := re.match(r"from \S+ import \*\s+# (\d\d) ", line))]
        assert len(lectures) == len(star_imports(f"dlcourse.{package}")), package
        assert lectures == sorted(lectures), f"dlcourse/{package}/__init__.py: lectures out of order {lectures}"


def test_import_dlcourse_ref_stays_light() -> None:
    code = (
        "import sys, dlcourse.ref; "
        "heavy = sorted({'torch', 'matplotlib', 'ipywidgets', 'dlcourse.gpu'} & set(sys.modules)); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_dispatch_through_globals() -> None:
    """Functions are looked up in written-out tables, so that a search for a name finds its callers."""
    hits = [
        f"{path.relative_to(PACKAGE_DIR.parent)}:{number}"
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "globals()[" in line
    ]
    assert not hits, hits
