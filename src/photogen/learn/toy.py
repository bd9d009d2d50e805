"""The 2-D "playground" datasets: gauss, xor, circle, spiral (as in TensorFlow Playground).

Points lie in [-6, 6]^2, labels are ``+1`` / ``-1``. ``noise`` in [0, 1] blurs the classes the
way the Playground's noise slider does (0 = clean, 0.5 = heavy overlap).
"""

from __future__ import annotations

import numpy as np

DATASETS = ("gauss", "xor", "circle", "spiral")


def make_dataset(
    name: str, n: int = 400, noise: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X (n, 2) float64, y (n,) in {-1, +1})``, half of each class."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be in [0, 1], got {noise}")
    rng = np.random.default_rng(seed)
    half = n // 2
    if name == "gauss":
        var = 0.5 + 3.5 * noise  # Playground: variance 0.5 .. 4
        pos = rng.normal((2, 2), np.sqrt(var), (half, 2))
        neg = rng.normal((-2, -2), np.sqrt(var), (n - half, 2))
        X = np.vstack([pos, neg])
        y = np.r_[np.ones(half), -np.ones(n - half)]
    elif name == "xor":
        X = rng.uniform(-5, 5, (n, 2))
        X += np.where(X > 0, 0.3, -0.3)  # keep points off the axes
        y = np.where(X[:, 0] * X[:, 1] >= 0, 1.0, -1.0)
        X += rng.uniform(-5, 5, (n, 2)) * noise
    elif name == "circle":
        radius = 5.0
        r = np.r_[rng.uniform(0, 0.5 * radius, half), rng.uniform(0.7 * radius, radius, n - half)]
        t = rng.uniform(0, 2 * np.pi, n)
        X = np.c_[r * np.sin(t), r * np.cos(t)]
        y = np.r_[np.ones(half), -np.ones(n - half)]
        X += rng.uniform(-radius, radius, (n, 2)) * noise
    else:  # spiral
        parts = []
        for delta, count in ((0.0, half), (np.pi, n - half)):
            i = np.arange(count)
            r = i / count * 5
            t = 1.75 * i / count * 2 * np.pi + delta
            parts.append(
                np.c_[r * np.sin(t), r * np.cos(t)] + rng.uniform(-1, 1, (count, 2)) * noise
            )
        X = np.vstack(parts)
        y = np.r_[np.ones(half), -np.ones(n - half)]
    order = rng.permutation(n)
    return X[order], y[order]


def split(X: np.ndarray, y: np.ndarray, test_fraction: float = 0.5):
    """First part for training, the rest for testing (data are already shuffled)."""
    k = int(round(len(X) * (1 - test_fraction)))
    return X[:k], y[:k], X[k:], y[k:]
