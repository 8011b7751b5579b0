"""Checks for lecture 09-cnns.

Module exercises (``SimpleCNN``, ``ResidualBlock``, ``Inception``, ``TinySegmenter``) are checked
the same way, in teaching order: the constructor builds a ``torch.nn.Module``; its parameter
count equals the formula's (known wrong counts are named: no padding, no 1×1 reduction, biases
before a batch norm, …); random float64 weights (and batch-norm statistics) are copied into it,
paired with the reference's by name or else by order and shape
(:func:`dlcourse.ref.cnns.match_state`); its output in eval mode equals the NumPy reference
network's (:mod:`dlcourse.ref.cnns`, ``*_output``) on the same weights, with known wrong outputs
named (a missing ReLU, the shortcut not added, branches in another order, …); and every
parameter gets a gradient (no detached branch). A residual block is also checked with its
branch switched off (the last batch norm's γ = β = 0): only the shortcut may pass.

``check_train_epoch`` runs the student's loop on a linear classifier whose SGD steps are
computed in NumPy by the reference loss; ``check_simple_cnn_params``, ``check_confusion_matrix``,
``check_per_class_accuracy`` and ``check_class_weights`` are NumPy exercises. Hidden cases add the
documented defaults, a batch of one, odd sizes that pooling floors, a stride-only and a
channels-only projection, a ragged last batch, classes without examples, integer and
non-contiguous labels. Expected values come from :mod:`dlcourse.ref` after the student's call.

This module imports torch only inside the checks that need it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_equal, expect_scalar
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.guard import call_strict, call_student

__all__ = [
    "check_simple_cnn_params",
    "check_simple_cnn",
    "check_residual_block",
    "check_inception",
    "check_train_epoch",
    "check_confusion_matrix",
    "check_per_class_accuracy",
    "check_class_weights",
    "check_tiny_segmenter",
]

SALT = 90_909  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

ZERO_ROWS = ("a class with no examples (a row of zeros) has no accuracy: give it NaN (np.nan), without dividing "
             "0 by 0 (np.divide(..., where=rows > 0) or a mask; a warning would reach stderr).")
ZERO_COUNTS = ("a class without examples has n_c = 0: give it weight 0 without dividing by 0 (a mask, or "
               "np.divide(..., where=counts > 0); a warning would reach stderr).")
DETACHED = ("every parameter should learn: a branch that is computed but not used, or one cut from the graph by "
            ".detach(), .data or torch.no_grad(), gets no gradient.")


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _softmax(s: np.ndarray, axis: int = 1) -> np.ndarray:
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------- modules: shared steps


def _random_state(shapes: dict[str, tuple[int, ...]], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Weights of about unit gain, biases and batch-norm statistics away from their defaults."""
    state = {}
    for name, shape in shapes.items():
        if name.endswith("running_var"):
            state[name] = rng.uniform(0.5, 2.0, shape)
        elif name.endswith("running_mean") or name.endswith("bias"):
            state[name] = rng.normal(0.0, 0.3, shape)
        elif len(shape) == 1:  # a batch norm's γ
            state[name] = rng.uniform(0.5, 1.5, shape)
        else:  # He's scale, so that activations stay of order 1 through the layers
            state[name] = rng.standard_normal(shape) * np.sqrt(2.0 / int(np.prod(shape[1:])))
    return state


def _build(cls: Any, args: tuple[Any, ...], name: str, case: str) -> Any:
    import torch

    model = call_student(cls, *args, name=name)
    if not isinstance(model, torch.nn.Module):
        raise CheckFailure(f"{name}(...) should build a torch.nn.Module, got {type(model).__name__} ({case}).\n"
                           f"  Hint: write `class {name}(nn.Module):` and call `super().__init__()` first.")
    return model


def _count(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def _load(model: Any, state: dict[str, np.ndarray], name: str, case: str) -> Any:
    """The student's module in float64 holding ``state`` (paired by name, else by order and shape)."""
    import torch

    model = model.double()
    mine = {k: v for k, v in model.state_dict(keep_vars=True).items() if not k.endswith("num_batches_tracked")}
    try:
        pairs = ref.match_state({k: tuple(v.shape) for k, v in mine.items()}, {k: v.shape for k, v in state.items()})
    except ValueError as exc:
        raise CheckFailure(f"the reference's weights cannot be copied into your {name} ({case}): {exc}.") from None
    with torch.no_grad():
        for k, theirs in pairs:
            mine[k].copy_(torch.from_numpy(state[theirs]))
    return model


def _forward(model: Any, x: np.ndarray, name: str, case: str) -> np.ndarray:
    """``model(x)`` in eval mode without a graph, as a float64 array (or a failure saying what it returned)."""
    import torch

    model.eval()
    with torch.no_grad():
        out = call_student(model, torch.from_numpy(x), name=f"{name}.forward")
    if not isinstance(out, torch.Tensor):
        raise CheckFailure(f"{name}.forward should return a torch.Tensor, got {type(out).__name__} ({case}).")
    return out.detach().cpu().numpy()


def _expect_gradient_flow(model: Any, x: np.ndarray, name: str, case: str) -> None:
    """Every trainable parameter gets a gradient from Σ out · r (r fixed and random): the graph reaches it."""
    import torch

    model.eval()
    model.zero_grad(set_to_none=True)
    out = call_student(model, torch.from_numpy(x), name=f"{name}.forward")
    weights = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * torch.from_numpy(weights)).sum().backward()
    # None, not zeros: a ReLU that happens to be off everywhere gives zeros; a cut graph gives nothing at all
    dead = [k for k, p in model.named_parameters() if p.requires_grad and p.grad is None]
    model.zero_grad(set_to_none=True)
    if dead:
        raise CheckFailure(f"no gradient reaches {', '.join(dead)} of your {name} ({case}).\n  Hint: {DETACHED}")


def _expect_output(got: np.ndarray, expected: np.ndarray, name: str, case: str, mistakes: list[Mistake]) -> None:
    scale = float(np.abs(expected).max()) if expected.size else 1.0
    expect_array(got, expected, what=f"{name}'s output", case=case, rtol=1e-6, atol=1e-9 * max(scale, 1.0),
                 mistakes=mistakes)


# --------------------------------------------------------------------------- the lecture's CNN


def _cnn_cases(hidden: bool) -> Iterator[tuple[str, tuple[int, ...], int]]:
    """(description, constructor arguments, batch size)."""
    yield "SimpleCNN(8, 1, 10) on 8×8 digits", (8, 1, 10), 2
    yield "SimpleCNN(12, 3, 5)", (12, 3, 5), 3
    if hidden:
        yield "SimpleCNN() with its defaults", (), 2
        yield "SimpleCNN(10, 1, 4): 10 → 5 → 2 after the poolings (floor)", (10, 1, 4), 2
        yield "SimpleCNN(16, 2, 3) on a batch of one", (16, 2, 3), 1
        yield "SimpleCNN(4, 1, 2), the smallest input two poolings allow", (4, 1, 2), 3


def _cnn_variant(x: np.ndarray, p: dict[str, np.ndarray], *, pool: str = "max", relu: bool = True,
                 channels_last: bool = False) -> np.ndarray:
    """The lecture's CNN with one step changed (the pooling, the ReLUs, the flattening order)."""
    pool_fn = ref.max_pool_forward if pool == "max" else ref.avg_pool_forward
    act = _relu if relu else (lambda a: a)
    h = pool_fn(act(ref.conv_forward(x, p["conv1.weight"], p["conv1.bias"], 1, 1)[0]), 2)[0]
    h = pool_fn(act(ref.conv_forward(h, p["conv2.weight"], p["conv2.bias"], 1, 1)[0]), 2)[0]
    flat = (h.transpose(0, 2, 3, 1) if channels_last else h).reshape(h.shape[0], -1)
    return _relu(flat @ p["fc1.weight"].T + p["fc1.bias"]) @ p["fc2.weight"].T + p["fc2.bias"]


def _cnn_count_mistakes(in_size: int, in_channels: int, n_classes: int) -> list[Mistake]:
    head = ref.linear_params(1024, n_classes)
    convs = ref.conv2d_params(in_channels, 32, 3) + ref.conv2d_params(32, 64, 3)
    side = ((in_size - 2) // 2 - 2) // 2 if in_size >= 6 else -1  # 0 for 8×8: nn.Linear(0, 1024) still builds
    return [
        Mistake(convs + 1024 * (64 * side * side + 1) + head if side >= 0 else None,
                "that is the count without padding: each 3×3 convolution takes 2 pixels off the size. Pad by 1 "
                "(padding=1) so that only the poolings halve it."),
        Mistake(convs + ref.linear_params(64 * in_size * in_size, 1024) + head,
                "the flattened size forgets the poolings: two 2×2 poolings leave ⌊⌊S/2⌋/2⌋ pixels per side, "
                "so Dense(1024) reads 64·(S//4)² features, not 64·S²."),
        Mistake(convs + ref.linear_params(64 * (in_size // 2) ** 2, 1024) + head,
                "the flattened size counts one pooling: there are two, so 64·(S//2//2)² features."),
        Mistake(convs + ref.linear_params(ref.simple_cnn_flat_features(in_size), n_classes),
                "the Dense(1024) layer (with its ReLU) is missing between the flattening and the output layer."),
    ]


@exercise("SimpleCNN")
def check_simple_cnn(SimpleCNN: type, hidden: bool = False) -> None:  # noqa: N803  (the student's class)
    """Check ``SimpleCNN(in_size=8, in_channels=1, n_classes=10)``: Conv(32) → pool → Conv(64) → pool →
    flatten → Dense(1024) → Dense(n_classes), 3×3 convolutions padded by 1, 2×2 max-pooling, ReLUs, logits out."""
    rng = case_rng(hidden, SALT + 1)
    run = CheckRun("SimpleCNN", hidden)
    for case, args, n in run.cases(_cnn_cases(hidden)):
        with run.case():
            in_size, in_channels, n_classes = args or (8, 1, 10)
            model = _build(SimpleCNN, args, "SimpleCNN", case)
            expect_equal(_count(model), ref.simple_cnn_params(in_size, in_channels, n_classes),
                         what="its number of parameters", case=case, show="{:,}".format,
                         mistakes=_cnn_count_mistakes(in_size, in_channels, n_classes))
            state = _random_state(ref.simple_cnn_shapes(in_size, in_channels, n_classes), rng)
            model = _load(model, state, "SimpleCNN", case)
            x = rng.standard_normal((n, in_channels, in_size, in_size))
            got = _forward(model, x, "SimpleCNN", case)
            expected = ref.simple_cnn_output(x, state)
            _expect_output(got, expected, "SimpleCNN", case, [
                Mistake(_softmax(expected), "return the logits: nn.CrossEntropyLoss applies the (log-)softmax "
                        "itself (the lecture's softmax in the last layer belongs to the loss in PyTorch)."),
                Mistake(_cnn_variant(x, state, pool="avg"), "pool with the maximum (nn.MaxPool2d(2)), not the average."),
                Mistake(_cnn_variant(x, state, relu=False), "apply a ReLU after each convolution: without it the "
                        "two convolutions are one linear map."),
                Mistake(_cnn_variant(x, state, channels_last=True), "flatten in PyTorch's (N, C, H, W) order: "
                        "x.flatten(1) (or x.view(len(x), -1)), not after moving the channels last."),
            ])
            _expect_gradient_flow(model, x, "SimpleCNN", case)
    run.passed()


def _params_cases(hidden: bool) -> Iterator[tuple[str, tuple[int, ...]]]:
    yield "simple_cnn_params(8, 1, 10): 8×8 digits", (8, 1, 10)
    yield "simple_cnn_params(28, 1, 10): 28×28 MNIST", (28, 1, 10)
    if hidden:
        yield "simple_cnn_params() with its defaults", ()
        yield "simple_cnn_params(32, 3, 10): CIFAR-10's 32×32 colour images", (32, 3, 10)
        yield "simple_cnn_params(10, 1, 4): 10 → 5 → 2 (floor)", (10, 1, 4)
        yield "simple_cnn_params(4, 2, 2)", (4, 2, 2)


@exercise("simple_cnn_params")
def check_simple_cnn_params(simple_cnn_params: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``simple_cnn_params(in_size=8, in_channels=1, n_classes=10) -> int``, computed by hand."""
    run = CheckRun("simple_cnn_params", hidden)
    for case, args in run.cases(_params_cases(hidden)):
        with run.case():
            got = call_student(simple_cnn_params, *args, name="simple_cnn_params")
            in_size, in_channels, n_classes = args or (8, 1, 10)
            expected = ref.simple_cnn_params(in_size, in_channels, n_classes)
            if isinstance(got, float) and got == expected:
                raise CheckFailure(f"simple_cnn_params returned the float {got!r}, expected the int {expected} ({case})."
                                   f"\n  Hint: a count is an int: use // for the poolings and keep to integers.")
            flat = ref.simple_cnn_flat_features(in_size)
            no_bias = (32 * in_channels * 9 + 64 * 32 * 9 + flat * 1024 + 1024 * n_classes)
            k_not_squared = (32 * (in_channels * 3 + 1) + 64 * (32 * 3 + 1) + ref.linear_params(flat, 1024)
                             + ref.linear_params(1024, n_classes))
            one_channel = ref.simple_cnn_params(in_size, 1, n_classes)
            expect_equal(got, expected, what="simple_cnn_params's count", case=case, show=repr, mistakes=[
                Mistake(no_bias, "every layer has one bias per output (channel or unit): + c_out for each conv, "
                        "+ n_out for each dense layer."),
                Mistake(k_not_squared, "a 3×3 kernel has 3·3 = 9 weights per input channel: k², not k."),
                Mistake(one_channel if in_channels != 1 else None, "the first convolution reads in_channels "
                        "channels: 32·(in_channels·9 + 1).", partial=True),
                *_cnn_count_mistakes(in_size, in_channels, n_classes),
            ])
    run.passed()


# --------------------------------------------------------------------------- the residual block


def _block_cases(hidden: bool) -> Iterator[tuple[str, tuple[int, ...], tuple[int, ...], bool]]:
    """(description, constructor arguments, input shape, residual branch switched off)."""
    yield "ResidualBlock(4, 8, 2): channels and resolution change", (4, 8, 2), (2, 4, 6, 6), False
    yield "ResidualBlock(4, 4, 1): identity shortcut", (4, 4, 1), (2, 4, 5, 5), False
    yield "ResidualBlock(3, 6, 2) with its branch switched off (bn2's γ = β = 0)", (3, 6, 2), (2, 3, 6, 6), True
    if hidden:
        yield "ResidualBlock(5, 5) with the default stride", (5, 5), (2, 5, 4, 4), False
        yield "ResidualBlock(4, 4, 2): stride alone (same channels) needs a projection too", (4, 4, 2), (2, 4, 6, 6), False
        yield "ResidualBlock(3, 5, 1): channels alone", (3, 5, 1), (1, 3, 5, 5), False
        yield "ResidualBlock(2, 4, 2) on 7×7 (odd size), batch of one", (2, 4, 2), (1, 2, 7, 7), False
        yield "ResidualBlock(4, 4, 1) with its branch switched off", (4, 4, 1), (2, 4, 5, 5), True


def _block_parts(x: np.ndarray, p: dict[str, np.ndarray], stride: int, stride_first: bool = True
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(F(x), S(x)) of the reference block; ``stride_first=False`` puts the stride on the second conv."""
    s1, s2 = (stride, 1) if stride_first else (1, stride)
    f = _relu(ref.cnns._bn_eval(ref.cnns._conv_out(x, p, "conv1", s1, 1), p, "bn1"))
    f = ref.cnns._bn_eval(ref.cnns._conv_out(f, p, "conv2", s2, 1), p, "bn2")
    if "shortcut.0.weight" not in p:
        return f, x
    return f, ref.cnns._bn_eval(ref.cnns._conv_out(x, p, "shortcut.0", stride), p, "shortcut.1")


@exercise("ResidualBlock")
def check_residual_block(ResidualBlock: type, hidden: bool = False) -> None:  # noqa: N803
    """Check ``ResidualBlock(c_in, c_out, stride=1)``: y = ReLU(F(x) + S(x)), F = conv3×3(stride) → BN → ReLU →
    conv3×3 → BN (no conv biases), S = identity or conv1×1(stride) → BN when the shape changes."""
    rng = case_rng(hidden, SALT + 2)
    run = CheckRun("ResidualBlock", hidden)
    for case, args, x_shape, switched_off in run.cases(_block_cases(hidden)):
        with run.case():
            c_in, c_out, stride = (*args, 1)[:3]
            model = _build(ResidualBlock, args, "ResidualBlock", case)
            expected_count = ref.residual_block_params(c_in, c_out, stride)
            projection = stride != 1 or c_in != c_out
            proj = ref.conv2d_params(c_in, c_out, 1, bias=False) + ref.batchnorm2d_params(c_out)
            expect_equal(_count(model), expected_count, what="its number of parameters", case=case, mistakes=[
                Mistake(expected_count + 2 * c_out + (c_out if projection else 0), "no biases in the convolutions "
                        "(bias=False): the batch norm that follows each one subtracts the mean, bias included, and "
                        "adds its own β."),
                Mistake(expected_count - ref.batchnorm2d_params(c_out) if projection else None,
                        "the projection shortcut is a 1×1 convolution *and* a batch norm, like the branch it is "
                        "added to.", partial=True),
                Mistake(None if projection else expected_count + proj, "the shortcut is the identity (nn.Identity()) "
                        "when the shapes agree (stride 1, c_in == c_out): a projection only where it is needed.",
                        partial=True),
                Mistake(expected_count - proj if stride != 1 and c_in == c_out else None, "a stride changes the "
                        "shape too: the shortcut needs its projection whenever stride != 1 or c_in != c_out.",
                        partial=True),
            ])
            shapes = ref.residual_block_shapes(c_in, c_out, stride)
            state = _random_state(shapes, rng)
            if switched_off:
                state["bn2.weight"][:] = 0.0
                state["bn2.bias"][:] = 0.0
            model = _load(model, state, "ResidualBlock", case)
            x = rng.standard_normal(x_shape)
            got = _forward(model, x, "ResidualBlock", case)
            expected = ref.residual_block_output(x, state, stride)
            f, s = _block_parts(x, state, stride)
            late = _block_parts(x, state, stride, stride_first=False) if stride != 1 else None
            _expect_output(got, expected, "ResidualBlock", case, [
                Mistake(_relu(f), "the shortcut is not added: y = ReLU(F(x) + S(x)). With the branch switched off "
                        "the block must pass its shortcut through."),
                Mistake(f + s, "apply the ReLU after the sum: y = ReLU(F(x) + S(x)); the block's output is "
                        "non-negative."),
                Mistake(_relu(_relu(f) + s), "the ReLU comes after the sum only: F ends with the second batch norm, "
                        "then y = ReLU(F(x) + S(x))."),
                Mistake(_relu(late[0] + late[1]) if late else None, "the stride belongs to the first 3×3 "
                        "convolution (and to the 1×1 projection).", partial=True),
            ])
            if not switched_off:
                _expect_gradient_flow(model, x, "ResidualBlock", case)
    run.passed()


# --------------------------------------------------------------------------- the inception module


def _inception_cases(hidden: bool) -> Iterator[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    yield "Inception(6, 3, 2, 4, 2, 5, 2) on (2, 6, 5, 5)", (6, 3, 2, 4, 2, 5, 2), (2, 6, 5, 5)
    yield "Inception(4, 2, 3, 3, 1, 2, 3) on (1, 4, 6, 6)", (4, 2, 3, 3, 1, 2, 3), (1, 4, 6, 6)
    if hidden:
        yield "Inception(8, 4, 2, 6, 2, 3, 1) on a 1×1 map", (8, 4, 2, 6, 2, 3, 1), (2, 8, 1, 1)
        yield "Inception(3, 1, 4, 2, 3, 4, 2) on (2, 3, 7, 4)", (3, 1, 4, 2, 3, 4, 2), (2, 3, 7, 4)


def _inception_branches(x: np.ndarray, p: dict[str, np.ndarray], reduce_relu: bool = True, out_relu: bool = True
                        ) -> list[np.ndarray]:
    mid = _relu if reduce_relu else (lambda a: a)
    end = _relu if out_relu else (lambda a: a)
    conv = ref.cnns._conv_out
    return [end(conv(x, p, "branch1.0")),
            end(conv(mid(conv(x, p, "branch3.0")), p, "branch3.2", pad=1)),
            end(conv(mid(conv(x, p, "branch5.0")), p, "branch5.2", pad=2)),
            end(conv(ref.cnns._max_pool_same(x), p, "branch_pool.1"))]


@exercise("Inception")
def check_inception(Inception: type, hidden: bool = False) -> None:  # noqa: N803
    """Check ``Inception(c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj)``: 1×1 | 1×1 → 3×3 | 1×1 → 5×5 |
    3×3 max-pool (stride 1, pad 1) → 1×1, a ReLU after every convolution, concatenated in that order."""
    rng = case_rng(hidden, SALT + 3)
    run = CheckRun("Inception", hidden)
    for case, args, x_shape in run.cases(_inception_cases(hidden)):
        with run.case():
            c_in, c1, c3r, c3, c5r, c5, pp = args
            model = _build(Inception, args, "Inception", case)
            conv = ref.conv2d_params
            expect_equal(_count(model), ref.inception_params(*args), what="its number of parameters", case=case,
                         mistakes=[
                Mistake(conv(c_in, c1, 1) + conv(c_in, c3, 3) + conv(c_in, c5, 5) + conv(c_in, pp, 1),
                        "the 3×3 and 5×5 convolutions read the 1×1 reductions' c3_reduce and c5_reduce channels, "
                        "not the c_in input channels: a 1×1 reduction comes first in each of those branches."),
                Mistake(ref.inception_params(*args) - conv(c3r, c3, 3) + conv(c_in, c3, 3) - conv(c_in, c3r, 1),
                        "the 3×3 branch starts with its 1×1 reduction to c3_reduce channels."),
                Mistake(ref.inception_params(*args) - conv(c5r, c5, 5) + conv(c_in, c5, 5) - conv(c_in, c5r, 1),
                        "the 5×5 branch starts with its 1×1 reduction to c5_reduce channels."),
                Mistake(ref.inception_params(*args) - conv(c_in, pp, 1), "the pooling branch ends with a 1×1 "
                        "convolution to pool_proj channels (pooling keeps all c_in channels)."),
            ])
            state = _random_state(ref.inception_shapes(*args), rng)
            model = _load(model, state, "Inception", case)
            x = rng.standard_normal(x_shape)
            got = _forward(model, x, "Inception", case)
            expected = ref.inception_output(x, state)
            branches = _inception_branches(x, state)
            orders = [Mistake(np.concatenate([branches[i] for i in order], axis=1),
                              "concatenate the branches in the order 1×1, 3×3, 5×5, pool (torch.cat([...], dim=1)).",
                              name=f"order {order}")
                      for order in itertools.permutations(range(4)) if order != (0, 1, 2, 3)]
            _expect_output(got, expected, "Inception", case, [
                Mistake(np.concatenate(_inception_branches(x, state, reduce_relu=False), axis=1),
                        "a ReLU follows the 1×1 reductions too: each reduction is a layer of its own."),
                Mistake(np.concatenate(_inception_branches(x, state, out_relu=False), axis=1),
                        "each branch ends with a ReLU after its last convolution."),
                *orders,
            ])
            _expect_gradient_flow(model, x, "Inception", case)
    run.passed()


# --------------------------------------------------------------------------- the segmenter


def _segmenter_cases(hidden: bool) -> Iterator[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    yield "TinySegmenter(1, 4, 4) on (2, 1, 8, 8)", (1, 4, 4), (2, 1, 8, 8)
    yield "TinySegmenter(3, 2, 6) on (1, 3, 12, 8)", (3, 2, 6), (1, 3, 12, 8)
    if hidden:
        yield "TinySegmenter() with its defaults on (1, 1, 16, 16)", (), (1, 1, 16, 16)
        yield "TinySegmenter(2, 5, 2) on (3, 2, 4, 4), the smallest size", (2, 5, 2), (3, 2, 4, 4)


def _segmenter_variant(x: np.ndarray, p: dict[str, np.ndarray], up_relu: bool = True) -> np.ndarray:
    conv = ref.cnns._conv_out
    h = _relu(conv(_relu(conv(_relu(conv(x, p, "down1", 1, 1)), p, "down2", 2, 1)), p, "down3", 2, 1))
    for name in ("up1", "up2"):
        h = ref.conv_transpose_forward(h, p[f"{name}.weight"], p[f"{name}.bias"], 2, 0)[0]
        h = _relu(h) if up_relu else h
    return conv(h, p, "head")


@exercise("TinySegmenter")
def check_tiny_segmenter(TinySegmenter: type, hidden: bool = False) -> None:  # noqa: N803
    """Check ``TinySegmenter(in_channels=1, n_classes=4, width=16)``: conv3×3 (width) → conv3×3 stride 2 (2·width)
    → conv3×3 stride 2 (4·width) → 2×2 transposed conv stride 2 (2·width) → 2×2 transposed conv stride 2 (width)
    → 1×1 conv (n_classes), ReLUs between, scores (N, n_classes, H, W) out."""
    rng = case_rng(hidden, SALT + 4)
    run = CheckRun("TinySegmenter", hidden)
    for case, args, x_shape in run.cases(_segmenter_cases(hidden)):
        with run.case():
            in_channels, n_classes, width = args or (1, 4, 16)
            model = _build(TinySegmenter, args, "TinySegmenter", case)
            w = width
            expected_count = ref.segmenter_params(in_channels, n_classes, width)
            tconv = ref.conv_transpose2d_params
            k3 = expected_count - tconv(4 * w, 2 * w, 2) - tconv(2 * w, w, 2) + tconv(4 * w, 2 * w, 3) + tconv(2 * w, w, 3)
            upsample = expected_count - tconv(4 * w, 2 * w, 2) - tconv(2 * w, w, 2)
            expect_equal(_count(model), expected_count, what="its number of parameters", case=case, mistakes=[
                Mistake(k3, "the transposed convolutions are 2×2 with stride 2: each output pixel gets exactly one "
                        "kernel entry and the size doubles exactly (a 3×3 kernel gives 2H+1, or 2H−1 with padding 1)."),
                *[Mistake(count, "up-sample with learned transposed convolutions (nn.ConvTranspose2d(..., 2, "
                          "stride=2)), not with a fixed nn.Upsample/F.interpolate: the lesson is the transposed "
                          "convolution.", name="upsample")
                  for count in (upsample, upsample - ref.conv2d_params(w, n_classes, 1)
                                + ref.conv2d_params(4 * w, n_classes, 1))],
            ])
            state = _random_state(ref.segmenter_shapes(in_channels, n_classes, width), rng)
            model = _load(model, state, "TinySegmenter", case)
            x = rng.standard_normal(x_shape)
            got = _forward(model, x, "TinySegmenter", case)
            expected = ref.segmenter_output(x, state)
            n, _, h, wd = x_shape
            _expect_output(got, expected, "TinySegmenter", case, [
                Mistake(np.zeros((n, n_classes, 4 * h, 4 * wd)), "the two 3×3 convolutions after the first have "
                        "stride 2: down to H/4, then the transposed convolutions back up to H.", shape_only=True),
                Mistake(np.zeros((n, h, wd, n_classes)), "keep PyTorch's (N, C, H, W) layout: one channel per class, "
                        "as nn.CrossEntropyLoss expects for per-pixel targets (N, H, W).", shape_only=True),
                Mistake(_softmax(expected), "return the scores (logits): nn.CrossEntropyLoss applies the softmax "
                        "over the class dimension itself."),
                Mistake(_segmenter_variant(x, state, up_relu=False), "a ReLU follows each transposed convolution "
                        "too (only the 1×1 read-out has none)."),
            ])
            _expect_gradient_flow(model, x, "TinySegmenter", case)
    run.passed()


# --------------------------------------------------------------------------- the training loop


def _mode_recorder(d: int, c: int) -> Any:
    """A linear classifier (float64) that records, at every forward pass, whether it was in training mode."""
    import torch

    class Recorder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(d, c, dtype=torch.float64)
            self.modes: list[bool] = []

        def forward(self, x: Any) -> Any:
            self.modes.append(self.training)
            return self.linear(x)

    return Recorder()


def _train_cases(hidden: bool) -> Iterator[tuple[str, list[int], int, int, str]]:
    """(description, batch sizes, features D, classes C, device)."""
    yield "3 batches of 4, D=5, C=3", [4, 4, 4], 5, 3, "cpu"
    yield "2 batches of 6, D=3, C=4", [6, 6], 3, 4, "cpu"
    if hidden:
        import torch

        yield "batches of 5, 5 and 2 (a smaller last batch)", [5, 5, 2], 4, 3, "cpu"
        yield "one batch of one example", [1], 3, 2, "cpu"
        if torch.cuda.is_available():
            yield "the model on the GPU, the batches on the CPU", [4, 3], 4, 3, "cuda"


def _sgd_epoch(w: np.ndarray, b: np.ndarray, loader: list[tuple[np.ndarray, np.ndarray]], lr: float, *,
               zero_grad: bool = True, step: bool = True) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The epoch in NumPy: per batch the mean cross-entropy's gradient (dlcourse.ref) and an SGD step."""
    w, b = w.copy(), b.copy()
    gw, gb = np.zeros_like(w), np.zeros_like(b)
    losses = []
    for x, y in loader:
        loss, ds = ref.softmax_cross_entropy(x @ w.T + b, y)
        gw = ds.T @ x + (0 if zero_grad else gw)
        gb = ds.sum(axis=0) + (0 if zero_grad else gb)
        if step:
            w, b = w - lr * gw, b - lr * gb
        losses.append(float(loss))
    return w, b, losses


@exercise("train_epoch")
def check_train_epoch(train_epoch: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``train_epoch(model, loader, loss_fn, optimizer, device) -> float``: one pass in training mode,
    each batch moved to ``device``, zero_grad → forward → loss → backward → step; the mean loss per example."""
    import torch

    rng = case_rng(hidden, SALT + 5)
    run = CheckRun("train_epoch", hidden)
    lr = 0.5
    for case, sizes, d, c, device in run.cases(_train_cases(hidden)):
        with run.case():
            batches = [(rng.standard_normal((n, d)), rng.integers(0, c, n)) for n in sizes]
            model = _mode_recorder(d, c)
            w0, b0 = model.linear.weight.detach().numpy().copy(), model.linear.bias.detach().numpy().copy()
            model.to(device).eval()  # the loop must switch training mode on itself
            loader = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            got = call_student(train_epoch, model, loader, torch.nn.CrossEntropyLoss(), optimizer, torch.device(device),
                               name="train_epoch", allow_inplace=True)
            w, b, losses = _sgd_epoch(w0, b0, batches, lr)
            if not model.modes or not all(model.modes):
                raise CheckFailure(f"the model ran in eval mode during train_epoch ({case}).\n  Hint: call "
                                   f"model.train() at the start: dropout and batch norm behave differently in "
                                   f"training, and the loop may be handed a model left in eval mode.")
            if len(model.modes) != len(sizes):
                raise CheckFailure(f"the model ran {len(model.modes)} forward passes for {len(sizes)} batches ({case}).")
            got_w = model.linear.weight.detach().cpu().numpy()
            got_b = model.linear.bias.detach().cpu().numpy()
            w_acc = _sgd_epoch(w0, b0, batches, lr, zero_grad=False)[0]
            expect_array(got_w, w, what="the weight matrix after the epoch", case=case, rtol=1e-6, atol=1e-9, mistakes=[
                Mistake(w0, "the parameters did not change: call optimizer.step() after loss.backward() (and "
                        "optimizer.zero_grad() before it, not between the two)."),
                Mistake(w_acc if len(sizes) > 1 else None, "call optimizer.zero_grad() for every batch: backward() "
                        "adds to .grad, so without it each step uses the sum of all gradients so far.", partial=True),
            ])
            expect_array(got_b, b, what="the bias vector after the epoch", case=case, rtol=1e-6, atol=1e-9)
            weights = np.array(sizes, dtype=np.float64)
            mean = float(np.dot(losses, weights) / weights.sum())
            expect_scalar(got, mean, what="train_epoch's mean loss", case=case, rtol=1e-6, mistakes=[
                Mistake(float(np.mean(losses)) if len(set(sizes)) > 1 else None, "weight each batch's mean loss by "
                        "its size (Σ B·loss / Σ B): the last, smaller batch must count for what it holds.",
                        partial=True),
                Mistake(float(np.sum(losses)) if len(sizes) > 1 else None, "return the mean loss per example, "
                        "not the sum of the batches' losses.", partial=True),
                Mistake(float(np.dot(losses, weights)), "divide by the number of examples: the mean loss per "
                        "example, not the total."),
            ])
    run.passed()


# --------------------------------------------------------------------------- metrics


def _label_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray, int]]:
    rng = case_rng(hidden, SALT + 6)
    t = np.array([0, 1, 2, 2, 1, 0, 2, 1])
    yield "8 labels of 3 classes", t, np.array([0, 2, 2, 1, 1, 0, 2, 0]), 3
    t = rng.integers(0, 4, 30)
    yield "30 labels, n_classes=5 (class 4 never occurs)", t, np.where(rng.random(30) < 0.6, t, rng.integers(0, 4, 30)), 5
    if hidden:
        t = rng.integers(0, 3, 12)
        yield "int32 labels, the prediction a non-contiguous slice", t.astype(np.int32), \
            np.repeat(rng.integers(0, 3, 12), 2)[::2], 3
        yield "a single example", np.array([1]), np.array([0]), 2
        t = rng.integers(0, 6, 40)
        yield "40 labels of 6 classes", t, np.where(rng.random(40) < 0.7, t, rng.integers(0, 6, 40)), 6


@exercise("confusion_matrix")
def check_confusion_matrix(confusion_matrix: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``confusion_matrix(y_true, y_pred, n_classes)``: (K, K) integer counts, rows = true class."""
    run = CheckRun("confusion_matrix", hidden)
    for case, t, p, k in run.cases(_label_cases(hidden)):
        with run.case():
            got = call_student(confusion_matrix, t, p, k, name="confusion_matrix")
            expected = ref.confusion_matrix(t, p, k)
            once = np.zeros((k, k), dtype=np.int64)
            once[t, p] = 1
            seen = int(max(t.max(), p.max())) + 1
            expect_array(got, expected, what="the confusion matrix", case=case, mistakes=[
                Mistake(expected.T, "rows are the true class and columns the prediction: C[i, j] counts true i "
                        "predicted as j (you built the transpose)."),
                Mistake(once, "C[y_true, y_pred] += 1 adds 1 once per *distinct* pair: repeated pairs are counted "
                        "once. Use np.add.at(C, (y_true, y_pred), 1), or a loop."),
                Mistake(expected[:seen, :seen] if seen < k else None, "size the matrix by n_classes, not by the "
                        "largest label seen: a class with no examples still has its row and column.", partial=True),
                Mistake(expected / np.maximum(expected.sum(axis=1, keepdims=True), 1), "return the counts; "
                        "normalising is per_class_accuracy's job."),
            ])
            if got.dtype.kind not in "iu":
                raise CheckFailure(f"the confusion matrix has dtype {got.dtype}; counts are integers ({case}).\n"
                                   f"  Hint: create it with np.zeros((K, K), dtype=np.int64).")
    run.passed()


def _cm_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray]]:
    for case, t, p, k in _label_cases(hidden):
        cm = ref.confusion_matrix(t, p, k)
        if not hidden and (cm.sum(axis=1) == 0).any():
            cm = cm[:-1, :-1]  # public cases: every class has examples
            case += ", the missing class left out"
        yield f"the confusion matrix of {case}", cm


@exercise("per_class_accuracy")
def check_per_class_accuracy(per_class_accuracy: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``per_class_accuracy(cm) -> (K,)`` float: C[i, i] / Σ_j C[i, j], NaN for a class without examples."""
    run = CheckRun("per_class_accuracy", hidden)
    for case, cm in run.cases(_cm_cases(hidden)):
        with run.case():
            got = call_strict(per_class_accuracy, cm, name="per_class_accuracy", hint=ZERO_ROWS)
            expected = ref.per_class_accuracy(cm)
            empty = cm.sum(axis=1) == 0
            with np.errstate(all="ignore"):
                columns = np.diagonal(cm) / cm.sum(axis=0)
            mistakes = [
                Mistake(columns, "divide by the row sums (the examples of each *true* class), not the column sums: "
                        "that is the precision of each prediction."),
                Mistake(np.full(len(cm), np.trace(cm) / cm.sum()), "that is the overall accuracy, repeated: each "
                        "class's accuracy is its own diagonal entry over its own row."),
                Mistake(100 * expected, "return fractions in [0, 1], not percentages."),
                Mistake(np.floor(expected), "the integer division // floors every accuracy below 1 to 0: divide "
                        "with /."),
            ]
            if isinstance(got, np.ndarray) and got.shape == expected.shape and empty.any():
                if not np.all(np.isnan(got[empty])):
                    raise CheckFailure(
                        f"per_class_accuracy gives {got[empty]} for the class(es) {np.flatnonzero(empty).tolist()} "
                        f"without examples ({case}).\n  Hint: {ZERO_ROWS}")
                # NaN where expected: compare the classes that have examples
                got, expected = got[~empty], expected[~empty]
                mistakes = [Mistake(None if m.value is None else np.asarray(m.value)[~empty], m.hint) for m in mistakes]
            expect_array(got, expected, what="per_class_accuracy(cm)", case=case, mistakes=mistakes)
    run.passed()


@exercise("class_weights")
def check_class_weights(class_weights: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``class_weights(y, n_classes) -> (K,)`` float: w_c = N / (K · n_c), 0 for an absent class."""
    run = CheckRun("class_weights", hidden)
    rng = case_rng(hidden, SALT + 7)
    cases = [("y with 8, 2 and 5 examples of 3 classes", np.repeat(np.arange(3), [8, 2, 5]), 3),
             ("60 shuffled labels of 4 classes (imbalanced)", rng.permutation(np.repeat(np.arange(4), [30, 15, 10, 5])), 4)]
    if hidden:
        cases += [("class 3 of 4 never occurs", np.array([0, 0, 1, 2, 2, 2]), 4),
                  ("balanced classes: every weight is 1", np.repeat(np.arange(5), 3), 5),
                  ("int32 labels, non-contiguous", np.repeat(rng.integers(0, 3, 20).astype(np.int32), 2)[::2], 3),
                  ("a single example of class 1", np.array([1]), 2)]
    for case, y, k in run.cases(cases):
        with run.case():
            got = call_strict(class_weights, y, k, name="class_weights", hint=ZERO_COUNTS)
            expected = ref.class_weights(y, k)
            counts = np.bincount(y, minlength=k).astype(np.float64)
            seen = counts > 0
            inverse = np.where(seen, 1.0 / np.maximum(counts, 1), 0.0)
            expect_array(got, expected, what="class_weights(y, n_classes)", case=case, mistakes=[
                Mistake(counts / y.size * k, "the weights are inverted: a rare class gets a *large* weight, "
                        "w_c = N / (K · n_c), inverse to its count."),
                Mistake(inverse, "normalise: w_c = N / (K · n_c), so that the average example keeps weight 1 "
                        "(1 / n_c alone shrinks the loss by the class sizes)."),
                Mistake(inverse / inverse.sum(), "normalise so that the average *example* has weight 1 "
                        "(Σ_c n_c w_c = N), not so that the weights sum to 1."),
                Mistake(expected[: int(y.max()) + 1] if not seen[-1] else None, "np.bincount(y) stops at the largest "
                        "label: pass minlength=n_classes so that an absent last class still gets its entry.",
                        partial=True),
            ], nonfinite_hint=ZERO_COUNTS)
    run.passed()
