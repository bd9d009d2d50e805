"""Labelled image datasets for the CNN and the GAN.

``fashion-mnist`` (Debian), ``digits`` (opencv-doc's 20x20) and ``sklearn-digits`` (8x8, pip):
see :mod:`photogen.core.datasets`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

DATASETS = ("fashion-mnist", "digits", "sklearn-digits")
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGIT_CLASSES = tuple(str(d) for d in range(10))


@dataclass
class ImageSet:
    """float32 images in [0, 1] ``(N, 1, H, W)`` with int64 labels."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: tuple[str, ...]

    @property
    def size(self) -> int:
        return self.train_x.shape[-1]

    @property
    def channels(self) -> int:
        return self.train_x.shape[1]


def _subset(x: torch.Tensor, y: torch.Tensor, limit: int | None, seed: int):
    """The first ``limit`` items of a fixed random shuffle (all when ``limit`` is None)."""
    if limit is None or limit >= len(x):
        return x, y
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    return x[order[:limit]], y[order[:limit]]


def load_dataset(name: str, limit: int | None = None, test_limit: int | None = None) -> ImageSet:
    """Load a dataset by name; ``limit`` / ``test_limit`` keep a fixed random subset."""
    from photogen.core import datasets

    loaders = {"fashion-mnist": datasets.fashion_mnist, "digits": datasets.opencv_digits,
               "sklearn-digits": datasets.sklearn_digits}  # fmt: skip
    if name not in loaders:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    tx, ty, vx, vy = loaders[name]()
    classes = FASHION_CLASSES if name == "fashion-mnist" else DIGIT_CLASSES
    tx, ty = _subset(tx, ty, limit, 0)
    vx, vy = _subset(vx, vy, test_limit, 1)
    scale = lambda x: (x.float() / 255.0).contiguous()  # noqa: E731
    return ImageSet(name, scale(tx), ty, scale(vx), vy, classes)
