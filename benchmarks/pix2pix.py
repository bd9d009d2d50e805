"""pix2pix speed: photogen vs a literal transcription of the authors' code, one process.

1. One training iteration at 256x256, batch 1 (unet_256 G, 70x70 PatchGAN D, batch norm,
   vanilla GAN + 100 L1): G forward, D on fake and real, both backward, both Adam steps. Same
   initial weights, same data, same dropout seeds; interleaved repeats, medians; the losses of
   both are printed side by side as a check. photogen = ``Pix2PixStep`` (fused Adam, gradients
   set to None), fp32, then bf16 autocast (only meaningful where the CPU has bf16 units).
2. Test time: seconds per image for G at 256x256 in the paper's test mode (dropout on, batch
   statistics): the reference's ``no_grad`` forward one image at a time (as its test.py) vs
   photogen's ``BatchTranslator`` one at a time and in batches of 8 (``apply``/``test`` on a
   folder; each image's result is what it gets alone).
3. Peak memory (resident-set growth) of one iteration each.

    python benchmarks/pix2pix.py [--repeats 5] [--threads N]
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(Path(__file__).parent), str(ROOT)]

from _common import against_peak, conv_flops, measure, median, print_peak  # noqa: E402

from photogen.core.device import cpu_has_bf16, set_threads  # noqa: E402
from photogen.pix2pix import networks as N  # noqa: E402
from photogen.pix2pix.infer import BatchTranslator  # noqa: E402
from photogen.pix2pix.step import DiscriminatorPair, Pix2PixStep, make_optimizer  # noqa: E402
from tests.pix2pix import reference as R  # noqa: E402

CPU = torch.device("cpu")


def build(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    G = N.init_weights(N.define_G("unet_256"), generator=gen)
    D = N.init_weights(N.define_D("basic"), generator=gen)
    return G, D


def reference_model(G, D):
    rG, rD = R.define_G(3, 3, 64, "unet_256", "batch", True), R.define_D(6, 64, "basic")
    rG.load_state_dict(G.state_dict())
    rD.load_state_dict(D.state_dict())
    return R.Pix2PixModel(rG, rD)


def ours_model(G, D, bf16=False):
    G, D = copy.deepcopy(G), copy.deepcopy(D)
    optG = make_optimizer(G.parameters(), 2e-4, 0.5, CPU)
    optD = make_optimizer(D.parameters(), 2e-4, 0.5, CPU)
    return Pix2PixStep(G, DiscriminatorPair(D), optG, optD, bf16=bf16)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    threads = set_threads(args.threads)
    gen = torch.Generator().manual_seed(1)
    a = torch.rand(1, 3, 256, 256, generator=gen) * 2 - 1
    b = torch.rand(1, 3, 256, 256, generator=gen) * 2 - 1
    G, D = build()
    ref = reference_model(G, D)
    ref.set_input(a, b)
    ours = ours_model(G, D)
    bf16 = ours_model(G, D, bf16=True)
    print(f"pix2pix unet_256 + basic D, 256x256, batch 1, {threads} threads")

    native = cpu_has_bf16()
    t_ref, t_ours, t_bf16, peaks = [], [], [], {}
    for i in range(args.repeats + 1):  # the first round warms up
        torch.manual_seed(i)
        with measure() as m:
            ref.optimize_parameters()
        torch.manual_seed(i)
        with measure() as o:
            losses = ours(a, b)
        if native or i <= 1:  # emulated bf16 takes ~40x longer: time it once
            torch.manual_seed(i)
            with measure() as h:
                bf16(a, b)
            if i:
                t_bf16.append(h["seconds"])
        if i == 0:
            peaks = {"ref": m["peak_mb"], "ours": o["peak_mb"], "bf16": h["peak_mb"]}
            print(f"  check, first iteration L1: reference {float(ref.loss_G_L1.detach()):.4f}, "
                  f"photogen {losses['G_L1']:.4f}")  # fmt: skip
            continue
        t_ref.append(m["seconds"])
        t_ours.append(o["seconds"])
    r, o, h = median(t_ref), median(t_ours), median(t_bf16)
    print(f"training iteration fp32: photogen: {o:.3f} s, reference: {r:.3f} s, ratio: {r / o:.2f}"
          f" (target 1.5); peak memory of the first iteration: photogen {peaks['ours']:.0f} MB, "
          f"reference {peaks['ref']:.0f} MB")  # fmt: skip
    kind = "native bf16" if native else "NO native bf16 on this CPU: emulated, timed once"
    print(f"training iteration bf16 autocast ({kind}): {h:.3f} s, ratio: {r / h:.2f}")

    # Test time, the paper's mode: dropout on, batch norm on the image's own statistics.
    rG = reference_model(G, D).netG.train()
    translator = BatchTranslator(G)
    x8 = torch.rand(8, 3, 256, 256, generator=gen) * 2 - 1
    t_ref, t_one, t_eight = [], [], []
    for i in range(args.repeats + 1):
        torch.manual_seed(i)
        with measure() as m, torch.no_grad():
            for k in range(8):
                rG(x8[k : k + 1])
        with measure() as o:
            for k in range(8):
                translator(x8[k : k + 1], [i])
        with measure() as e:
            translator(x8, [i] * 8)
        if i:
            t_ref.append(m["seconds"] / 8)
            t_one.append(o["seconds"] / 8)
            t_eight.append(e["seconds"] / 8)
    r, o, e = median(t_ref), median(t_one), median(t_eight)
    print(f"test time per image, one at a time: photogen: {o:.3f} s, reference: {r:.3f} s, "
          f"ratio: {r / o:.2f}")  # fmt: skip
    print(f"test time per image, a folder in batches of 8 (per-image results unchanged): "
          f"photogen: {e:.3f} s, reference: {r:.3f} s, ratio: {r / e:.2f} (target 2)")  # fmt: skip
    # against the machine: a training step is ~3 forwards of G and ~9 of D (the D step sees
    # the real and the fake pair, the G step the fake; a backward costs two forwards)
    g_flops = conv_flops(G, a)
    d_flops = conv_flops(D, torch.cat([a, b], 1))
    print_peak()
    step = 3 * g_flops + 9 * d_flops
    against_peak(f"training step fp32 (~{step / 1e9:.0f} GFLOP)", step, median(t_ours))
    against_peak("training step bf16 autocast", step, median(t_bf16), "bfloat16")
    against_peak(f"test time, batches of 8 ({g_flops / 1e9:.1f} GFLOP an image)", g_flops, e)


if __name__ == "__main__":
    main()
