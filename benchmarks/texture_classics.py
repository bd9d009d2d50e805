"""Classical texture synthesis (issue 8): seconds for a 128x128 output from a 64x64 example,
per method, and Efros-Leung's accelerated engine against two naive ones run in the same
process on the same input:

- "per-pixel": photogen's ``engine="naive"``: the same passes and random draws, one SSD per
  pixel vectorised over all example windows (the same image as the fast engine);
- "literal": the paper's pseudo-code (Efros's ``FindMatches``) in numpy: pixels one at a time,
  a loop over the example windows, each SSD computed on its own. Too slow to finish (minutes
  per thousand pixels), it is timed on its first ``--literal-pixels`` pixels and the time per
  pixel is scaled to the 16,384 pixels of the output (printed as "extrapolated").

    python benchmarks/texture_classics.py [--source gravel] [--threads 2] [--window 11]
        [--literal-pixels 64] [--with-gatys]

The example is the source's top-left 128x128 crop resized to 64x64. Target: >= 20x.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from _common import against_peak, print_peak, profiled_flops  # noqa: E402

from photogen.classic import efros_leung as el  # noqa: E402
from photogen.classic import heeger_bergen as hb  # noqa: E402
from photogen.classic.quilting import QuiltingConfig, quilt  # noqa: E402
from photogen.compare.texture import GramJudge, histogram_w1  # noqa: E402
from photogen.core.samples import load_sample  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def literal_seconds_per_pixel(example: torch.Tensor, size, window: int, pixels: int) -> float:
    """Efros & Leung's pseudo-code, one pixel and one example window at a time (numpy)."""
    ex = example[0].permute(1, 2, 0).double().numpy()
    r = window // 2
    eh, ew = ex.shape[:2]
    h, w = size
    img = np.zeros((h + 2 * r, w + 2 * r, 3))
    filled = np.zeros(img.shape[:2], bool)
    cy, cx = r + h // 2 - 1, r + w // 2 - 1
    img[cy : cy + 3, cx : cx + 3] = ex[:3, :3]
    filled[cy : cy + 3, cx : cx + 3] = True
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    sigma = window / 6.4
    gauss = np.exp(-(yy**2 + xx**2) / (2 * sigma * sigma))
    rng = np.random.default_rng(0)
    done, start = 0, time.perf_counter()
    while done < pixels:
        inner = filled[r : r + h, r : r + w]
        grown = np.zeros_like(inner)
        grown[1:] |= inner[:-1]
        grown[:-1] |= inner[1:]
        grown[:, 1:] |= inner[:, :-1]
        grown[:, :-1] |= inner[:, 1:]
        for y, x in zip(*np.nonzero(grown & ~inner), strict=True):
            py, px = y + r, x + r
            template = img[py - r : py + r + 1, px - r : px + r + 1]
            mask = gauss * filled[py - r : py + r + 1, px - r : px + r + 1]
            total = mask.sum()
            dists = []
            for i in range(r, eh - r):  # FindMatches: every example window on its own
                for j in range(r, ew - r):
                    diff = ex[i - r : i + r + 1, j - r : j + r + 1] - template
                    dists.append(((diff * diff).sum(-1) * mask).sum() / total)
            dists = np.array(dists)
            ok = np.nonzero(dists <= dists.min() * 1.1)[0]
            k = ok[rng.integers(len(ok))]
            i, j = divmod(int(k), ew - 2 * r)
            img[py, px] = ex[i + r, j + r]
            filled[py, px] = True
            done += 1
            if done >= pixels:
                break
    return (time.perf_counter() - start) / done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default="gravel")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--window", type=int, default=11)
    ap.add_argument("--literal-pixels", type=int, default=64)
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
        "efros-leung (per-pixel naive)": lambda: el.synthesize(
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
    print_peak()
    for name, fn in runs.items():
        outs[name], times[name] = timed(fn)
        img = outs[name]
        print(
            f"  {name:30s} {times[name]:8.2f} s   Gram (random net) "
            f"{judge(img, example):.4f}   histogram W1 {histogram_w1(img, example):.2f}"
        )
        if "naive" not in name:  # the profiler's own cost swamps the per-pixel loop
            t = time.perf_counter()
            _, flops = profiled_flops(fn)
            seconds = time.perf_counter() - t
            if flops:
                against_peak(f"    {name} (products and convolutions only)", flops, seconds)
            else:
                print(
                    f"    {name}: no matrix products or convolutions to count (histograms "
                    "and FFTs: memory-bound)"
                )
    same = torch.equal(outs["efros-leung (fast)"], outs["efros-leung (per-pixel naive)"])
    fast = times["efros-leung (fast)"]
    per_pixel = times["efros-leung (per-pixel naive)"] / fast
    print(f"Efros-Leung per-pixel naive / fast: {per_pixel:.1f}x (same image: {same})")
    spp = literal_seconds_per_pixel(example, size, args.window, args.literal_pixels)
    literal = spp * size[0] * size[1]
    ratio = literal / fast
    verdict = "met" if ratio >= 20 else "NOT met"
    print(
        f"Efros-Leung literal pseudo-code: {1000 * spp:.1f} ms/pixel over {args.literal_pixels} "
        f"pixels -> {literal:.0f} s extrapolated for 128x128; literal / fast: {ratio:.0f}x "
        f"(target >= 20x: {verdict})"
    )


if __name__ == "__main__":
    main()
