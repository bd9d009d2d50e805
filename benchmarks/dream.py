"""DeepDream speed: photogen's dream against the authors' notebook algorithm transcribed
literally (one pass over the whole picture, the network as loaded: batch norms not folded,
contiguous memory), in the same process, on the same photo, layer, seed and settings; and the
rate photogen reaches against this machine's float32 peak.

    python benchmarks/dream.py [--photo chelsea] [--size 512] [--repeats 3]
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
from photogen.dream import DreamConfig, dream  # noqa: E402
from photogen.nets.features import FeatureExtractor, build_network  # noqa: E402


def notebook_dream(net_ext, layer, base_img, cfg):
    """The notebook's deepdream(): octaves by zoom, detail carried up, make_step with the
    jitter roll, the L2 objective, the normalised step and the clip (values in [0, 1] here)."""
    gen = torch.Generator().manual_seed(cfg.seed)
    octaves = [base_img]
    for _ in range(cfg.octaves - 1):
        h, w = octaves[-1].shape[-2:]
        octaves.append(torch.nn.functional.interpolate(
            octaves[-1], size=(round(h / cfg.octave_scale), round(w / cfg.octave_scale)),
            mode="bilinear", align_corners=False, antialias=True))  # fmt: skip
    detail = torch.zeros_like(octaves[-1])
    src = octaves[-1]
    for base in reversed(octaves):
        if detail.shape[-2:] != base.shape[-2:]:
            detail = torch.nn.functional.interpolate(
                detail, size=base.shape[-2:], mode="bilinear", align_corners=False
            )
        src = (base + detail).clamp(0, 1)
        for _ in range(cfg.steps):
            oy, ox = (int(v) for v in torch.randint(-cfg.jitter, cfg.jitter + 1, (2,),
                                                    generator=gen))  # fmt: skip
            x = torch.roll(src, (oy, ox), (-2, -1)).requires_grad_(True)
            act = net_ext(x)[layer]
            act.backward(act.detach())
            g = x.grad
            x = x.detach() + cfg.step_size / 255 / g.abs().mean() * g
            src = torch.roll(x, (-oy, -ox), (-2, -1)).clamp(0, 1)
        detail = src - base
    return src


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", default="chelsea")
    ap.add_argument("--size", type=int, default=512, help="the photo's longer side")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    threads = set_threads(args.threads)
    photo = load_sample(args.photo)
    h, w = photo.shape[-2:]
    s = args.size / max(h, w)
    photo = resize(photo, (round(h * s), round(w * s)))
    cfg = DreamConfig()
    net = build_network(cfg.network)
    ours_ext = FeatureExtractor(net, [cfg.layer])
    ref_ext = FeatureExtractor(build_network(cfg.network), [cfg.layer], fuse=False,
                               channels_last=False)  # fmt: skip
    print(f"{args.photo} {photo.shape[-1]}x{photo.shape[-2]}, {cfg.network} {cfg.layer}, "
          f"{cfg.octaves} octaves x {cfg.steps} steps, {threads} threads")  # fmt: skip
    dream(photo, DreamConfig(octaves=1, steps=1), ours_ext)  # warm-up
    t_ours, t_ref = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ours = dream(photo, cfg, ours_ext).image
        t_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref = notebook_dream(ref_ext, cfg.layer, photo, cfg)
        t_ref.append(time.perf_counter() - t0)
    o, r = median(t_ours), median(t_ref)
    one = DreamConfig(octaves=1, steps=1, tile=4096)  # one pass, as the notebook
    same = dream(photo, one, ref_ext).image - notebook_dream(ref_ext, cfg.layer, photo, one)
    fused = dream(photo, one, ours_ext).image - notebook_dream(ref_ext, cfg.layer, photo, one)
    report(f"dream, default settings (tiles of {cfg.tile})", o, r,
           f"; one step on the same network: {float(same.abs().max()) * 255:.3f} grey levels "
           f"apart at most; photogen's fused network: {float(fused.abs().mean()) * 255:.1e} "
           f"mean (40 tiled steps of ascent: {float((ours - ref).abs().mean()) * 255:.1f} "
           "mean)")  # fmt: skip
    # a step is a forward and a backward at that octave's size (~3 forwards)
    flops, (ph, pw) = 0, photo.shape[-2:]
    for k in range(cfg.octaves):
        size = (round(ph / cfg.octave_scale**k), round(pw / cfg.octave_scale**k))
        flops += 3 * cfg.steps * conv_flops(ours_ext, torch.rand(1, 3, *size))
    print_peak()
    against_peak(f"photogen's dream (~{flops / 1e9:.0f} GFLOP)", flops, o)


if __name__ == "__main__":
    main()
