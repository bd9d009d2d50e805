"""Training data for colorization: a folder of photos held in memory, random Lab crops.

Every photo is decoded once (bad files reported and skipped), resized so its shorter side is
``cache_side`` and kept as uint8; batches are random square crops of random size (scale
jitter), resized to ``crop`` and randomly mirrored, converted to Lab. Randomness comes from
torch's global generator, which :mod:`photogen.core.training` checkpoints, so a resumed run
draws the same crops as an uninterrupted one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from photogen.colorize.bins import gamut_bins
from photogen.core.color import rgb_to_lab
from photogen.core.image import ImageError, list_images, read_image


def _resize_short(img: torch.Tensor, side: int) -> torch.Tensor:
    h, w = img.shape[-2:]
    s = side / min(h, w)
    if s >= 1.0:
        return img
    size = (max(side, round(h * s)), max(side, round(w * s)))
    return F.interpolate(img, size=size, mode="bilinear", antialias=True, align_corners=False)


def load_photos(
    inputs: str | os.PathLike | Sequence,
    cache_side: int = 256,
    min_side: int = 64,
    on_error: Callable[[str], None] | None = None,
    progress: Callable | None = None,
) -> tuple[list[torch.Tensor], list[Path]]:
    """Decode every image under ``inputs`` (recursively), shorter side -> ``cache_side``.

    Returns:
        ``(images, paths)``: uint8 ``(3, H, W)`` tensors and the files they came from, sorted
        by path. Unreadable or too small files are reported through ``on_error`` and skipped.
    """
    report = on_error or (lambda msg: None)
    paths = list_images(inputs, recursive=True)
    images, kept = [], []
    it = progress(paths) if progress else paths
    for path in it:
        try:
            img = read_image(path)
        except ImageError as exc:
            report(f"skipped: {exc}")
            continue
        if min(img.shape[-2:]) < min_side:
            report(f"skipped: {path}: {img.shape[-1]}x{img.shape[-2]} is smaller than {min_side}")
            continue
        img = _resize_short(img, cache_side)
        images.append((img[0] * 255.0).round().to(torch.uint8))
        kept.append(path)
    return images, kept


def split_train_val(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """A fixed split of ``n`` items (its own generator: independent of the training RNG)."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=g).tolist()
    n_val = min(n - 1, round(n * val_fraction)) if n > 1 else 0
    return sorted(order[n_val:]), sorted(order[:n_val])


def random_crops(images: Sequence[torch.Tensor], batch: int, crop: int) -> torch.Tensor:
    """``(batch, 3, crop, crop)`` float RGB crops: random image, size, position and mirror."""
    out = []
    for _ in range(batch):
        img = images[int(torch.randint(len(images), (1,)))]
        h, w = img.shape[-2:]
        short = min(h, w)
        lo = min(crop, short)
        size = int(torch.randint(lo, short + 1, (1,)))
        y = int(torch.randint(h - size + 1, (1,)))
        x = int(torch.randint(w - size + 1, (1,)))
        patch = img[:, y : y + size, x : x + size].float().div(255.0)[None]
        if size != crop:
            patch = F.interpolate(
                patch, size=(crop, crop), mode="bilinear", antialias=True, align_corners=False
            )
        if bool(torch.rand(()) < 0.5):
            patch = patch.flip(-1)
        out.append(patch)
    return torch.cat(out).clamp(0.0, 1.0)


def square_resize(rgb: torch.Tensor, size: int) -> torch.Tensor:
    """``(B, 3, H, W)`` -> centre square crop resized to ``size`` x ``size`` (up or down)."""
    h, w = rgb.shape[-2:]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    crop = rgb[..., y : y + s, x : x + s]
    out = F.interpolate(
        crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
    return out.clamp(0.0, 1.0)


def center_crops(images: Sequence[torch.Tensor], crop: int) -> torch.Tensor:
    """Deterministic centred square crops of uint8 ``(3, H, W)`` images (for validation)."""
    return torch.cat([square_resize(img.float()[None] / 255.0, crop) for img in images])


def split_lab(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sRGB ``(B, 3, H, W)`` -> L ``(B, 1, H, W)`` and ab ``(B, 2, H, W)``."""
    lab = rgb_to_lab(rgb)
    return lab[:, :1], lab[:, 1:]


def bin_histogram(images: Sequence[torch.Tensor], side: int = 128) -> torch.Tensor:
    """Counts of pixels per ab bin (nearest bin) over ``images`` (uint8 ``(3, H, W)``).

    Each image is resized so its shorter side is ``side`` first, so large photos do not weigh
    more than small ones per unit of area.
    """
    bins = gamut_bins()
    counts = torch.zeros(len(bins), dtype=torch.float64)
    for img in images:
        small = _resize_short(img.float()[None] / 255.0, side)
        ab = rgb_to_lab(small.clamp(0, 1))[:, 1:].permute(0, 2, 3, 1).reshape(-1, 2)
        idx = torch.cdist(ab, bins).argmin(1)
        counts += torch.bincount(idx, minlength=len(bins)).double()
    return counts
