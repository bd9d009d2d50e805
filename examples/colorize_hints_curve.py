"""How the error falls with the number of colour hints (Zhang et al. 2017, Fig. 6), on
held-out colour photos: PSNR and mean ab error for 0, 1, 2, 5, 10 revealed points, for the
hint model and, as the reference, the automatic model (which cannot use them).

    python examples/colorize_hints_curve.py data/colorize/test --models lite lite-hints \
        -o docs/images/colorize_hints_curve.png
"""

from __future__ import annotations

import argparse
import json

from photogen.colorize.hints import error_against_hints
from photogen.colorize.pipeline import load_model
from photogen.core.gallery import pyplot, save_figure
from photogen.core.image import list_images, read_image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("photos", nargs="+")
    ap.add_argument("--models", nargs="+", default=["lite", "lite-hints"])
    ap.add_argument("--counts", default="0,1,2,5,10")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("-o", "--output", default="colorize_hints_curve.png")
    args = ap.parse_args()
    counts = tuple(int(c) for c in args.counts.split(","))
    photos = [read_image(p) for p in list_images(args.photos)]
    curves = {}
    for spec in args.models:
        model = load_model(spec).float()
        takes = getattr(model, "arch", "") in ("lite-hints", "siggraph17")
        curve = error_against_hints(model, photos, counts if takes else (0,), args.size)
        curves[spec] = {n: curve[n if takes else 0] for n in counts}
    print(f"{len(photos)} held-out photos at {args.size} px; PSNR dB / mean ab error")
    print("hints " + "".join(f"{m:>22}" for m in curves))
    for n in counts:
        cells = "".join(f"{c[n]['psnr']:>14.2f} / {c[n]['ab_error']:5.2f}" for c in curves.values())
        print(f"{n:>5} {cells}")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.2), dpi=110)
    for name, c in curves.items():
        ax.plot(counts, [c[n]["psnr"] for n in counts], marker="o", label=name)
    ax.set_xlabel("revealed points (simulated clicks)")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title(f"colour hints on {len(photos)} held-out photos")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, args.output)
    print(json.dumps({m: {str(n): v for n, v in c.items()} for m, c in curves.items()}))


if __name__ == "__main__":
    main()
