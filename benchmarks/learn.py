"""Foundations benchmark (issue 7): CNN accuracy/time on Fashion-MNIST, and each trainer's speed
against a plain reference loop run in the same process (same model, same batches).

    python benchmarks/learn.py [--epochs 8] [--skip-full] [--threads 2]

Prints:
- numpy MLP backprop step vs the same step with torch autograd (float64), ratio;
- one CNN epoch: photogen's loop vs the PyTorch-tutorial loop, ratio;
- one DCGAN epoch: photogen's ``gan_step`` vs the PyTorch DCGAN example's update (D on real and
  fake as two backward passes), ratio;
- the full ``learn cnn`` run: test accuracy and seconds (target >= 91% within 10 minutes).
Needs Debian's dataset-fashion-mnist.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from _common import against_peak, conv_flops, print_peak  # noqa: E402

from photogen.learn.cnn import CNNConfig, SmallCNN, cnn_step, train_cnn  # noqa: E402
from photogen.learn.data import load_dataset  # noqa: E402
from photogen.learn.gan import Discriminator, Generator, gan_step, make_optimizers  # noqa: E402
from photogen.learn.mlp import MLP  # noqa: E402

TRAIN_FACTOR = 3  # a training step: the forward pass, and about twice its work backwards


def bench_mlp(steps: int = 2000) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 2)), rng.integers(0, 2, 32)
    mlp = MLP([2, 20, 20, 2], seed=0)
    t = time.perf_counter()
    for _ in range(steps):
        _, dW, db = mlp.loss_and_grads(X, y)
    mine = (time.perf_counter() - t) / steps
    Ws = [torch.tensor(W, requires_grad=True) for W in mlp.W]
    bs = [torch.tensor(b, requires_grad=True) for b in mlp.b]
    Xt, yt = torch.tensor(X), torch.tensor(y)
    t = time.perf_counter()
    for _ in range(steps):
        a = Xt
        for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            a = a @ W + b
            a = torch.tanh(a) if k < len(Ws) - 1 else a
        loss = F.cross_entropy(a, yt)
        for p in Ws + bs:
            p.grad = None
        loss.backward()
    ref = (time.perf_counter() - t) / steps
    print(
        f"MLP 2-20-20-2, batch 32: numpy backprop {1e6 * mine:.0f} us/step, torch autograd "
        f"{1e6 * ref:.0f} us/step -> ratio {ref / mine:.2f}x"
    )


def reference_cnn_epoch(model, opt, data, order) -> float:
    """The PyTorch tutorial's loop: zero_grad, forward, loss, backward, step."""
    t = time.perf_counter()
    for i in range(0, len(order), 64):
        idx = order[i : i + 64]
        opt.zero_grad()
        loss = F.cross_entropy(model(data.train_x[idx]), data.train_y[idx])
        loss.backward()
        opt.step()
    return time.perf_counter() - t


def bench_cnn_epoch(data) -> None:
    order = torch.randperm(len(data.train_x), generator=torch.Generator().manual_seed(0))
    times = {}
    for name in ("reference", "photogen"):
        torch.manual_seed(0)
        model = SmallCNN(1, 10, 28)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        if name == "reference":
            times[name] = reference_cnn_epoch(model, opt, data, order)
        else:
            t = time.perf_counter()
            for i in range(0, len(order), 64):
                idx = order[i : i + 64]
                cnn_step(model, opt, None, data.train_x[idx], data.train_y[idx])
            times[name] = time.perf_counter() - t
    print(
        f"CNN epoch (60,000 images): reference {times['reference']:.1f} s, photogen "
        f"{times['photogen']:.1f} s -> ratio {times['reference'] / times['photogen']:.2f}x"
    )
    flops = TRAIN_FACTOR * conv_flops(SmallCNN(1, 10, 28), data.train_x[:64]) * len(order) / 64
    against_peak("  photogen's CNN epoch (3x the forward's FLOPs)", flops, times["photogen"])


def bench_gan_epoch(data, n: int = 20000) -> None:
    order = torch.randperm(len(data.train_x), generator=torch.Generator().manual_seed(0))[:n]
    times = {}
    for name in ("reference", "photogen"):
        torch.manual_seed(0)
        G, D = Generator(64, 28, 1, 64), Discriminator(28, 1, 64)
        opt_g, opt_d = make_optimizers(G, D)
        t = time.perf_counter()
        for i in range(0, n, 64):
            real = data.train_x[order[i : i + 64]] * 2 - 1
            z = torch.randn(len(real), 64)
            if name == "photogen":
                gan_step(G, D, opt_g, opt_d, real, z)
                continue
            # pytorch/examples dcgan/main.py
            D.zero_grad()
            out = D(real)
            F.binary_cross_entropy_with_logits(out, torch.ones_like(out)).backward()
            fake = G(z)
            out = D(fake.detach())
            F.binary_cross_entropy_with_logits(out, torch.zeros_like(out)).backward()
            opt_d.step()
            G.zero_grad()
            out = D(fake)
            F.binary_cross_entropy_with_logits(out, torch.ones_like(out)).backward()
            opt_g.step()
        times[name] = time.perf_counter() - t
    print(
        f"DCGAN, {n} images: reference {times['reference']:.1f} s, photogen "
        f"{times['photogen']:.1f} s -> ratio {times['reference'] / times['photogen']:.2f}x"
    )
    G, D, z = Generator(64, 28, 1, 64), Discriminator(28, 1, 64), torch.randn(64, 64)
    fake = G(z).detach()
    # a GAN step: G forward, D on real and fake (and on fake again for G), each with backward
    step = conv_flops(G, z) + 3 * conv_flops(D, fake)
    against_peak("  photogen's DCGAN steps (3x the forwards' FLOPs)", TRAIN_FACTOR * step * n / 64,
                 times["photogen"])  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-full", action="store_true", help="only the speed ratios")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset("fashion-mnist")
    print_peak()
    bench_mlp()
    bench_cnn_epoch(data)
    bench_gan_epoch(data)
    if args.skip_full:
        return
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        s = train_cnn(
            CNNConfig("fashion-mnist", tmp, epochs=args.epochs),
            torch.device("cpu"),
            data=data,
            log=print,
        )
        wall = time.perf_counter() - t
    verdict = "met" if s["test_accuracy"] >= 0.91 and s["train_seconds"] <= 600 else "NOT met"
    print(
        f"learn cnn fashion-mnist, {args.epochs} epochs: test accuracy "
        f"{100 * s['test_accuracy']:.2f}%, training {s['train_seconds']:.0f} s (wall with "
        f"evaluation and pictures {wall:.0f} s); target >= 91% in <= 600 s: {verdict}"
    )


if __name__ == "__main__":
    main()
