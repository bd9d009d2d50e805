"""Pair builders: make a pix2pix dataset from your own photos (``photogen pix2pix make-pairs``).

Each builder turns a photo B into an input A and writes ``A|B`` side by side (the authors'
format) at ``size`` x ``size`` (centre square crop, then resize; ``crop=False`` squashes):

- ``edges``: edges -> photo, as edges2shoes: Canny (kornia) on the grey image, then thin-line
  cleanup (connected edge fragments shorter than ``min_length`` pixels removed), drawn as
  black lines on white;
- ``gray``: grey (L of Lab) -> colour;
- ``blur``: Gaussian blur (``sigma``) -> sharp, for deblurring.

``combine`` joins matching files of two folders (``A_DIR/x.png`` + ``B_DIR/x.png``) as the
authors' ``combine_A_and_B.py`` does (B resized to A's size when they differ).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from photogen.core.color import lightness_image
from photogen.core.image import ImageError, list_images, read_image, save_image
from photogen.core.resample import resize

KINDS = ("edges", "gray", "blur")


def square(image: torch.Tensor, size: int, crop: bool = True) -> torch.Tensor:
    """Centre square crop (or squash) and resize ``(1, 3, H, W)`` to ``size`` x ``size``."""
    if crop:
        h, w = image.shape[-2:]
        s = min(h, w)
        y, x = (h - s) // 2, (w - s) // 2
        image = image[..., y : y + s, x : x + s]
    return resize(image, size, "bicubic")


def random_square_crops(
    photo: torch.Tensor, count: int, size: int, gen: torch.Generator, min_scale: float = 0.4
) -> list[torch.Tensor]:
    """``count`` random square crops (side between ``min_scale`` and 1 of the short side),
    each resized to ``size``: many training pairs from the few photos a user may have."""
    h, w = photo.shape[-2:]
    short = min(h, w)
    crops = []
    for _ in range(count):
        side = int(short * (min_scale + (1 - min_scale) * float(torch.rand((), generator=gen))))
        y = int(torch.randint(0, h - side + 1, (), generator=gen))
        x = int(torch.randint(0, w - side + 1, (), generator=gen))
        crops.append(resize(photo[..., y : y + side, x : x + side], size, "bicubic"))
    return crops


def edge_map(
    image: torch.Tensor,
    low: float = 0.12,
    high: float = 0.25,
    sigma: float = 2.0,
    min_length: int = 12,
) -> torch.Tensor:
    """Black-on-white edges of ``(1, 3, H, W)`` ``[0, 1]``: Canny + removal of short fragments."""
    from kornia.filters import canny
    from scipy import ndimage

    grey = image.mean(1, keepdim=True)
    k = int(2 * round(3 * sigma) + 1)
    _, edges = canny(grey, low, high, kernel_size=(k, k), sigma=(sigma, sigma), hysteresis=True)
    mask = edges[0, 0].numpy() > 0.5
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n:
        sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
        keep = np.concatenate([[False], sizes >= min_length])
        mask = keep[labels]
    lines = torch.from_numpy(1.0 - mask.astype(np.float32))
    return lines.expand(1, 3, *lines.shape).clone()


def blurred(image: torch.Tensor, sigma: float = 3.0) -> torch.Tensor:
    from kornia.filters import gaussian_blur2d

    k = int(2 * round(3 * sigma) + 1)
    return gaussian_blur2d(image, (k, k), (sigma, sigma), border_type="reflect").clamp(0, 1)


def make_input(kind: str, photo: torch.Tensor, **options) -> torch.Tensor:
    """The input image A that the ``kind`` builder derives from ``photo``."""
    if kind == "edges":
        return edge_map(photo, **options)
    if kind == "gray":
        return lightness_image(photo)
    if kind == "blur":
        return blurred(photo, **options)
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


def make_pairs(
    kind: str,
    photos: str | os.PathLike | list,
    out_dir: str | os.PathLike,
    size: int = 256,
    crop: bool = True,
    on_error: Callable[[str], None] = lambda msg: None,
    progress: Callable | None = None,
    **options,
) -> tuple[int, int]:
    """Write ``out_dir/NAME.png`` = A|B for every readable photo; return ``(written, failed)``."""
    paths = list_images(photos, recursive=True)
    out = Path(out_dir)
    written = failed = 0
    for path in progress(paths) if progress else paths:
        try:
            photo = square(read_image(path), size, crop)
        except ImageError as exc:
            failed += 1
            on_error(f"{exc} (skipped)")
            continue
        a = make_input(kind, photo, **options)
        save_image(torch.cat([a, photo], dim=-1), out / f"{path.stem}.png")
        written += 1
    if written == 0 and not failed:
        raise ValueError(f"{photos}: no images found")
    return written, failed


def combine(
    a_dir: str | os.PathLike,
    b_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    on_error: Callable[[str], None] = lambda msg: None,
) -> tuple[int, int]:
    """Join ``a_dir/NAME.*`` and ``b_dir/NAME.*`` into ``out_dir/NAME.png`` = A|B."""
    b_files = {p.stem: p for p in list_images(b_dir)}
    written = failed = 0
    for a_path in list_images(a_dir):
        b_path = b_files.get(a_path.stem)
        if b_path is None:
            on_error(f"{a_path}: no file named {a_path.stem}.* in {b_dir} (skipped)")
            failed += 1
            continue
        try:
            a, b = read_image(a_path), read_image(b_path)
        except ImageError as exc:
            on_error(f"{exc} (skipped)")
            failed += 1
            continue
        b = resize(b, tuple(a.shape[-2:]), "bicubic")
        save_image(torch.cat([a, b], dim=-1), Path(out_dir) / f"{a_path.stem}.png")
        written += 1
    if written == 0 and not failed:
        raise ValueError(f"{a_dir}: no images found")
    return written, failed
