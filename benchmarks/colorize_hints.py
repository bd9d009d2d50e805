"""Colour hints that stay in their region (issue 22's targets), on held-out photos.

    python benchmarks/colorize_hints.py [PHOTOS...] [--models lite lite-hints]

Photos: the colour photos of ``data/colorize/test`` (``examples/colorize_dataset.py``'s held-out
split, never trained or tuned on) or the given files/folders; grey ones are skipped. Prints:

1. **Locality**, per model: one click of a colour unlike the automatic one (the palette colour
   farthest from it) at a seeded pixel of the central 60% of each photo: the share of pixels
   farther than a quarter of the diagonal whose ab moved by more than 10 units (target <= 10%),
   and the ab distance of the clicked pixel to the asked colour (target <= 20 on every photo).
   Reference in the same run: the network alone (no propagation; lite-hints takes the click).
2. **The hint curve** (Zhang et al. 2017, Fig. 6 protocol): each photo at 256x256, 0/1/2/5/10
   hints at uniformly random pixels revealing the true mean ab of a 5x5 patch, mean PSNR, with
   the paper's ImageNet curve beside it.
3. **Speed**: a click to the re-coloured RGB photo at 1 MP and 12 MP (the automatic ab kept
   from the first run, as the studio does), p50; against a direct sparse solve (SuperLU) of
   the same system as the reference, as a ratio.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_peak  # noqa: E402

from photogen.colorize import propagate as P  # noqa: E402
from photogen.colorize.pipeline import guided_ab, load_model, predict_ab, takes_hints  # noqa: E402
from photogen.core.color import lab_to_rgb, lightness, rgb_to_lab  # noqa: E402
from photogen.core.device import cpu_flags  # noqa: E402
from photogen.core.image import list_images, read_image  # noqa: E402

PAPER = {0: 24.43, 1: 25.37, 2: 26.20, 5: 27.39, 10: 28.42}  # siggraph17, ImageNet, Fig. 6
PALETTE = [(60.0, 50.0), (-50.0, 45.0), (10.0, -55.0), (45.0, -40.0), (-30.0, -20.0),
           (15.0, 75.0)]  # fmt: skip


def held_out(paths: list[str]) -> list[tuple[str, torch.Tensor]]:
    out = []
    for p in list_images(paths or ["data/colorize/test"]):
        rgb = read_image(p)
        if rgb_to_lab(F.interpolate(rgb, size=(64, 64), mode="area"))[:, 1:].norm(dim=1).max() < 8:
            continue  # grey: no colour to compare with
        out.append((Path(p).stem, rgb))
    return out


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * math.log10(1 / max(float(((a - b) ** 2).mean()), 1e-10))


def locality(model, photos, cfg, seed: int = 0):
    rows = []
    gen = torch.Generator().manual_seed(seed)
    for name, rgb in photos:
        L = lightness(rgb)
        auto = predict_ab(model, L, 256)
        H, W = L.shape[-2:]
        y = int(H * (0.2 + 0.6 * float(torch.rand((), generator=gen))))
        x = int(W * (0.2 + 0.6 * float(torch.rand((), generator=gen))))
        here = auto[0, :, y, x]
        a, b = max(PALETTE, key=lambda c: float((torch.tensor(c) - here).norm()))
        hints = P.ColourHints(points=[(x, y, a, b)])
        ab = guided_ab(model, L, hints, 256, auto_ab=auto, config=cfg)
        alone = auto
        if takes_hints(model):
            alone = predict_ab(model, L, 256, P.rasterize(hints, 256, 256, H, W, 2))
        yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
        far = ((yy - y) ** 2 + (xx - x) ** 2).float().sqrt() > math.hypot(H, W) / 4
        spill = float(((ab - auto).norm(dim=1)[0][far] > 10).float().mean())
        spill_alone = float(((alone - auto).norm(dim=1)[0][far] > 10).float().mean())
        miss = float((ab[0, :, y, x] - torch.tensor([a, b])).norm())
        miss_alone = float((alone[0, :, y, x] - torch.tensor([a, b])).norm())
        rows.append((name, spill, miss, spill_alone, miss_alone))
    return rows


def curve(model, photos, cfg, counts=(0, 1, 2, 5, 10), seed: int = 0):
    out = {}
    for n in counts:
        gen = torch.Generator().manual_seed(seed)
        vals = []
        for _, rgb in photos:
            rgb = F.interpolate(rgb, size=(256, 256), mode="bilinear", antialias=True,
                                align_corners=False).clamp(0, 1)  # fmt: skip
            lab = rgb_to_lab(rgb)
            points = []
            for _ in range(n):
                y, x = (int(v) for v in torch.randint(256, (2,), generator=gen))
                y0, x0 = min(max(0, y - 2), 251), min(max(0, x - 2), 251)
                a, b = lab[0, 1:, y0 : y0 + 5, x0 : x0 + 5].mean(dim=(1, 2)).tolist()
                points.append((x, y, a, b))
            ab = guided_ab(model, lab[:, :1], P.ColourHints(points=points), 256, config=cfg)
            vals.append(psnr(lab_to_rgb(torch.cat([lab[:, :1], ab], 1)), rgb))
        out[n] = statistics.mean(vals)
    return out


def timing(model, photo, megapixels: float, cfg, runs: int):
    h, w = photo.shape[-2:]
    s = math.sqrt(megapixels * 1e6 / (h * w))
    big = F.interpolate(photo, size=(round(h * s), round(w * s)), mode="bilinear",
                        align_corners=False).clamp(0, 1)  # fmt: skip
    L = lightness(big)
    auto = predict_ab(model, L, 256)
    H, W = L.shape[-2:]
    times = []
    for i in range(runs):
        hints = P.ColourHints(points=[(W * (0.3 + 0.05 * i), H * 0.6, 50.0, -30.0)])
        t = time.perf_counter()
        ab = guided_ab(model, L, hints, 256, auto_ab=auto, config=cfg)
        lab_to_rgb(torch.cat([L, ab], 1))
        times.append(time.perf_counter() - t)
    return (H, W), statistics.median(times)


def solver_ratio(photo, cfg) -> tuple[float, float]:
    """Our AMG-preconditioned CG against SuperLU on the same 3-right-hand-side system."""
    import numpy as np
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    L = lightness(photo)
    H, W = L.shape[-2:]
    h, w = P.work_size(H, W, cfg.work_side)
    lw = F.interpolate(L, size=(h, w), mode="area")
    lap = P.affinity_laplacian(lw[0, 0].double().numpy() / 100, cfg.sigma_floor)
    _, cover = P.rasterize(P.ColourHints(points=[(W / 2, H / 2, 40.0, 40.0)]), h, w, H, W, 2)
    p = cover.reshape(-1).double().numpy()
    A = (lap + sp.diags(1 / (cfg.reach * max(h, w)) ** 2 + cfg.hint_weight * p)).tocsr()
    B = np.stack([p, p * 40, p * 40], 1) * cfg.hint_weight
    t = time.perf_counter()
    X = P._solve(A, B, cfg.tol)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    ref = spla.splu(A.tocsc()).solve(B)
    theirs = time.perf_counter() - t
    assert np.abs(X - ref).max() < 1e-2 * max(1.0, np.abs(ref).max())
    return ours, theirs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("photos", nargs="*")
    ap.add_argument("--models", nargs="+", default=["lite", "lite-hints"])
    ap.add_argument("--reach", type=float, default=None)
    ap.add_argument("--strength", type=float, default=None)
    ap.add_argument("--floor", type=float, default=None)
    ap.add_argument("--limit", type=int, default=None, help="first N photos only")
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    cfg = P.PropagationConfig()
    if args.reach is not None:
        cfg = replace(cfg, reach=args.reach)
    if args.strength is not None:
        cfg = replace(cfg, strength=args.strength)
    if args.floor is not None:
        cfg = replace(cfg, floor=args.floor)
    photos = held_out(args.photos)[: args.limit]
    print(f"CPU flags: {cpu_flags()}; torch threads {torch.get_num_threads()}")
    # a click's cost is the sparse solve (memory-bound); the network's share of peak:
    # benchmarks/colorize.py
    print_peak()
    print(f"{len(photos)} held-out colour photos; {cfg}")
    for spec in args.models:
        model = load_model(spec).float()
        rows = locality(model, photos, cfg)
        spill = [r[1] for r in rows]
        miss = [r[2] for r in rows]
        mean_spill = 100 * statistics.mean(spill)
        print(f"\n[{spec}] one click, far pixels changed > 10 ab: mean {mean_spill:.1f}%"
              f", worst {100 * max(spill):.1f}% (network alone: mean "
              f"{100 * statistics.mean(r[3] for r in rows):.1f}%)")  # fmt: skip
        print(f"[{spec}] clicked pixel within 20 ab of the asked colour: "
              f"{sum(m <= 20 for m in miss)}/{len(miss)} (worst {max(miss):.1f}; network alone "
              f"{sum(r[4] <= 20 for r in rows)}/{len(rows)})")  # fmt: skip
        c = curve(model, photos, cfg)
        print(f"[{spec}] PSNR at 0/1/2/5/10 hints: " + " / ".join(f"{c[n]:.2f}" for n in c)
              + f" dB; gain 0->10: {c[10] - c[0]:+.2f} dB (paper, ImageNet: "
              + " / ".join(f"{v:.2f}" for v in PAPER.values()) + ", gain +3.99)")  # fmt: skip
    if args.no_timing:
        return
    model = load_model(args.models[0]).float()
    photo = photos[0][1]
    for mp, runs in ((1.0, 7), (12.0, 3)):
        (H, W), t = timing(model, photo, mp, cfg, runs)
        print(f"click -> re-coloured {W}x{H} photo ({mp:g} MP), {args.models[0]}: p50 {t:.3f} s")
    ours, theirs = solver_ratio(photo, cfg)
    print(
        f"solve at {cfg.work_side} px: photogen (AMG-preconditioned CG): {ours:.3f} s, "
        f"reference (SuperLU direct): {theirs:.3f} s, ratio: {theirs / ours:.1f}x"
    )


if __name__ == "__main__":
    main()
