"""A multi-layer perceptron in numpy, trained by backpropagation and mini-batch SGD.

Each layer computes ``a = f(x W + b)``; hidden activations sigmoid, tanh or ReLU; the output is
linear and feeds either softmax cross-entropy or the squared loss ``1/2 ||out - onehot||^2``.
The objective is ``E(w) = mean_i L_i + lambda * sum ||W||^2`` (weights only, not biases), the
lecture's ``sum L + lambda ||w||^2`` with the sum averaged over the mini-batch so that the
learning rate does not depend on the batch size. Gradients come from the chain rule, layer by
layer, and are tested against torch autograd to 1e-6.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("softmax", "squared")


def _act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    return np.maximum(z, 0.0)


def _act_grad(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """df/dz, written with the activation ``a = f(z)`` where that is cheaper."""
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    return (z > 0).astype(z.dtype)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class History:
    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)


class MLP:
    """``sizes = [inputs, hidden..., classes]``; weights ``W[k]`` are ``(sizes[k], sizes[k+1])``."""

    def __init__(
        self,
        sizes: list[int],
        activation: str = "tanh",
        loss: str = "softmax",
        l2: float = 0.0,
        seed: int = 0,
        dtype=np.float64,
    ):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least inputs and outputs, got {sizes}")
        self.sizes, self.activation, self.loss_name, self.l2 = list(sizes), activation, loss, l2
        rng = np.random.default_rng(seed)
        gain = 2.0 if activation == "relu" else 1.0  # He / Xavier-style scaling
        self.W = [
            rng.normal(0, np.sqrt(gain / a), (a, b)).astype(dtype)
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        self.b = [np.zeros(b, dtype=dtype) for b in sizes[1:]]

    # -- forward / backward -------------------------------------------------------------
    def forward(self, X: np.ndarray) -> tuple[np.ndarray, list]:
        """Output scores and the cache (input, pre-activation, activation) of every layer."""
        cache = []
        a = X
        last = len(self.W) - 1
        for k, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            z = a @ W + b
            out = z if k == last else _act(self.activation, z)
            cache.append((a, z, out))
            a = out
        return a, cache

    def _data_loss(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean loss over the batch and d(mean loss)/d(out)."""
        n = len(y)
        onehot = np.zeros_like(out)
        onehot[np.arange(n), y] = 1.0
        if self.loss_name == "softmax":
            p = softmax(out)
            loss = -np.log(np.clip(p[np.arange(n), y], 1e-300, None)).mean()
            return float(loss), (p - onehot) / n
        diff = out - onehot
        return float(0.5 * (diff * diff).sum() / n), diff / n

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray):
        """``E(w)`` and its gradients ``(dW list, db list)`` by backpropagation."""
        out, cache = self.forward(X)
        loss, delta = self._data_loss(out, np.asarray(y))
        loss += self.l2 * sum(float((W * W).sum()) for W in self.W)
        dW: list[np.ndarray] = [None] * len(self.W)  # type: ignore[list-item]
        db: list[np.ndarray] = [None] * len(self.W)  # type: ignore[list-item]
        for k in range(len(self.W) - 1, -1, -1):
            a_in, z, a_out = cache[k]
            if k != len(self.W) - 1:
                delta = delta * _act_grad(self.activation, z, a_out)
            dW[k] = a_in.T @ delta + 2.0 * self.l2 * self.W[k]
            db[k] = delta.sum(axis=0)
            delta = delta @ self.W[k].T
        return loss, dW, db

    # -- use ------------------------------------------------------------------------------
    def scores(self, X: np.ndarray) -> np.ndarray:
        return self.forward(X)[0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.scores(X).argmax(axis=1)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """``(E(w), accuracy)`` on a data set."""
        out = self.scores(X)
        loss, _ = self._data_loss(out, np.asarray(y))
        loss += self.l2 * sum(float((W * W).sum()) for W in self.W)
        return loss, float((out.argmax(axis=1) == y).mean())

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        epochs: int = 200,
        lr: float = 0.1,
        batch_size: int = 16,
        seed: int = 0,
        X_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
        history: History | None = None,
    ) -> History:
        """Mini-batch SGD: ``w <- w - lr * dE/dw`` per batch, a fresh shuffle per epoch."""
        rng = np.random.default_rng(seed)
        hist = history or History()
        y = np.asarray(y)
        for _ in range(epochs):
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                idx = order[start : start + batch_size]
                _, dW, db = self.loss_and_grads(X[idx], y[idx])
                for k in range(len(self.W)):
                    self.W[k] -= lr * dW[k]
                    self.b[k] -= lr * db[k]
            loss, acc = self.evaluate(X, y)
            hist.loss.append(loss)
            hist.train_accuracy.append(acc)
            if X_test is not None:
                t_loss, t_acc = self.evaluate(X_test, y_test)
                hist.test_loss.append(t_loss)
                hist.test_accuracy.append(t_acc)
        return hist


def labels01(y: np.ndarray) -> np.ndarray:
    """{-1, +1} labels -> class indices {0, 1}."""
    return (np.asarray(y) > 0).astype(np.int64)
