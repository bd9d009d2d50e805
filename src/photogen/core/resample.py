"""Resizing images: one function for every method (Gatys' pyramids and the studio's previews
use bilinear, pix2pix's data and inference bicubic as its reference does)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def resize(image: torch.Tensor, size: int | tuple[int, int], mode: str = "bilinear",
           circular: bool = False) -> torch.Tensor:  # fmt: skip
    """Resize ``(C, H, W)`` or ``(B, C, H, W)`` to ``size`` (``(h, w)``, or one side for a
    square), antialiased when shrinking.

    ``mode``: ``"bilinear"`` (an image of that size already is returned as it is) or
    ``"bicubic"`` (the pix2pix reference's PIL bicubic: always clamped to [0, 1], since bicubic
    overshoots). ``circular``: treat the image as periodic (a tileable texture), so that the
    edge pixels are interpolated from the opposite edge rather than clamped: the image is
    tiled 3x3, resized to three times ``size`` and the middle tile kept (with
    ``align_corners=False`` the middle tile samples exactly the original's coordinates).
    """
    if mode not in ("bilinear", "bicubic"):
        raise ValueError(f"mode must be bilinear or bicubic, got {mode!r}")
    size = (size, size) if isinstance(size, int) else tuple(size)
    batch = image if image.dim() == 4 else image[None]
    if mode == "bicubic":
        if tuple(batch.shape[-2:]) != size:
            batch = F.interpolate(batch, size=size, mode="bicubic", antialias=True,
                                  align_corners=False)  # fmt: skip
        batch = batch.clamp(0, 1)
        return batch if image.dim() == 4 else batch[0]
    if tuple(batch.shape[-2:]) == size:
        return image
    shrink = size[0] < batch.shape[-2] or size[1] < batch.shape[-1]
    if circular:
        h, w = size
        tiled = batch.repeat(1, 1, 3, 3)
        big = F.interpolate(tiled, size=(3 * h, 3 * w), mode="bilinear", align_corners=False,
                            antialias=shrink)  # fmt: skip
        batch = big[..., h : 2 * h, w : 2 * w].contiguous()
    else:
        batch = F.interpolate(batch, size=size, mode="bilinear", align_corners=False,
                              antialias=shrink)  # fmt: skip
    return batch if image.dim() == 4 else batch[0]
