"""Training data for PixelCNN: one texture image, a folder of images, or a known dataset.

Images become integer levels ``0..255``. Held-out data for bits/dim:

- a texture: patches from a vertical strip at its right edge (15% of the width, at least one
  patch wide) that training patches never touch;
- a folder: every tenth image;
- ``fashion-mnist``: its official test set (Debian package ``dataset-fashion-mnist``);
- ``digits``: the 5,000 handwritten digits of opencv-doc's ``digits.png`` (20x20, 500 per
  class), every tenth held out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from photogen.core.datasets import FASHION_MNIST, OPENCV_DIGITS, fashion_mnist, opencv_digits
from photogen.core.image import list_images, read_image

__all__ = ["FASHION_MNIST", "OPENCV_DIGITS", "PatchSampler", "Source", "load_source", "to_levels"]

DATASETS = ("fashion-mnist", "digits")


def to_levels(image: torch.Tensor) -> torch.Tensor:
    """``[0, 1]`` float -> uint8 levels."""
    return (image.clamp(0, 1) * 255.0).round().to(torch.uint8)


@dataclass
class Source:
    """Images (uint8 ``(N, C, H, W)``) or one texture (``(1, C, H, W)``) plus labels."""

    name: str
    train: torch.Tensor
    val: torch.Tensor
    train_labels: torch.Tensor | None = None
    val_labels: torch.Tensor | None = None
    texture: bool = False

    @property
    def channels(self) -> int:
        return self.train.shape[1]

    @property
    def num_classes(self) -> int:
        return 0 if self.train_labels is None else int(self.train_labels.max()) + 1


def load_source(source: str | os.PathLike, size: int | None = None, grey: bool = False) -> Source:
    """A texture file, a folder of images, ``fashion-mnist`` or ``digits``.

    Args:
        size: folders: images are centre-cropped to squares and resized to this (default 32).
        grey: read files as one channel (the mean of R, G, B).
    """
    text = str(source)
    if text in ("fashion-mnist", "digits"):
        tx, ty, vx, vy = fashion_mnist() if text == "fashion-mnist" else opencv_digits()
        return Source(text, tx, vx, ty, vy)
    path = Path(text)
    if path.is_dir():
        side = size or 32
        images = []
        for p in list_images(path, recursive=True):
            img = read_image(p)
            h, w = img.shape[-2:]
            s = min(h, w)
            img = img[..., (h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
            img = F.interpolate(img, size=(side, side), mode="bicubic", antialias=True)
            images.append(to_levels(img.mean(1, keepdim=True) if grey else img)[0])
        if len(images) < 2:
            raise ValueError(f"{path}: need at least 2 images, found {len(images)}")
        data = torch.stack(images)
        held = torch.arange(len(data)) % 10 == 9
        return Source(path.name, data[~held], data[held] if held.any() else data[-1:])
    image = read_image(path)  # raises ImageError for anything unreadable
    if grey:
        image = image.mean(1, keepdim=True)
    levels = to_levels(image)
    return Source(path.stem, levels, levels, texture=True)


class PatchSampler:
    """Random training batches and a fixed held-out set, at ``patch`` x ``patch``."""

    def __init__(self, source: Source, patch: int, flips: bool = False, val_patches: int = 64):
        """``val_patches`` held-out patches of a texture; datasets hold out up to 1,000 images."""
        self.source, self.patch, self.flips = source, patch, flips
        h, w = source.train.shape[-2:]
        if patch > min(h, w):
            raise ValueError(f"patch {patch} is larger than the images ({w}x{h})")
        self.split = w
        if source.texture:
            strip = max(patch, int(round(0.15 * w)))
            if w - strip < patch:
                raise ValueError(f"texture {w}x{h} too small for {patch}px patches plus a "
                                 "held-out strip")  # fmt: skip
            self.split = w - strip
        gen = torch.Generator().manual_seed(12345)  # the same held-out set in every run
        self.val_x, self.val_y = self._draw(val_patches, gen, held_out=True)

    def _draw(self, n: int, gen: torch.Generator, held_out: bool = False):
        src = self.source
        pool = src.val if held_out else src.train
        labels = src.val_labels if held_out else src.train_labels
        p = self.patch
        if src.texture:
            h = pool.shape[-2]
            x0, x1 = (self.split, pool.shape[-1]) if held_out else (0, self.split)
            ys = torch.randint(0, h - p + 1, (n,), generator=gen)
            xs = torch.randint(x0, x1 - p + 1, (n,), generator=gen)
            batch = torch.stack(
                [pool[0, :, y : y + p, x : x + p] for y, x in zip(ys, xs, strict=True)]
            )
            y_out = None
        else:
            n = min(1000, len(pool)) if held_out else n
            idx = (
                torch.randint(0, len(pool), (n,), generator=gen)
                if not held_out
                else torch.arange(n)
            )
            batch = pool[idx]
            h, w = batch.shape[-2:]
            if (h, w) != (p, p):
                oy = torch.randint(0, h - p + 1, (), generator=gen)
                ox = torch.randint(0, w - p + 1, (), generator=gen)
                batch = batch[..., oy : oy + p, ox : ox + p]
            y_out = None if labels is None else labels[idx]
        if self.flips and not held_out:
            flip = torch.rand(n, generator=gen) < 0.5
            batch = torch.where(flip[:, None, None, None], batch.flip(-1), batch)
        return batch.long(), y_out

    def batch(self, n: int, gen: torch.Generator | None = None):
        """``(x, labels or None)`` for a training step."""
        return self._draw(n, gen or torch.default_generator)
