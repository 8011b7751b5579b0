"""NumPy multi-head attention against PyTorch on the CPU, at the notebook's sizes, 1 and 2 threads.

For each shape (N, L, E, H) and dtype, self-attention forward + backward (input and all
parameter gradients, a key-padding mask on the last quarter of the keys of half the batch):

- ``np mha``:  ``dlcourse.ref.attention.mha_forward`` + ``mha_backward``;
- ``nn.MHA``:  ``nn.MultiheadAttention(batch_first=True)`` + autograd, with the default
  ``need_weights=True`` (it returns head-averaged weights, as the NumPy code keeps the per-head ones);
- ``nn.MHA nw``: the same with ``need_weights=False``, which lets PyTorch use its fused kernel;
- ``np sdpa`` / ``F.sdpa``: the attention core alone on (N, H, L, E/H) queries, keys and values,
  ``attention_forward`` + ``attention_backward`` against ``F.scaled_dot_product_attention`` + autograd.

Both sides get the same inputs, dtype and thread count (NumPy's BLAS through threadpoolctl and
``torch.set_num_threads``); every thread count in ``--threads`` is measured in this one run.
Printed: best-of-repeats ms and the ratios numpy / torch (> 1: NumPy is slower). The target is
np mha / nn.MHA ≤ 2. Nothing is asserted.

``--train`` also times the notebook's transformer training run (``dlcourse.gpu.attention.sequence_setup``
on the CPU) at each thread count: wall and CPU seconds (on a busy machine the CPU time of the
1-thread run is the better estimate of an idle core's wall time), final loss, held-out accuracy.

    python benchmarks/attention.py [--quick] [--threads 1 2] [--repeats R] [--train]
"""

from __future__ import annotations

import argparse
import time
from contextlib import nullcontext

import numpy as np
from conv import best_ms, geomean  # the shared timing loop (benchmarks/conv.py)

SHAPES = [  # (N, L, E, H): the notebook's NumPy exercise, its transformer's layer, a larger one
    (16, 10, 32, 4),
    (128, 8, 64, 4),
    (32, 32, 128, 8),
]


def mha_table(dtype: type, repeats: int, target: float) -> list[float]:
    import torch
    import torch.nn.functional as F

    from dlcourse.ref.attention import attention_backward, attention_forward, init_mha, mha_backward, mha_forward
    from dlcourse.ref.attention import mha_params_to_torch, padding_mask, split_heads, to_mha_mask

    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    print(f"\n{np.dtype(dtype).name}")
    print(f"{'N,L,E,H':>18} | {'np mha':>8} {'nn.MHA':>8} {'ratio':>6} {'MHA nw':>8} {'ratio':>6} | "
          f"{'np sdpa':>8} {'F.sdpa':>8} {'ratio':>6}")
    ratios = []
    rng = np.random.default_rng(0)
    for n, length, e, h in SHAPES:
        x = rng.standard_normal((n, length, e)).astype(dtype)
        params = {k: v.astype(dtype) for k, v in init_mha(e, rng).items()}
        lengths = np.where(np.arange(n) % 2 == 0, length, length - length // 4)
        keys = padding_mask(lengths, length)
        dout = rng.standard_normal((n, length, e)).astype(dtype)

        mha = torch.nn.MultiheadAttention(e, h, batch_first=True, dtype=tdtype)
        mha.load_state_dict({k: torch.tensor(v) for k, v in mha_params_to_torch(params).items()})
        tx = torch.tensor(x, requires_grad=True)
        tkeys = torch.tensor(to_mha_mask(keys))
        tdout = torch.tensor(dout)
        inputs = [tx, *mha.parameters()]

        qh, kh, vh = (split_heads(rng.standard_normal((n, length, e)).astype(dtype), h) for _ in range(3))
        qh, kh, vh = (np.ascontiguousarray(a) for a in (qh, kh, vh))
        amask = keys[:, None, None, :]
        dh = np.ascontiguousarray(split_heads(dout, h))
        tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (qh, kh, vh))
        tamask, tdh = torch.tensor(amask), torch.tensor(dh)

        def np_mha() -> object:
            out, cache = mha_forward(x, x, x, params, h, key_padding_mask=keys)
            return mha_backward(dout, cache)

        def pt_mha(need_weights: bool = True) -> object:
            out, _ = mha(tx, tx, tx, key_padding_mask=tkeys, need_weights=need_weights)
            return torch.autograd.grad(out, inputs, tdout)

        def np_sdpa() -> object:
            return attention_backward(dh, attention_forward(qh, kh, vh, amask)[1])

        def pt_sdpa() -> object:
            out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tamask)
            return torch.autograd.grad(out, (tq, tk, tv), tdh)

        a, b, c, d, f = best_ms([np_mha, pt_mha, lambda: pt_mha(False), np_sdpa, pt_sdpa], repeats, target)
        ratios.append(a / b)
        print(f"{str((n, length, e, h)):>18} | {a:8.3f} {b:8.3f} {a / b:6.2f} {c:8.3f} {a / c:6.2f} | "
              f"{d:8.3f} {f:8.3f} {d / f:6.2f}")
    print(f"{'geomean np/nn.MHA':>18} | {geomean(ratios):24.2f}")
    return ratios


def train_run() -> None:
    import torch

    from dlcourse.data.sequences import train_test_sequences
    from dlcourse.gpu.attention import sequence_accuracy, sequence_setup, train_sequence_model

    setup = sequence_setup("cpu")
    torch.manual_seed(0)
    t0, cpu0 = time.perf_counter(), time.process_time()
    (xt, yt), (xs, ys) = train_test_sequences(
        setup.task, setup.n_train, setup.n_test, setup.length, setup.n_digits, setup.min_length, rng=0
    )
    model = setup.model("cpu")
    hist = train_sequence_model(model, xt, yt, setup.steps, setup.batch_size, setup.lr)
    acc = sequence_accuracy(model, xs, ys)
    total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"train {setup.task} L={setup.length} (min {setup.min_length}) E={setup.embed_dim} H={setup.num_heads} "
          f"layers={setup.num_layers}, {setup.steps} steps × {setup.batch_size}: {hist['seconds'][-1]:.1f} s training, "
          f"{total:.1f} s wall and {cpu:.1f} s CPU with data and evaluation; final loss {hist['loss'][-1]:.4f}; "
          f"held-out accuracy token {acc['token']:.4f}, sequence {acc['sequence']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, shorter rounds")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to measure (default 1 2)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--float32", action="store_true", help="also measure float32 (the default is float64 only)")
    parser.add_argument("--train", action="store_true", help="also time the notebook's transformer training")
    args = parser.parse_args()

    import os

    import torch

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        threadpool_limits = None
    repeats = args.repeats or (3 if args.quick else 7)
    target = 0.05 if args.quick else 0.15
    print(f"torch {torch.__version__}, numpy {np.__version__}, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    for threads in args.threads:
        torch.set_num_threads(threads)
        limit = threadpool_limits(threads, user_api="blas") if threadpool_limits else nullcontext()
        with limit:
            print(f"\n=== {threads} thread{'s' if threads > 1 else ''} ===")
            for dtype in (np.float64, np.float32) if args.float32 else (np.float64,):
                mha_table(dtype, repeats, target)
            if args.train:
                train_run()


if __name__ == "__main__":
    main()
