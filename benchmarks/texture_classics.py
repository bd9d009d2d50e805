"""Classical texture synthesis (issue 8): seconds for a 128x128 output from a 64x64 example,
per method, and Efros-Leung's accelerated engine against the naive one (same passes, same
random draws, one direct SSD per pixel) run in the same process on the same input.

    python benchmarks/texture_classics.py [--source gravel] [--threads 2] [--window 11]
        [--with-gatys]

The example is the source's top-left 128x128 crop resized to 64x64. Target: >= 20x.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from photogen.classic import efros_leung as el
from photogen.classic import heeger_bergen as hb
from photogen.classic.quilting import QuiltingConfig, quilt
from photogen.compare.texture import GramJudge, histogram_w1
from photogen.core.samples import load_sample


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default="gravel")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--window", type=int, default=11)
    ap.add_argument("--with-gatys", action="store_true", help="also Gatys (200 L-BFGS steps x 2)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    src = load_sample(args.source)[..., :128, :128]
    example = F.interpolate(src, size=(64, 64), mode="bicubic", antialias=True).clamp(0, 1)
    size = (128, 128)
    judge = GramJudge(torch.device("cpu"))
    runs = {
        "efros-leung (fast)": lambda: el.synthesize(
            example, size, el.EfrosLeungConfig(window=args.window, engine="fast")
        ),
        "efros-leung (naive)": lambda: el.synthesize(
            example, size, el.EfrosLeungConfig(window=args.window, engine="naive")
        ),
        "quilting (block 24)": lambda: quilt(example, size, QuiltingConfig(block=24)),
        "heeger-bergen (5 iterations)": lambda: hb.synthesize(example, size),
    }
    if args.with_gatys:
        from photogen.gatys.texture import TextureConfig, synthesize_texture

        runs["gatys (lite0, 2x200 L-BFGS)"] = lambda: (
            synthesize_texture(example, TextureConfig(size=size)).image
        )
    times, outs = {}, {}
    print(f"{args.source}: 64x64 example -> 128x128, {args.threads} threads")
    for name, fn in runs.items():
        outs[name], times[name] = timed(fn)
        img = outs[name]
        print(
            f"  {name:30s} {times[name]:8.2f} s   Gram (random net) "
            f"{judge(img, example):.4f}   histogram W1 {histogram_w1(img, example):.2f}"
        )
    same = torch.allclose(outs["efros-leung (fast)"], outs["efros-leung (naive)"])
    ratio = times["efros-leung (naive)"] / times["efros-leung (fast)"]
    verdict = "met" if ratio >= 20 else "NOT met"
    print(f"Efros-Leung naive / fast: {ratio:.1f}x (target >= 20x: {verdict}); same image: {same}")


if __name__ == "__main__":
    main()
