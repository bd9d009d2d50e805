"""Collect the offline photos that photogen's ``lite`` colorizer is trained and evaluated on.

Sources (whatever is installed): scikit-image's and scikit-learn's bundled photos, Debian
``opencv-doc``, ``mate-backgrounds``, ``plasma-workspace-wallpapers`` (one file per wallpaper:
the largest of its resolutions), ``ukui-wallpapers`` and ``lomiri-wallpapers*`` (photos in
/usr/share/backgrounds), and ``gimp-data``'s photographic patterns (food, plants, sky, stone,
water, wood; at least 96 px). Every photo is resized so its shorter side is at most 320 px and
written
as a JPEG (quality 95) into ``OUT/train`` or ``OUT/test``: a fixed 85/15 split by file-name
hash, with scikit-image's astronaut, chelsea, coffee and motorcycle forced into ``test`` so the
README's examples are photos the model never saw.

    python examples/colorize_dataset.py data/colorize
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import torch.nn.functional as F

from photogen.core.image import ImageError, list_images, read_image, save_image
from photogen.core.samples import OPENCV_DOC, _skimage_dir

SKIMAGE_PHOTOS = [
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
    "motorcycle_right.png", "hubble_deep_field.jpg", "ihc.png", "retina.jpg", "color.png",
]  # fmt: skip
FORCED_TEST = {"astronaut", "chelsea", "coffee", "motorcycle_left", "motorcycle_right"}
MATE = Path("/usr/share/backgrounds/mate")
PLASMA = Path("/usr/share/wallpapers")
BACKGROUNDS = Path("/usr/share/backgrounds")  # ukui-wallpapers, lomiri-wallpapers*
# graphics, logos and renders among those wallpapers: not photographs
NOT_PHOTOS = {"fluent-color", "rollpaper", "focal-ubuntukylin", "warty-final-ubuntu",
              "lomiri-default-background", "analogpattern_by_Peter_Nerlich",
              "Painting-Colors_by__herobrine7gamer", "Fossa_by_Jasper_Roks",
              "2004default"}  # fmt: skip
GIMP_PHOTO_GROUPS = ("Animal", "Food", "Plant", "Sky", "Stone", "Water", "Wood")


def sources() -> list[tuple[str, Path]]:
    out = []
    sk = _skimage_dir()
    out += [(f"skimage-{Path(n).stem}", sk / n) for n in SKIMAGE_PHOTOS if (sk / n).exists()]
    import sklearn.datasets

    skl = Path(sklearn.datasets.__file__).parent / "images"
    out += [(f"sklearn-{p.stem}", p) for p in sorted(skl.glob("*.jpg"))]
    if OPENCV_DOC.is_dir():
        out += [(f"opencv-{p.stem}", p) for p in list_images(OPENCV_DOC, recursive=True)]
    if MATE.is_dir():
        for p in list_images(MATE, recursive=True):
            if p.parent.name != "desktop":  # logos and stripes, not photos
                out.append((f"mate-{p.stem}", p))
    if PLASMA.is_dir():
        for wall in sorted(d for d in PLASMA.iterdir() if d.is_dir()):
            files = [p for p in list_images(wall, recursive=True) if "screenshot" not in p.name]
            if files:
                out.append((f"plasma-{wall.name}", max(files, key=lambda p: p.stat().st_size)))
    if BACKGROUNDS.is_dir():
        for p in sorted(BACKGROUNDS.glob("*")):
            if p.suffix.lower() in {".jpg", ".jpeg", ".png"} and p.stem not in NOT_PHOTOS:
                out.append((f"bg-{p.stem}", p))
    gimp = Path("/usr/share/gimp/2.0/patterns")
    for group in GIMP_PHOTO_GROUPS:
        for p in sorted((gimp / group).glob("*.pat")) if (gimp / group).is_dir() else []:
            out.append((f"gimp-{group}-{p.stem}", p))
    return out


def main(out: str) -> int:
    root = Path(out)
    seen = set()
    n = {"train": 0, "test": 0}
    for name, path in sources():
        if name in seen:
            continue
        seen.add(name)
        try:
            img = read_image(path)
        except ImageError as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            continue
        h, w = img.shape[-2:]
        if min(h, w) < (96 if name.startswith("gimp-") else 128):
            continue
        if min(h, w) > 320:
            s = 320 / min(h, w)
            img = F.interpolate(img, size=(round(h * s), round(w * s)), mode="bilinear",
                                antialias=True, align_corners=False)  # fmt: skip
        short = name.split("-", 1)[1]
        digest = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 100
        split = "test" if short in FORCED_TEST or digest < 15 else "train"
        save_image(img.clamp(0, 1), root / split / f"{name}.jpg", quality=95)
        n[split] += 1
    print(f"{n['train']} training and {n['test']} test photos in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "data/colorize"))
