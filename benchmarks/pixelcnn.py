"""PixelCNN speed and likelihood, one process.

1. Sampling a 64x64 RGB image: the fast cached sampler vs the naive sampler (the whole network
   on the whole image for every channel of every pixel), same model (Gated PixelCNN, 96 maps,
   8 layers, softmax) and seed. The naive sampler costs the same for every pass, so it is
   timed on the first ``--naive-rows`` rows and scaled to 64 rows (a full naive 64x64 sample
   takes about half an hour here); both samplers' first rows are checked to be identical.
2. Training throughput: 32x32 RGB patches per second (batch 16).
3. Fashion-MNIST (Debian ``dataset-fashion-mnist``): bits/dim on 1,000 images of the official
   test set after a fixed budget of ``--fmnist-steps`` steps (batch 32).

    python benchmarks/pixelcnn.py [--naive-rows 2] [--fmnist-steps 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(Path(__file__).parent), str(ROOT)]
from _common import against_peak, conv_flops, print_peak  # noqa: E402

from photogen.core.device import set_threads  # noqa: E402
from photogen.pixelcnn.data import FASHION_MNIST  # noqa: E402
from photogen.pixelcnn.model import PixelCNN, PixelCNNConfig  # noqa: E402
from photogen.pixelcnn.sample import sample_fast, sample_naive  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--naive-rows", type=int, default=2)
    ap.add_argument("--fmnist-steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    threads = set_threads(args.threads)
    torch.manual_seed(0)
    model = PixelCNN(PixelCNNConfig(channels=3, hidden=96, layers=8)).eval()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"Gated PixelCNN, 96 maps, 8 layers, softmax, {n_params:,} parameters, {threads} threads")

    rows = args.naive_rows
    # Both samplers on the 64x64 canvas, the naive one stopped after `rows` rows (the rest is
    # "known"): every naive pass is a whole 64x64 forward, whatever the row.
    canvas = torch.zeros(3, 64, 64, dtype=torch.long)
    first = torch.ones(64, 64, dtype=torch.bool)
    first[:rows] = False
    t = time.perf_counter()
    naive = sample_naive(model, 1, (64, 64), seed=0, known=canvas, mask=first)
    t_naive = (time.perf_counter() - t) * 64 / rows
    fast_part = sample_fast(model, 1, (64, 64), seed=0, known=canvas, mask=first)
    same = torch.equal(naive[..., :rows, :], fast_part[..., :rows, :])
    t = time.perf_counter()
    sample_fast(model, 1, (64, 64), seed=0)
    t_fast = time.perf_counter() - t
    print(f"sampling 64x64 RGB: fast {t_fast:.1f} s, naive {t_naive:.0f} s (timed on {rows} "
          f"rows, x{64 // rows}), ratio: {t_naive / t_fast:.0f} (target 20); first {rows} rows "
          f"identical: {same}")  # fmt: skip

    train_model = PixelCNN(PixelCNNConfig(channels=3, hidden=96, layers=8))
    opt = torch.optim.Adam(train_model.parameters(), lr=1e-3)
    x = torch.randint(0, 256, (16, 3, 32, 32))
    times = []
    for _ in range(4):
        t = time.perf_counter()
        loss = train_model.bits_per_dim(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    step = sorted(times[1:])[1]
    print(f"training: {16 / step:.1f} patches/s (32x32 RGB, batch 16, {step:.2f} s/step)")
    print_peak()
    # a training step: a forward and a backward (~3 forwards)
    per_batch = conv_flops(train_model, x)
    against_peak(f"training step (~{3 * per_batch / 1e9:.1f} GFLOP)", 3 * per_batch, step)

    if not FASHION_MNIST.is_dir():
        print("Fashion-MNIST: skipped (install the Debian package dataset-fashion-mnist)")
        return
    from photogen.pixelcnn.train import TrainConfig, train

    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(source="fashion-mnist", run_dir=tmp, patch=28, steps=args.fmnist_steps,
                          batch_size=32, hidden=48, layers=8, save_every=10**9,
                          sample_every=10**9, val_every=10**9)  # fmt: skip
        t = time.perf_counter()
        result = train(cfg, torch.device("cpu"))
        seconds = time.perf_counter() - t
    print(f"Fashion-MNIST: {result['val_bits_per_dim']:.3f} bits/dim on 1000 test images after "
          f"{args.fmnist_steps} steps of 32 ({seconds:.0f} s, 48 maps, 8 layers)")  # fmt: skip


if __name__ == "__main__":
    main()
