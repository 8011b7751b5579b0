"""The NumPy LSTM (``dlcourse.ref.rnn``) against ``torch.nn.LSTM`` on the CPU, forward + backward.

For each shape (N, T, D, H) — the sizes lecture 10's notebook runs: the gradient-flow widget's,
the character model's batch, and one larger layer — and each thread count (1 and 2 by default,
in the same run), times

- ``fwd``:     ``lstm_forward``  vs  ``nn.LSTM(batch_first=True)`` under ``torch.no_grad()``;
- ``fwd+bwd``: ``lstm_forward`` + ``lstm_backward`` (dx, dh0, dc0 and the four parameter gradients)
  vs  ``nn.LSTM`` + autograd's backward for the same seven gradients,

on the same inputs and weights (copied from the ``nn.LSTM``), in float32 (and float64 with
``--float64``). The thread count is applied to NumPy's BLAS (threadpoolctl) and to torch
(``torch.set_num_threads``). Printed: best-of-repeats ms, the ratios numpy / torch (> 1: NumPy is
slower) and their geometric means. The target for fwd+bwd in float32 is a ratio ≤ 2. Nothing is
asserted about speed.

    python benchmarks/rnn.py [--quick] [--threads 1 2] [--repeats R] [--float64]
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conv import best_ms, geomean  # noqa: E402  (one timing loop for every benchmark)

SHAPES = [  # (N, T, D, H)
    (8, 60, 32, 32),  # the gradient-flow widget: a few sequences, many steps, a small state
    (32, 64, 32, 128),  # the character model's batch: 32 windows of 64 characters
    (64, 32, 64, 256),  # a wider layer
]


def table(dtype: type, threads: int, repeats: int, target: float) -> tuple[float, float]:
    """Print one table; return the geometric means of the fwd and fwd+bwd ratios."""
    import torch

    from dlcourse.ref.rnn import lstm_backward, lstm_forward

    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    print(f"\n{np.dtype(dtype).name}, {threads} thread{'s' if threads > 1 else ''}")
    print(f"{'N,T,D,H':>18} | {'np fwd':>8} {'pt fwd':>8} {'ratio':>6} | {'np f+b':>8} {'pt f+b':>8} {'ratio':>6}")
    fr, br = [], []
    for n, t, d, h in SHAPES:
        torch.manual_seed(0)
        lstm = torch.nn.LSTM(d, h, batch_first=True).to(tdtype)
        params = [p.detach().numpy().copy() for p in lstm.parameters()]  # w_ih, w_hh, b_ih, b_hh
        rng = np.random.default_rng(0)
        x = rng.standard_normal((n, t, d)).astype(dtype)
        h0, c0 = (0.1 * rng.standard_normal((n, h))).astype(dtype), (0.1 * rng.standard_normal((n, h))).astype(dtype)
        dout = rng.standard_normal((n, t, h)).astype(dtype)
        tx, th0, tc0 = (torch.tensor(a).requires_grad_() for a in (x, h0, c0))
        tdout = torch.tensor(dout)
        inputs = (tx, th0, tc0, *lstm.parameters())

        def np_fwd() -> object:
            return lstm_forward(x, h0, c0, *params)[0]

        def np_both() -> object:
            return lstm_backward(dout, lstm_forward(x, h0, c0, *params)[1])

        def pt_fwd() -> object:
            with torch.no_grad():
                return lstm(tx, (th0[None], tc0[None]))[0]

        def pt_both() -> object:
            out, _ = lstm(tx, (th0[None], tc0[None]))
            return torch.autograd.grad(out, inputs, tdout)

        same = np.abs(np_fwd() - pt_fwd().numpy()).max()
        if same > (1e-4 if dtype == np.float32 else 1e-10):
            print(f"WARNING: outputs differ by {same:.2g}: not the same computation")
        a, b, c, e = best_ms([np_fwd, pt_fwd, np_both, pt_both], repeats, target)
        fr.append(a / b)
        br.append(c / e)
        print(f"{str((n, t, d, h)):>18} | {a:8.2f} {b:8.2f} {a / b:6.2f} | {c:8.2f} {e:8.2f} {c / e:6.2f}")
    print(f"{'geometric mean':>18} | {'':8} {'':8} {geomean(fr):6.2f} | {'':8} {'':8} {geomean(br):6.2f}")
    return geomean(fr), geomean(br)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, shorter rounds")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to run (default: 1 2)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--float64", action="store_true", help="also time float64")
    args = parser.parse_args()

    import torch

    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:  # pragma: no cover
        threadpool_info, threadpool_limits = (lambda: []), None
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    print(f"NumPy BLAS: {blas[0]['internal_api'] if blas else '?'}, torch {torch.__version__}")
    repeats = args.repeats or (3 if args.quick else 7)
    target = 0.05 if args.quick else 0.15
    summary = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        limit = threadpool_limits(threads, user_api="blas") if threadpool_limits else nullcontext()
        with limit:
            for dtype in (np.float32, np.float64) if args.float64 else (np.float32,):
                summary.append((threads, np.dtype(dtype).name, *table(dtype, threads, repeats, target)))
    print("\nsummary (geometric means of numpy/torch; target fwd+bwd float32 ≤ 2)")
    for threads, name, f, b in summary:
        print(f"  {name}, {threads} thread(s): fwd {f:.2f}, fwd+bwd {b:.2f}")


if __name__ == "__main__":
    main()
