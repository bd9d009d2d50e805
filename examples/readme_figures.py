"""Make the README's figures (docs/images/*.jpg) with the same CLI a user runs.

python examples/readme_figures.py            # a few minutes on 2 CPU cores
python examples/readme_figures.py colorize   # only the colorization figure
python examples/readme_figures.py fast-style # only the fast style figure (needs opencv-doc)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from photogen.core.image import read_image, save_image
from photogen.core.resample import resize
from photogen.core.samples import sample_path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"


def photogen(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "photogen.cli.main", *args, "-q"], check=True)


def strip(paths: list[Path], height: int = 256) -> torch.Tensor:
    """Images side by side at one height."""
    imgs = []
    for p in paths:
        img = read_image(p)
        w = round(img.shape[-1] * height / img.shape[-2])
        imgs.append(resize(img, (height, w)))
    return torch.cat(imgs, dim=3)


def colorize_figure(t: Path) -> None:
    """Grey input, the bundled lite model, the original: photos held out of its training."""
    from photogen.core.color import lightness_image

    rows = []
    for name in ("chelsea", "coffee"):
        src = sample_path(name)
        photogen("colorize", str(src), "-o", str(t / f"{name}_lite.png"))
        photo = read_image(src)
        save_image(lightness_image(photo), t / f"{name}_grey.png")
        rows.append(strip([t / f"{name}_grey.png", t / f"{name}_lite.png", src], height=200))
    width = min(r.shape[-1] for r in rows)
    save_image(torch.cat([r[..., :width] for r in rows], dim=2), OUT / "colorize.jpg")


def fast_style_figure(t: Path) -> None:
    """Held-out photos (never trained on): the photo, the bundled starry network (one pass),
    Gatys' optimisation with starry_night at its defaults, the bundled pastel network."""
    from photogen.faststyle.models import BUNDLED

    starry = sample_path("starry_night")
    rows = []
    for name in ("chelsea", "fruits", "messi5"):
        src = sample_path(name)
        photo = read_image(src)
        side = min(photo.shape[-2:])  # a centred square: every cell the same size
        y, x = (photo.shape[-2] - side) // 2, (photo.shape[-1] - side) // 2
        small = t / f"{name}.png"
        save_image(resize(photo[..., y : y + side, x : x + side], (320, 320)), small)
        cells = [small]
        for model in ("starry", "gatys", "pastel"):
            out = t / f"{name}_{model}.png"
            if model == "gatys":
                photogen("stylize", str(small), str(starry), "-o", str(out), "--max-size", "320")
            elif model in BUNDLED:
                photogen("stylize", str(small), "--model", model, "-o", str(out),
                         "--precision", "fp32")  # fmt: skip
            else:
                continue
            cells.append(out)
        rows.append(strip(cells, height=240))
    save_image(torch.cat(rows, dim=2), OUT / "fast_style.jpg")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if sys.argv[1:] == ["colorize"]:
        with tempfile.TemporaryDirectory() as tmp:
            colorize_figure(Path(tmp))
        return
    if sys.argv[1:] == ["fast-style"]:
        with tempfile.TemporaryDirectory() as tmp:
            fast_style_figure(Path(tmp))
        return
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        gravel = sample_path("gravel")
        photogen(
            "texture", str(gravel), "-o", str(t / "gravel.png"), "--size", "256", "--seed", "0"
        )
        save_image(strip([gravel, t / "gravel.png"]), OUT / "texture_gravel.jpg")

        chelsea, ihc = sample_path("chelsea"), sample_path("ihc")
        photogen("stylize", str(chelsea), str(ihc), "-o", str(t / "cat.png"), "--max-size", "384")
        photogen(
            "stylize",
            str(chelsea),
            str(ihc),
            "-o",
            str(t / "cat_colors.png"),
            "--max-size",
            "384",
            "--preserve-colors",
        )
        save_image(
            strip([chelsea, ihc, t / "cat.png", t / "cat_colors.png"]), OUT / "stylize_chelsea.jpg"
        )
        colorize_figure(t)
        fast_style_figure(t)


if __name__ == "__main__":
    main()
