"""One SGD step of the two-layer net: the NumPy reference against PyTorch on the CPU.

A step is forward, backward and parameter update of  X → affine → ReLU → affine → softmax-CE
(+ L2 on the weights):

- ``numpy``     ``dlcourse.ref.two_layer_net`` + ``dlcourse.ref.sgd`` (the answer key students write);
- ``torch``     the same network in plain PyTorch ops, gradients by autograd, in-place update;
- ``gpu twin``  ``dlcourse.gpu.two_layer_net`` + ``dlcourse.gpu.sgd`` (written-out backward on tensors),
  on the CPU here, for reference.

Same shapes, dtype, initial parameters and data for all; PyTorch gets as many threads as NumPy's
BLAS has (``--threads`` sets both). Printed: median ms per step and the ratio numpy / torch
(> 1: the reference is slower) per size and dtype, then geometric means. Nothing is asserted
about speed.

    python benchmarks/two_layer_step.py [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext

import numpy as np

N = 256
SIZES = [(2, 100, 3), (2, 512, 3), (64, 100, 10), (64, 512, 10), (784, 100, 10), (784, 512, 10)]
QUICK_SIZES = [(2, 100, 3), (64, 100, 10), (784, 512, 10)]
REG, LR = 1e-3, 1e-2


def numpy_blas_threads() -> tuple[str, int | None]:
    """(BLAS name, its thread count) of NumPy, via threadpoolctl when it is installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown BLAS", None
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not blas:
        return "unknown BLAS", None
    return blas[0].get("internal_api", "blas"), int(blas[0]["num_threads"])


def median_ms(steps: list[Callable[[], object]], repeats: int, target_s: float) -> list[float]:
    """Median ms per step of each function over ``repeats`` rounds, each repeat running ≥ target_s.

    The functions take turns within every round, so a burst of load from elsewhere on the
    machine slows all of them alike instead of skewing one column.
    """
    inner = []
    for step in steps:
        for _ in range(3):  # warm-up: allocator, BLAS thread pool, autograd's first graph
            step()
        t0 = time.perf_counter()
        step()
        inner.append(max(1, int(target_s / max(time.perf_counter() - t0, 1e-7))))
    samples: list[list[float]] = [[] for _ in steps]
    for _ in range(repeats):
        for step, k, out in zip(steps, inner, samples):
            t0 = time.perf_counter()
            for _ in range(k):
                step()
            out.append((time.perf_counter() - t0) / k)
    return [1e3 * statistics.median(x) for x in samples]


def make_steps(D: int, H: int, C: int, np_dtype: type, seed: int = 0):
    """The three step functions on identical starting parameters and data, plus their first losses."""
    import torch
    import torch.nn.functional as F

    from dlcourse import gpu, ref

    rng = np.random.default_rng(seed)
    params0 = {k: v.astype(np_dtype) for k, v in ref.init_two_layer(D, H, C, rng=rng).items()}
    X = rng.standard_normal((N, D)).astype(np_dtype)
    y = rng.integers(0, C, size=N)

    # NumPy reference: loss and grads written out, update returns new arrays.
    np_state = {"params": {k: v.copy() for k, v in params0.items()}}

    def numpy_step() -> float:
        params = np_state["params"]
        loss, grads = ref.two_layer_net(params, X, y, reg=REG)
        np_state["params"] = {k: ref.sgd(params[k], grads[k], None, {"lr": LR})[0] for k in params}
        return loss

    # PyTorch: the same computation with autograd, updated in place as torch.optim does.
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params0.items()}
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)

    def torch_step() -> float:
        scores = F.relu(tX @ tp["W1"] + tp["b1"]) @ tp["W2"] + tp["b2"]
        loss = F.cross_entropy(scores, ty) + 0.5 * REG * ((tp["W1"] ** 2).sum() + (tp["W2"] ** 2).sum())
        loss.backward()
        with torch.no_grad():
            for p in tp.values():
                p -= LR * p.grad
                p.grad = None
        return float(loss.detach())

    # dlcourse.gpu twin: the reference's code path on tensors.
    twin_state = {"params": {k: torch.tensor(v) for k, v in params0.items()}}

    def twin_step() -> float:
        params = twin_state["params"]
        loss, grads = gpu.two_layer_net(params, tX, ty, reg=REG)
        twin_state["params"] = {k: gpu.sgd(params[k], grads[k], None, {"lr": LR})[0] for k in params}
        return loss

    first = (numpy_step(), torch_step(), twin_step())
    return numpy_step, torch_step, twin_step, first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 sizes, fewer repeats")
    parser.add_argument("--threads", type=int, default=None, help="threads for both NumPy's BLAS and PyTorch")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per case (median reported)")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = args.repeats or (5 if args.quick else 11)
    target_s = 0.02 if args.quick else 0.05

    import torch

    blas, np_threads = numpy_blas_threads()
    limit = nullcontext()
    if args.threads is not None:
        try:
            from threadpoolctl import threadpool_limits

            limit = threadpool_limits(limits=args.threads, user_api="blas")
            np_threads = args.threads
        except ImportError:
            print("threadpoolctl not installed: --threads only sets PyTorch's count")
    threads = np_threads or args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)

    print("two-layer net, one SGD step (forward + backward + update), "
          f"N={N}, reg={REG:g}, lr={LR:g}")  # fmt: skip
    print(f"numpy {np.__version__} ({blas}, {np_threads if np_threads else '?'} threads) vs "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), CPU; "
          f"median of {repeats} repeats after warm-up")  # fmt: skip
    header = f"{'dtype':<8}{'N':>5}{'D':>5}{'H':>5}{'C':>4}{'numpy ms':>11}{'torch ms':>10}{'gpu-twin ms':>13}{'numpy/torch':>13}"
    print(header)
    print("-" * len(header))

    ratios: dict[str, list[float]] = {}
    with limit:
        for np_dtype in (np.float32, np.float64):
            name = np.dtype(np_dtype).name
            for D, H, C in sizes:
                numpy_step, torch_step, twin_step, first = make_steps(D, H, C, np_dtype)
                tol = 1e-4 if np_dtype == np.float32 else 1e-10
                if not all(math.isclose(first[0], f, rel_tol=tol) for f in first[1:]):
                    print(f"WARNING: first-step losses differ: {first}")
                t_np, t_torch, t_twin = median_ms([numpy_step, torch_step, twin_step], repeats, target_s)
                ratio = t_np / t_torch
                ratios.setdefault(name, []).append(ratio)
                print(f"{name:<8}{N:>5}{D:>5}{H:>5}{C:>4}{t_np:>11.3f}{t_torch:>10.3f}{t_twin:>13.3f}{ratio:>12.2f}x")

    def gmean(xs: list[float]) -> float:
        return math.exp(sum(math.log(x) for x in xs) / len(xs))

    everything = [r for rs in ratios.values() for r in rs]
    per_dtype = ", ".join(f"{k} {gmean(v):.2f}x" for k, v in ratios.items())
    print(f"geometric mean numpy/torch: {per_dtype}, all {gmean(everything):.2f}x "
          "(> 1: the NumPy reference is slower than PyTorch autograd)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
