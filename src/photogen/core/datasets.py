"""Labelled image datasets that live on disk offline (Debian packages, scikit-learn).

Each loader returns uint8 images ``(N, 1, H, W)`` with int64 labels, split into train and
held-out parts, and raises ``ValueError`` naming the package to install when it is missing.

- Fashion-MNIST (Debian ``dataset-fashion-mnist``): 60,000 + 10,000 28x28, official split;
- opencv-doc's ``digits.png``: 5,000 handwritten 20x20 digits (500 per class), every tenth held out;
- scikit-learn's digits: 1,797 8x8 digits (16 grey levels), every fifth held out.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from photogen.core.image import read_image

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
OPENCV_DIGITS = Path("/usr/share/doc/opencv-doc/examples/data/digits.png")

Split = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format), gzipped."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist() -> Split:
    """``(train_x, train_y, test_x, test_y)``."""
    if not FASHION_MNIST.is_dir():
        raise ValueError(
            "fashion-mnist needs the Debian package dataset-fashion-mnist "
            f"(apt install dataset-fashion-mnist; expected {FASHION_MNIST})"
        )
    load = lambda n: torch.from_numpy(read_idx(FASHION_MNIST / n).copy())  # noqa: E731
    return (
        load("train-images-idx3-ubyte.gz")[:, None],
        load("train-labels-idx1-ubyte.gz").long(),
        load("t10k-images-idx3-ubyte.gz")[:, None],
        load("t10k-labels-idx1-ubyte.gz").long(),
    )


def opencv_digits() -> Split:
    """``(train_x, train_y, test_x, test_y)``; every tenth digit is held out."""
    if not OPENCV_DIGITS.is_file():
        raise ValueError(f"digits needs the Debian package opencv-doc ({OPENCV_DIGITS})")
    grey = read_image(OPENCV_DIGITS).mean(1, keepdim=True)
    sheet = (grey.clamp(0, 1) * 255.0).round().to(torch.uint8)[0, 0]
    tiles = sheet.unfold(0, 20, 20).unfold(1, 20, 20).reshape(-1, 1, 20, 20)
    labels = torch.arange(len(tiles)) // (len(tiles) // 10)
    held = torch.arange(len(tiles)) % 10 == 0
    return tiles[~held], labels[~held], tiles[held], labels[held]


def sklearn_digits() -> Split:
    """``(train_x, train_y, test_x, test_y)``; every fifth digit is held out."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ValueError("sklearn-digits needs scikit-learn (pip install scikit-learn)") from exc
    d = load_digits()
    x = torch.from_numpy(np.round(d.images * 255.0 / 16.0).astype(np.uint8))[:, None]
    y = torch.from_numpy(d.target.astype(np.int64))
    held = torch.arange(len(x)) % 5 == 0
    return x[~held], y[~held], x[held], y[held]
