"""Labelled image datasets for the CNN and the GAN.

- ``fashion-mnist``: 60,000 + 10,000 28x28 images (Debian package ``dataset-fashion-mnist``);
- ``digits``: opencv-doc's 5,000 handwritten 20x20 digits (every tenth held out);
- ``sklearn-digits``: scikit-learn's 1,797 8x8 digits (pip-installable; every fifth held out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
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
    """The first ``limit`` items of a fixed class-balanced shuffle (all when ``limit`` is None)."""
    if limit is None or limit >= len(x):
        return x, y
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    return x[order[:limit]], y[order[:limit]]


def load_dataset(name: str, limit: int | None = None, test_limit: int | None = None) -> ImageSet:
    """Load a dataset by name; ``limit`` / ``test_limit`` keep a fixed random subset."""
    if name == "sklearn-digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as exc:  # pragma: no cover - a dependency
            raise ValueError(
                "sklearn-digits needs scikit-learn (pip install scikit-learn)"
            ) from exc
        d = load_digits()
        x = torch.from_numpy((d.images / 16.0).astype(np.float32))[:, None]
        y = torch.from_numpy(d.target.astype(np.int64))
        held = torch.arange(len(x)) % 5 == 0
        tx, ty, vx, vy = x[~held], y[~held], x[held], y[held]
        classes = DIGIT_CLASSES
    elif name in ("fashion-mnist", "digits"):
        from photogen.pixelcnn.data import load_source

        src = load_source(name)
        tx, vx = src.train.float() / 255.0, src.val.float() / 255.0
        ty, vy = src.train_labels, src.val_labels
        classes = FASHION_CLASSES if name == "fashion-mnist" else DIGIT_CLASSES
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    tx, ty = _subset(tx, ty, limit, 0)
    vx, vy = _subset(vx, vy, test_limit, 1)
    return ImageSet(name, tx.contiguous(), ty, vx.contiguous(), vy, classes)
