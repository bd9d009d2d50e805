"""Coarse-to-fine schedules shared by texture synthesis and style transfer."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize ``(B, C, H, W)`` to ``size = (h, w)``; antialiased when shrinking."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    shrink = size[0] < image.shape[-2] or size[1] < image.shape[-1]
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=shrink)


def pyramid_sizes(size: tuple[int, int], levels: int, min_side: int = 32) -> list[tuple[int, int]]:
    """Sizes from coarsest to finest, halving each level; levels whose smaller side would
    drop below ``min_side`` are skipped (the finest level is always kept)."""
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    h, w = size
    sizes = [(h, w)]
    for lvl in range(1, levels):
        f = 2**lvl
        hs, ws = max(1, round(h / f)), max(1, round(w / f))
        if min(hs, ws) < min_side:
            break
        sizes.append((hs, ws))
    return sizes[::-1]


def fit_max_side(height: int, width: int, max_side: int) -> tuple[int, int]:
    """Scale ``(height, width)`` so the larger side is ``max_side``, keeping the aspect."""
    scale = max_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))
