"""Coarse-to-fine schedules shared by texture synthesis and style transfer."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# The feature networks' total stride (EfficientNet-Lite: 5 stride-2 stages; VGG19 pools 4
# times before conv5_1). Images whose sides are multiples of it meet the same padding at
# every layer; other sizes (341 px, say) get one-sided pads at some layers and the edge rows
# there turn into bands of saturated colour (seen at 512 px style transfer of a 3:2 photo).
STRIDE = 32


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


def canvas_size(size: tuple[int, int], multiple: int = STRIDE) -> tuple[int, int]:
    """``size`` rounded up to multiples of ``multiple`` (the optimised canvas; the result is
    its top-left ``size`` crop)."""
    return tuple(math.ceil(v / multiple) * multiple for v in size)


def pad_to(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Extend ``(B, C, h, w)`` to ``size`` at the bottom and right by reflection (replication
    where the image is too small to reflect)."""
    dh, dw = size[0] - image.shape[-2], size[1] - image.shape[-1]
    if dh == 0 and dw == 0:
        return image
    mode = "reflect" if dh < image.shape[-2] and dw < image.shape[-1] else "replicate"
    return F.pad(image, (0, dw, 0, dh), mode=mode)
