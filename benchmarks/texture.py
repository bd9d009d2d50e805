"""Texture synthesis: photogen vs a plain Gatys-2015 loop, same network, same source.

The reference is the paper's procedure written plainly: uniform-noise start, L-BFGS on the
pixels at full size for N evaluations, Gram losses recomputed from one target set. photogen
runs its defaults (mean-colour start, 2-level pyramid, batch norms folded into the convs);
the reference uses the network as loaded. Both outputs are scored with one
objective (normalised Gram distance at the output size) and the time to reach the
reference's final score is compared.

    python benchmarks/texture.py [--source gravel] [--size 256] [--steps 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from _common import against_peak, conv_flops, median, print_peak, report  # noqa: E402

from photogen.core.device import set_threads  # noqa: E402
from photogen.core.resample import resize  # noqa: E402
from photogen.core.samples import load_sample  # noqa: E402
from photogen.gatys.losses import style_loss, style_targets  # noqa: E402
from photogen.gatys.texture import TextureConfig, synthesize_texture  # noqa: E402
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network  # noqa: E402


def reference_texture(ext, layers, source, size, steps, seed=0):
    """Gatys et al. 2015 as usually written: noise start, L-BFGS on pixels, single scale."""
    with torch.no_grad():
        targets = style_targets(ext(source))
    x = torch.rand((1, 3, *size), generator=torch.Generator().manual_seed(seed))
    x.requires_grad_(True)
    opt = torch.optim.LBFGS([x])
    count = [0]
    while count[0] < steps:

        def closure():
            with torch.no_grad():
                x.clamp_(0, 1)
            opt.zero_grad()
            loss = style_loss(ext(x), targets, layers)
            loss.backward()
            count[0] += 1
            return loss

        opt.step(closure)
    return x.detach().clamp(0, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default="gravel")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--network", default="efficientnet_lite0", choices=list(NETWORKS))
    args = ap.parse_args()
    threads = set_threads(None)
    spec = NETWORKS[args.network]
    layers = spec.texture_layers
    net = build_network(args.network, **({"weights": None} if args.network == "vgg19" else {}))
    ext = FeatureExtractor(net, list(layers))  # photogen's: batch norms folded in
    plain = FeatureExtractor(net, list(layers), fuse=False, channels_last=False)  # as loaded
    source = resize(load_sample(args.source), (args.size, args.size))
    size = (args.size, args.size)
    with torch.no_grad():
        targets = style_targets(ext(source))

    def score(img):
        with torch.no_grad():
            return float(style_loss(ext(img), targets, layers))

    print(f"network {args.network}, source {args.source} {args.size}px, {threads} threads")
    ref_times, ours_times, ref_loss, hit = [], [], None, None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ref = reference_texture(plain, layers, source, size, args.steps)
        ref_times.append(time.perf_counter() - t0)
        ref_loss = score(ref)
        # photogen: the fewest evaluations per level (from a short list) that match the score.
        for steps in (50, 75, 100, 150, 200, 300):
            cfg = TextureConfig(network=args.network, size=size, steps=steps, histogram_match=False)
            t0 = time.perf_counter()
            ours = synthesize_texture(source, cfg, ext)
            seconds = time.perf_counter() - t0
            if score(ours.image) <= ref_loss:
                hit = (steps, score(ours.image))
                ours_times.append(seconds)
                break
    print(
        f"reference: {args.steps} evaluations, {median(ref_times):.1f} s, Gram loss {ref_loss:.4g}"
    )
    # an evaluation: a forward and a backward of the network on the canvas (~3 forwards)
    per_eval = 3 * conv_flops(plain, torch.rand(1, 3, *size))
    print_peak()
    against_peak(f"reference's evaluations (~{per_eval / 1e9:.1f} GFLOP each)",
                 per_eval * args.steps, median(ref_times))  # fmt: skip
    if not ours_times:
        print(
            f"photogen did not reach the reference's loss {ref_loss:.4g} (300 evaluations a level)"
        )
        return
    report(
        f"time to the reference's Gram loss ({hit[0]} evaluations per level, 2 levels)",
        median(ours_times),
        median(ref_times),
        f"; loss {hit[1]:.4g} <= {ref_loss:.4g}",
    )


if __name__ == "__main__":
    main()
