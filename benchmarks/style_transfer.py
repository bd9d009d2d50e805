"""Style transfer: photogen vs a plain PyTorch-tutorial implementation, same network and image.

For each size, the reference runs the tutorial algorithm for N L-BFGS evaluations at full
resolution. photogen then runs (a) the same N evaluations single-scale, for seconds per step,
and (b) its coarse-to-fine schedule with the fewest fine-scale evaluations that reach the
reference's final loss. Both final images are scored with one objective at full size.

    python benchmarks/style_transfer.py [--sizes 256 512] [--steps 300] [--network NAME]

Prints ``photogen: X s, reference: Y s, ratio: Y/X`` and peak memory (resident-set growth).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from _common import (  # noqa: E402
    against_peak,
    conv_flops,
    measure,
    median,
    print_peak,
    report,
    style_pair,
)
from reference_tutorial import resize_like_photogen, run_style_transfer  # noqa: E402

from photogen.core.device import autocast_dtype, set_threads  # noqa: E402
from photogen.core.resample import resize  # noqa: E402
from photogen.gatys.losses import content_loss, style_loss, style_targets, tv_loss  # noqa: E402
from photogen.gatys.pyramid import fit_max_side  # noqa: E402
from photogen.gatys.style import StyleConfig, stylize  # noqa: E402
from photogen.nets.features import NETWORKS, FeatureExtractor, build_network  # noqa: E402


def objective(extractor, content, style, content_layer, style_layers, weights):
    """The shared objective at one size (what both implementations minimise)."""
    with torch.no_grad():
        c_t = extractor(content)[content_layer]
        s_t = style_targets({k: v for k, v in extractor(style).items() if k in style_layers})

    def score(img):
        with torch.no_grad():
            f = extractor(img)
            sw, cw, tw = weights
            return float(
                cw * content_loss(f[content_layer], c_t)
                + sw * style_loss(f, s_t, style_layers)
                + tw * tv_loss(img)
            )

    return score


class ReachedTargetError(Exception):
    """Raised by Tracker to stop a run once it has reached the target loss."""


class Tracker:
    """Callback: scores the image every ``every`` final-scale evaluations (scoring time not
    counted) and stops the run once the score is at or below ``target``."""

    def __init__(self, score, target, every=10):
        self.score, self.target, self.every = score, target, every
        self.start = time.perf_counter()
        self.paused = 0.0
        self.count = 0
        self.hit: tuple[float, float, int] | None = None  # (seconds, loss, evaluations)

    def __call__(self, info):
        self.count += 1
        if info.level == info.levels - 1 and info.step % self.every == 0:
            t0 = time.perf_counter()
            loss = self.score(info.image.clamp(0, 1))
            self.paused += time.perf_counter() - t0
            if loss <= self.target:
                self.hit = (t0 - self.start - self.paused, loss, self.count)
                raise ReachedTargetError


def run_to_target(content, style_full, cfg, ext, score, target):
    tracker = Tracker(score, target)
    with contextlib.suppress(ReachedTargetError):
        stylize(content, [style_full], cfg, ext, callback=tracker)
    return tracker.hit


def _child_peak(kind, network, max_side, steps, threads, queue):
    """In a fresh process: peak resident memory added by one run (MB), sampled during it."""
    set_threads(threads)
    spec = NETWORKS[network]
    net = build_network(network, **({"weights": None} if network == "vgg19" else {}))
    ext = FeatureExtractor(net, [*spec.style_layers, spec.content_layer])
    content_full, style_full, _ = style_pair()
    size = fit_max_side(*content_full.shape[-2:], max_side)
    content = resize(content_full, size)
    with measure() as m:
        if kind == "reference":
            style = resize_like_photogen(style_full, size)
            w = (spec.style_weight, 1.0, spec.tv_weight)
            run_style_transfer(
                net, content, style, spec.content_layer, spec.style_layers, steps, *w
            )
        else:
            cfg = StyleConfig(
                network=network,
                max_size=max_side,
                steps=steps,
                bf16=autocast_dtype(torch.device("cpu")) is not None,
            )
            stylize(content, [style_full], cfg, ext)
    queue.put(m["peak_mb"])


def peak_memory_mb(kind, network, max_side, steps, threads) -> float:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_peak, args=(kind, network, max_side, steps, threads, queue))
    proc.start()
    value = queue.get()
    proc.join()
    return value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--steps", type=int, default=300, help="reference L-BFGS evaluations")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats (median)")
    ap.add_argument("--network", default="efficientnet_lite0", choices=list(NETWORKS))
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    threads = set_threads(args.threads)
    spec = NETWORKS[args.network]
    net = build_network(args.network, **({"weights": None} if args.network == "vgg19" else {}))
    layers, c_layer = spec.style_layers, spec.content_layer
    weights = (spec.style_weight, 1.0, spec.tv_weight)
    ext = FeatureExtractor(net, [*layers, c_layer])
    content_full, style_full, label = style_pair()
    amp = autocast_dtype(torch.device("cpu"))
    print(
        f"network {args.network}, images {label}, {threads} threads, {args.repeats} interleaved "
        f"repeats (medians), bf16 autocast: {'yes' if amp else 'no (CPU lacks native bf16)'}"
    )
    for max_side in args.sizes:
        size = fit_max_side(*content_full.shape[-2:], max_side)
        content = resize(content_full, size)
        style = resize_like_photogen(style_full, size)
        score = objective(ext, content, style, c_layer, layers, weights)
        tag = f"{size[1]}x{size[0]}"
        variants = {
            "pixels, single scale": {"levels": 1, "multires": 1},
            "default: multi-resolution warm start, then pixels": {"levels": 1},
            "default + 2-level pyramid": {"levels": 2, "coarse_steps": args.steps // 3},
        }
        ref_times, ref_loss = [], None
        hits = {name: [] for name in variants}
        for _ in range(args.repeats):
            with measure() as ref_m:
                ref_img, _ = run_style_transfer(
                    net, content, style, c_layer, layers, args.steps, *weights
                )
            ref_times.append(ref_m["seconds"])
            ref_loss = score(ref_img)
            for name, kw in variants.items():
                cfg = StyleConfig(network=args.network, max_size=max_side, steps=args.steps,
                                  bf16=amp is not None, **kw)  # fmt: skip
                hits[name].append(run_to_target(content, style_full, cfg, ext, score, ref_loss))
        ref_s = median(ref_times)
        print(f"{tag} reference: {args.steps} evaluations, {ref_s:.1f} s, loss {ref_loss:.4g}")
        # an evaluation is a forward and a backward of the network on the image (~3 forwards)
        per_eval = 3 * conv_flops(ext, content)
        if max_side == args.sizes[0]:
            print_peak()
        against_peak(f"{tag} reference's evaluations (~{per_eval / 1e9:.1f} GFLOP each)",
                     per_eval * args.steps, ref_s)  # fmt: skip
        for name, runs in hits.items():
            done = [h for h in runs if h is not None]
            if not done:
                print(f"{tag} {name}: did not reach {ref_loss:.4g} in {args.steps} evaluations")
                continue
            seconds = median([h[0] for h in done])
            evals = int(median([h[2] for h in done]))
            report(
                f"{tag} time to the reference's loss, {name} ({evals} evaluations)",
                seconds,
                ref_s,
                f"; loss {done[0][1]:.4g} <= {ref_loss:.4g}",
            )
        ours = peak_memory_mb("photogen", args.network, max_side, 20, threads)
        theirs = peak_memory_mb("reference", args.network, max_side, 20, threads)
        print(
            f"{tag} peak memory added by a run: photogen {ours:.0f} MB, reference {theirs:.0f} MB"
        )


if __name__ == "__main__":
    main()
