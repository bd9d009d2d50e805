"""Rosenblatt's perceptron in numpy: y = sign(w.x + b), w <- w + gamma (y - y') x.

The learning rate decreases over epochs (``gamma_t = gamma0 / (1 + t)``); samples are visited
in a fresh random order each pass. On separable data the rule reaches zero errors (the
perceptron convergence theorem); on non-separable data it never settles, so the weights with the
fewest training errors seen after any update are kept ("pocket" algorithm, Gallant 1990).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PerceptronResult:
    w: np.ndarray
    b: float
    errors: int  # training errors of the returned weights
    converged: bool  # an epoch ended with zero errors
    epochs: int  # passes made
    pocket: bool  # returned weights are the pocket's, not the last ones
    errors_per_epoch: list[int] = field(default_factory=list)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return predict(self.w, self.b, X)

    def summary(self, n: int) -> str:
        if self.converged:
            return f"separated all {n} points after {self.epochs} epochs"
        return (
            f"not linearly separable in {self.epochs} epochs: kept the pocket weights with the "
            f"fewest errors ({self.errors} of {n}, {100 * (1 - self.errors / n):.1f}% correct)"
        )


def sign(v: np.ndarray) -> np.ndarray:
    """sign with sign(0) = -1, so a point on the line counts as an error for class +1."""
    return np.where(v > 0, 1.0, -1.0)


def predict(w: np.ndarray, b: float, X: np.ndarray) -> np.ndarray:
    return sign(X @ w + b)


def train_perceptron(
    X: np.ndarray, y: np.ndarray, epochs: int = 100, gamma0: float = 1.0, seed: int = 0
) -> PerceptronResult:
    """Train on ``X (n, d)`` with labels ``y`` in {-1, +1}."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if set(np.unique(y)) - {-1.0, 1.0}:
        raise ValueError("perceptron labels must be -1 or +1")
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.1, X.shape[1])
    b = float(rng.normal(0, 0.1))
    count = lambda w, b: int((predict(w, b, X) != y).sum())  # noqa: E731
    best = (count(w, b), w.copy(), b)
    history = []
    for epoch in range(epochs):
        gamma = gamma0 / (1 + epoch)
        for i in rng.permutation(len(X)):
            y_hat = 1.0 if X[i] @ w + b > 0 else -1.0
            if y_hat != y[i]:
                w = w + gamma * (y[i] - y_hat) * X[i]
                b = b + gamma * (y[i] - y_hat)
                errors = count(w, b)
                if errors < best[0]:
                    best = (errors, w.copy(), b)
        history.append(count(w, b))
        if history[-1] == 0:
            return PerceptronResult(w, b, 0, True, epoch + 1, False, history)
    errors, w_best, b_best = best
    return PerceptronResult(w_best, b_best, errors, errors == 0, epochs, True, history)
