"""Offline sample images: scikit-image's bundled data, and Debian image packages when present.

``sample_path("chelsea")`` returns a file path; ``load_sample`` reads it as a tensor. Only
files that ship on disk are listed (scikit-image's fetch-on-demand images are not).
"""

from __future__ import annotations

from pathlib import Path

import torch

from photogen.core.image import read_image

#: scikit-image files bundled in its wheel: name -> (file, kind)
_SKIMAGE = {
    "astronaut": ("astronaut.png", "photo"),
    "chelsea": ("chelsea.png", "photo"),
    "coffee": ("coffee.png", "photo"),
    "rocket": ("rocket.jpg", "photo"),
    "motorcycle": ("motorcycle_left.png", "photo"),
    "hubble": ("hubble_deep_field.jpg", "photo"),
    "ihc": ("ihc.png", "photo"),
    "retina": ("retina.jpg", "photo"),
    "brick": ("brick.png", "texture"),
    "grass": ("grass.png", "texture"),
    "gravel": ("gravel.png", "texture"),
}

OPENCV_DOC = Path("/usr/share/doc/opencv-doc/examples/data")
GIMP_PATTERNS = Path("/usr/share/gimp/2.0/patterns")


def _skimage_dir() -> Path:
    import skimage.data

    return Path(skimage.data.__file__).parent


def _bundled_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "samples"


def available_samples() -> dict[str, Path]:
    """Every sample present on this machine: name -> path (photogen's own small pictures,
    e.g. the Fashion-MNIST items for the PixelCNN demo, come first)."""
    out: dict[str, Path] = {p.stem: p for p in sorted(_bundled_dir().glob("*.png"))}
    base = _skimage_dir()
    for name, (fname, _kind) in _SKIMAGE.items():
        if (base / fname).is_file():
            out[name] = base / fname
    if OPENCV_DOC.is_dir():
        for p in sorted(OPENCV_DOC.glob("*.jpg")) + sorted(OPENCV_DOC.glob("*.png")):
            out.setdefault(p.stem, p)
    if GIMP_PATTERNS.is_dir():
        for p in sorted(GIMP_PATTERNS.glob("**/*.pat")):
            out.setdefault(f"gimp-{p.stem.lower()}", p)
    return out


def photo_samples() -> list[str]:
    """Names of the photographs among :func:`available_samples` (JPEG/PNG; not scikit-image's
    textures, not GIMP patterns), for demos and benchmarks that need real pictures."""
    return [n for n, p in available_samples().items()
            if p.suffix.lower() in (".jpg", ".png") and p.parent != _bundled_dir()
            and _SKIMAGE.get(n, ("", "photo"))[1] == "photo"]  # fmt: skip


def sample_path(name: str) -> Path:
    """Path of a named sample.

    Raises:
        KeyError: the sample is not on this machine (the message lists what is).
    """
    found = available_samples()
    if name not in found:
        hint = ""
        if name == "starry_night" or name.startswith("gimp-"):
            hint = " (install the Debian package opencv-doc or gimp-data)"
        raise KeyError(f"no sample named {name!r}{hint}; available: {', '.join(sorted(found))}")
    return found[name]


def load_sample(name: str) -> torch.Tensor:
    """A named sample as ``(1, 3, H, W)`` float32 sRGB in [0, 1]."""
    return read_image(sample_path(name))


def pan_clip(image: torch.Tensor, frames: int, size: tuple[int, int],
             step: tuple[int, int] = (2, 1)) -> list[torch.Tensor]:  # fmt: skip
    """A clip with a known camera motion: ``frames`` crops of ``size`` (H, W) from ``image``
    ``(1, 3, H', W')``, the window moving ``step`` (dx, dy) whole pixels per frame (so the
    true flow from frame t to t+1 is ``-step`` everywhere). For tests and benchmarks of
    temporal coherence."""
    h, w = size
    dx, dy = step
    need_w, need_h = w + abs(dx) * (frames - 1), h + abs(dy) * (frames - 1)
    if image.shape[-1] < need_w or image.shape[-2] < need_h:
        raise ValueError(f"a {frames}-frame pan of {w}x{h} by {step} needs {need_w}x{need_h}")
    x0 = 0 if dx >= 0 else need_w - w
    y0 = 0 if dy >= 0 else need_h - h
    return [
        image[..., y0 + t * dy : y0 + t * dy + h, x0 + t * dx : x0 + t * dx + w].contiguous()
        for t in range(frames)
    ]


def wallpapers() -> list[Path]:
    """Debian's wallpaper photos when installed (plasma-workspace-wallpapers: the largest file
    of each; mate-backgrounds): more varied scenes than the sample images."""
    out = []
    for folder in sorted(Path("/usr/share/wallpapers").glob("*/contents/images")):
        files = sorted(folder.glob("*.jpg")) + sorted(folder.glob("*.png"))
        if files:
            out.append(max(files, key=lambda f: f.stat().st_size))
    mate = Path("/usr/share/backgrounds/mate")
    if mate.is_dir():
        out += sorted(p for p in mate.rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    return out
