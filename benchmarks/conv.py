"""The NumPy im2col convolution against ``torch.nn.functional.conv2d`` on the CPU.

For each shape (N, C, H, W, F, kernel, pad, stride) and dtype (float32, float64), times

- ``fwd``:     ``dlcourse.ref.conv_forward``  vs  ``F.conv2d`` under ``torch.no_grad()``;
- ``fwd+bwd``: ``conv_forward`` + ``conv_backward`` (dx, dw, db)  vs  ``F.conv2d`` + autograd's
  backward for the same three gradients.

Both get the same inputs, dtype and thread count (``--threads`` sets NumPy's BLAS through
threadpoolctl and ``torch.set_num_threads``). Printed: best-of-repeats ms, the ratios
numpy / torch (> 1: NumPy is slower), their geometric means, and the GFLOP/s NumPy achieves
(2·N·F·C·kh·kw·OH·OW flops forward, 3× that forward+backward) next to the machine's measured
matmul peak (a square GEMM in NumPy of the same dtype). Nothing is asserted about speed.

``--twin`` adds a table for ``dlcourse.gpu.conv2d`` (unfold + matmul with the written-out
backward) against ``F.conv2d`` in float32, on CUDA when a GPU is present, else on the CPU.

The scratch arrays of the im2col path are plain ``np.empty``. A pool that recycled them (reuse by
``sys.getrefcount``, to spare the page faults of fresh multi-megabyte arrays) was measured and
removed. With a ``--pool-ablation`` mode of this script (commit 9e3aeb7: pooled and fresh taking
turns within each run, 6 runs, minimum per case, 1 and 2 threads, on a shared 2-core machine) it
saved 10–26 % of forward+backward time on the two large shapes and nothing on the two small ones,
where the allocator already reuses freed memory (the same page-fault count with and without the
pool; lecture 08 times an (8, 3, 32, 32) batch, one of them): 4–7 % in geometric mean over the
8 shape/dtype cases, under the 10 % that would have justified its place in the answer key.

    python benchmarks/conv.py [--quick] [--threads N] [--repeats R] [--twin]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from contextlib import nullcontext

import numpy as np

SHAPES = [  # (N, C, H, W, F, kernel, pad, stride)
    (8, 3, 32, 32, 16, 3, 1, 1),
    (32, 16, 32, 32, 32, 3, 1, 1),
    (64, 32, 16, 16, 64, 3, 1, 1),
    (16, 3, 28, 28, 8, 5, 0, 2),
]


def best_ms(fns: list[Callable[[], object]], repeats: int, target_s: float) -> list[float]:
    """Best ms per call of each function; the functions take turns, so load bursts hit all alike."""
    inner = []
    for fn in fns:
        for _ in range(2):
            fn()
        t0 = time.perf_counter()
        fn()
        once = max(time.perf_counter() - t0, 1e-6)
        inner.append(max(1, int(target_s / once)))
    best = [math.inf] * len(fns)
    for r in range(repeats):
        # Every other repeat in reverse order, so that going first (or second) favours no one.
        order = list(enumerate(fns)) if r % 2 == 0 else list(enumerate(fns))[::-1]
        for k, fn in order:
            # A pause first: BLAS and OpenMP worker threads spin for a while after a call, and
            # would otherwise steal the cores from the next contestant.
            time.sleep(0.02)
            t0 = time.perf_counter()
            for _ in range(inner[k]):
                fn()
            best[k] = min(best[k], (time.perf_counter() - t0) / inner[k] * 1e3)
    return best


def matmul_peak_gflops(dtype: type, repeats: int) -> float:
    n = 1024
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    (ms,) = best_ms([lambda: a @ b], repeats, 0.2)
    return 2 * n**3 / (ms * 1e-3) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, shorter rounds")
    parser.add_argument("--threads", type=int, default=None, help="threads for BLAS and torch (default: BLAS's)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--twin", action="store_true", help="also time dlcourse.gpu.conv2d against F.conv2d")
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    from dlcourse.ref import conv_backward, conv_forward

    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:  # pragma: no cover
        threadpool_info, threadpool_limits = (lambda: []), None
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    threads = args.threads or (int(blas[0]["num_threads"]) if blas else torch.get_num_threads())
    torch.set_num_threads(threads)
    limit = threadpool_limits(threads, user_api="blas") if threadpool_limits else nullcontext()
    repeats = args.repeats or (3 if args.quick else 7)
    target = 0.05 if args.quick else 0.15

    with limit:
        print(f"threads: {threads} (NumPy BLAS: {blas[0]['internal_api'] if blas else '?'}, torch {torch.__version__})")
        for dtype, tdtype in ((np.float32, torch.float32), (np.float64, torch.float64)):
            peak = matmul_peak_gflops(dtype, repeats)
            print(f"\n{np.dtype(dtype).name}: NumPy matmul peak {peak:.1f} GFLOP/s (1024×1024 GEMM)")
            print(f"{'N,C,H,W,F,k,pad,stride':>26} | {'np fwd':>8} {'pt fwd':>8} {'ratio':>6} | "
                  f"{'np f+b':>8} {'pt f+b':>8} {'ratio':>6} | {'GFLOP/s f':>9} {'f+b':>6}")
            fr, br = [], []
            rng = np.random.default_rng(0)
            for n, c, h, w, f, k, pad, stride in SHAPES:
                x = rng.standard_normal((n, c, h, w)).astype(dtype)
                wt = (rng.standard_normal((f, c, k, k)) / math.sqrt(c * k * k)).astype(dtype)
                b = rng.standard_normal(f).astype(dtype)
                out, _ = conv_forward(x, wt, b, stride, pad)
                dout = rng.standard_normal(out.shape).astype(dtype)
                tx, tw, tb = (torch.tensor(a, dtype=tdtype) for a in (x, wt, b))
                txg, twg, tbg = (t.clone().requires_grad_() for t in (tx, tw, tb))
                tdout = torch.tensor(dout, dtype=tdtype)

                def np_fwd() -> object:
                    return conv_forward(x, wt, b, stride, pad)[0]

                def np_both() -> object:
                    return conv_backward(dout, conv_forward(x, wt, b, stride, pad)[1])

                def pt_fwd() -> object:
                    with torch.no_grad():
                        return F.conv2d(tx, tw, tb, stride=stride, padding=pad)

                def pt_both() -> object:
                    y = F.conv2d(txg, twg, tbg, stride=stride, padding=pad)
                    return torch.autograd.grad(y, (txg, twg, tbg), tdout)

                a, b_, c_, d_ = best_ms([np_fwd, pt_fwd, np_both, pt_both], repeats, target)
                flops = 2 * n * f * c * k * k * out.shape[2] * out.shape[3]
                fr.append(a / b_)
                br.append(c_ / d_)
                print(f"{str((n, c, h, w, f, k, pad, stride)):>26} | {a:8.2f} {b_:8.2f} {a / b_:6.2f} | "
                      f"{c_:8.2f} {d_:8.2f} {c_ / d_:6.2f} | {flops / a / 1e6:9.1f} {3 * flops / c_ / 1e6:6.1f}")
            print(f"{'geometric mean':>26} | {'':8} {'':8} {geomean(fr):6.2f} | {'':8} {'':8} {geomean(br):6.2f} |")
        if args.twin:
            twin(repeats, target)


def geomean(r: list[float]) -> float:
    return math.exp(sum(map(math.log, r)) / len(r))


def twin(repeats: int, target: float) -> None:
    """dlcourse.gpu.conv2d against F.conv2d, float32, forward+backward, on the default device."""
    import torch
    import torch.nn.functional as F

    from dlcourse.gpu import conv2d, default_device

    device = default_device()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    print(f"\ndlcourse.gpu.conv2d (unfold + matmul, written-out backward) vs F.conv2d, float32 on {device}")
    print(f"{'N,C,H,W,F,k,pad,stride':>26} | {'twin f+b':>9} {'F f+b':>9} {'ratio':>6}")
    ratios = []
    for n, c, h, w, f, k, pad, stride in SHAPES:
        x = torch.randn(n, c, h, w, device=device, requires_grad=True)
        wt = torch.randn(f, c, k, k, device=device, requires_grad=True)
        b = torch.randn(f, device=device, requires_grad=True)

        def ours() -> None:
            conv2d(x, wt, b, stride, pad).sum().backward()
            sync()

        def theirs() -> None:
            F.conv2d(x, wt, b, stride=stride, padding=pad).sum().backward()
            sync()

        a, t = best_ms([ours, theirs], repeats, target)
        ratios.append(a / t)
        print(f"{str((n, c, h, w, f, k, pad, stride)):>26} | {a:9.3f} {t:9.3f} {a / t:6.2f}")
    print(f"{'geometric mean':>26} | {'':9} {'':9} {geomean(ratios):6.2f}")


if __name__ == "__main__":
    main()
