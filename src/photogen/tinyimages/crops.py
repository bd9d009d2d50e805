"""Tiny images from a few photos: random square crops at many scales (the offline stand-in
for a web crawl, used by the demo and the benchmark)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from photogen.core.device import single_thread
from photogen.tinyimages.tiny import tiny_image


def working_size(image: torch.Tensor, short_side: int = 256) -> torch.Tensor:
    """Shrink ``(1, 3, H, W)`` so its short side is ``short_side`` (area filter): a 32 px tile
    of the smallest crops either way, and crops are cheap."""
    scale = short_side / min(image.shape[-2:])
    if scale >= 1:
        return image
    size = (round(image.shape[-2] * scale), round(image.shape[-1] * scale))
    return F.interpolate(image, size=size, mode="area")


def random_crops(
    images: list[torch.Tensor], n: int, gen: torch.Generator, out_side: int = 32
) -> torch.Tensor:
    """``n`` random square crops (0.1-1 of a random image's short side), area-resized to
    ``out_side``: ``(n, 3, out_side, out_side)`` uint8. One thread: thousands of small
    operations, where a second thread only adds synchronisation (25x slower on 2 cores)."""
    out = torch.empty(n, 3, out_side, out_side, dtype=torch.uint8)
    with single_thread():
        for k in range(n):
            img = images[int(torch.randint(len(images), (), generator=gen))]
            h, w = img.shape[-2:]
            side = max(8, int(min(h, w) * (0.1 + 0.9 * float(torch.rand((), generator=gen)))))
            y = int(torch.randint(0, h - side + 1, (), generator=gen))
            x = int(torch.randint(0, w - side + 1, (), generator=gen))
            out[k] = tiny_image(img[..., y : y + side, x : x + side], out_side)
    return out
