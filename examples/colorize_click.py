"""What one click does: a*b* distance to the clicked colour around the click, before -> after.

python examples/colorize_click.py --model lite-hints [--model runs/x/model.safetensors]
"""

from __future__ import annotations

import argparse

import torch

from photogen.colorize.models import hints_from_points
from photogen.colorize.pipeline import load_model, predict_ab
from photogen.core.color import lightness
from photogen.core.samples import load_sample

CLICKS = {  # photo -> (x, y) at 256 px: the cat's forehead, the saucer
    "chelsea": (150, 100),
    "coffee": (60, 200),
}
COLOURS = {"red": (60.0, 45.0), "blue": (10.0, -60.0), "green": (-50.0, 40.0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", default=[])
    args = ap.parse_args()
    torch.set_num_threads(2)
    for spec in args.model or ["lite-hints"]:
        model = load_model(spec).float()
        for name, (x, y) in CLICKS.items():
            img = torch.nn.functional.interpolate(load_sample(name), size=(256, 256), mode="area")
            l_ch = lightness(img)
            base = predict_ab(model, l_ch, 256)
            cells = []
            for cname, (a, b) in COLOURS.items():
                hints = hints_from_points([(y, x, a, b)], 256, 256, radius=1)
                ab = predict_ab(model, l_ch, 256, hints=hints)
                target = torch.tensor([a, b]).view(1, 2, 1, 1)
                win = (slice(None), slice(None), slice(y - 5, y + 6), slice(x - 5, x + 6))
                before = float((base[win] - target).norm(dim=1).mean())
                after = float((ab[win] - target).norm(dim=1).mean())
                wide = (slice(None), slice(None), slice(y - 20, y + 21), slice(x - 20, x + 21))
                wide_after = float((ab[wide] - target).norm(dim=1).mean())
                # how much the click changed the photo far from it (outside 81x81 px)
                far = torch.ones(256, 256, dtype=torch.bool)
                far[max(0, y - 40) : y + 41, max(0, x - 40) : x + 41] = False
                spill = float((ab - base).norm(dim=1)[0][far].mean())
                cells.append(f"{cname} {before:4.0f} -> {after:3.0f} (41px {wide_after:3.0f}, "
                             f"far {spill:4.1f})")  # fmt: skip
            print(f"{spec[-30:]:<30} {name:<8} " + "  ".join(cells))


if __name__ == "__main__":
    main()
